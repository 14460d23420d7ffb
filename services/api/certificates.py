"""Certificates (issued by coordinators, verified by anyone) and the monitoring report."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from domain.identity import Role
from projections import monitoring
from services.api import schemas
from services.api.command_routes import command_route
from services.certificates.commands import IssueCertificate
from services.certificates.handlers import Certified
from services.composition.runtime import Backbone
from services.web.auth import allow, public
from services.web.context import After
from services.web.downloads import csv_response
from services.web.reads import Reads
from services.web.verification import (
    PublicVerification,
    Verification,
    full_verification,
    public_verification,
)
from services.windows import check_months_asked, station_now

STAFF = (Role.COORDINATOR, Role.ADMIN)
Month = Annotated[str, QueryParameter(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]


class Issued(msgspec.Struct, kw_only=True):
    id: str
    code: str
    position: int


def _issued(certified: Certified) -> Issued:
    return Issued(id=str(certified.id), code=certified.code, position=certified.position)


class ServiceFigure(msgspec.Struct, kw_only=True):
    month: str
    category: str
    building: str
    minutes: int
    services: int


class VolunteerFigure(msgspec.Struct, kw_only=True):
    month: str
    active: int
    new: int


class TrainingFigure(msgspec.Struct, kw_only=True):
    month: str
    trainings: int
    minutes: int
    minutes_trained: int


class Registry(msgspec.Struct, kw_only=True):
    active: int
    paused: int
    left: int


class MonitoringReport(msgspec.Struct, kw_only=True):
    first: str
    last: str
    service: list[ServiceFigure]
    volunteers: list[VolunteerFigure]
    trainings: list[TrainingFigure]
    registry: Registry


class CertificateController(Controller):
    """Verifying certificates (``CERTIFICATES`` adds issuing one)."""

    @get(
        "/{code:str}",
        sync_to_thread=True,
        opt=public(),
        summary="Verify a certificate: what it said, its totals by category, and whether it"
        " still holds (no entry's text: that stays with staff)",
    )
    def verify(
        self, code: FromPath[str], bone: NamedDependency[Backbone], after: After = None
    ) -> PublicVerification:
        return public_verification(bone, code, after)

    @get(
        "/{code:str}/entries",
        sync_to_thread=True,
        opt=allow(*STAFF),
        summary="A certificate with each entry it covered and every later correction in full",
    )
    def entries(
        self, code: FromPath[str], reads: NamedDependency[Reads], after: After = None
    ) -> Verification:
        return full_verification(reads, code, after)


class ReportController(Controller):
    path = "/api/v1/reports"
    tags = ["reports"]  # noqa: RUF012

    def _monitoring(
        self, reads: Reads, first: str, last: str, after: int | None
    ) -> MonitoringReport:
        check_months_asked(first, last, station_now())

        def query(db: Any) -> MonitoringReport:
            registry = monitoring.registry(db)
            return MonitoringReport(
                first=first,
                last=last,
                service=[
                    msgspec.convert(row, ServiceFigure, strict=False)
                    for row in monitoring.service(db, first, last)
                ],
                volunteers=[
                    msgspec.convert(row, VolunteerFigure, strict=False)
                    for row in monitoring.volunteers_by_month(db, first, last)
                ],
                trainings=[
                    msgspec.convert(row, TrainingFigure, strict=False)
                    for row in monitoring.trainings_by_month(db, first, last)
                ],
                registry=Registry(
                    active=registry["active"], paused=registry["paused"], left=registry["left_"]
                ),
            )

        return reads.query(("monitoring",), after, query)

    @get(
        "/monitoring",
        sync_to_thread=True,
        opt=allow(*STAFF),
        summary="Volunteers, trainings and service by month, category and building",
    )
    def report(
        self, reads: NamedDependency[Reads], first: Month, last: Month, after: After = None
    ) -> MonitoringReport:
        return self._monitoring(reads, first, last, after)

    @get(
        "/monitoring/export",
        sync_to_thread=True,
        opt=allow(*STAFF),
        summary="Service figures as CSV, for the quarterly review",
        media_type=schemas.CSV,
    )
    def export(
        self, reads: NamedDependency[Reads], first: Month, last: Month, after: After = None
    ) -> Response[str]:
        report = self._monitoring(reads, first, last, after)
        return csv_response(
            f"monitoring-{first}-{last}",
            ["month", "category", "building", "minutes", "services"],
            [
                [figure.month, figure.category, figure.building, figure.minutes, figure.services]
                for figure in report.service
            ],
        )


CERTIFICATES = Router(
    "/api/v1/certificates",
    tags=["certificates"],
    route_handlers=[
        CertificateController,
        command_route(
            "issue",
            post(
                "/",
                opt=allow(Role.COORDINATOR),
                summary="Certify a volunteer's approved service over a period",
            ),
            IssueCertificate,
            reply=_issued,
        ),
    ],
)
