"""Certificates (issued by coordinators, verified by anyone) and the monitoring report."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Response, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter

from domain.identity import Role
from services.api import schemas
from services.api.command_routes import command_route
from services.certificates.commands import IssueCertificate
from services.certificates.handlers import Certified
from services.composition.runtime import Backbone
from services.web.auth import allow, public
from services.web.context import After
from services.web.downloads import csv_response
from services.web.monitoring import Drawn, MonitoringReport, drawn_for, monitoring_report
from services.web.reach import Reach, check_sees_people
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
EXPORT_COLUMNS = ["month", "category", "building", "minutes", "services"]


class Issued(msgspec.Struct, kw_only=True):
    id: str
    code: str
    position: int


def _issued(certified: Certified) -> Issued:
    return Issued(id=str(certified.id), code=certified.code, position=certified.position)


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
        opt=allow(*STAFF, people=True),
        summary="A certificate with each entry it covered and every later correction in full",
    )
    def entries(
        self,
        code: FromPath[str],
        reads: NamedDependency[Reads],
        reach: NamedDependency[Reach],
        after: After = None,
    ) -> Verification:
        verification = full_verification(reads, code, after)
        # No home station known (the registry not there yet) reaches no one's stations.
        check_sees_people(reach, str(verification.station_id))
        return verification


def the_report(
    reads: NamedDependency[Reads],
    reach: NamedDependency[Reach],
    drawn: NamedDependency[Drawn],
    first: Month,
    last: Month,
    after: After = None,
) -> MonitoringReport:
    """Dependency ``report``: the monitoring report the query asks for."""
    check_months_asked(first, last, station_now())
    return monitoring_report(reads, reach, first, last, after, drawn)


class ReportController(Controller):
    path = "/api/v1/reports"
    tags = ["reports"]  # noqa: RUF012
    dependencies = {  # noqa: RUF012
        "drawn": Provide(drawn_for, sync_to_thread=False),
        "report": Provide(the_report, sync_to_thread=True),
    }

    @get(
        "/monitoring",
        sync_to_thread=False,
        opt=allow(*STAFF),
        summary="Volunteers, trainings and service by month, category and building, for a "
        "station, a street or a district (by default all the caller works across), with each "
        "station's part",
    )
    def monitoring(self, report: NamedDependency[MonitoringReport]) -> MonitoringReport:
        return report

    @get(
        "/monitoring/export",
        sync_to_thread=False,
        opt=allow(*STAFF),
        summary="The service figures of the station, street or district as CSV, for the "
        "quarterly review",
        media_type=schemas.CSV,
    )
    def export(self, report: NamedDependency[MonitoringReport]) -> Response[str]:
        return csv_response(
            f"monitoring-{report.first}-{report.last}",
            EXPORT_COLUMNS,
            [[getattr(figure, column) for column in EXPORT_COLUMNS] for figure in report.service],
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
