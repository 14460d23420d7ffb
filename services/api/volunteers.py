"""The volunteer registry and trainings over HTTP."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, JSONBody, QueryParameter
from msgspec import Meta

from domain.identity import Role
from domain.provenance import Provenance
from domain.rules import NotFound
from domain.volunteer import Rating, VolunteerStatus, volunteer_id_for
from projections import certificates, volunteers
from services import volunteers as registry
from services.api import schemas
from services.api.auth import Principal, allow
from services.api.context import After, Before, Limit, answer, next_before, read
from services.bus import IdempotencyKey, Reason, RuledNumber
from services.runtime import Backbone
from services.windows import BornOn, DoneOn, Windowed

STAFF = (Role.COORDINATOR, Role.ADMIN)
Label = Annotated[str, Meta(min_length=1, max_length=40)]
Labels = Annotated[list[Label], Meta(max_length=20)]
Text = Annotated[str, Meta(min_length=1, max_length=200)]
# A choice, as on Chinese forms (GB/T 2261.1's 男, 女 and 未说明的性别), never free text.
Gender = Annotated[Literal["女", "男", "未说明"], Meta(description="女, 男 or 未说明 (not stated)")]


class VolunteerBasics(Windowed, kw_only=True):
    """The basic information of Art. 5 as a coordinator enters it: the API and the console's
    form check it alike, and both seal it as the same details."""

    name: Annotated[str, Meta(min_length=1, max_length=60)]
    gender: Gender
    birth_date: BornOn
    id_number: Annotated[str, Meta(min_length=6, max_length=30)]
    area: Text
    contact: Annotated[str, Meta(min_length=5, max_length=40)]

    def details(self) -> registry.VolunteerDetails:
        return registry.VolunteerDetails(
            name=self.name,
            gender=self.gender,
            birth_date=self.birth_date,
            id_number=self.id_number,
            area=self.area,
            contact=self.contact,
        )


class NewVolunteer(VolunteerBasics, schemas.Strict, kw_only=True):
    member_id: UUID
    skills: Labels = msgspec.field(default_factory=list)
    categories: Labels = msgspec.field(default_factory=list)
    building: Annotated[str, Meta(max_length=40)] = ""
    consent_version: Annotated[
        str, Meta(min_length=1, max_length=40, description="The notice the person agreed to")
    ]


class StatusChange(schemas.Strict, kw_only=True):
    status: VolunteerStatus
    reason: Reason


class Profile(schemas.Strict, kw_only=True):
    skills: Labels
    categories: Labels
    building: Annotated[str, Meta(max_length=40)] = ""


class NewAward(schemas.Strict, kw_only=True):
    name: Text
    awarded_on: DoneOn
    awarded_by: Text


class NewEvaluation(schemas.Strict, kw_only=True):
    rating: Rating
    evaluated_on: DoneOn
    stars: RuledNumber | None = None
    note: Annotated[str, Meta(max_length=500)] = ""


class NewTraining(schemas.Strict, kw_only=True):
    idempotency_key: IdempotencyKey
    name: Text
    content: Annotated[str, Meta(max_length=1000)] = ""
    minutes: Annotated[int, Meta(gt=0, le=24 * 60)]
    organiser: Text
    held_on: DoneOn
    attendees: Annotated[list[UUID], Meta(min_length=1, max_length=500)]


class Record(msgspec.Struct, kw_only=True):
    position: int
    kind: str
    title: str
    detail: str
    on_date: str
    minutes: int | None
    actor: str


class VolunteerRow(msgspec.Struct, kw_only=True):
    volunteer_id: str
    member_id: str
    account_id: str
    skills: list[str]
    categories: list[str]
    building: str
    status: str
    consent_version: str
    registered_at: str
    position: int


class VolunteerDetail(VolunteerRow, kw_only=True):
    records: list[Record]


class VolunteerList(msgspec.Struct, kw_only=True):
    volunteers: list[VolunteerRow]
    next_before: int | None


class CertificateRow(msgspec.Struct, kw_only=True):
    code: str
    period_from: str
    period_to: str
    minutes: int
    issued_at: str


def check_own_volunteer(principal: Principal, volunteer_id: UUID) -> None:
    """A volunteer reaches only their own record; coordinators reach anyone's."""
    if principal.is_member and (
        principal.member_id is None or volunteer_id_for(principal.member_id) != volunteer_id
    ):
        raise PermissionDeniedException("You can only see your own volunteer record.")


class VolunteerController(Controller):
    path = "/api/v1/volunteers"
    tags = ["volunteers"]  # noqa: RUF012

    @post("/", opt=allow(Role.COORDINATOR), summary="Register a volunteer")
    async def register(
        self,
        data: JSONBody[NewVolunteer],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        receipt = await bone.commits.run(
            registry.register,
            bone.timebank,
            bone.vault,
            member_id=data.member_id,
            details=data.details(),
            consent_version=data.consent_version,
            skills=tuple(data.skills),
            categories=tuple(data.categories),
            building=data.building,
            today=bone.today(),
            by=by,
        )
        return answer(receipt)

    @get("/", sync_to_thread=True, opt=allow(*STAFF), summary="Search the registry")
    def search(
        self,
        bone: NamedDependency[Backbone],
        after: After = None,
        skill: Annotated[str | None, QueryParameter(max_length=40)] = None,
        category: Annotated[str | None, QueryParameter(max_length=40)] = None,
        building: Annotated[str | None, QueryParameter(max_length=40)] = None,
        status: Annotated[VolunteerStatus | None, QueryParameter()] = None,
        before: Before = None,
        limit: Limit = 50,
    ) -> VolunteerList:
        rows = read(
            bone,
            ("volunteers",),
            after,
            lambda db: volunteers.search(
                db,
                skill=skill,
                category=category,
                building=building,
                status=status,
                before=before,
                limit=limit,
            ),
        )
        return VolunteerList(
            volunteers=[
                msgspec.convert(volunteers.labels(row), VolunteerRow, strict=False) for row in rows
            ],
            next_before=next_before(rows, limit),
        )

    @get(
        "/{volunteer_id:uuid}",
        sync_to_thread=True,
        opt=allow(Role.VOLUNTEER, *STAFF),
        summary="A volunteer's record: status, skills, trainings, awards, evaluations",
    )
    def show(
        self,
        volunteer_id: FromPath[UUID],
        request: Request[Principal, Any, Any],
        bone: NamedDependency[Backbone],
        after: After = None,
    ) -> VolunteerDetail:
        check_own_volunteer(request.user, volunteer_id)
        row = read(
            bone, ("volunteers",), after, lambda db: volunteers.volunteer(db, str(volunteer_id))
        )
        if row is None:
            raise NotFound("volunteer-not-found", f"There is no volunteer {volunteer_id}.")
        return msgspec.convert(volunteers.labels(row), VolunteerDetail, strict=False)

    @get(
        "/{volunteer_id:uuid}/certificates",
        sync_to_thread=True,
        opt=allow(Role.VOLUNTEER, *STAFF),
        summary="Certificates issued to a volunteer",
    )
    def certificates(
        self,
        volunteer_id: FromPath[UUID],
        request: Request[Principal, Any, Any],
        bone: NamedDependency[Backbone],
        after: After = None,
    ) -> list[CertificateRow]:
        check_own_volunteer(request.user, volunteer_id)
        rows = read(
            bone,
            ("certificates",),
            after,
            lambda db: certificates.for_volunteer(db, str(volunteer_id)),
        )
        return [msgspec.convert(row, CertificateRow, strict=False) for row in rows]

    @post(
        "/{volunteer_id:uuid}/status",
        opt=allow(Role.COORDINATOR),
        summary="Pause, reactivate, or record that a volunteer left",
    )
    async def change_status(
        self,
        volunteer_id: FromPath[UUID],
        data: JSONBody[StatusChange],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        receipt = await bone.commits.run(
            registry.change_status,
            bone.timebank,
            volunteer_id=volunteer_id,
            status=data.status,
            reason=data.reason,
            by=by,
        )
        return answer(receipt)

    @put(
        "/{volunteer_id:uuid}/profile",
        opt=allow(Role.COORDINATOR),
        summary="Skills, service categories and building",
    )
    async def update_profile(
        self,
        volunteer_id: FromPath[UUID],
        data: JSONBody[Profile],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        receipt = await bone.commits.run(
            registry.update_profile,
            bone.timebank,
            volunteer_id=volunteer_id,
            skills=tuple(data.skills),
            categories=tuple(data.categories),
            building=data.building,
            by=by,
        )
        return answer(receipt)

    @post(
        "/{volunteer_id:uuid}/awards",
        opt=allow(Role.COORDINATOR),
        summary="Record an award (Art. 9)",
    )
    async def give_award(
        self,
        volunteer_id: FromPath[UUID],
        data: JSONBody[NewAward],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        receipt = await bone.commits.run(
            registry.give_award,
            bone.timebank,
            volunteer_id=volunteer_id,
            name=data.name,
            awarded_on=data.awarded_on,
            awarded_by=data.awarded_by,
            by=by,
        )
        return answer(receipt)

    @post(
        "/{volunteer_id:uuid}/evaluations",
        opt=allow(Role.COORDINATOR),
        summary="Record an evaluation (Art. 10)",
    )
    async def evaluate(
        self,
        volunteer_id: FromPath[UUID],
        data: JSONBody[NewEvaluation],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        receipt = await bone.commits.run(
            registry.evaluate,
            bone.timebank,
            volunteer_id=volunteer_id,
            rating=data.rating,
            stars=data.stars,
            evaluated_on=data.evaluated_on,
            note=data.note,
            by=by,
        )
        return answer(receipt)


class TrainingController(Controller):
    path = "/api/v1/trainings"
    tags = ["volunteers"]  # noqa: RUF012

    @post(
        "/",
        opt=allow(Role.COORDINATOR),
        summary="Record a training session and who attended (Art. 8)",
    )
    async def record(
        self,
        data: JSONBody[NewTraining],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        receipt = await bone.commits.run(
            registry.record_training,
            bone.timebank,
            idempotency_key=data.idempotency_key,
            name=data.name,
            content=data.content,
            minutes=data.minutes,
            organiser=data.organiser,
            held_on=data.held_on,
            today=bone.today(),
            attendees=tuple(data.attendees),
            by=by,
        )
        return answer(receipt)
