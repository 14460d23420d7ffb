"""Service hours over HTTP: self-report and entry, bulk import, the approval queue,
amendments and voidings with reasons, and the hour audit (with CSV exports)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

import anyio
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody, QueryParameter
from msgspec import Meta

from domain.hours import EntryStatus, Service
from domain.identity import Role
from domain.provenance import Provenance
from domain.rules import NotFound, RuleViolated
from domain.volunteer import volunteer_id_for
from projections import hours
from projections.stored import stamp
from services import hours as entries
from services.api import schemas
from services.api.auth import Principal, allow
from services.api.context import After, Before, Limit, answer, next_before, read
from services.api.downloads import csv_response
from services.api.volunteers import check_own_volunteer
from services.bus import IdempotencyKey, Reason
from services.runtime import Backbone
from services.windows import DoneAt, check_days_asked

STAFF = (Role.COORDINATOR, Role.ADMIN)
MAX_IMPORT_BYTES = 2 * 1024 * 1024
Text = Annotated[str, Meta(max_length=200)]
Required = Annotated[str, Meta(min_length=1, max_length=200)]


class ServiceIn(schemas.Strict, kw_only=True):
    activity: Required
    started_at: DoneAt
    minutes: Annotated[int, Meta(gt=0, le=24 * 60)]
    organiser: Required
    responsible: Required
    category: Annotated[str, Meta(min_length=1, max_length=40)]
    place: Text = ""
    content: Annotated[str, Meta(max_length=1000)] = ""
    building: Annotated[str, Meta(max_length=40)] = ""
    beneficiary: UUID | None = None  # a member id, never a name

    def service(self, zone: ZoneInfo) -> Service:
        """The service, its time in the station's zone: the day and month it counts in are the
        station's, whatever offset the client wrote."""
        return Service(
            activity=self.activity,
            started_at=self.started_at.astimezone(zone),
            minutes=self.minutes,
            place=self.place,
            content=self.content,
            organiser=self.organiser,
            responsible=self.responsible,
            category=self.category,
            building=self.building,
            beneficiary=self.beneficiary,
        )


class NewEntry(ServiceIn, kw_only=True):
    idempotency_key: IdempotencyKey
    volunteer_id: UUID | None = None  # coordinators name the volunteer; volunteers are themselves


class Amendment(ServiceIn, kw_only=True):
    reason: Reason
    requested_by: Annotated[
        str, Meta(min_length=1, max_length=100, description="Who asked for the change (Art. 13)")
    ]


class Voiding(schemas.Strict, kw_only=True):
    reason: Reason
    requested_by: Annotated[str, Meta(min_length=1, max_length=100)]


class Rejection(schemas.Strict, kw_only=True):
    reason: Reason


class BulkApproval(schemas.Strict, kw_only=True):
    entry_ids: Annotated[list[UUID], Meta(min_length=1, max_length=200)]


class BulkRejection(BulkApproval, kw_only=True):
    reason: Reason


class ItemResult(msgspec.Struct, kw_only=True):
    item: str
    position: int | None
    code: str | None
    message: str | None
    field: str | None = None  # the field, or an imported list's column, that was refused


class AttendanceUpload(msgspec.Struct):
    """The form an attendance list is uploaded in: a form without the file part is refused
    as it is read (``data``, the part's name, is what every client of this route sends)."""

    data: UploadFile


class BulkResult(msgspec.Struct, kw_only=True):
    recorded: int
    refused: int
    position: int
    results: list[ItemResult]


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


def _entry(row: dict[str, Any]) -> Entry:
    return msgspec.convert(
        {**row, "flags": [flag for flag in row["flags"].split(",") if flag]}, Entry, strict=False
    )


def step_of(row: dict[str, Any]) -> Step:
    return msgspec.convert(
        {**row, "changes": msgspec.json.decode(row["changes"])}, Step, strict=False
    )


def _bounds(first: date, last: date, bone: Backbone) -> tuple[str, str]:
    """The station's days ``first`` to ``last`` as stored (UTC) bounds."""
    check_days_asked(first, last, bone.local_now())
    zone = bone.settings.zone
    if first > last:
        raise RuleViolated("invalid-period", "The period starts before it ends.")
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
    bone: Backbone, entry_id: UUID, after: int | None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An entry as it stands and every step of it, once the hours read model reached ``after``."""

    def query(db: Any) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        return hours.entry(db, str(entry_id)), hours.history(db, str(entry_id))

    row, steps = read(bone, ("hours",), after, query)
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
    bone: Backbone, volunteer_id: UUID, first: date, last: date, after: int | None
) -> HoursReport:
    """A volunteer's entries over the station's days ``first`` to ``last``, with the approved
    totals by month and category."""
    start, end = _bounds(first, last, bone)

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

    rows, totals = read(bone, ("hours",), after, query)
    sums = [msgspec.convert(row, Total, strict=False) for row in totals]
    return HoursReport(
        volunteer_id=str(volunteer_id),
        first=first.isoformat(),
        last=last.isoformat(),
        minutes=sum(total.minutes for total in sums),
        totals=sums,
        entries=[_entry(row) for row in reversed(rows)],
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


def _volunteer_for(principal: Principal, named: UUID | None) -> UUID:
    """Volunteers record their own service; coordinators name whose."""
    if principal.is_member:
        assert principal.member_id is not None
        own = volunteer_id_for(principal.member_id)
        if named not in (None, own):
            raise RuleViolated("not-your-entry", "You can record only your own service.")
        return own
    if named is None:
        raise RuleViolated("volunteer-required", "Name the volunteer whose service this is.")
    return named


def _bulk(results: list[entries.Result], position: int) -> BulkResult:
    items = [ItemResult(**vars(result)) for result in results]
    recorded = sum(1 for result in results if result.code is None)
    return BulkResult(
        recorded=recorded, refused=len(results) - recorded, position=position, results=items
    )


class HoursController(Controller):
    path = "/api/v1/hours"
    tags = ["hours"]  # noqa: RUF012

    @post(
        "/",
        opt=allow(Role.VOLUNTEER, Role.COORDINATOR),
        summary="Record service (volunteers: their own, at a kiosk); it awaits approval",
    )
    async def submit(
        self,
        request: Request[Principal, Any, Any],
        data: JSONBody[NewEntry],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        receipt = await bone.commits.run(
            entries.submit,
            bone.timebank,
            idempotency_key=data.idempotency_key,
            volunteer_id=_volunteer_for(request.user, data.volunteer_id),
            service=data.service(bone.settings.zone),
            now=bone.local_now(),
            by=by,
        )
        return answer(receipt)

    @post(
        "/imports",
        opt=allow(Role.COORDINATOR),
        request_max_body_size=MAX_IMPORT_BYTES,
        summary="Record an activity's attendance list (CSV); each row on its own",
        description="Columns: " + ", ".join(entries.IMPORT_COLUMNS) + ". Dates are the "
        "station's (YYYY-MM-DD, HH:MM). Good rows are recorded; each bad one is reported with "
        "its line number and why. The same `key` again records nothing new.",
    )
    async def import_list(
        self,
        data: Annotated[AttendanceUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
        key: Annotated[str, QueryParameter(min_length=8, max_length=80, pattern=r"^[\w.:-]+$")],
    ) -> BulkResult:
        raw = await data.data.read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise RuleViolated("not-utf8", "Save the list as CSV in UTF-8 and try again.") from None

        def run() -> list[entries.Result]:
            return entries.import_attendance(
                bone.timebank,
                import_key=key,
                text=text,
                now=bone.local_now(),
                by=by,
            )

        results = await anyio.to_thread.run_sync(run)
        return _bulk(results, bone.timebank.last_position())

    @get(
        "/",
        sync_to_thread=True,
        opt=allow(Role.VOLUNTEER, *STAFF),
        summary="Entries newest first; `status=submitted` is the approval queue",
    )
    def list_entries(
        self,
        request: Request[Principal, Any, Any],
        bone: NamedDependency[Backbone],
        after: After = None,
        status: Annotated[EntryStatus | None, QueryParameter()] = None,
        volunteer_id: Annotated[UUID | None, QueryParameter()] = None,
        before: Before = None,
        limit: Limit = 50,
    ) -> EntryList:
        principal = request.user
        if principal.is_member:
            volunteer_id = _volunteer_for(principal, volunteer_id)
        rows = read(
            bone,
            ("hours",),
            after,
            lambda db: hours.listed(
                db,
                volunteer=str(volunteer_id) if volunteer_id else None,
                status=status,
                started_from=None,
                started_before=None,
                before=before,
                limit=limit,
            ),
        )
        return EntryList(
            entries=[_entry(row) for row in rows], next_before=next_before(rows, limit)
        )

    @post(
        "/approvals",
        sync_to_thread=True,
        opt=allow(Role.COORDINATOR),
        summary="Approve several entries; each is credited on its own",
    )
    def approve_many(
        self,
        data: JSONBody[BulkApproval],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> BulkResult:
        results = entries.each(
            [str(entry_id) for entry_id in data.entry_ids],
            lambda item: entries.approve(bone.timebank, entry_id=UUID(item), by=by),
        )
        return _bulk(results, bone.timebank.last_position())

    @post(
        "/rejections",
        sync_to_thread=True,
        opt=allow(Role.COORDINATOR),
        summary="Reject several entries with one reason",
    )
    def reject_many(
        self,
        data: JSONBody[BulkRejection],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> BulkResult:
        results = entries.each(
            [str(entry_id) for entry_id in data.entry_ids],
            lambda item: entries.reject(
                bone.timebank, entry_id=UUID(item), reason=data.reason, by=by
            ),
        )
        return _bulk(results, bone.timebank.last_position())

    @get(
        "/{entry_id:uuid}",
        sync_to_thread=True,
        opt=allow(Role.VOLUNTEER, *STAFF),
        summary="One entry as it stands",
    )
    def show(
        self,
        entry_id: FromPath[UUID],
        request: Request[Principal, Any, Any],
        bone: NamedDependency[Backbone],
        after: After = None,
    ) -> Entry:
        row = read(bone, ("hours",), after, lambda db: hours.entry(db, str(entry_id)))
        if row is None:
            raise NotFound("entry-not-found", f"There is no service-hour entry {entry_id}.")
        check_own_volunteer(request.user, UUID(row["volunteer_id"]))
        return _entry(row)

    @get(
        "/{entry_id:uuid}/history",
        sync_to_thread=True,
        opt=allow(Role.VOLUNTEER, *STAFF),
        summary="Every step of an entry: who, when, which channel, what changed and why",
    )
    def history(
        self,
        entry_id: FromPath[UUID],
        request: Request[Principal, Any, Any],
        bone: NamedDependency[Backbone],
        after: After = None,
    ) -> list[Step]:
        return [step_of(row) for row in self._history(entry_id, request, bone, after)]

    @get(
        "/{entry_id:uuid}/history.csv",
        sync_to_thread=True,
        opt=allow(*STAFF),
        summary="An entry's history as CSV",
        media_type=schemas.CSV,
    )
    def history_csv(
        self,
        entry_id: FromPath[UUID],
        request: Request[Principal, Any, Any],
        bone: NamedDependency[Backbone],
        after: After = None,
    ) -> Response[str]:
        return history_export(entry_id, self._history(entry_id, request, bone, after))

    def _history(
        self,
        entry_id: UUID,
        request: Request[Principal, Any, Any],
        bone: Backbone,
        after: int | None,
    ) -> list[dict[str, Any]]:
        row, steps = entry_history(bone, entry_id, after)
        check_own_volunteer(request.user, UUID(row["volunteer_id"]))
        return steps

    @post(
        "/{entry_id:uuid}/approval",
        opt=allow(Role.COORDINATOR),
        summary="Approve: the volunteer is credited from the community account",
    )
    async def approve(
        self,
        entry_id: FromPath[UUID],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        return answer(
            await bone.commits.run(entries.approve, bone.timebank, entry_id=entry_id, by=by)
        )

    @post(
        "/{entry_id:uuid}/rejection",
        opt=allow(Role.COORDINATOR),
        summary="Reject, saying why",
    )
    async def reject(
        self,
        entry_id: FromPath[UUID],
        data: JSONBody[Rejection],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        return answer(
            await bone.commits.run(
                entries.reject, bone.timebank, entry_id=entry_id, reason=data.reason, by=by
            )
        )

    @post(
        "/{entry_id:uuid}/amendments",
        opt=allow(Role.COORDINATOR),
        summary="Change an entry with a reason and who asked (approved: the difference is "
        "credited or corrected)",
    )
    async def amend(
        self,
        entry_id: FromPath[UUID],
        data: JSONBody[Amendment],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        receipt = await bone.commits.run(
            entries.amend,
            bone.timebank,
            entry_id=entry_id,
            service=data.service(bone.settings.zone),
            reason=data.reason,
            requested_by=data.requested_by,
            now=bone.local_now(),
            by=by,
        )
        return answer(receipt)

    @post(
        "/{entry_id:uuid}/voiding",
        opt=allow(Role.COORDINATOR),
        summary="Void an approved entry with a reason and who asked; its credit is corrected",
    )
    async def void(
        self,
        entry_id: FromPath[UUID],
        data: JSONBody[Voiding],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        receipt = await bone.commits.run(
            entries.void,
            bone.timebank,
            entry_id=entry_id,
            reason=data.reason,
            requested_by=data.requested_by,
            by=by,
        )
        return answer(receipt)


class VolunteerHoursController(Controller):
    path = "/api/v1/volunteers/{volunteer_id:uuid}/hours"
    tags = ["hours"]  # noqa: RUF012

    @get(
        "/",
        sync_to_thread=True,
        opt=allow(Role.VOLUNTEER, *STAFF),
        summary="A volunteer's entries over a period, with approved totals by month and category",
    )
    def report(
        self,
        volunteer_id: FromPath[UUID],
        request: Request[Principal, Any, Any],
        bone: NamedDependency[Backbone],
        first: Annotated[date, QueryParameter(description="First day (the station's)")],
        last: Annotated[date, QueryParameter(description="Last day, included")],
        after: After = None,
    ) -> HoursReport:
        check_own_volunteer(request.user, volunteer_id)
        return volunteer_report(bone, volunteer_id, first, last, after)

    @get(
        "/export",
        sync_to_thread=True,
        opt=allow(*STAFF),
        summary="The same as CSV: one line per entry",
        media_type=schemas.CSV,
    )
    def export(
        self,
        volunteer_id: FromPath[UUID],
        bone: NamedDependency[Backbone],
        first: Annotated[date, QueryParameter()],
        last: Annotated[date, QueryParameter()],
        after: After = None,
    ) -> Response[str]:
        return volunteer_export(volunteer_report(bone, volunteer_id, first, last, after))
