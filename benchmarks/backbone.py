"""Throughput and lag of the Timebank backbone, each figure beside the limit of the same run.

    .venv/bin/python benchmarks/backbone.py [--postgres URL] [--serve api|up] [--transfers N]

One run, on one event store (SQLite files in a temporary directory by default; PostgreSQL in
fresh ``?schema=`` schemas, dropped at the end, with ``--postgres``) and one embedded
nats-server of its own, measures:

1. the limit: raw ``Timebank.save`` of what a transfer saves (a Transfer plus two TimeAccounts
   with their EntryPosted events), built by ``domain.ledger.post_transfer``, no HTTP;
2. transfers/s through ``POST /api/v1/transfers`` on the real API (``timebank api`` under
   uvicorn in a subprocess, or with ``--serve up`` the whole ``timebank up``, relay and read
   models included), from concurrent keep-alive client threads;
3. the relay publishing the whole stored backlog to an empty stream;
4. a rebuild of each read model from the start of the stream into a fresh read store, and
   every read model together replayed into a fresh read store from the stream and from the
   event store's log (what a rebuild and a projector far behind do);
5. nats-server's memory (peak and current resident size) and the stream's size against its
   bound (the settings' ``stream_max_mb``, as in `timebank up`), once the replays are done;
6. p50/p99 lag from a command's commit to every read model having applied it, with the relay
   and projections running (services.composition.workers.Workers) and commands at a steady rate.

Everything talks over loopback only, and the run stops by itself (a few minutes at most).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import logging
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import nats
import structlog

from domain.identity import Role
from domain.ledger import (
    AccountKind,
    TimeAccount,
    TransferKind,
    post_transfer,
    system_account_id,
    two_party_legs,
)
from domain.provenance import Provenance
from projections.catalog import READ_MODELS
from projections.readstore import open_read_store
from projections.runner import ProjectionRunner
from services.bus import Acting, Caller
from services.composition.config import Settings
from services.composition.runtime import Backbone, build_backbone
from services.composition.workers import Workers
from services.ledger import handlers as ledger
from services.ledger.commands import OpenAccount, PostTransfer
from services.messaging.broker import EmbeddedBroker, free_port, stream_size
from services.messaging.envelope import STREAM
from services.messaging.eventlog import EventLog
from services.messaging.relay import Relay
from services.web.auth import Principal, issue_token, jwt_auth

BY = Provenance(actor="benchmark", channel="benchmark", correlation_id="benchmark")
COMMUNITY = system_account_id(AccountKind.COMMUNITY)
GRANT = 80_000  # minutes per member account; below the member cap of 90,000

TARGET_HTTP_RATIO = 0.50
TARGET_REBUILD_EVENTS_PER_S = 15_000
TARGET_REPLAY_ALL_EVENTS_PER_S = 20_000
TARGET_P99_LAG_MS = 50.0
TARGET_BROKER_PEAK_MB = 200


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------- stores


@dataclass
class Stores:
    """Fresh store URLs for one run: SQLite files under ``root``, or PostgreSQL schemas."""

    root: Path
    postgres: str | None
    schemas: list[str] = field(default_factory=list)

    def new(self, name: str) -> str:
        if self.postgres is None:
            return str(self.root / f"{name}.sqlite")
        schema = f"tb_bench_{name}_{uuid.uuid4().hex[:8]}"
        self.schemas.append(schema)
        separator = "&" if "?" in self.postgres else "?"
        return f"{self.postgres}{separator}schema={schema}"

    def drop(self) -> None:
        if self.postgres is None or not self.schemas:
            return
        import psycopg  # noqa: PLC0415
        from psycopg import sql  # noqa: PLC0415

        with psycopg.connect(self.postgres, autocommit=True) as conn:
            for schema in self.schemas:
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )


# ------------------------------------------------------------------------------ accounts


def _acting(bone: Backbone, now: datetime) -> Acting:
    """What the bus gives a handler: the benchmark's commands go straight to it (no HTTP)."""
    return Acting(bone.timebank, Caller(BY), now, bone.settings, bone.vault)


def open_members(bone: Backbone, prefix: str, count: int) -> list[TimeAccount]:
    """Open ``count`` member accounts, each granted GRANT minutes by the community."""
    accounts = []
    now = datetime.now(UTC)
    for index in range(count):
        owner = f"{prefix}-{index}"
        receipt = ledger.open_account(OpenAccount(owner=owner), _acting(bone, now))
        grant = PostTransfer(
            idempotency_key=f"grant-{owner}",
            from_account=str(COMMUNITY),
            to_account=str(receipt.id),
            minutes=GRANT,
            memo="benchmark grant",
        )
        ledger.transfer(grant, _acting(bone, now))
        accounts.append(bone.timebank.repository.get(receipt.id))
    return accounts


# ------------------------------------------------------------------- 1. raw save (limit)


def measure_raw_saves(bone: Backbone, accounts: list[TimeAccount], count: int, run_id: str) -> dict:
    """``count`` saves of a Transfer plus two TimeAccounts, straight into the store."""
    app = bone.timebank
    pairs = [(accounts[i], accounts[i + 1]) for i in range(0, len(accounts) - 1, 2)]
    now = datetime.now(UTC)
    events = 0
    started, cpu = time.perf_counter(), time.process_time()
    for index in range(count):
        source, target = pairs[index % len(pairs)]
        if (index // len(pairs)) % 2:
            source, target = target, source
        legs = two_party_legs(source.id, target.id, 1)
        posted = post_transfer(
            idempotency_key=f"{run_id}-raw-{index}",
            kind=TransferKind.TRANSFER,
            legs=legs,
            memo="raw save",
            occurred_at=now,
            corrects=None,
            accounts={source.id: source, target.id: target},
            by=BY,
        )
        events += len(app.save(posted, source, target))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "saves": count,
        "events": events,
        "seconds": elapsed,
        "saves_per_s": count / elapsed,
        "events_per_s": events / elapsed,
        "cpu_ms_per_save": 1000 * cpu / count,
    }


# ---------------------------------------------------------------------- 2. HTTP transfers


@contextlib.contextmanager
def api_server(env: dict[str, str], log_path: Path, serve: str) -> Iterator[tuple[int, int]]:
    """``timebank <serve>`` answering on a port of its own: (port, pid)."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "timebank"), serve]
    full_env = {**os.environ, **env, "TIMEBANK_PORT": str(port), "TIMEBANK_HOST": "127.0.0.1"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=full_env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the API exited early:\n{log_path.read_text()[-3000:]}")
            try:
                status, _ = request(port, "GET", "/health")
                if status in (200, 503):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"the API did not answer:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.1)
        yield port, process.pid
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if the process has not left within 15 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# The API processes sign with this secret, so the clients can carry a coordinator's token.
TOKEN_SECRET = secrets.token_urlsafe(32)
COORDINATOR_TOKEN = issue_token(
    jwt_auth(TOKEN_SECRET),
    Principal(subject="staff:benchmark", roles=frozenset({Role.COORDINATOR}), channel="console"),
)


def request(
    port: int,
    method: str,
    path: str,
    body: dict | None = None,
    conn=None,
    token: str = COORDINATOR_TOKEN,
) -> tuple[int, bytes]:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {token}"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        if own:
            conn.close()


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU a process has used so far (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def servers_cpu_seconds(servers: list[tuple[int, int]]) -> float | None:
    seconds = [process_cpu_seconds(pid) for _, pid in servers]
    return None if None in seconds else sum(s for s in seconds if s is not None)


def measure_http(
    servers: list[tuple[int, int]],
    accounts: list[TimeAccount],
    total: int,
    clients: int,
    run_id: str,
) -> dict:
    """``total`` transfers from ``clients`` keep-alive threads, each on its own account pair
    (so the figure is throughput, not version conflicts between clients), spread round-robin
    over the API replicas in ``servers`` (port, pid).
    """
    pairs = [(str(accounts[2 * i].id), str(accounts[2 * i + 1].id)) for i in range(clients)]
    per_client = [total // clients + (1 if i < total % clients else 0) for i in range(clients)]
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures: list[list[tuple[int, bytes]]] = [[] for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)

    def client(number: int, warmup: bool) -> None:
        source, target = pairs[number]
        port = servers[number % len(servers)][0]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        count = 5 if warmup else per_client[number]
        if not warmup:
            barrier.wait()
        try:
            for index in range(count):
                forward = index % 2 == 0
                body = {
                    "idempotency_key": f"{run_id}-{'w' if warmup else 'h'}-{number}-{index}",
                    "from_account": source if forward else target,
                    "to_account": target if forward else source,
                    "minutes": 1,
                    "memo": "benchmark",
                }
                started = time.perf_counter()
                try:
                    status, answer = request(port, "POST", "/api/v1/transfers/", body, conn)
                except (OSError, http.client.HTTPException) as error:
                    status, answer = 0, repr(error).encode()
                    conn.close()  # reconnects on the next request
                if not warmup:
                    latencies[number].append(time.perf_counter() - started)
                if status != 201:
                    failures[number].append((status, answer[:300]))
        finally:
            conn.close()

    # Warm-up: every account loaded into the API's cache, every code path imported.
    warm = [threading.Thread(target=client, args=(n, True)) for n in range(clients)]
    for thread in warm:
        thread.start()
    for thread in warm:
        thread.join()
    threads = [threading.Thread(target=client, args=(n, False)) for n in range(clients)]
    for thread in threads:
        thread.start()
    server_cpu = servers_cpu_seconds(servers)
    barrier.wait()
    started, client_cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.join()
    elapsed, client_cpu = time.perf_counter() - started, time.process_time() - client_cpu
    if server_cpu is not None:
        server_cpu = (servers_cpu_seconds(servers) or 0.0) - server_cpu
    all_latencies = sorted(x for per in latencies for x in per)
    errors = [failure for per in failures for failure in per]
    if errors:
        say(f"  {len(errors)} HTTP failures, first: {errors[0]}")
    ok = len(all_latencies) - len(errors)
    return {
        "requests": total,
        "ok": ok,
        "errors": len(errors),
        "clients": clients,
        "replicas": len(servers),
        "seconds": elapsed,
        "transfers_per_s": ok / elapsed,
        "events_per_s": 3 * ok / elapsed,
        "latency_p50_ms": 1000 * percentile(all_latencies, 0.50),
        "latency_p99_ms": 1000 * percentile(all_latencies, 0.99),
        "server_cpu_ms_per_transfer": None if server_cpu is None else 1000 * server_cpu / total,
        "server_cpu_utilisation": None if server_cpu is None else server_cpu / elapsed,
        "client_cpu_ms_per_transfer": 1000 * client_cpu / total,
    }


# ----------------------------------------------------------------------------- 3. relay


async def stream_messages(nats_url: str) -> int:
    nc = await nats.connect(nats_url)
    try:
        return (await nc.jetstream().stream_info(STREAM)).state.messages
    finally:
        await nc.close()


async def measure_relay(bone: Backbone, nats_url: str) -> dict:
    head = bone.timebank.last_position()
    relay = Relay(bone.timebank, nats_url, stream_max_mb=bone.settings.stream_max_mb)
    stop = asyncio.Event()
    started = time.perf_counter()
    task = asyncio.create_task(relay.run(stop))
    deadline = started + 120
    while relay.position < head:
        if task.done() or time.perf_counter() > deadline:
            stop.set()
            await task
            raise RuntimeError(f"relay stopped at {relay.position} of {head}")
        await asyncio.sleep(0.002)
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    events = await stream_messages(nats_url)
    return {
        "events": events,
        "head": head,
        "seconds": elapsed,
        "events_per_s": events / elapsed,
    }


# --------------------------------------------------------------------------- 4. rebuild


def measure_rebuilds(stores: Stores, nats_url: str, events: int) -> dict:
    results = {}
    for name, model in READ_MODELS.items():
        fresh = open_read_store(stores.new(f"rebuild_{name}"), [model])
        runner = ProjectionRunner([model], fresh, nats_url)
        batches = 0

        def progress(_position: int, _head: int) -> None:
            nonlocal batches
            batches += 1

        started = time.perf_counter()
        asyncio.run(asyncio.wait_for(runner.run(asyncio.Event(), on_progress=progress), 120))
        elapsed = time.perf_counter() - started
        fresh.datastore.close()
        results[name] = {
            "events": events,
            "batches": batches,
            "position": runner.position,
            "seconds": elapsed,
            "events_per_s": events / elapsed,
        }
    return results


def measure_replays(stores: Stores, nats_url: str, event_store: str) -> dict:
    """Every read model as one group into a fresh read store: from the stream alone, and from
    the event store's log (then the stream, already at its head)."""
    events = EventLog.open(event_store)
    try:
        return {
            source: _replay_all(stores, nats_url, log, events.head())
            for source, log in (("stream", None), ("store", events))
        }
    finally:
        events.close()


def _replay_all(stores: Stores, nats_url: str, events: EventLog | None, head: int) -> dict:
    models = list(READ_MODELS.values())
    fresh = open_read_store(stores.new(f"replay_{'store' if events else 'stream'}"), models)
    runner = ProjectionRunner(models, fresh, nats_url, events=events)
    started = time.perf_counter()
    asyncio.run(asyncio.wait_for(runner.run(asyncio.Event(), on_progress=lambda *_: None), 300))
    elapsed = time.perf_counter() - started
    fresh.datastore.close()
    return {"events": head, "seconds": elapsed, "events_per_s": head / elapsed}


async def stream_bytes(nats_url: str) -> tuple[int, int]:
    async with await nats.connect(nats_url) as nc:
        return await stream_size(nc.jetstream())


def broker_memory(pid: int | None, nats_url: str) -> dict:
    """nats-server's resident memory now and at its peak (Linux's /proc), and the stream's
    size against its bound: taken after the replays, the broker's busiest time."""
    status = Path(f"/proc/{pid}/status")
    kilobytes = {}
    if pid is not None and status.exists():
        for line in status.read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                kilobytes[name] = int(value.split()[0])
    held, bound = asyncio.run(stream_bytes(nats_url))
    return {
        "rss_mb": kilobytes["VmRSS"] / 1024 if "VmRSS" in kilobytes else None,
        "peak_rss_mb": kilobytes["VmHWM"] / 1024 if "VmHWM" in kilobytes else None,
        "stream_mb": held / 2**20,
        "stream_max_mb": bound / 2**20 if bound > 0 else None,
    }


# ------------------------------------------------------------------------------ 5. lag


class BackgroundWorkers:
    """What `timebank up` runs beside the API (``Workers.embedded`` in
    services.composition.workers: the relay here, on an event loop of its own in a thread; the
    read models in a child process)."""

    def __init__(self, bone: Backbone) -> None:
        self.bone = bone
        self.workers = Workers.embedded(bone)
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="workers", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def main() -> None:
            self._stop = asyncio.Event()
            self._ready.set()
            await self.workers.run(self._stop)

        self._loop.run_until_complete(main())

    def __enter__(self) -> BackgroundWorkers:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *_: object) -> None:
        self.bone.timebank.on_recorded = None  # Workers pointed it at the relay's wake-up
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
        if self._thread.is_alive():
            say("  warning: the workers did not stop within 30 s")
        else:
            self._loop.close()


def visible_position(bone: Backbone) -> int:
    return min(bone.reads.positions(list(READ_MODELS)).values())


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> float:
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.005)
    return time.perf_counter() - started


class LagProbe:
    """Polls the read models' tracking positions (~1 ms apart) in a thread of its own and
    records, for each command, the time from its save returning until every model has it;
    also until the relay had it in the stream, and the poller's own gaps (scheduling noise).
    """

    def __init__(self, bone: Backbone, relay: Relay | None, interval: float) -> None:
        self.bone = bone
        self.relay = relay
        self.interval = interval
        self.lags: list[float] = []
        self.relay_lags: list[float] = []
        self.gaps: list[float] = []
        self._pending: list[list] = []  # [position, save returned at, seen in the stream]
        self._lock = threading.Lock()
        self._draining = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="lag-probe", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def committed(self, position: int, at: float) -> None:
        with self._lock:
            self._pending.append([position, at, False])

    def finish(self, timeout: float) -> int:
        """Wait for the outstanding commands to become visible; answer how many never did."""
        self._draining.set()
        self._thread.join(timeout)
        self._stop.set()
        self._thread.join()
        with self._lock:
            return len(self._pending)

    def _poll(self) -> None:
        last = time.perf_counter()
        while not self._stop.is_set():
            relayed = self.relay.position if self.relay is not None else 0
            reached = visible_position(self.bone)
            now = time.perf_counter()
            self.gaps.append(now - last)
            last = now
            with self._lock:
                # Concurrent issuers commit out of order, so look at every outstanding command.
                still = []
                for entry in self._pending:
                    position, committed, in_stream = entry
                    # (A read model may apply it before the relay has counted its ack.)
                    if not in_stream and position <= max(relayed, reached):
                        self.relay_lags.append(now - committed)
                        entry[2] = True
                    if position <= reached:
                        self.lags.append(now - committed)
                    else:
                        still.append(entry)
                self._pending = still
                if self._draining.is_set() and not self._pending:
                    return
            time.sleep(self.interval)


def steady_transfers(
    bone: Backbone,
    pairs: list[tuple],
    probe: LagProbe,
    *,
    rate: float,
    total: int,
    issuers: int,
    run_id: str,
) -> tuple[float, int]:
    """Issue ``total`` transfers at ``rate``/s on a fixed schedule; answer (seconds, late).

    Command ``i`` is due at ``i / rate`` s. A few issuing threads take turns (each on account
    pairs of its own, so they never conflict), so that one slow commit does not hold back the
    schedule; a command more than one interval behind its due time counts as late.
    """
    interval = 1.0 / rate
    issuers = max(1, min(issuers, len(pairs)))
    late = [0] * issuers
    started = time.perf_counter() + 0.05

    def issue(number: int) -> None:
        own = pairs[number::issuers]
        for turn, index in enumerate(range(number, total, issuers)):
            wait = started + index * interval - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            elif wait < -interval:
                late[number] += 1
            source, target = own[turn % len(own)]
            if (turn // len(own)) % 2:
                source, target = target, source
            lag = PostTransfer(
                idempotency_key=f"{run_id}-lag-{index}",
                from_account=str(source),
                to_account=str(target),
                minutes=1,
                memo="lag",
            )
            receipt = ledger.transfer(lag, _acting(bone, datetime.now(UTC)))
            probe.committed(receipt.position, time.perf_counter())

    threads = [threading.Thread(target=issue, args=(n,)) for n in range(issuers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, sum(late)


def measure_lag(
    bone: Backbone,
    accounts: list[TimeAccount],
    *,
    rate: float,
    seconds: float,
    poll_ms: float,
    issuers: int,
    run_id: str,
) -> dict:
    pairs = [(accounts[i].id, accounts[i + 1].id) for i in range(0, len(accounts) - 1, 2)]
    total = int(rate * seconds)
    with BackgroundWorkers(bone) as workers:
        head = bone.timebank.last_position()
        catch_up = wait_for(lambda: visible_position(bone) >= head, 120, "catch-up")
        say(f"  workers caught up with the backlog ({head} positions) in {catch_up:.1f} s")
        probe = LagProbe(bone, workers.workers.relay, poll_ms / 1000)
        probe.start()
        issued_in, late = steady_transfers(
            bone, pairs, probe, rate=rate, total=total, issuers=issuers, run_id=run_id
        )
        unseen = probe.finish(30)
    lags, relay_lags, gaps = sorted(probe.lags), sorted(probe.relay_lags), sorted(probe.gaps)
    return {
        "commands": total,
        "target_rate": rate,
        "achieved_rate": total / issued_in,
        "late_commands": late,
        "measured": len(lags),
        "unseen": unseen,
        "issuers": issuers,
        "poll_ms": poll_ms,
        "polls_per_s": len(gaps) / issued_in,
        "catch_up_seconds": catch_up,
        "p50_ms": 1000 * percentile(lags, 0.50),
        "p90_ms": 1000 * percentile(lags, 0.90),
        "p99_ms": 1000 * percentile(lags, 0.99),
        "max_ms": 1000 * (lags[-1] if lags else float("nan")),
        "mean_ms": 1000 * (statistics.fmean(lags) if lags else float("nan")),
        "relay_p50_ms": 1000 * percentile(relay_lags, 0.50),
        "relay_p99_ms": 1000 * percentile(relay_lags, 0.99),
        "poll_gap_p99_ms": 1000 * percentile(gaps, 0.99),
        "poll_gap_max_ms": 1000 * (gaps[-1] if gaps else float("nan")),
    }


def percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# ----------------------------------------------------------------------------- report


def report(figures: dict) -> None:
    raw = figures["raw"]
    limit = raw["saves_per_s"]
    http = figures["http"]
    relay = figures["relay"]
    lag = figures["lag"]

    def ratio(rate: float, events: bool = False) -> str:
        return f"{rate / (raw['events_per_s'] if events else limit):6.2f} x"

    rows = [
        ("raw save (the limit)", f"{limit:9,.0f} saves/s", "  1.00 x", "", ""),
        ("  same, in events", f"{raw['events_per_s']:9,.0f} events/s", "", "", ""),
        (
            f"HTTP transfers ({http['clients']} clients, {http['served_by']})",
            f"{http['transfers_per_s']:9,.0f} transfers/s",
            ratio(http["transfers_per_s"]),
            f">= {TARGET_HTTP_RATIO:.0%} of limit",
            verdict(http["transfers_per_s"] >= TARGET_HTTP_RATIO * limit),
        ),
        (
            "  same, by CPU cost",
            "n/a"
            if http["server_cpu_ms_per_transfer"] is None
            else f"{http['server_cpu_ms_per_transfer']:9.2f} ms CPU each",
            ""
            if http["server_cpu_ms_per_transfer"] is None
            else f"{raw['cpu_ms_per_save'] / http['server_cpu_ms_per_transfer']:6.2f} x",
            "",
            "",
        ),
        (
            "relay publish (backlog)",
            f"{relay['events_per_s']:9,.0f} events/s",
            ratio(relay["events_per_s"], events=True),
            "",
            "",
        ),
    ]
    for name, rebuild in figures["rebuild"].items():
        rows.append(
            (
                f"rebuild {name}",
                f"{rebuild['events_per_s']:9,.0f} events/s",
                ratio(rebuild["events_per_s"], events=True),
                f">= {TARGET_REBUILD_EVENTS_PER_S:,} events/s",
                verdict(rebuild["events_per_s"] >= TARGET_REBUILD_EVENTS_PER_S),
            )
        )
    for source, replay in figures["replay"].items():
        rows.append(
            (
                f"replay all {len(READ_MODELS)} read models from the {source}",
                f"{replay['events_per_s']:9,.0f} events/s",
                ratio(replay["events_per_s"], events=True),
                f">= {TARGET_REPLAY_ALL_EVENTS_PER_S:,} events/s" if source == "store" else "",
                verdict(replay["events_per_s"] >= TARGET_REPLAY_ALL_EVENTS_PER_S)
                if source == "store"
                else "",
            )
        )
    rows += _broker_rows(figures["broker"])
    rows += [
        (f"lag p50 @ {lag['target_rate']:.0f} cmd/s", f"{lag['p50_ms']:9.1f} ms", "", "", ""),
        ("  of which to the stream", f"{lag['relay_p50_ms']:9.1f} ms", "", "", ""),
        (
            f"lag p99 @ {lag['target_rate']:.0f} cmd/s",
            f"{lag['p99_ms']:9.1f} ms",
            "",
            f"<= {TARGET_P99_LAG_MS:.0f} ms",
            verdict(lag["p99_ms"] <= TARGET_P99_LAG_MS),
        ),
        ("  of which to the stream", f"{lag['relay_p99_ms']:9.1f} ms", "", "", ""),
    ]
    headers = ("figure", "value", "vs limit", "target", "")
    widths = [max(len(str(row[i])) for row in (headers, *rows)) for i in range(5)]
    print()
    print(f"Timebank backbone benchmark — {figures['backend']}, {figures['started']}")
    line = "  ".join("-" * width for width in widths)
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print(line)
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    print(line)
    print(
        "  'vs limit': a rate over the raw save rate of this run (event rates over the raw "
        "save rate in events/s: 3 events a save). 'By CPU cost': raw save CPU per save over "
        "the API process's CPU per transfer: the ratio if both were CPU-bound on one core, "
        "less noisy than wall clock under other load."
    )
    server_cpu = http["server_cpu_ms_per_transfer"]
    print(
        f"  CPU: raw save {raw['cpu_ms_per_save']:.2f} ms/save; API process "
        + (
            f"{server_cpu:.2f} ms/transfer ({http['server_cpu_utilisation']:.0%} of a core)"
            if server_cpu is not None
            else "n/a"
        )
        + f", HTTP clients {http['client_cpu_ms_per_transfer']:.2f} ms/transfer."
    )
    print(
        f"  HTTP: {http['ok']}/{http['requests']} ok, client latency p50 "
        f"{http['latency_p50_ms']:.1f} ms, p99 {http['latency_p99_ms']:.1f} ms."
    )
    print(
        f"  Lag: {lag['measured']}/{lag['commands']} commands at {lag['achieved_rate']:.0f}/s, "
        f"p90 {lag['p90_ms']:.1f} ms, max {lag['max_ms']:.1f} ms. Noise: the probe's "
        f"{lag['poll_ms']:g} ms poll "
        f"took up to {lag['poll_gap_p99_ms']:.1f} ms (p99), {lag['poll_gap_max_ms']:.1f} ms (max)."
    )
    print(
        f"  Load average {figures['loadavg_start']:.1f} at the start, "
        f"{figures['loadavg_end']:.1f} at the end, on {figures['cpus']} CPUs."
    )
    if max(figures["loadavg_start"], figures["loadavg_end"]) > (figures["cpus"] or 1):
        print("  NOTE: the machine was busier than its CPU count; wall-clock figures are noisy.")
    print(json.dumps({"benchmark": "timebank-backbone", **figures}, default=str))


def _broker_rows(broker: dict) -> list[tuple[str, str, str, str, str]]:
    peak = broker["peak_rss_mb"]
    bound = broker["stream_max_mb"]
    return [
        (
            "nats-server peak memory (RSS)",
            "n/a" if peak is None else f"{peak:9,.0f} MB",
            "",
            f"< {TARGET_BROKER_PEAK_MB} MB",
            "" if peak is None else verdict(peak < TARGET_BROKER_PEAK_MB),
        ),
        (
            "  stream held / its bound",
            f"{broker['stream_mb']:9,.1f} MB",
            "",
            "no bound" if bound is None else f"<= {bound:,.0f} MB",
            verdict(bound is not None and broker["stream_mb"] <= bound),
        ),
    ]


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


# ------------------------------------------------------------------------------- main


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", metavar="URL", help="PostgreSQL server (default: SQLite)")
    parser.add_argument(
        "--transfers", type=int, default=3000, help="raw saves and HTTP transfers (3000)"
    )
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients (8)")
    parser.add_argument(
        "--serve",
        choices=["api", "up"],
        default="api",
        help="serve HTTP with `timebank api` replicas, or with `timebank up`, relay and read "
        "models (its own broker and read store) beside it (api)",
    )
    parser.add_argument(
        "--api-replicas", type=int, default=1, help="`timebank api` processes to spread over (1)"
    )
    parser.add_argument("--lag-rate", type=float, default=200.0, help="commands/s (200)")
    parser.add_argument("--lag-seconds", type=float, default=10.0, help="seconds of load (10)")
    parser.add_argument(
        "--lag-issuers", type=int, default=4, help="threads issuing those commands (4)"
    )
    parser.add_argument(
        "--poll-ms", type=float, default=1.0, help="lag probe's sleep between polls (1 ms)"
    )
    args = parser.parse_args()
    if args.postgres and not args.postgres.startswith(("postgres://", "postgresql://")):
        parser.error("--postgres takes a postgresql:// URL")
    if args.serve == "up" and args.api_replicas != 1:
        parser.error("`timebank up` is one process: --api-replicas goes with --serve api")
    return args


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    run_id = uuid.uuid4().hex[:8]
    root = Path(tempfile.mkdtemp(prefix="timebank-bench-"))
    stores = Stores(root, args.postgres)
    broker = EmbeddedBroker(root / "nats")
    bone: Backbone | None = None
    figures: dict = {
        "backend": "postgres" if args.postgres else "sqlite",
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "loadavg_start": os.getloadavg()[0],
    }
    try:
        nats_url = broker.start()
        event_store, read_store = stores.new("events"), stores.new("reads")
        settings = Settings(data_dir=root / "data", event_store=event_store, read_store=read_store)
        bone = build_backbone(settings, nats_url)

        say("setting up member accounts ...")
        raw_accounts = open_members(bone, f"raw-{run_id}", 16)
        http_accounts = open_members(bone, f"http-{run_id}", 2 * args.clients)

        say(f"1/5 raw saves: {args.transfers} x Timebank.save(transfer, account, account) ...")
        figures["raw"] = measure_raw_saves(bone, raw_accounts, args.transfers, run_id)

        say(f"2/5 HTTP: {args.transfers} POST /api/v1/transfers from {args.clients} clients ...")
        env = {
            "TIMEBANK_EVENT_STORE": event_store,
            "TIMEBANK_DATA": str(root / args.serve),
            "TIMEBANK_SECRET": TOKEN_SECRET,
        }
        if args.serve == "api":
            # `up` keeps its own broker and read store, so that the stream here stays empty
            # for the relay's figure; replicas share this run's.
            env |= {"TIMEBANK_NATS_URL": nats_url, "TIMEBANK_READ_STORE": read_store}
        with contextlib.ExitStack() as replicas:
            servers = [
                replicas.enter_context(api_server(env, root / f"api-{n}.log", args.serve))
                for n in range(args.api_replicas)
            ]
            figures["http"] = measure_http(
                servers, http_accounts, args.transfers, args.clients, run_id
            )
            figures["http"]["served_by"] = (
                "timebank up" if args.serve == "up" else f"{args.api_replicas} API"
            )

        say("3/5 relay: publishing the stored backlog to an empty stream ...")
        figures["relay"] = asyncio.run(measure_relay(bone, nats_url))

        say("4/5 rebuild: each read model from the start of the stream ...")
        figures["rebuild"] = measure_rebuilds(stores, nats_url, figures["relay"]["events"])
        say("    and every read model together, from the stream and from the event store ...")
        figures["replay"] = measure_replays(stores, nats_url, event_store)
        figures["broker"] = broker_memory(broker.pid, nats_url)

        say(f"5/5 lag: {args.lag_rate:.0f} commands/s for {args.lag_seconds:.0f} s ...")
        figures["lag"] = measure_lag(
            bone,
            raw_accounts,
            rate=args.lag_rate,
            seconds=args.lag_seconds,
            poll_ms=args.poll_ms,
            issuers=args.lag_issuers,
            run_id=run_id,
        )
        figures["loadavg_end"] = os.getloadavg()[0]
        report(figures)
    finally:
        broker.stop()
        tear_down(bone, stores, root)


def tear_down(bone: Backbone | None, stores: Stores, root: Path) -> None:
    """Close the run's backbone, drop its schemas and remove its files, whatever failed."""
    if bone is not None:
        with contextlib.suppress(Exception):
            bone.close()
    with contextlib.suppress(Exception):
        stores.drop()
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
