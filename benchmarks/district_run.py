"""The district's deployment on one machine, and what is measured of it: a 3-node JetStream
cluster, the relay, the projector and the API as separate processes (README, "Running the
parts separately"); their memory, the store's disk, reads and commands at a stated rate."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import nats
from backbone import percentile, request, say, stop

from services.messaging.broker import free_port, nats_server_binary

CLUSTER_CONF = Path(__file__).resolve().parents[1] / "infra" / "nats" / "cluster.conf"


# --------------------------------------------------------------------------- processes


@dataclass
class Process:
    name: str
    popen: subprocess.Popen

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stop(self) -> None:
        stop(self.popen)


def spawn(name: str, command: list[str], env: dict[str, str], log: Path) -> Process:
    with log.open("wb") as out:
        popen = subprocess.Popen(
            command, env={**os.environ, **env}, stdin=subprocess.DEVNULL, stdout=out, stderr=out
        )
    return Process(name, popen)


def timebank(name: str, args: list[str], env: dict[str, str], root: Path) -> Process:
    """A `timebank` part (relay, project) from this venv, logging to ``root/name.log``."""
    command = [str(Path(sys.executable).parent / "timebank"), *args]
    return spawn(name, command, env, root / f"{name}.log")


def memory_mb(pid: int) -> dict[str, float]:
    """Resident memory now and at its peak (Linux /proc), in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields["rss_mb" if key == "VmRSS" else "peak_mb"] = int(value.split()[0]) / 1024
    return fields


def directory_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


# ----------------------------------------------------------------------------- cluster


@contextlib.contextmanager
def nats_cluster(root: Path) -> Iterator[tuple[str, list[Process]]]:
    """Three nats-servers from infra/nats/cluster.conf on ephemeral ports, routed to each
    other, each storing under ``root``: (their URLs, comma-separated; the processes)."""
    cluster_ports = [free_port() for _ in range(3)]
    routes = ",".join(f"nats-route://127.0.0.1:{port}" for port in cluster_ports)
    nodes, urls = [], []
    root.mkdir(parents=True, exist_ok=True)
    try:
        for number, cluster_port in enumerate(cluster_ports):
            port = free_port()
            env = {
                "NATS_NAME": f"n{number}",
                "NATS_HOST": "127.0.0.1",
                "NATS_PORT": str(port),
                "NATS_CLUSTER_PORT": str(cluster_port),
                "NATS_STORE": str(root / f"n{number}"),
            }
            command = [nats_server_binary(), "--config", str(CLUSTER_CONF), "--routes", routes]
            nodes.append(spawn(f"nats-n{number}", command, env, root / f"n{number}.log"))
            urls.append(f"nats://127.0.0.1:{port}")
        asyncio.run(_jetstream_ready(urls))
        yield ",".join(urls), nodes
    finally:
        for node in nodes:
            node.stop()


async def _jetstream_ready(urls: list[str], timeout: float = 60) -> None:
    """Wait until the cluster has elected a JetStream leader (it answers account info)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            nc = await nats.connect(
                urls, connect_timeout=1, max_reconnect_attempts=0, error_cb=_quiet
            )
            try:
                await nc.jetstream().account_info()
                return
            finally:
                await nc.close()
        except Exception:
            if time.monotonic() > deadline:
                raise TimeoutError("the NATS cluster did not elect a JetStream leader") from None
            await asyncio.sleep(0.5)


async def _quiet(_error: Exception) -> None:
    """Refused connections are expected while the nodes start."""


async def stream_last_sequence(urls: str, stream: str) -> int:
    nc = await nats.connect(urls.split(","))
    try:
        return (await nc.jetstream().stream_info(stream)).state.last_seq
    except nats.js.errors.NotFoundError:
        return 0
    finally:
        await nc.close()


# -------------------------------------------------------------------------------- disk


def schema_sizes(postgres: str, schema: str) -> dict[str, float]:
    """Tables and indexes of one schema, in MB."""
    import psycopg  # noqa: PLC0415

    query = """
        SELECT coalesce(sum(pg_table_size(c.oid)), 0), coalesce(sum(pg_indexes_size(c.oid)), 0)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %s AND c.relkind = 'r'
    """
    with psycopg.connect(postgres) as conn:
        tables, indexes = conn.execute(query, (schema,)).fetchone()
    return {"tables_mb": float(tables) / 1e6, "indexes_mb": float(indexes) / 1e6}


# -------------------------------------------------------------------------------- reads


def time_reads(port: int, paths: Callable[[int], str], count: int, token: str) -> dict:
    """``count`` GETs of ``paths(i)`` one after another on one keep-alive connection, with
    ``token``'s sign-in."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies, failures = [], 0
    try:
        for index in range(count):
            started = time.perf_counter()
            status, _ = request(port, "GET", paths(index), conn=conn, token=token)
            latencies.append(time.perf_counter() - started)
            failures += status != 200
    finally:
        conn.close()
    latencies.sort()
    return {
        "reads": count,
        "failures": failures,
        "p50_ms": 1000 * percentile(latencies, 0.50),
        "p99_ms": 1000 * percentile(latencies, 0.99),
    }


# ------------------------------------------------------------------ commands at a rate


def paced_exchanges(
    port: int, pairs: list[tuple[str, str]], *, rate: float, seconds: float, run_id: str
) -> dict:
    """Help recorded and confirmed through the API at ``rate`` commands/s (two commands an
    exchange), from as many threads as there are pairs, each on its own pair of accounts."""
    exchanges = max(1, int(rate * seconds / 2))
    interval = 2 * len(pairs) / rate  # each thread's exchanges, one every interval
    latencies: list[float] = []
    failures: list[tuple[int, bytes]] = []
    lock = threading.Lock()
    started = time.perf_counter() + 0.1

    def client(number: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            for turn in range(number, exchanges, len(pairs)):
                wait = started + (turn // len(pairs)) * interval - time.perf_counter()
                time.sleep(max(0.0, wait))
                # Turn about, so that neither account drifts to its floor or cap.
                provider, receiver = pairs[number][:: -1 if (turn // len(pairs)) % 2 else 1]
                timed = _one_exchange(port, conn, provider, receiver, f"{run_id}-{turn}")
                with lock:
                    latencies.extend(t for t, _, _ in timed)
                    failures.extend((s, b) for _, s, b in timed if s not in (200, 201))
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(len(pairs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return _paced(rate, latencies, failures, time.perf_counter() - started)


def _paced(rate: float, latencies: list[float], failures: list, elapsed: float) -> dict:
    if failures:
        say(f"  {len(failures)} failed commands, first: {failures[0]}")
    latencies.sort()
    return {
        "target_rate": rate,
        "commands": len(latencies),
        "failures": len(failures),
        "achieved_rate": len(latencies) / elapsed,
        "p50_ms": 1000 * percentile(latencies, 0.50),
        "p99_ms": 1000 * percentile(latencies, 0.99),
        "max_ms": 1000 * (latencies[-1] if latencies else float("nan")),
    }


def _one_exchange(
    port: int, conn: http.client.HTTPConnection, provider: str, receiver: str, key: str
) -> list[tuple[float, int, bytes]]:
    """Record an hour's help and confirm it for the receiver: (seconds, status, body) each."""
    body = {
        "idempotency_key": f"{key}-help",
        "pairs": [{"provider": provider, "receiver": receiver, "minutes": 60}],
        "description": "陪同就医",
    }
    started = time.perf_counter()
    status, answer = request(port, "POST", "/api/v1/exchanges/", body, conn)
    timed = [(time.perf_counter() - started, status, answer[:300])]
    if status != 201:
        return timed
    exchange = json.loads(answer)["id"]
    confirm = {"idempotency_key": f"{key}-confirm", "receiver": receiver}
    started = time.perf_counter()
    status, answer = request(
        port, "POST", f"/api/v1/exchanges/{exchange}/confirmation", confirm, conn
    )
    timed.append((time.perf_counter() - started, status, answer[:300]))
    return timed
