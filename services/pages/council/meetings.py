"""Meetings: calling one (when, where, which members may vote), its agenda (admitted motions,
put in order), who came, and closing it."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from litestar.response import Template
from msgspec import Meta

from domain.identity import member_id_for
from domain.provenance import Provenance
from domain.rules import NotFound
from projections import council
from projections.readstore import ReadDb, Row
from services.bus import Bus, Caller, IdempotencyKey, Receipt
from services.composition.runtime import Backbone
from services.council import handlers
from services.council.commands import (
    CallMeeting,
    CloseMeeting,
    MoveOnAgenda,
    RecordAttendance,
    ScheduleMotion,
)
from services.identity import records as identity
from services.pages import purposes
from services.pages.council.common import (
    COUNCIL,
    MODELS,
    check_council,
    council_of,
    done,
    member_numbers,
    part,
    render,
)
from services.pages.forms import BUTTON, Answer, CommandForm, Sent, action
from services.web.context import After
from services.web.reach import Reach

Title = Annotated[str, Meta(min_length=1, max_length=120)]
# What a datetime-local input sends: a day and a time of day, in the station's zone.
LocalTime = Annotated[str, Meta(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")]
MemberNumbers = Annotated[str, Meta(min_length=1, max_length=5000)]
AGENDA_CHOICES = 100  # admitted motions offered for an agenda


class NewMeeting(msgspec.Struct, kw_only=True):
    idempotency_key: IdempotencyKey
    title: Title
    starts_at: LocalTime
    place: Title
    members: MemberNumbers  # member numbers, separated by spaces, commas or lines

    def command(self, bone: Backbone) -> CallMeeting:
        """The meeting called: its time in the station's zone, its members by number (looked
        up once the command has taken its time, so that a time out of its window is said
        first)."""
        meeting = CallMeeting(
            idempotency_key=self.idempotency_key,
            title=self.title,
            starts_at=datetime.fromisoformat(self.starts_at).replace(tzinfo=bone.settings.zone),
            place=self.place,
            entitled=[],
        )
        return msgspec.structs.replace(meeting, entitled=list(members_named(bone, self.members)))


class AgendaItem(msgspec.Struct, kw_only=True):
    motion_id: UUID

    def command(self, meeting_id: UUID) -> ScheduleMotion:
        return ScheduleMotion(motion_id=self.motion_id, meeting_id=meeting_id)


class Move(msgspec.Struct, kw_only=True):
    motion_id: UUID
    direction: Literal["up", "down"]

    def command(self, meeting_id: UUID) -> MoveOnAgenda:
        step = -1 if self.direction == "up" else 1
        return MoveOnAgenda(meeting_id=meeting_id, motion_id=self.motion_id, step=step)


class Attendance(msgspec.Struct, kw_only=True):
    present: list[UUID] | UUID = msgspec.field(default_factory=list)  # one box ticked: one id

    def command(self, meeting_id: UUID) -> RecordAttendance:
        present = self.present if isinstance(self.present, list) else [self.present]
        return RecordAttendance(meeting_id=meeting_id, present=present)


def meeting_path(meeting_id: UUID | str) -> str:
    return f"/council/meetings/{meeting_id}"


def meeting_or_refuse(db: ReadDb, meeting_id: UUID | str, reach: Reach | None) -> Row:
    """The meeting, if it is one of the caller's own station's council (``reach`` None: the
    command just taken at it has checked that)."""
    found = council.meeting(db, str(meeting_id))
    if found is None:
        raise NotFound("meeting-not-found", f"There is no meeting {meeting_id}.")
    return found if reach is None else check_council(reach, found)


def entitled_members(bone: Backbone, meeting_id: UUID | str) -> list[tuple[str, str]]:
    """(member id, member number) of each member entitled at the meeting, by number. The read
    model counts them; the meeting itself names them."""
    entitled = handlers.meeting_of(bone.timebank, UUID(str(meeting_id))).entitled
    numbers = member_numbers(bone, map(str, entitled))
    return sorted(numbers.items(), key=lambda item: item[1])


def members_named(bone: Backbone, text: str) -> tuple[UUID, ...]:
    """The members whose numbers ``text`` lists (once each, in order); an unknown number is
    refused, so a typo cannot give a vote to nobody."""
    numbers = dict.fromkeys(token for token in re.split(r"[\s,，、;；]+", text) if token)
    return tuple(identity.member_of(bone.timebank, member_id_for(n)).id for n in numbers)


def _agenda(db: ReadDb, found: Row) -> dict[str, Any]:
    return {
        "meeting": found,
        "agenda": [council.motion(db, item) for item in msgspec.json.decode(found["agenda"])],
        "admitted": council.board(
            db, found["station_id"], status="admitted", before=None, limit=AGENDA_CHOICES
        ),
    }


def _attendance(bone: Backbone, found: Row, by: Provenance) -> dict[str, Any]:
    """Who is entitled and who came, each named (the roll call is taken by name): the list
    is one record in the personal-data access log."""
    present = set(msgspec.json.decode(found["present"]))
    entitled = entitled_members(bone, found["meeting_id"])
    names = identity.open_names(
        bone.timebank,
        bone.vault,
        member_ids=[UUID(member) for member, _ in entitled],
        purpose=purposes.ROLL_CALL,
        by=by,
    )
    return {
        "meeting": found,
        "members": [
            {
                "id": member,
                "number": number,
                "name": names.get(UUID(member), ""),
                "present": member in present,
            }
            for member, number in entitled
        ],
    }


def _agenda_answer(sent: Sent, receipt: Receipt) -> Response[Any]:
    """After a change to the agenda: the agenda as it now is."""
    bone, meeting_id = sent.station, sent.record_id

    def fragment() -> Template:
        found = bone.read_side.query(
            MODELS,
            receipt.position,
            lambda db: _agenda(db, meeting_or_refuse(db, meeting_id, None)),
        )
        return render(bone, "_agenda.html", "meetings", **found)

    return part(sent.request, meeting_path(meeting_id), receipt, fragment)


def _attendance_answer(sent: Sent, receipt: Receipt) -> Response[Any]:
    """After the roll call: who is recorded present, named (one access-log record)."""
    bone, meeting_id = sent.station, sent.record_id

    def fragment() -> Template:
        found = bone.read_side.query(
            MODELS, receipt.position, lambda db: meeting_or_refuse(db, meeting_id, None)
        )
        shown = _attendance(bone, found, sent.caller.by)
        return render(bone, "_attendance.html", "meetings", saved=True, **shown)

    return part(sent.request, meeting_path(meeting_id), receipt, fragment)


def _meetings(bone: Backbone, db: ReadDb, station: str) -> dict[str, Any]:
    """The meetings, and the members of the latest (the next one usually has the same)."""
    found = council.meetings(db, station)
    latest = entitled_members(bone, found[0]["meeting_id"]) if found else []
    return {"meetings": found, "members": " ".join(number for _, number in latest)}


class MeetingPages(Controller):
    path = "/council/meetings"

    @get("/", opt=COUNCIL, sync_to_thread=True)
    def meetings(
        self, bone: NamedDependency[Backbone], reach: NamedDependency[Reach], after: After = None
    ) -> Template:
        station = council_of(reach)
        page = bone.read_side.query(MODELS, after, lambda db: _meetings(bone, db, station))
        return render(bone, "meetings.html", "meetings", key=uuid4().hex, **page)

    @get("/{meeting_id:uuid}", opt=COUNCIL, sync_to_thread=True)
    def meeting(
        self,
        meeting_id: FromPath[UUID],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
        reach: NamedDependency[Reach],
        after: After = None,
    ) -> Template:
        def query(db: ReadDb) -> dict[str, Any]:
            found = meeting_or_refuse(db, meeting_id, reach)
            return {"found": found, **_agenda(db, found)}

        shown = bone.read_side.query(MODELS, after, query)
        shown.update(_attendance(bone, shown.pop("found"), by))
        return render(bone, "meeting.html", "meetings", **shown)

    @post("/{meeting_id:uuid}/closure", opt=COUNCIL, sync_to_thread=True)
    def close(
        self,
        request: Request[Any, Any, Any],
        meeting_id: FromPath[UUID],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Response[Any]:
        command = CloseMeeting.at(BUTTON, meeting_id=meeting_id)
        return done(request, meeting_path(meeting_id), bus.handle_from_thread(command, caller))


def _on_meeting(what: str, form: type[CommandForm], answer: Answer) -> HTTPRouteHandler:
    """``POST /council/meetings/{meeting_id}/what``: the command ``form`` gives about the
    meeting."""
    return action(f"/council/meetings/{{meeting_id:uuid}}/{what}", form, answer, opt=COUNCIL)


def _called(sent: Sent, receipt: Receipt) -> Response[Any]:
    return done(sent.request, meeting_path(receipt.id), receipt)


def _meeting(sent: Sent) -> CallMeeting:
    return sent.form.command(sent.station)


ACTIONS = [
    action("/council/meetings", NewMeeting, _called, command=_meeting, opt=COUNCIL),
    _on_meeting("agenda", AgendaItem, _agenda_answer),
    _on_meeting("agenda/order", Move, _agenda_answer),
    _on_meeting("attendance", Attendance, _attendance_answer),
]
