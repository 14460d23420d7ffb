"""The council's meetings (calling one, its agenda, who came, its minutes) and its voting
rules over HTTP."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Router, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath
from msgspec import Meta

from domain.identity import Role
from domain.rules import NotFound
from domain.station import DEFAULT_STATION
from projections import council
from services.api.board import CouncilStation, council_station, without_member_ids
from services.api.command_routes import command_route
from services.api.council import MotionView, decoded
from services.council import handlers
from services.council.commands import (
    Agenda,
    Attendance,
    CallMeeting,
    ChangeRules,
    CloseMeeting,
    OrderAgenda,
    RecordAttendance,
    Rules,
)
from services.store.eventstore import Timebank
from services.web.auth import allow, public
from services.web.context import After
from services.web.reads import Reads


class MeetingRow(msgspec.Struct, kw_only=True):
    meeting_id: str
    title: str
    starts_at: str
    place: str
    entitled: int
    present: Annotated[str, Meta(description="Who came (a JSON list of member ids)")]
    agenda: Annotated[str, Meta(description="Its motions in order (a JSON list of ids)")]
    is_closed: int
    position: int
    station_id: str


class Minutes(msgspec.Struct, kw_only=True):
    meeting_id: str
    title: str
    starts_at: str
    place: str
    entitled: int
    present: list[str]
    agenda: list[MotionView]  # each with the steps the minutes record: notice, vote, result
    is_closed: int
    position: int
    station_id: str


class MeetingController(Controller):
    """The meetings' reads (``MEETINGS`` adds their commands)."""

    @get("/", sync_to_thread=True, opt=public(), summary="Meetings, latest first")
    def list_meetings(
        self,
        reads: NamedDependency[Reads],
        after: After = None,
        station: CouncilStation = DEFAULT_STATION,
    ) -> list[MeetingRow]:
        rows = reads.query(
            ("council", "stations"),
            after,
            lambda db: council.meetings(db, council_station(db, station)),
        )
        return msgspec.convert(without_member_ids(rows), list[MeetingRow])

    @get(
        "/{meeting_id:uuid}/minutes",
        sync_to_thread=True,
        opt=public(),
        summary="Minutes generated from the record: who came, each motion taken, votes, results",
    )
    def minutes(
        self, meeting_id: FromPath[UUID], reads: NamedDependency[Reads], after: After = None
    ) -> Minutes:
        def query(db: Any) -> dict[str, Any] | None:
            found = council.meeting(db, str(meeting_id))
            if found is None:
                return None
            agenda = msgspec.json.decode(found["agenda"])
            return {
                **found,
                "present": msgspec.json.decode(found["present"]),
                "agenda": [council.motion(db, motion_id) for motion_id in agenda],
            }

        found = reads.query(("council",), after, query)
        if found is None:
            raise NotFound("meeting-not-found", f"There is no meeting {meeting_id}.")
        taken = ("MotionScheduled", "VotingOpened", "VotingClosed")
        agenda = [{**item, "steps": decoded(item["steps"], *taken)} for item in found["agenda"]]
        return msgspec.convert(without_member_ids({**found, "agenda": agenda}), Minutes)


class CouncilRulesController(Controller):
    """The voting rules in force (``COUNCIL_RULES`` adds changing them)."""

    @get("/", sync_to_thread=True, opt=public(), summary="A station council's rules in force")
    def rules(
        self, timebank: NamedDependency[Timebank], station: CouncilStation = DEFAULT_STATION
    ) -> Rules:
        return msgspec.convert(vars(handlers.rules_in_force(timebank, station)), Rules)


MEETINGS = Router(
    "/api/v1/meetings",
    tags=["council"],
    route_handlers=[
        MeetingController,
        command_route(
            "call", post("/", opt=allow(Role.COUNCIL), summary="Call a meeting"), CallMeeting
        ),
        command_route(
            "reorder",
            put("/{meeting_id:uuid}/agenda", opt=allow(Role.COUNCIL)),
            OrderAgenda,
            Agenda,
        ),
        command_route(
            "attendance",
            put("/{meeting_id:uuid}/attendance", opt=allow(Role.COUNCIL)),
            RecordAttendance,
            Attendance,
        ),
        command_route(
            "close", post("/{meeting_id:uuid}/closure", opt=allow(Role.COUNCIL)), CloseMeeting
        ),
    ],
)
COUNCIL_RULES = Router(
    "/api/v1/council/rules",
    tags=["council"],
    route_handlers=[
        CouncilRulesController,
        command_route(
            "change",
            put(
                "/",
                opt=allow(Role.COUNCIL, Role.ADMIN),
                summary="Change the rules, saying why (votes already opened keep theirs)",
            ),
            ChangeRules,
        ),
    ],
)
