"""The hour audit over HTTP: entries as the read model holds them, every step of an entry,
and a volunteer's hours over a period with approved totals, each also as CSV."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from domain.identity import Role
from services.api import schemas
from services.web.auth import Principal, allow
from services.web.context import After
from services.web.hour_history import (
    HoursReport,
    check_volunteer_reached,
    volunteer_export,
    volunteer_report,
)
from services.web.reach import Reach
from services.web.reads import Reads

STAFF = (Role.COORDINATOR, Role.ADMIN)


class VolunteerHoursController(Controller):
    path = "/api/v1/volunteers/{volunteer_id:uuid}/hours"
    tags = ["hours"]  # noqa: RUF012

    @get(
        "/",
        sync_to_thread=True,
        opt=allow(Role.VOLUNTEER, *STAFF, people=True),
        summary="A volunteer's entries over a period, with approved totals by month and category",
    )
    def report(
        self,
        volunteer_id: FromPath[UUID],
        request: Request[Principal, Any, Any],
        reads: NamedDependency[Reads],
        reach: NamedDependency[Reach],
        first: Annotated[date, QueryParameter(description="First day (the station's)")],
        last: Annotated[date, QueryParameter(description="Last day, included")],
        after: After = None,
    ) -> HoursReport:
        report = volunteer_report(reads, volunteer_id, first, last, after)  # the period first
        check_volunteer_reached(request.user, reach, reads, volunteer_id, after)
        return report

    @get(
        "/export",
        sync_to_thread=True,
        opt=allow(*STAFF, people=True),
        summary="The same as CSV: one line per entry",
        media_type=schemas.CSV,
    )
    def export(
        self,
        volunteer_id: FromPath[UUID],
        request: Request[Principal, Any, Any],
        reads: NamedDependency[Reads],
        reach: NamedDependency[Reach],
        first: Annotated[date, QueryParameter()],
        last: Annotated[date, QueryParameter()],
        after: After = None,
    ) -> Response[str]:
        report = volunteer_report(reads, volunteer_id, first, last, after)  # the period first
        check_volunteer_reached(request.user, reach, reads, volunteer_id, after)
        return volunteer_export(report)
