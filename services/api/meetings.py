"""The council's meetings (calling one, its agenda, who came, its minutes) and its voting
rules over HTTP."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from msgspec import Meta

from domain.identity import Role
from domain.rules import NotFound
from projections import council
from services.api import schemas
from services.api.board import without_member_ids
from services.api.council import MotionView, decoded
from services.api.schemas import answer
from services.bus import Bus, Caller
from services.composition.runtime import Backbone
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
from services.web.auth import allow, public
from services.web.context import After, read


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


class MeetingController(Controller):
    path = "/api/v1/meetings"
    tags = ["council"]  # noqa: RUF012

    @post("/", opt=allow(Role.COUNCIL), summary="Call a meeting")
    async def call(
        self,
        data: JSONBody[CallMeeting],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Response[schemas.Receipt]:
        return answer(await bus.handle(data, caller))

    @get("/", sync_to_thread=True, opt=public(), summary="Meetings, latest first")
    def list_meetings(
        self, bone: NamedDependency[Backbone], after: After = None
    ) -> list[MeetingRow]:
        rows = read(bone, ("council",), after, council.meetings)
        return msgspec.convert(without_member_ids(rows), list[MeetingRow])

    @get(
        "/{meeting_id:uuid}/minutes",
        sync_to_thread=True,
        opt=public(),
        summary="Minutes generated from the record: who came, each motion taken, votes, results",
    )
    def minutes(
        self, meeting_id: FromPath[UUID], bone: NamedDependency[Backbone], after: After = None
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

        found = read(bone, ("council",), after, query)
        if found is None:
            raise NotFound("meeting-not-found", f"There is no meeting {meeting_id}.")
        taken = ("MotionScheduled", "VotingOpened", "VotingClosed")
        agenda = [{**item, "steps": decoded(item["steps"], *taken)} for item in found["agenda"]]
        return msgspec.convert(without_member_ids({**found, "agenda": agenda}), Minutes)

    @put("/{meeting_id:uuid}/agenda", opt=allow(Role.COUNCIL))
    async def reorder(
        self,
        meeting_id: FromPath[UUID],
        data: JSONBody[Agenda],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Response[schemas.Receipt]:
        return answer(await bus.handle(OrderAgenda.at(data, meeting_id=meeting_id), caller))

    @put("/{meeting_id:uuid}/attendance", opt=allow(Role.COUNCIL))
    async def attendance(
        self,
        meeting_id: FromPath[UUID],
        data: JSONBody[Attendance],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Response[schemas.Receipt]:
        return answer(await bus.handle(RecordAttendance.at(data, meeting_id=meeting_id), caller))

    @post("/{meeting_id:uuid}/closure", opt=allow(Role.COUNCIL))
    async def close(
        self,
        meeting_id: FromPath[UUID],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Response[schemas.Receipt]:
        return answer(await bus.handle(CloseMeeting(meeting_id=meeting_id), caller))


class CouncilRulesController(Controller):
    path = "/api/v1/council/rules"
    tags = ["council"]  # noqa: RUF012

    @get("/", sync_to_thread=True, opt=public(), summary="The voting rules in force")
    def rules(self, bone: NamedDependency[Backbone]) -> Rules:
        return msgspec.convert(vars(handlers.rules_in_force(bone.timebank)), Rules)

    @put(
        "/",
        opt=allow(Role.COUNCIL, Role.ADMIN),
        summary="Change the rules, saying why (votes already opened keep theirs)",
    )
    async def change(
        self,
        data: JSONBody[ChangeRules],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Response[schemas.Receipt]:
        return answer(await bus.handle(data, caller))
