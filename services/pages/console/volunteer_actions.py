"""What a coordinator changes on a volunteer's page: their status (confirmed first, after the
domain has said whether it would accept it), their skills, categories and building, and the
awards (Art. 9) and evaluations (Art. 10) they receive. After each, the page is read at the
command's position, so it shows the change at once."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from msgspec import Meta

from domain.identity import Role
from domain.volunteer import Rating, VolunteerStatus
from services.bus import Caller, Receipt
from services.composition.runtime import Backbone
from services.identity import records as identity
from services.pages.console.common import Form, RecordPage, confirm, show
from services.pages.console.volunteers import PAGE, PART, split_labels, volunteer_view
from services.pages.forms import asked_first
from services.pages.i18n import N_, gettext
from services.pages.labels import label
from services.volunteers.commands import (
    ChangeVolunteerStatus,
    RecordAward,
    RecordEvaluation,
    UpdateVolunteerProfile,
)
from services.volunteers.handlers import volunteer_of
from services.web.auth import allow
from services.windows import DoneOn, Windowed

Text = Annotated[str, Meta(max_length=200)]
Reason = Annotated[str, Meta(max_length=500)]


VOLUNTEER = "/volunteers/{volunteer_id:uuid}"


class StatusChange(msgspec.Struct, kw_only=True):
    status: VolunteerStatus
    reason: Reason = ""
    confirmed: bool = False

    def command(self, volunteer_id: UUID) -> ChangeVolunteerStatus:
        return ChangeVolunteerStatus(
            volunteer_id=volunteer_id, status=self.status, reason=self.reason
        )


class Profile(msgspec.Struct, kw_only=True):
    skills: Annotated[str, Meta(max_length=400)] = ""  # as typed: separated by commas
    categories: list[str] | str = msgspec.field(default_factory=list)  # one ticked: a string
    building: Annotated[str, Meta(max_length=40)] = ""

    def command(self, volunteer_id: UUID) -> UpdateVolunteerProfile:
        skills, categories = split_labels(self.skills, self.categories)
        return UpdateVolunteerProfile(
            volunteer_id=volunteer_id,
            skills=list(skills),
            categories=list(categories),
            building=self.building.strip(),
        )


class Award(Windowed, kw_only=True):
    name: Text = ""
    awarded_on: DoneOn
    awarded_by: Text = ""

    def command(self, volunteer_id: UUID) -> RecordAward:
        return RecordAward.at(self, volunteer_id=volunteer_id)


class Evaluation(Windowed, kw_only=True):
    rating: Rating
    stars: Annotated[str, Meta(pattern=r"^[1-5]?$")] = ""  # the form's "none" sends it empty
    evaluated_on: DoneOn
    note: Reason = ""

    def command(self, volunteer_id: UUID) -> RecordEvaluation:
        return RecordEvaluation(
            volunteer_id=volunteer_id,
            rating=self.rating,
            stars=int(self.stars) if self.stars else None,
            evaluated_on=self.evaluated_on,
            note=self.note,
        )


def _done(
    request: Request[Any, Any, Any], bone: Backbone, volunteer_id: UUID, position: int, done: str
) -> Template:
    """The volunteer's page as it stands after the command at ``position``, saying so."""
    context = {**volunteer_view(bone, volunteer_id, position), "done": done}
    return show(request, PAGE, context, PART)


@post(
    f"{VOLUNTEER}/status",
    opt=allow(Role.COORDINATOR),
    sync_to_thread=True,
    status_code=200,
)
def change_status(
    request: Request[Any, Any, Any],
    volunteer_id: FromPath[UUID],
    data: Form[StatusChange],
    bone: NamedDependency[Backbone],
    caller: NamedDependency[Caller],
) -> Template:
    """First what will change and why, once the registry would accept it; then the change."""
    command = data.command(volunteer_id)

    def question() -> Template:
        member_id = volunteer_of(bone.timebank, volunteer_id).member_id
        number = identity.member_of(bone.timebank, member_id).member_number
        return confirm(
            request,
            question=gettext("Change this volunteer's status?"),
            sentences=[
                gettext("Volunteer %(number)s will be: %(status)s.")
                % {"number": number, "status": label("volunteer_status", data.status)},
                gettext("Why: %(reason)s") % {"reason": data.reason},
            ],
            action=f"/console/volunteers/{volunteer_id}/status",
            fields=[("status", data.status.value), ("reason", data.reason)],
            target="#volunteer",
            back=f"/console/volunteers/{volunteer_id}",
            yes=gettext("Yes, change the status"),
        )

    def then(receipt: Receipt) -> Template:
        done = gettext("The status is now: %(status)s.") % {
            "status": label("volunteer_status", data.status)
        }
        return _done(request, bone, volunteer_id, receipt.position, done)

    return asked_first(
        bone.bus, caller, command, confirmed=data.confirmed, question=question, then=then
    )


VOLUNTEER_PAGE = RecordPage(
    VOLUNTEER,
    PAGE,
    PART,
    lambda sent, position: volunteer_view(sent.station, sent.record_id, position),
)


ACTIONS = [
    VOLUNTEER_PAGE.action("profile", Profile, N_("Profile saved.")),
    VOLUNTEER_PAGE.action("awards", Award, N_("Award recorded.")),
    VOLUNTEER_PAGE.action("evaluations", Evaluation, N_("Evaluation recorded.")),
]
