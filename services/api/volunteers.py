"""The volunteer registry and trainings over HTTP: each command route hands its command to
the bus."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Router, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from domain.identity import Role
from domain.rules import NotFound
from domain.volunteer import VolunteerStatus
from projections import certificates, volunteers
from services.api.command_routes import command_route
from services.volunteers.commands import (
    Award,
    ChangeVolunteerStatus,
    Evaluation,
    Profile,
    RecordAward,
    RecordEvaluation,
    RecordTraining,
    RegisterVolunteer,
    StatusChange,
    UpdateVolunteerProfile,
)
from services.web.auth import Principal, allow
from services.web.context import After, Before, Limit, next_before
from services.web.hour_history import check_volunteer_reached
from services.web.reach import Reach, people_among
from services.web.reads import Reads

STAFF = (Role.COORDINATOR, Role.ADMIN)


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
    station_id: str  # the volunteer's home station


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


class VolunteerController(Controller):
    """The registry's reads (``VOLUNTEERS`` adds its commands)."""

    @get("/", sync_to_thread=True, opt=allow(*STAFF, people=True), summary="Search the registry")
    def search(
        self,
        reads: NamedDependency[Reads],
        reach: NamedDependency[Reach],
        after: After = None,
        skill: Annotated[str | None, QueryParameter(max_length=40)] = None,
        category: Annotated[str | None, QueryParameter(max_length=40)] = None,
        building: Annotated[str | None, QueryParameter(max_length=40)] = None,
        status: Annotated[VolunteerStatus | None, QueryParameter()] = None,
        before: Before = None,
        limit: Limit = 50,
    ) -> VolunteerList:
        rows = reads.query(
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
                stations=people_among(reach),
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
        opt=allow(Role.VOLUNTEER, *STAFF, people=True),
        summary="A volunteer's record: status, skills, trainings, awards, evaluations",
    )
    def show(
        self,
        volunteer_id: FromPath[UUID],
        request: Request[Principal, Any, Any],
        reads: NamedDependency[Reads],
        reach: NamedDependency[Reach],
        after: After = None,
    ) -> VolunteerDetail:
        check_volunteer_reached(request.user, reach, reads, volunteer_id, after)
        row = reads.query(
            ("volunteers",), after, lambda db: volunteers.volunteer(db, str(volunteer_id))
        )
        if row is None:
            raise NotFound("volunteer-not-found", f"There is no volunteer {volunteer_id}.")
        return msgspec.convert(volunteers.labels(row), VolunteerDetail, strict=False)

    @get(
        "/{volunteer_id:uuid}/certificates",
        sync_to_thread=True,
        opt=allow(Role.VOLUNTEER, *STAFF, people=True),
        summary="Certificates issued to a volunteer",
    )
    def certificates(
        self,
        volunteer_id: FromPath[UUID],
        request: Request[Principal, Any, Any],
        reads: NamedDependency[Reads],
        reach: NamedDependency[Reach],
        after: After = None,
    ) -> list[CertificateRow]:
        check_volunteer_reached(request.user, reach, reads, volunteer_id, after)
        rows = reads.query(
            ("certificates",),
            after,
            lambda db: certificates.for_volunteer(db, str(volunteer_id)),
        )
        return [msgspec.convert(row, CertificateRow, strict=False) for row in rows]


VOLUNTEERS = Router(
    "/api/v1/volunteers",
    tags=["volunteers"],
    route_handlers=[
        VolunteerController,
        command_route(
            "register",
            post("/", opt=allow(Role.COORDINATOR), summary="Register a volunteer"),
            RegisterVolunteer,
        ),
        command_route(
            "change_status",
            post(
                "/{volunteer_id:uuid}/status",
                opt=allow(Role.COORDINATOR),
                summary="Pause, reactivate, or record that a volunteer left",
            ),
            ChangeVolunteerStatus,
            StatusChange,
        ),
        command_route(
            "update_profile",
            put(
                "/{volunteer_id:uuid}/profile",
                opt=allow(Role.COORDINATOR),
                summary="Skills, service categories and building",
            ),
            UpdateVolunteerProfile,
            Profile,
        ),
        command_route(
            "give_award",
            post(
                "/{volunteer_id:uuid}/awards",
                opt=allow(Role.COORDINATOR),
                summary="Record an award (Art. 9)",
            ),
            RecordAward,
            Award,
        ),
        command_route(
            "evaluate",
            post(
                "/{volunteer_id:uuid}/evaluations",
                opt=allow(Role.COORDINATOR),
                summary="Record an evaluation (Art. 10)",
            ),
            RecordEvaluation,
            Evaluation,
        ),
    ],
)
TRAININGS = Router(
    "/api/v1/trainings",
    tags=["volunteers"],
    route_handlers=[
        command_route(
            "record",
            post(
                "/",
                opt=allow(Role.COORDINATOR),
                summary="Record a training session and who attended (Art. 8)",
            ),
            RecordTraining,
        ),
    ],
)
