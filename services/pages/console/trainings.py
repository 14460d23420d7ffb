"""Trainings (Art. 8): the sessions recorded, each with who attended, and a form to record one.
Attendees are written as member numbers or names; the confirmation names each volunteer found
(one access-log record), after the domain has said whether it would record the training."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.response import Template
from msgspec import Meta

from domain.identity import Role, member_id_for
from domain.provenance import Provenance
from domain.rules import RuleViolated
from domain.volunteer import volunteer_id_for
from projections import volunteers
from services.bus import Caller, Receipt
from services.composition.runtime import Backbone
from services.identity import records as identity
from services.identity.commands import MEMBER_NUMBER_PATTERN
from services.pages import purposes
from services.pages.console.common import (
    LIST_LIMIT,
    STAFF,
    Form,
    People,
    confirm,
    people,
    show,
    volunteer_member,
)
from services.pages.forms import asked_first
from services.pages.i18n import day, gettext, ngettext
from services.pages.i18n import hours as hours_of
from services.volunteers.commands import RecordTraining
from services.web.auth import allow
from services.web.reach import Reach, people_among
from services.windows import DoneOn, Windowed

PAGE = "console/trainings/trainings.html"
PART = "console/trainings/_trainings.html"
Text = Annotated[str, Meta(max_length=200)]


class NewTraining(Windowed, kw_only=True):
    """A training as the form writes it; ``who`` is typed (member numbers or names), and the
    confirmation sends back the volunteers it found as ``attendee``."""

    name: Text = ""
    content: Annotated[str, Meta(max_length=1000)] = ""
    minutes: Annotated[int, Meta(gt=0, le=24 * 60)]
    organiser: Text = ""
    held_on: DoneOn
    who: Annotated[str, Meta(max_length=4000)] = ""
    attendee: list[UUID] | UUID = msgspec.field(default_factory=list)  # one: not a list
    idempotency_key: Annotated[str, Meta(max_length=100)] = ""
    confirmed: bool = False

    def attendees(self) -> list[UUID]:
        return self.attendee if isinstance(self.attendee, list) else [self.attendee]

    def command(self, attendees: list[UUID]) -> RecordTraining:
        return RecordTraining(
            idempotency_key=self.idempotency_key or uuid.uuid4().hex,
            name=self.name,
            content=self.content,
            minutes=self.minutes,
            organiser=self.organiser,
            held_on=self.held_on,
            attendees=attendees,
        )


def _shown(
    bone: Backbone, reach: Reach, after: int | None, by: Provenance, done: str = ""
) -> dict[str, Any]:
    """The latest trainings of the caller's station, each attendee named (the whole list one
    access-log record)."""
    stations = people_among(reach)

    def query(db: Any) -> dict[str, Any]:
        return {
            "trainings": volunteers.trainings(db, limit=LIST_LIMIT, stations=stations),
            "people": people(bone, db),
            "today": bone.today().isoformat(),
            "done": done,
        }

    shown = bone.read_side.query(("volunteers",), after, query)
    attendees = [
        volunteer_member(bone.timebank, attendee)
        for training in shown["trainings"]
        for attendee in training["attendee_ids"]
    ]
    named = [member for member in attendees if member is not None]
    shown["people"].reveal(bone.vault, named, purpose=purposes.TRAININGS, by=by)
    return shown


@get("/trainings", opt=allow(*STAFF, people=True), sync_to_thread=True)
def listed(
    request: Request[Any, Any, Any],
    bone: NamedDependency[Backbone],
    by: NamedDependency[Provenance],
    reach: NamedDependency[Reach],
) -> Template:
    return show(request, PAGE, _shown(bone, reach, None, by), PART)


def found(bone: Backbone, reach: Reach, typed: str) -> list[UUID]:
    """The volunteers of the caller's station ``typed`` names, each by member number or by a
    name only one registered volunteer has; anyone else is refused, so the coordinator writes
    them more exactly."""
    stations = people_among(reach)
    registered = bone.read_side.query(
        ("volunteers",), None, lambda db: volunteers.members(db, stations)
    )
    chosen = []
    for written in (part for part in re.split(r"[,，、;；\s]+", typed) if part):
        if re.fullmatch(MEMBER_NUMBER_PATTERN, written):
            member_ids = [member_id_for(written)]
            member_ids = [member_id for member_id in member_ids if str(member_id) in registered]
        else:
            among = [UUID(member) for member in registered]
            member_ids = identity.members_named(bone.timebank, bone.vault, among, written)
        if len(member_ids) != 1:
            raise RuleViolated(
                "attendee-unclear",
                f"{written!r} is not exactly one registered volunteer.",
                field="who",
            )
        chosen.append(volunteer_id_for(member_ids[0]))
    return chosen


@post("/trainings", opt=allow(Role.COORDINATOR), sync_to_thread=True, status_code=200)
def record(
    request: Request[Any, Any, Any],
    data: Form[NewTraining],
    bone: NamedDependency[Backbone],
    caller: NamedDependency[Caller],
    reach: NamedDependency[Reach],
) -> Template:
    """First the training and each volunteer found, named, to confirm; then the training."""
    attendees = data.attendees() if data.confirmed else found(bone, reach, data.who)
    command = data.command(attendees)

    def question() -> Template:
        return _confirmation(request, bone, data, attendees, caller.by)

    def then(receipt: Receipt) -> Template:
        done = ngettext(
            "Training recorded for %(num)s volunteer.",
            "Training recorded for %(num)s volunteers.",
            len(attendees),
        ) % {"num": len(attendees)}
        return show(request, PAGE, _shown(bone, reach, receipt.position, caller.by, done), PART)

    return asked_first(
        bone.bus, caller, command, confirmed=data.confirmed, question=question, then=then
    )


def _confirmation(
    request: Request[Any, Any, Any],
    bone: Backbone,
    data: NewTraining,
    attendees: list[UUID],
    by: Provenance,
) -> Template:
    who: People = bone.read_side.query((), None, lambda db: people(bone, db))
    members = [volunteer_member(bone.timebank, attendee) for attendee in attendees]
    named = [member for member in members if member is not None]
    who.reveal(bone.vault, named, purpose=purposes.TRAINING_ATTENDEES, by=by)
    sent = msgspec.structs.asdict(data)
    for field in ("attendee", "confirmed", "idempotency_key"):
        sent.pop(field)
    return confirm(
        request,
        question=gettext("Record this training?"),
        sentences=[
            gettext("“%(name)s”, held on %(day)s by %(organiser)s, %(hours)s.")
            % {
                "name": data.name,
                "day": day(data.held_on),
                "organiser": data.organiser,
                "hours": hours_of(data.minutes),
            },
            ngettext("%(num)s volunteer attended:", "%(num)s volunteers attended:", len(attendees))
            % {"num": len(attendees)},
        ],
        items=[who.volunteer_named(attendee) for attendee in attendees],
        action="/console/trainings",
        fields=[
            *sent.items(),
            *(("attendee", attendee) for attendee in attendees),
            ("idempotency_key", uuid.uuid4().hex),
        ],
        target="#trainings",
        back="/console/trainings",
        yes=gettext("Yes, record the training"),
    )
