"""Certificates (issued by coordinators, verified by anyone) and the monitoring report."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from msgspec import Meta

from domain.identity import Role
from domain.provenance import Provenance
from domain.rules import NotFound, RuleViolated
from projections import certificates, hours, monitoring
from services import certificates as issuing
from services.api import schemas
from services.api.auth import allow, public
from services.api.context import After, read
from services.api.hours import Step, csv_response, step_of
from services.runtime import Backbone

STAFF = (Role.COORDINATOR, Role.ADMIN)
Month = Annotated[str, QueryParameter(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]


class NewCertificate(schemas.Strict, kw_only=True):
    volunteer_id: UUID
    period_from: date
    period_to: date
    recording_body: Annotated[
        str, Meta(min_length=1, max_length=100, description="Who recorded the service (Art. 15)")
    ]


class Issued(msgspec.Struct, kw_only=True):
    id: str
    code: str
    position: int


class CoveredEntry(msgspec.Struct, kw_only=True):
    entry_id: str
    minutes: int  # as certified
    minutes_now: int | None  # as the entry stands today (None: voided since)
    status_now: str | None


class Verification(msgspec.Struct, kw_only=True):
    """What the certificate said, and what has happened to what it covered since."""

    code: str
    period_from: str
    period_to: str
    minutes: int
    recording_body: str
    issued_at: str
    as_of: int
    entries: list[CoveredEntry]
    corrections: list[Step]
    still_accurate: bool


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
    path = "/api/v1/certificates"
    tags = ["certificates"]  # noqa: RUF012

    @post(
        "/",
        sync_to_thread=True,
        opt=allow(Role.COORDINATOR),
        summary="Certify a volunteer's approved service over a period",
    )
    def issue(
        self,
        data: JSONBody[NewCertificate],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[Issued]:
        receipt, code = issuing.issue(
            bone.timebank,
            volunteer_id=data.volunteer_id,
            period_from=data.period_from,
            period_to=data.period_to,
            recording_body=data.recording_body,
            today=bone.today(),
            by=by,
        )
        issued = Issued(id=str(receipt.id), code=code, position=receipt.position)
        return Response(issued, status_code=201)

    @get(
        "/{code:str}",
        sync_to_thread=True,
        opt=public(),
        summary="Verify a certificate: what it said, and any later correction to what it covered",
    )
    def verify(
        self, code: FromPath[str], bone: NamedDependency[Backbone], after: After = None
    ) -> Verification:
        def query(db: Any) -> tuple[dict[str, Any] | None, list[Any], list[Any]]:
            found = certificates.certificate(db, code)
            if found is None:
                return None, [], []
            covered = msgspec.json.decode(found["entries"])
            ids = [entry["entry_id"] for entry in covered]
            now = [hours.entry(db, entry_id) for entry_id in ids]
            return (
                found,
                list(zip(covered, now, strict=True)),
                hours.steps_after(db, ids, found["as_of"]),
            )

        found, covered, later = read(bone, ("certificates", "hours"), after, query)
        if found is None:
            raise NotFound("certificate-not-found", f"No certificate has the code {code!r}.")
        entries = [
            CoveredEntry(
                entry_id=entry["entry_id"],
                minutes=entry["minutes"],
                minutes_now=row["minutes"] if row and row["status"] == "approved" else None,
                status_now=row["status"] if row else None,
            )
            for entry, row in covered
        ]
        return Verification(
            code=found["code"],
            period_from=found["period_from"],
            period_to=found["period_to"],
            minutes=found["minutes"],
            recording_body=found["recording_body"],
            issued_at=found["issued_at"],
            as_of=found["as_of"],
            entries=entries,
            corrections=[step_of(row) for row in later],
            still_accurate=all(entry.minutes_now == entry.minutes for entry in entries),
        )


class ReportController(Controller):
    path = "/api/v1/reports"
    tags = ["reports"]  # noqa: RUF012

    def _monitoring(
        self, bone: Backbone, first: str, last: str, after: int | None
    ) -> MonitoringReport:
        if first > last:
            raise RuleViolated("invalid-period", "The period starts before it ends.")

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

        return read(bone, ("monitoring",), after, query)

    @get(
        "/monitoring",
        sync_to_thread=True,
        opt=allow(*STAFF),
        summary="Volunteers, trainings and service by month, category and building",
    )
    def report(
        self, bone: NamedDependency[Backbone], first: Month, last: Month, after: After = None
    ) -> MonitoringReport:
        return self._monitoring(bone, first, last, after)

    @get(
        "/monitoring/export",
        sync_to_thread=True,
        opt=allow(*STAFF),
        summary="Service figures as CSV, for the quarterly review",
        media_type=schemas.CSV,
    )
    def export(
        self, bone: NamedDependency[Backbone], first: Month, last: Month, after: After = None
    ) -> Response[str]:
        report = self._monitoring(bone, first, last, after)
        return csv_response(
            f"monitoring-{first}-{last}",
            ["month", "category", "building", "minutes", "services"],
            [
                [figure.month, figure.category, figure.building, figure.minutes, figure.services]
                for figure in report.service
            ],
        )
