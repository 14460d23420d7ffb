"""The district benchmark's table, and its extrapolation to a larger record."""

from __future__ import annotations

import json

from services.composition.config import Settings

ASSUMPTIONS = (
    "disk grows linearly with events (B-tree indexes grow n log n, so this is a floor)",
    "replay keeps the rate measured (larger read-model indexes slow inserts, so the hours are a "
    "floor); it was measured with the relay publishing beside it, as when a deployment starts",
    "memory does not grow with events: aggregate caches hold 10,000 aggregates, the projector "
    "applies 5,000 events a batch, and the stream is bounded (TIMEBANK_STREAM_MAX_MB), so the "
    "peaks measured stand; this is the least certain line, as PostgreSQL's own memory is not "
    "counted",
)


def extrapolate(figures: dict, target: int) -> dict:
    disk, build = figures["disk"], figures["build"]
    replay = figures["catch_up"]["replay_events_per_s"]
    stream_mb = Settings(data_dir=".").stream_max_mb
    return {
        "events": target,
        "from_events": disk["events"],
        "event_store_gb": disk["event_store"]["bytes_per_event"] * target / 1e9,
        "read_store_gb": disk["read_store"]["bytes_per_event"] * target / 1e9,
        "nats_node_gb": stream_mb / 1000,
        "replay_hours": target / replay / 3600,
        "build_hours": target / build["events_per_s"] / 3600,
        "years_of_this_district": (target - build["registration_events"])
        / (build["activity_events"] * 12 / build["months"]),
        "memory_peak_mb": {
            name: memory["peak_mb"] for name, memory in figures["memory_mb"].items()
        },
        "assumptions": ASSUMPTIONS,
    }


def _percentiles(figure: dict) -> str:
    failed = figure.get("failures", 0)
    return f"p50 {figure['p50_ms']:.1f} ms, p99 {figure['p99_ms']:.1f} ms" + (
        f", {failed} FAILED" if failed else ""
    )


def _rows(figures: dict) -> list[tuple[str, str, str]]:
    raw, build, catch = figures["raw"], figures["build"], figures["catch_up"]
    peak, saturation = figures["peak"], figures["saturation"]

    def ratio(events_per_s: float) -> str:
        return f"{events_per_s / raw['events_per_s']:.2f} x"

    rows = [
        ("raw save (the limit)", f"{raw['saves_per_s']:,.0f} saves/s", "1.00 x"),
        ("  same, in events", f"{raw['events_per_s']:,.0f} events/s", ""),
        (
            "build through the domain",
            f"{build['events_per_s']:,.0f} events/s",
            ratio(build["events_per_s"]),
        ),
        (
            "replay every read model (projector)",
            f"{catch['replay_events_per_s']:,.0f} events/s",
            ratio(catch["replay_events_per_s"]),
        ),
        (
            "relay to the 3-node stream",
            f"{catch['relay_events_per_s']:,.0f} events/s",
            ratio(catch["relay_events_per_s"]),
        ),
        (
            f"exchanges at {peak['target_rate']:.1f} commands/s",
            f"{peak['achieved_rate']:.1f}/s, {_percentiles(peak)}",
            "",
        ),
        (
            f"transfers, {saturation['clients']} clients flat out",
            f"{saturation['transfers_per_s']:,.0f}/s, p99 {saturation['latency_p99_ms']:.1f} ms",
            f"{saturation['transfers_per_s'] / raw['saves_per_s']:.2f} x",
        ),
    ]
    return rows + _served_rows(figures)


def _served_rows(figures: dict) -> list[tuple[str, str, str]]:
    rows = [(f"read: {name}", _percentiles(read), "") for name, read in figures["reads"].items()]
    for name, memory in figures["memory_mb"].items():
        held = f"{memory['rss_mb']:.0f} MB now, {memory['peak_mb']:.0f} MB peak"
        rows.append((f"memory: {name}", held, ""))
    return rows


def _disk_rows(figures: dict) -> list[tuple[str, str, str]]:
    disk, ahead = figures["disk"], figures["extrapolation"]
    rows = []
    for store in ("event_store", "read_store"):
        sizes = disk[store]
        rows.append(
            (
                f"disk: {store.replace('_', ' ')}",
                f"{sizes['bytes_per_event']:,.0f} bytes/event "
                f"({sizes['tables_mb']:.0f} MB tables, {sizes['indexes_mb']:.0f} MB indexes)",
                "",
            )
        )
    nodes = ", ".join(f"{mb:.0f}" for mb in disk["nats_nodes_mb"])
    rows.append(("disk: each NATS node", f"{nodes} MB", ""))
    rows += [
        (f"at {ahead['events']:.0e} events: event store", f"{ahead['event_store_gb']:,.0f} GB", ""),
        ("  read store", f"{ahead['read_store_gb']:,.0f} GB", ""),
        ("  each NATS node (the stream's bound)", f"{ahead['nats_node_gb']:.2f} GB", ""),
        ("  replay of every read model", f"{ahead['replay_hours']:,.1f} h", ""),
        ("  years of this district's record", f"{ahead['years_of_this_district']:,.1f}", ""),
    ]
    return rows


def report(figures: dict) -> None:
    build = figures["build"]
    rows = _rows(figures) + _disk_rows(figures)
    headers = ("figure", "value", "vs limit")
    widths = [max(len(row[i]) for row in (headers, *rows)) for i in range(3)]
    line = "  ".join("-" * width for width in widths)
    print()
    print(
        f"Timebank district — {build['stations']} stations, {build['residents']:,} residents, "
        f"{build['months']} months: {build['events']:,} events, PostgreSQL + 3 NATS nodes, "
        f"{figures['started']}"
    )
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print(line)
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    print(line)
    print(
        f"  The district's own peak: {figures['district_peak_rate']:.2f} commands/s "
        f"(a working day's commands at the stated rates, times the peak factor)."
    )
    print(f"  Extrapolated from {figures['extrapolation']['from_events']:,} events, assuming:")
    for assumption in ASSUMPTIONS:
        print(f"  - {assumption}")
    print(
        f"  Load average {figures['loadavg_start']:.1f} at the start, "
        f"{figures['loadavg_end']:.1f} at the end, on {figures['cpus']} CPUs."
    )
    print(json.dumps({"benchmark": "timebank-district", **figures}, default=str))
