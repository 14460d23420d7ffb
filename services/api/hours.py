"""Service hours over HTTP: self-report and entry, bulk import, the approval queue,
amendments and voidings with reasons (each handed to the bus), and an entry as it stands
and its steps (the hour audit's reads are in ``hour_audit``)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import anyio
import msgspec
from litestar import Controller, Request, Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter

from domain.hours import EntryStatus
from domain.identity import Role
from projections import hours
from services.api import schemas
from services.api.command_routes import command_route
from services.bus import Bus, Caller
from services.hours.commands import (
    MAX_IMPORT_BYTES,
    AmendEntry,
    Amendment,
    ApproveEntries,
    ApproveEntry,
    ImportAttendance,
    RejectEntries,
    RejectEntry,
    Rejection,
    SubmitEntry,
    VoidEntry,
    Voiding,
)
from services.hours.handlers import IMPORT_COLUMNS, Outcomes, volunteer_for
from services.web.auth import Principal, allow
from services.web.context import After, Before, Limit, next_before
from services.web.hour_history import (
    STAFF,
    Entry,
    EntryList,
    Step,
    entry_of_row,
    history_export,
    reached_entry,
    step_of,
)
from services.web.reach import Reach, people_among
from services.web.reads import Reads


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


def _bulk(outcomes: Outcomes) -> BulkResult:
    return BulkResult(
        recorded=outcomes.recorded,
        refused=len(outcomes.results) - outcomes.recorded,
        position=outcomes.position,
        results=[ItemResult(**vars(result)) for result in outcomes.results],
    )


class HoursController(Controller):
    """The entries' reads and the attendance import (``HOURS`` adds the other commands)."""

    @post(
        "/imports",
        opt=allow(Role.COORDINATOR),
        request_max_body_size=MAX_IMPORT_BYTES,
        summary="Record an activity's attendance list (CSV); each row on its own",
        description="Columns: " + ", ".join(IMPORT_COLUMNS) + ". Dates are the "
        "station's (YYYY-MM-DD, HH:MM). Good rows are recorded; each bad one is reported with "
        "its line number and why. The same `key` again records nothing new.",
    )
    async def import_list(
        self,
        data: Annotated[AttendanceUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
        key: Annotated[str, QueryParameter(min_length=8, max_length=80, pattern=r"^[\w.:-]+$")],
        station: Annotated[
            UUID | None, QueryParameter(description="Where the activity was held")
        ] = None,
    ) -> BulkResult:
        command = ImportAttendance.uploaded(key, await data.data.read(), station)
        # Alone, the list is recorded where it is handed over: a worker thread, not the loop.
        return _bulk(await anyio.to_thread.run_sync(bus.handle_from_thread, command, caller))

    @get(
        "/",
        sync_to_thread=True,
        opt=allow(Role.VOLUNTEER, *STAFF, people=True),
        summary="Entries newest first; `status=submitted` is the approval queue",
    )
    def list_entries(
        self,
        caller: NamedDependency[Caller],
        reads: NamedDependency[Reads],
        reach: NamedDependency[Reach],
        after: After = None,
        status: Annotated[EntryStatus | None, QueryParameter()] = None,
        volunteer_id: Annotated[UUID | None, QueryParameter()] = None,
        before: Before = None,
        limit: Limit = 50,
    ) -> EntryList:
        # A volunteer reads their own entries wherever they served; staff, their stations'.
        stations = None if caller.is_member else people_among(reach)
        if caller.is_member:
            volunteer_id = volunteer_for(caller, volunteer_id)
        rows = reads.query(
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
                stations=stations,
            ),
        )
        return EntryList(
            entries=[entry_of_row(row) for row in rows], next_before=next_before(rows, limit)
        )

    @get(
        "/{entry_id:uuid}",
        sync_to_thread=True,
        opt=allow(Role.VOLUNTEER, *STAFF, people=True),
        summary="One entry as it stands",
    )
    def show(
        self,
        entry_id: FromPath[UUID],
        request: Request[Principal, Any, Any],
        reads: NamedDependency[Reads],
        reach: NamedDependency[Reach],
        after: After = None,
    ) -> Entry:
        row, _ = reached_entry(request.user, reach, reads, entry_id, after)
        return entry_of_row(row)

    @get(
        "/{entry_id:uuid}/history",
        sync_to_thread=True,
        opt=allow(Role.VOLUNTEER, *STAFF, people=True),
        summary="Every step of an entry: who, when, which channel, what changed and why",
    )
    def history(
        self,
        entry_id: FromPath[UUID],
        request: Request[Principal, Any, Any],
        reads: NamedDependency[Reads],
        reach: NamedDependency[Reach],
        after: After = None,
    ) -> list[Step]:
        return [step_of(row) for row in self._history(entry_id, request, reach, reads, after)]

    @get(
        "/{entry_id:uuid}/history.csv",
        sync_to_thread=True,
        opt=allow(*STAFF, people=True),
        summary="An entry's history as CSV",
        media_type=schemas.CSV,
    )
    def history_csv(
        self,
        entry_id: FromPath[UUID],
        request: Request[Principal, Any, Any],
        reads: NamedDependency[Reads],
        reach: NamedDependency[Reach],
        after: After = None,
    ) -> Response[str]:
        return history_export(entry_id, self._history(entry_id, request, reach, reads, after))

    def _history(
        self,
        entry_id: UUID,
        request: Request[Principal, Any, Any],
        reach: Reach,
        reads: Reads,
        after: int | None,
    ) -> list[dict[str, Any]]:
        _, steps = reached_entry(request.user, reach, reads, entry_id, after)
        return steps


HOURS = Router(
    "/api/v1/hours",
    tags=["hours"],
    route_handlers=[
        HoursController,
        command_route(
            "submit",
            post(
                "/",
                opt=allow(Role.VOLUNTEER, Role.COORDINATOR),
                summary="Record service (volunteers: their own, at a kiosk); it awaits approval",
            ),
            SubmitEntry,
        ),
        command_route(
            "approve_many",
            post(
                "/approvals",
                sync_to_thread=True,
                opt=allow(Role.COORDINATOR),
                summary="Approve several entries; each is credited on its own",
            ),
            ApproveEntries,
            reply=_bulk,
        ),
        command_route(
            "reject_many",
            post(
                "/rejections",
                sync_to_thread=True,
                opt=allow(Role.COORDINATOR),
                summary="Reject several entries with one reason",
            ),
            RejectEntries,
            reply=_bulk,
        ),
        command_route(
            "approve",
            post(
                "/{entry_id:uuid}/approval",
                opt=allow(Role.COORDINATOR),
                summary="Approve: the volunteer is credited from the community account",
            ),
            ApproveEntry,
        ),
        command_route(
            "reject",
            post(
                "/{entry_id:uuid}/rejection",
                opt=allow(Role.COORDINATOR),
                summary="Reject, saying why",
            ),
            RejectEntry,
            Rejection,
        ),
        command_route(
            "amend",
            post(
                "/{entry_id:uuid}/amendments",
                opt=allow(Role.COORDINATOR),
                summary="Change an entry with a reason and who asked (approved: the difference is "
                "credited or corrected)",
            ),
            AmendEntry,
            Amendment,
        ),
        command_route(
            "void",
            post(
                "/{entry_id:uuid}/voiding",
                opt=allow(Role.COORDINATOR),
                summary="Void an approved entry with a reason and who asked; its credit is "
                "corrected",
            ),
            VoidEntry,
            Voiding,
        ),
    ],
)
