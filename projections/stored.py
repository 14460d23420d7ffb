"""How values go into the read store: instants as one fixed-width UTC text that sorts as
time does, months as ``YYYY-MM``, and whole numbers and text as both backends can hold them,
whatever an event carries (a read model must apply every event the store holds)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)


def in_utc(moment: datetime) -> datetime:
    """``moment`` in UTC. An instant datetime cannot hold there (year 1 at +14:00 is still in
    year 0 in UTC; 9999-12-31 at -14:00 already in 10000) is held at the nearer end, so that
    an event no one meant still applies, and sorts where it belongs."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return _EARLIEST if moment.year == 1 else _LATEST


def in_zone(moment: datetime, zone: tzinfo) -> datetime:
    """``moment`` where ``zone`` is, to show it; one that zone's calendar cannot hold (the
    calendar's last instant, east of UTC) is shown as it was stored."""
    try:
        return moment.astimezone(zone)
    except OverflowError:
        return moment


def later_by(moment: datetime, *, hours: int) -> datetime:
    """``hours`` after ``moment``, held at the end of the calendar rather than past it."""
    try:
        return moment + timedelta(hours=hours)
    except OverflowError:
        return _LATEST if hours > 0 else _EARLIEST


def stamp(moment: datetime) -> str:
    """One fixed-width UTC form, so stored times compare correctly as text."""
    return in_utc(moment).isoformat(timespec="microseconds")


def month_of(day: date) -> str:
    """``YYYY-MM``, four digits for every year (``strftime("%Y")`` drops leading zeros)."""
    return f"{day.year:04d}-{day.month:02d}"


_LOWEST, _HIGHEST = -(2**63), 2**63 - 1  # what a BIGINT holds


def storable(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` as both backends can store them, whatever an event carries: a whole number
    beyond BIGINT held at its end (a limit that far out means no limit), and NUL, which
    PostgreSQL text cannot hold, as U+FFFD. Every row passes here, so the check is lean."""
    for value in params.values():
        kind = type(value)
        if (kind is int and not _LOWEST <= value <= _HIGHEST) or (kind is str and "\x00" in value):
            return {name: _storable_value(each) for name, each in params.items()}
    return params


def _storable_value(value: Any) -> Any:
    if type(value) is int:
        return min(max(value, _LOWEST), _HIGHEST)
    if type(value) is str:
        return value.replace("\x00", "\ufffd")
    return value
