"""The windows of time a station can mean, for every date and instant a command accepts.

A day or an instant outside its window is a typing slip (year 1, year 9999), and one accepted
would be carried into every read model, where it cannot be shown or summed. Request bodies
name a field's window in its type (``DoneAt``, ``PlannedOn``, ...): ``Windowed`` checks every
such field when the body is decoded, against the clock of the app serving the request (the
domain reads no clock); query parameters and imported rows call ``check`` themselves.
"""

from __future__ import annotations

import enum
import typing
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Annotated, Any

import msgspec

from domain.rules import RuleViolated, check_period

EARLIEST = date(2000, 1, 1)  # before any station kept its records here
EARLIEST_BIRTH = date(1900, 1, 1)
PLANNING_YEARS = 2
# Kiosk and server clocks disagree a little: service "a minute from now" is not a slip.
CLOCK_SKEW = timedelta(minutes=5)


class Window(enum.Enum):
    """Which days a value may name, by what it says happened or will happen."""

    PLANNED = "planned"  # activities, meetings, due dates: 2000-01-01 … today + 2 years
    DONE = "done"  # help given, service done, trainings held: 2000-01-01 … now
    BORN = "born"  # birth dates: 1900-01-01 … today
    # Periods asked about (a certificate's last day, a report's): 2000-01-01 … today + 2 years.
    ASKED = "asked"


@dataclass(frozen=True)
class _Bounds:
    earliest: date
    latest: date
    latest_words: str


def _bounds(window: Window, today: date) -> _Bounds:
    if window in (Window.PLANNED, Window.ASKED):
        try:
            ahead = today.replace(year=today.year + PLANNING_YEARS)
        except ValueError:  # 29 February, in a year that has none
            ahead = today.replace(year=today.year + PLANNING_YEARS, day=28)
        return _Bounds(EARLIEST, ahead, f"{ahead.isoformat()} (today plus two years)")
    earliest = EARLIEST_BIRTH if window is Window.BORN else EARLIEST
    return _Bounds(earliest, today, "today")


class DateOutOfRange(RuleViolated):
    """A field's day or instant lies outside the window a station can mean."""

    def __init__(self, field: str, message: str, *, code: str) -> None:
        super().__init__(code, message, field=field)
        self.field: str = field


def _refuse(field: str, bounds: _Bounds, *, late: bool, window: Window) -> DateOutOfRange:
    message = f"{field} must be between {bounds.earliest.isoformat()} and {bounds.latest_words}."
    if late and window is Window.DONE:
        # Something done cannot be recorded before it happened: the domain's code for it.
        return DateOutOfRange(field, message, code="date-in-future")
    return DateOutOfRange(field, message, code="date-out-of-range")


def check(field: str, value: date, window: Window, now: datetime) -> None:
    """Refuse ``value`` of ``field`` unless it lies in ``window``; ``now`` is the station's
    (an aware datetime in its zone). An instant must say its offset from UTC."""
    bounds = _bounds(window, now.date())
    if not isinstance(value, datetime):
        if not bounds.earliest <= value <= bounds.latest:
            raise _refuse(field, bounds, late=value > bounds.latest, window=window)
        return
    if value.tzinfo is None or value.utcoffset() is None:
        raise DateOutOfRange(
            field,
            f"{field} must say its offset from UTC, e.g. 2026-06-15T09:00:00+08:00.",
            code="time-zone-required",
        )
    earliest = datetime.combine(bounds.earliest, time(), now.tzinfo)
    if window is Window.DONE:
        latest = latest_done(now)
        bounds = replace(bounds, latest_words="now")
    else:
        latest = datetime.combine(bounds.latest + timedelta(days=1), time(), now.tzinfo)
    # Comparing aware datetimes works at any offset; converting year 1 to UTC would not.
    if not earliest <= value <= latest:
        raise _refuse(field, bounds, late=value > latest, window=window)


def latest_done(now: datetime) -> datetime:
    """The latest instant something done may name: now, as far as the clocks disagree."""
    return now + CLOCK_SKEW


def check_not_future(occurred_at: datetime, now: datetime) -> None:
    """The end of the DONE window, against the clock a handler was given (a body's instant
    was checked against the request's as it was decoded), with the ledger's code for it."""
    if occurred_at > latest_done(now):
        raise RuleViolated("occurred-in-future", "Help cannot be recorded before it happened.")


def _system_now() -> datetime:
    return datetime.now(UTC)


# The serving app's clock, set for each request (services.web.context.RequestContext): a
# struct decoded outside any request (a test, the CLI) is checked against the system's.
station_clock: ContextVar[Callable[[], datetime]] = ContextVar("station_clock", default=_system_now)


def station_now() -> datetime:
    """The serving station's clock, read in its zone (the system's, outside a request)."""
    return station_clock.get()()


def _window_of(hint: Any) -> Window | None:
    if typing.get_origin(hint) is Annotated:
        found = [meta for meta in hint.__metadata__ if isinstance(meta, Window)]
        return found[0] if found else _window_of(typing.get_args(hint)[0])
    for arm in typing.get_args(hint):  # an optional field: ``DoneAt | None``
        window = _window_of(arm)
        if window is not None:
            return window
    return None


@cache
def _windowed_fields(cls: type[msgspec.Struct]) -> tuple[tuple[str, Window], ...]:
    hints = typing.get_type_hints(cls, include_extras=True)
    found = ((name, _window_of(hints[name])) for name in cls.__struct_fields__)
    return tuple((name, window) for name, window in found if window is not None)


class Windowed(msgspec.Struct):
    """A request body whose dated fields are refused outside their windows as it is decoded."""

    def __post_init__(self) -> None:
        fields = _windowed_fields(type(self))
        if not fields:
            return
        now = station_now()
        for name, window in fields:
            value = getattr(self, name)
            if value is not None:
                check(name, value, window, now)


# An instant must carry its offset (checked by ``check``, so that the refusal names the field).
DoneAt = Annotated[datetime, Window.DONE]
PlannedAt = Annotated[datetime, Window.PLANNED]
DoneOn = Annotated[date, Window.DONE]
PlannedOn = Annotated[date, Window.PLANNED]
BornOn = Annotated[date, Window.BORN]
PeriodEnd = Annotated[date, Window.ASKED]
# A time of day as a form writes it (HH:MM, seconds optional): only hours the clock has.
TimeOfDay = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$")]


def check_month(field: str, month: str, window: Window, now: datetime) -> None:
    """``check`` for a month written ``YYYY-MM`` (its first day); year 0 is out of range."""
    year, number = (int(part) for part in month.split("-"))
    bounds = _bounds(window, now.date())
    try:
        first_day = date(year, number, 1)
    except ValueError:
        raise _refuse(field, bounds, late=False, window=window) from None
    check(field, first_day, window, now)


def check_days_asked(first: date, last: date, now: datetime) -> None:
    """A query's days ``first`` to ``last``: records may be asked for up to two years ahead."""
    check("first", first, Window.ASKED, now)
    check("last", last, Window.ASKED, now)
    check_period(first, last)


def check_months_asked(first: str, last: str, now: datetime) -> None:
    """``check_days_asked`` for months written ``YYYY-MM``."""
    check_month("first", first, Window.ASKED, now)
    check_month("last", last, Window.ASKED, now)
    check_period(first, last)


def day_of(field: str, text: str, window: Window, now: datetime) -> date:
    """A form's day written ``YYYY-MM-DD``, read and checked against ``window``."""
    try:
        day = date.fromisoformat(text)
    except ValueError:  # a form's pattern lets 2026-02-30 through
        raise DateOutOfRange(
            field, f"{field} is not a day of the calendar.", code="date-out-of-range"
        ) from None
    check(field, day, window, now)
    return day
