"""The hour audit both the API and the console show: entries as the read model holds them,
every step of an entry, and a volunteer's hours over a period with approved totals, each also
as CSV."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

import msgspec
from litestar import Response
from litestar.exceptions import PermissionDeniedException

from domain.identity import Role
from domain.rules import NotFound
from domain.volunteer import volunteer_id_for
from projections import hours, volunteers
from projections.stored import stamp
from services.web.auth import Principal
from services.web.downloads import csv_response
from services.web.reach import Reach, people_among
from services.web.reads import Reads
from services.windows import check_days_asked, station_now

STAFF = (Role.COORDINATOR, Role.ADMIN)


class Entry(msgspec.Struct, kw_only=True):
    entry_id: str
    volunteer_id: str
    account_id: str
    status: str
    activity: str
    started_at: str
    month: str
    minutes: int
    place: str
    content: str
    organiser: str
    responsible: str
    category: str
    building: str
    beneficiary: str | None
    flags: list[str]
    channel: str
    recorded_by: str
    recorded_at: str
    decided_by: str | None
    decided_at: str | None
    position: int
    station_id: str  # where the service was given


class EntryList(msgspec.Struct, kw_only=True):
    entries: list[Entry]
    next_before: int | None


class Step(msgspec.Struct, kw_only=True):
    position: int
    type: str
    actor: str
    channel: str
    at: str
    reason: str | None
    requested_by: str | None
    changes: dict[str, list[Any]]


class Total(msgspec.Struct, kw_only=True):
    month: str
    category: str
    minutes: int
    entries: int


class HoursReport(msgspec.Struct, kw_only=True):
    volunteer_id: str
    first: str
    last: str
    minutes: int
    totals: list[Total]
    entries: list[Entry]


def entry_of_row(row: dict[str, Any]) -> Entry:
    return msgspec.convert(
        {**row, "flags": [flag for flag in row["flags"].split(",") if flag]}, Entry, strict=False
    )


def step_of(row: dict[str, Any]) -> Step:
    return msgspec.convert(
        {**row, "changes": msgspec.json.decode(row["changes"])}, Step, strict=False
    )


def _bounds(first: date, last: date) -> tuple[str, str]:
    """The station's days ``first`` to ``last`` as stored (UTC) bounds."""
    now = station_now()
    check_days_asked(first, last, now)
    zone = now.tzinfo  # the station's clock reads in the station's zone
    start = datetime.combine(first, time(), zone)
    end = datetime.combine(last + timedelta(days=1), time(), zone)
    return stamp(start), stamp(end)


HISTORY_COLUMNS = [
    "position",
    "type",
    "actor",
    "channel",
    "at",
    "field",
    "before",
    "after",
    "reason",
    "requested_by",
]
ENTRY_COLUMNS = [
    "entry_id",
    "status",
    "started_at",
    "activity",
    "category",
    "minutes",
    "place",
    "organiser",
    "responsible",
    "flags",
    "recorded_by",
    "channel",
]


def entry_history(
    reads: Reads, entry_id: UUID, after: int | None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An entry as it stands and every step of it, once the hours read model reached ``after``."""

    def query(db: Any) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        return hours.entry(db, str(entry_id)), hours.history(db, str(entry_id))

    row, steps = reads.query(("hours",), after, query)
    if row is None:
        raise NotFound("entry-not-found", f"There is no service-hour entry {entry_id}.")
    return row, steps


def history_export(entry_id: UUID, rows: list[dict[str, Any]]) -> Response[str]:
    """An entry's history as CSV: one line per changed field of each step (one for a step
    that changes none), with before, after, why and who asked."""
    steps = [step_of(row) for row in rows]
    return csv_response(
        f"entry-{entry_id}",
        HISTORY_COLUMNS,
        [
            [
                step.position,
                step.type,
                step.actor,
                step.channel,
                step.at,
                field,
                *change,
                step.reason or "",
                step.requested_by or "",
            ]
            for step in steps
            for field, change in (step.changes.items() or [("", ["", ""])])
        ],
    )


def volunteer_report(
    reads: Reads, volunteer_id: UUID, first: date, last: date, after: int | None
) -> HoursReport:
    """A volunteer's entries over the station's days ``first`` to ``last``, with the approved
    totals by month and category."""
    start, end = _bounds(first, last)

    def query(db: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        rows = hours.listed(
            db,
            volunteer=str(volunteer_id),
            status=None,
            started_from=start,
            started_before=end,
            before=None,
            limit=10_000,
        )
        return rows, hours.totals(db, str(volunteer_id), start, end)

    rows, totals = reads.query(("hours",), after, query)
    sums = [msgspec.convert(row, Total, strict=False) for row in totals]
    return HoursReport(
        volunteer_id=str(volunteer_id),
        first=first.isoformat(),
        last=last.isoformat(),
        minutes=sum(total.minutes for total in sums),
        totals=sums,
        entries=[entry_of_row(row) for row in reversed(rows)],
    )


def volunteer_export(report: HoursReport) -> Response[str]:
    """The report's entries as CSV: one line per entry."""
    return csv_response(
        f"volunteer-{report.volunteer_id}-{report.first}-{report.last}",
        ENTRY_COLUMNS,
        [
            [
                ",".join(value) if isinstance(value, list) else value
                for value in (getattr(entry, column) for column in ENTRY_COLUMNS)
            ]
            for entry in report.entries
        ],
    )


def check_own_volunteer(principal: Principal, volunteer_id: UUID) -> None:
    """A volunteer reaches only their own record; coordinators reach anyone's."""
    if principal.is_member and (
        principal.member_id is None or volunteer_id_for(principal.member_id) != volunteer_id
    ):
        raise PermissionDeniedException("You can only see your own volunteer record.")


def check_volunteer_reached(
    principal: Principal, reach: Reach, reads: Reads, volunteer_id: UUID, after: int | None
) -> None:
    """A volunteer reads their own record; staff, those of their own station's volunteers
    (across stations, none: asked before looking, so whether one exists is not told)."""
    check_own_volunteer(principal, volunteer_id)
    if principal.is_member:
        return
    people_among(reach)
    home = reads.query(("volunteers",), after, lambda db: volunteers.home_of(db, str(volunteer_id)))
    if home is None:
        raise NotFound("volunteer-not-found", f"There is no volunteer {volunteer_id}.")
    reach.check(home)


def reached_entry(
    principal: Principal, reach: Reach, reads: Reads, entry_id: UUID, after: int | None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An entry and its steps, as ``entry_history``: a volunteer reads their own; staff, those
    given at their own station (across stations, none, asked before looking)."""
    if not principal.is_member:
        people_among(reach)
    row, steps = entry_history(reads, entry_id, after)
    check_own_volunteer(principal, UUID(row["volunteer_id"]))
    if not principal.is_member:
        reach.check(row["station_id"])
    return row, steps
