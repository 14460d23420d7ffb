"""A district on PostgreSQL and a 3-node NATS cluster: a year of its activity, then what it
costs, each figure beside the raw save rate measured in the same run.

    .venv/bin/python benchmarks/district.py --postgres URL \
        [--stations 200] [--residents 5000] [--months 12] [--json PATH]

1. the limit: raw ``Timebank.save`` of a transfer's shape (benchmarks/backbone.py's);
2. the district built straight through the domain, thousands of aggregates a save
   (benchmarks/district_build.py): stations in streets of 15, every resident with an account
   at their home station, and ``--months`` of 30 days at the per-station rates of ``Rates``;
3. a 3-node JetStream cluster (infra/nats/cluster.conf, ephemeral ports), `timebank relay` and
   `timebank project` started on the built store: the projector replays every read model
   from the event store while the relay publishes to the bounded stream;
4. `timebank api`: typical reads (a statement, the approval queue, the monitoring report),
   exchanges recorded and confirmed at the district's peak rate, and transfers from eight
   clients as fast as they go;
5. each process's memory, the stores' disk per event, and an extrapolation to 10⁸ events.

The stores are throwaway ``?schema=`` schemas, dropped at the end; everything is on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import structlog
from backbone import (
    TOKEN_SECRET,
    Stores,
    api_server,
    measure_http,
    measure_raw_saves,
    open_members,
    say,
    tear_down,
    visible_position,
)
from district_build import Rates, build
from district_report import extrapolate, report
from district_run import (
    Process,
    directory_mb,
    memory_mb,
    nats_cluster,
    paced_exchanges,
    schema_sizes,
    stream_last_sequence,
    time_reads,
    timebank,
)

from domain.identity import Role
from domain.provenance import SYSTEM_ACTOR, Provenance
from domain.station import Level
from services.bus import Acting, Caller
from services.composition.config import Settings
from services.composition.runtime import Backbone, build_backbone
from services.identity.commands import CreateStaffAccount, Reach
from services.identity.staff import register_staff
from services.messaging.envelope import STREAM
from services.web.auth import Principal, issue_token, jwt_auth

TARGET = 10**8
WORKING_SECONDS = 8 * 3600  # a station's day: 08:30 to 17:30 less lunch


def peak_rate(stations: int, rates: Rates, factor: float) -> float:
    """Commands a second in the district's busiest minutes: a day's commands (two an exchange,
    two an hour entry, a motion's few ignored) over a working day, times ``factor``."""
    daily = stations * (2 * rates.exchanges + 2 * rates.hour_entries)
    return factor * daily / WORKING_SECONDS


def build_district(
    bone: Backbone, args: argparse.Namespace, rates: Rates
) -> tuple[dict, tuple[list[str], str]]:
    """The district built; its figures, some active residents' accounts of its first station
    to read, and the sign-in token of that station's coordinator who reads them."""
    say(
        f"2/5 building {args.stations} stations x {args.residents} residents and "
        f"{args.months} months of activity through the domain ..."
    )
    app, head = bone.timebank, bone.timebank.last_position()
    started = time.perf_counter()
    district = build(
        app,
        bone.vault,
        bone.settings.member_limits,
        rates,
        (args.stations, args.residents, args.months),
    )
    elapsed = time.perf_counter() - started
    events = app.last_position() - head
    # Reads are a station coordinator's, of their own station's residents (reads follow reach).
    first = district.people[0]
    samples = [str(account.id) for account in first.active[:200]]
    return {
        "stations": args.stations,
        "residents": args.stations * args.residents,
        "months": args.months,
        "events": events,
        "registration_events": district.registration_events,
        "activity_events": district.batch.events - district.registration_events,
        "commands": district.batch.commands,
        "refused_confirmations": district.refused,
        "seconds": elapsed,
        "events_per_s": events / elapsed,
        "head": app.last_position(),
    }, (samples, coordinator_token(bone, first.station.id))


def coordinator_token(bone: Backbone, station: uuid.UUID) -> str:
    """A coordinator of ``station``, registered as staff are, and their sign-in token."""
    reach = Reach(level=Level.STATION, station=station)
    command = CreateStaffAccount(
        username="bench.coordinator", role=Role.COORDINATOR, password=uuid.uuid4().hex, reach=reach
    )
    by = Provenance(actor=SYSTEM_ACTOR, channel="cli", correlation_id="district")
    acting = Acting(bone.timebank, Caller(by), datetime.now(UTC), bone.settings, bone.vault)
    staff = register_staff(command, acting)
    principal = Principal(
        subject=f"staff:{staff.id}", roles=frozenset({Role.COORDINATOR}), channel="console"
    )
    return issue_token(jwt_auth(TOKEN_SECRET), principal)


def catch_up(bone: Backbone, urls: str, parts: list[Process]) -> dict:
    """The relay and the projector just started on the built store: the time the projector
    takes to replay every read model from the event store, and the relay to publish, to the
    head."""
    head = bone.timebank.last_position()
    done = finish_times(
        {
            "replay": lambda: visible_position(bone) >= head,
            "relay": lambda: asyncio.run(stream_last_sequence(urls, STREAM)) >= head,
        },
        parts,
    )
    return {
        "events": head,
        "replay_seconds": done["replay"],
        "replay_events_per_s": head / done["replay"],
        "relay_seconds": done["relay"],
        "relay_events_per_s": head / done["relay"],
    }


def finish_times(
    conditions: dict[str, Callable[[], bool]], parts: list[Process], timeout: float = 7200
) -> dict[str, float]:
    """Seconds until each condition first held (checked five times a second), failing at once
    should one of ``parts`` exit."""
    started, done = time.perf_counter(), {}
    while len(done) < len(conditions):
        for part in parts:
            if part.popen.poll() is not None:
                raise RuntimeError(f"{part.name} exited with {part.popen.returncode}")
        for name, condition in conditions.items():
            if name not in done and condition():
                done[name] = time.perf_counter() - started
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"waited {timeout:.0f} s for {sorted(set(conditions) - set(done))}")
        time.sleep(0.2)
    return done


def serve(
    env: dict[str, str],
    root: Path,
    reader: tuple[list[str], str],
    accounts: list,
    args: argparse.Namespace,
) -> tuple[dict, dict[str, float]]:
    """`timebank api` on the district: its reads, commands at the peak rate, then as fast as
    eight clients go; answers the figures and the API process's memory."""
    samples, token = reader
    now = datetime.now(UTC)
    first = f"{now.year - 1}-{now.month + 1:02d}" if now.month < 12 else f"{now.year}-01"
    paths = {
        "statement": lambda i: f"/api/v1/accounts/{samples[i % len(samples)]}/statement",
        "approval queue": lambda _: "/api/v1/hours/?status=submitted",
        "monitoring report, 12 months": lambda _: (
            f"/api/v1/reports/monitoring?first={first}&last={now:%Y-%m}"
        ),
    }
    pairs = [(str(accounts[2 * i].id), str(accounts[2 * i + 1].id)) for i in range(4)]
    with api_server(env, root / "api.log", "api") as (port, pid):
        say(f"4/5 reads, {args.reads} of each, one client ...")
        figures = {
            "reads": {
                name: time_reads(port, path, args.reads, token) for name, path in paths.items()
            }
        }
        say(f"    exchanges at the peak rate, {args.peak_rate:.1f} commands/s ...")
        figures["peak"] = paced_exchanges(
            port, pairs, rate=args.peak_rate, seconds=args.peak_seconds, run_id=args.run_id
        )
        say(f"    {args.transfers} transfers from {args.clients} clients, as fast as they go ...")
        figures["saturation"] = measure_http(
            [(port, pid)], accounts, args.transfers, args.clients, args.run_id
        )
        return figures, memory_mb(pid)


def disk(args: argparse.Namespace, stores: Stores, root: Path, events: int) -> dict:
    """The event store's and read store's tables and indexes, and each NATS node's store."""
    event_schema, read_schema = stores.schemas[:2]
    figures = {
        "events": events,
        "event_store": schema_sizes(args.postgres, event_schema),
        "read_store": schema_sizes(args.postgres, read_schema),
        "nats_nodes_mb": [directory_mb(root / "nats" / f"n{n}") for n in range(3)],
    }
    for store in ("event_store", "read_store"):
        sizes = figures[store]
        sizes["bytes_per_event"] = 1e6 * (sizes["tables_mb"] + sizes["indexes_mb"]) / events
    return figures


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--postgres", metavar="URL", required=True, help="PostgreSQL server (postgresql://…)")
    add("--stations", type=int, default=200, help="stations in the district (200)")
    add("--residents", type=int, default=5000, help="residents a station (5000)")
    add("--months", type=int, default=12, help="months of 30 days of activity (12)")
    add("--cross-station", type=float, default=0.15, help="share of exchanges across stations")
    add("--peak-factor", type=float, default=10.0, help="peak over a working day's mean (10)")
    add("--min-peak-rate", type=float, default=10.0, help="measure at least this rate (10/s)")
    add("--peak-seconds", type=float, default=30.0, help="seconds at the peak rate (30)")
    add("--raw-saves", type=int, default=2000, help="raw saves for the limit (2000)")
    add("--transfers", type=int, default=2000, help="transfers as fast as they go (2000)")
    add("--clients", type=int, default=8, help="clients for those transfers (8)")
    add("--reads", type=int, default=200, help="reads of each kind (200)")
    add("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    if not args.postgres.startswith(("postgres://", "postgresql://")):
        parser.error("--postgres takes a postgresql:// URL")
    args.rates = Rates(cross_station=args.cross_station)
    args.district_peak_rate = peak_rate(args.stations, args.rates, args.peak_factor)
    args.peak_rate = max(args.district_peak_rate, args.min_peak_rate)
    args.run_id = uuid.uuid4().hex[:8]
    return args


def measure(bone: Backbone, args: argparse.Namespace, stores: Stores, root: Path) -> dict:
    urls, nodes = args.nats
    say("1/5 the limit: raw saves of a transfer's shape ...")
    accounts = open_members(bone, f"bench-{args.run_id}", 2 * max(4, args.clients))
    figures: dict = {"raw": measure_raw_saves(bone, accounts, args.raw_saves, args.run_id)}
    figures["build"], reader = build_district(bone, args, args.rates)
    env = {
        "TIMEBANK_EVENT_STORE": bone.settings.event_store_url,
        "TIMEBANK_READ_STORE": bone.settings.read_store_url,
        "TIMEBANK_KEY_STORE": bone.settings.key_store_url,
        "TIMEBANK_NATS_URL": urls,
        "TIMEBANK_STREAM_REPLICAS": "3",
        "TIMEBANK_SECRET": TOKEN_SECRET,
        "TIMEBANK_DATA": str(root / "parts"),
    }
    say("3/5 relay and projector on the built store: replay of every read model ...")
    parts = [timebank("relay", ["relay"], env, root), timebank("projector", ["project"], env, root)]
    try:
        figures["catch_up"] = catch_up(bone, urls, parts)
        served, api_memory = serve(env, root, reader, accounts, args)
        figures |= served
        figures["memory_mb"] = {part.name: memory_mb(part.pid) for part in [*parts, *nodes]}
        figures["memory_mb"]["api"] = api_memory
    finally:
        for part in parts:
            part.stop()
    say("5/5 disk per event ...")
    figures["disk"] = disk(args, stores, root, bone.timebank.last_position())
    figures["extrapolation"] = extrapolate(figures, TARGET)
    return figures


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    root = Path(tempfile.mkdtemp(prefix="timebank-district-"))
    stores = Stores(root, args.postgres)
    bone: Backbone | None = None
    figures: dict = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "loadavg_start": os.getloadavg()[0],
        "rates": asdict(args.rates),
        "district_peak_rate": args.district_peak_rate,
    }
    try:
        with nats_cluster(root / "nats") as args.nats:
            settings = Settings(
                data_dir=root / "data",
                event_store=stores.new("district_events"),
                read_store=stores.new("district_reads"),
            )
            bone = build_backbone(settings, args.nats[0])
            figures |= measure(bone, args, stores, root)
        figures["loadavg_end"] = os.getloadavg()[0]
        report(figures)
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2, default=str))
    finally:
        tear_down(bone, stores, root)


if __name__ == "__main__":
    main()
