"""The volunteer registry: search by skill, category, building and status; a volunteer's record
(trainings, awards, evaluations, status changes, service entries, certificates); their sealed
Art. 5 details, opened only on purpose and recorded in the access log."""

from __future__ import annotations

import re
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template
from msgspec import Meta

from domain.identity import Role
from domain.provenance import Provenance
from domain.rules import NotFound
from domain.volunteer import VolunteerStatus
from projections import certificates, hours, volunteers
from services.bus import Bus, Caller
from services.composition.runtime import Backbone
from services.identity import records as identity
from services.pages import purposes
from services.pages.console.common import LIST_LIMIT, STAFF, Form, category_names, people, show
from services.pages.console.members import Opening, opened
from services.pages.labels import label
from services.volunteers.commands import RegisterVolunteer, VolunteerBasics
from services.volunteers.handlers import open_details
from services.web.auth import allow
from services.web.context import After
from services.web.reach import Reach, check_sees_people, people_among

Label = Annotated[str, QueryParameter(max_length=40)]
RECENT_ENTRIES = 20
PAGE = "console/volunteers/volunteer.html"
PART = "console/volunteers/_volunteer.html"
MAX_LABEL = 40  # characters in one skill or category, as the API allows


def split_labels(skills: str, ticked: list[str] | str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Skills as typed (separated by commas) and the categories ticked (one ticked: a string),
    each a label of at most 40 characters, as the API allows."""
    typed = tuple(skill for skill in re.split(r"[,，、;；\s]+", skills) if skill)
    categories = ticked if isinstance(ticked, list) else [ticked]
    if any(len(text) > MAX_LABEL for text in (*typed, *categories)):
        raise ValidationException("a skill or category is longer than 40 characters")
    return typed, tuple(categories)


class NewVolunteer(VolunteerBasics, kw_only=True):
    """The basic information of Art. 5 (sealed with the member's key) and the registry's
    searchable labels, checked as the API checks them."""

    member_id: UUID
    skills: Annotated[str, Meta(max_length=400)] = ""  # as typed: separated by commas
    categories: list[str] | str = msgspec.field(default_factory=list)  # one ticked: a string
    building: Annotated[str, Meta(max_length=40)] = ""
    consent_version: Annotated[str, Meta(min_length=1, max_length=40)]

    def command(self) -> RegisterVolunteer:
        skills, categories = split_labels(self.skills, self.categories)
        typed = msgspec.structs.asdict(self)
        return RegisterVolunteer(
            **{**typed, "skills": list(skills), "categories": list(categories)}
        )


@get("/volunteers", opt=allow(*STAFF, people=True), sync_to_thread=True)
def search(
    request: Request[Any, Any, Any],
    bone: NamedDependency[Backbone],
    by: NamedDependency[Provenance],
    reach: NamedDependency[Reach],
    skill: Label = "",
    category: Label = "",
    building: Label = "",
    status: Label = "",  # the form's "any" sends it empty
    name: Label = "",
) -> Template:
    """Volunteers by label and status, or by name; named, the list one access-log record."""
    asked = {"skill": skill.strip(), "category": category.strip(), "building": building.strip()}
    sought = name.strip()
    stations = people_among(reach)

    def query(db: Any) -> dict[str, Any]:
        rows = volunteers.search(
            db,
            skill=asked["skill"] or None,
            category=asked["category"] or None,
            building=asked["building"] or None,
            status=_status(status),
            before=None,
            limit=LIST_LIMIT,
            stations=stations,
            among=named(bone, db, sought, stations),
        )
        return {
            "volunteers": [volunteers.labels(row) for row in rows],
            "people": people(bone, db),
            "categories": category_names(db),
        }

    context = bone.read_side.query(("volunteers",), None, query)
    context["people"].reveal(
        bone.vault,
        [UUID(row["member_id"]) for row in context["volunteers"]],
        purpose=purposes.VOLUNTEERS_FOUND if sought else purposes.VOLUNTEERS,
        by=by,
    )
    return show(
        request,
        "console/volunteers/search.html",
        {**context, **asked, "name": sought, "status": status},
    )


def _status(asked: str) -> VolunteerStatus | None:
    if asked not in {"", *VolunteerStatus}:
        raise ValidationException(f"there is no volunteer status {asked!r}")
    return VolunteerStatus(asked) if asked else None


def named(bone: Backbone, db: Any, sought: str, stations: list[str]) -> list[str] | None:
    """The volunteers of ``stations`` whose name holds ``sought`` (None: no name asked for)."""
    if not sought:
        return None
    registry = volunteers.members(db, stations)
    found = identity.members_named(bone.timebank, bone.vault, [UUID(m) for m in registry], sought)
    return [registry[str(member_id)] for member_id in found]


def volunteer_view(bone: Backbone, volunteer_id: UUID, after: int | None) -> dict[str, Any]:
    """What the volunteer's page shows, once the read models include position ``after``."""

    def query(db: Any) -> dict[str, Any]:
        row = volunteers.volunteer(db, str(volunteer_id))
        if row is None:
            raise NotFound("volunteer-not-found", f"There is no volunteer {volunteer_id}.")
        return {
            "volunteer": volunteers.labels(row),
            "entries": hours.listed(
                db,
                volunteer=str(volunteer_id),
                status=None,
                started_from=None,
                started_before=None,
                before=None,
                limit=RECENT_ENTRIES,
            ),
            "certificates": certificates.for_volunteer(db, str(volunteer_id)),
            "people": people(bone, db),
            "categories": category_names(db),
            "offered": category_names(db, include_retired=False),
        }

    context = bone.read_side.query(("volunteers", "hours", "certificates"), after, query)
    today = bone.today()
    return {
        **context,
        "today": today.isoformat(),
        "month_start": today.replace(day=1).isoformat(),
        "record_title": record_title,
        "registered": False,
        "done": "",
    }


def record_title(record: dict[str, Any]) -> str:
    """A record's title in the reader's language: a status, or an evaluation's rating (with
    its stars, as the read model keeps them: "excellent (4★)")."""
    if record["kind"] == "status":
        return label("volunteer_status", record["title"])
    if record["kind"] == "evaluation":
        rating, _, stars = record["title"].partition(" ")
        return f"{label('rating', rating)} {stars}".strip()
    return str(record["title"])


@get("/volunteers/{volunteer_id:uuid}", opt=allow(*STAFF, people=True), sync_to_thread=True)
def volunteer(
    request: Request[Any, Any, Any],
    volunteer_id: FromPath[UUID],
    bone: NamedDependency[Backbone],
    by: NamedDependency[Provenance],
    reach: NamedDependency[Reach],
    after: After = None,
    registered: Annotated[bool, QueryParameter()] = False,
) -> Template:
    """The volunteer's record, headed by their name: one access-log record per view."""
    context = {**volunteer_view(bone, volunteer_id, after), "registered": registered}
    check_sees_people(reach, context["volunteer"]["station_id"])
    member = UUID(context["volunteer"]["member_id"])
    context["people"].reveal(bone.vault, [member], purpose=purposes.VOLUNTEER_PAGE, by=by)
    return show(request, PAGE, context, PART)


@get("/members/{member_id:uuid}/volunteer", opt=allow(Role.COORDINATOR), sync_to_thread=True)
def registration(
    request: Request[Any, Any, Any],
    member_id: FromPath[UUID],
    bone: NamedDependency[Backbone],
    reach: NamedDependency[Reach],
) -> Template:
    """The form that registers a member as a volunteer."""
    member = identity.member_of(bone.timebank, member_id)
    check_sees_people(reach, member.station)
    names = bone.read_side.query((), None, lambda db: category_names(db, include_retired=False))
    return show(request, "console/volunteers/new.html", {"member": member, "categories": names})


@post("/volunteers", opt=allow(Role.COORDINATOR), sync_to_thread=True)
def register(
    data: Form[NewVolunteer], bus: NamedDependency[Bus], caller: NamedDependency[Caller]
) -> Redirect:
    receipt = bus.handle_from_thread(data.command(), caller)
    return Redirect(
        f"/console/volunteers/{receipt.id}?after={receipt.position}&registered=true",
        status_code=303,
    )


@post(
    "/volunteers/{volunteer_id:uuid}/details",
    opt=allow(Role.COORDINATOR),
    sync_to_thread=True,
    status_code=200,
)
def details(
    request: Request[Any, Any, Any],
    volunteer_id: FromPath[UUID],
    data: Form[Opening],
    bone: NamedDependency[Backbone],
    by: NamedDependency[Provenance],
) -> Template:
    """The volunteer's Art. 5 details, after recording who opened them and why."""
    found, seen, position = open_details(
        bone.timebank, bone.vault, volunteer_id=volunteer_id, purpose=data.purpose, by=by
    )
    page = "console/volunteers/details.html"
    return opened(request, page, data.purpose, position, volunteer=found, details=seen)
