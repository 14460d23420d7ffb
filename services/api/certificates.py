"""Certificates (issued by coordinators, verified by anyone) and the monitoring report."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from domain.identity import Role
from domain.rules import NotFound, RuleViolated
from projections import certificates, hours, monitoring
from projections.readstore import ReadDb, Row
from services.api import schemas
from services.api.auth import allow, public
from services.api.context import After, read
from services.api.downloads import csv_response
from services.api.hour_audit import Step, step_of
from services.bus import Bus, Caller
from services.certificates.commands import IssueCertificate
from services.runtime import Backbone
from services.volunteers.handlers import masked_name
from services.windows import check_months_asked

STAFF = (Role.COORDINATOR, Role.ADMIN)
Month = Annotated[str, QueryParameter(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]


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


class CategoryTotal(msgspec.Struct, kw_only=True):
    category: str  # its code (GET /api/v1/categories names it)
    minutes: int  # as certified
    minutes_now: int  # as its entries stand today


class PublicVerification(msgspec.Struct, kw_only=True):
    """What a certificate must show whoever holds its code, and nothing an entry says."""

    code: str
    volunteer: str | None  # the masked name (王*英); None once their data was erased
    period_from: str
    period_to: str
    minutes: int  # as certified
    minutes_now: int  # as the entries it covered stand today
    by_category: list[CategoryTotal]
    recording_body: str  # who recorded the service (Art. 15)
    issued_at: str
    changes_since: int  # amendments and voidings of its entries since it was issued
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
        opt=allow(Role.COORDINATOR),
        summary="Certify a volunteer's approved service over a period",
    )
    async def issue(
        self,
        data: JSONBody[IssueCertificate],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Response[Issued]:
        certified = await bus.handle(data, caller)
        issued = Issued(id=str(certified.id), code=certified.code, position=certified.position)
        return Response(issued, status_code=201)

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
        self, code: FromPath[str], bone: NamedDependency[Backbone], after: After = None
    ) -> Verification:
        return full_verification(bone, code, after)


def found_certificate(db: ReadDb, code: str) -> Row:
    found = certificates.certificate(db, code)
    if found is None:
        raise NotFound("certificate-not-found", f"No certificate has the code {code!r}.")
    return found


def full_verification(bone: Backbone, code: str, after: int | None) -> Verification:
    """What the certificate said, each entry it covered now, and every later step of them."""

    def query(db: ReadDb) -> Verification:
        found = found_certificate(db, code)
        covered = certificates.covered(db, found)
        entries = [
            CoveredEntry(
                entry_id=entry["entry_id"],
                minutes=entry["minutes"],
                minutes_now=certificates.minutes_now(row),
                status_now=row["status"] if row else None,
            )
            for entry, row in covered
        ]
        later = hours.steps_after(db, [entry.entry_id for entry in entries], found["as_of"])
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

    return read(bone, ("certificates", "hours"), after, query)


def public_verification(bone: Backbone, code: str, after: int | None) -> PublicVerification:
    """What anyone holding the code may see: the certificate's totals, by category, then and
    now, and how many changes were made since — never an entry's text, place or time, which
    may name a third person or a hospital visit."""

    def query(db: ReadDb) -> PublicVerification:
        found = found_certificate(db, code)
        covered = certificates.covered(db, found)
        totals: dict[str, list[int]] = {}
        for entry, row in covered:
            total = totals.setdefault(row["category"] if row else "", [0, 0])
            total[0] += entry["minutes"]
            total[1] += certificates.minutes_now(row) or 0
        ids = [entry["entry_id"] for entry, _ in covered]
        return PublicVerification(
            code=found["code"],
            volunteer=masked_name(bone.timebank, bone.vault, UUID(found["volunteer_id"])),
            period_from=found["period_from"],
            period_to=found["period_to"],
            minutes=found["minutes"],
            minutes_now=sum(now for _, now in totals.values()),
            by_category=[
                CategoryTotal(category=category, minutes=then, minutes_now=now)
                for category, (then, now) in sorted(totals.items())
            ],
            recording_body=found["recording_body"],
            issued_at=found["issued_at"],
            changes_since=len(hours.steps_after(db, ids, found["as_of"])),
            still_accurate=all(
                entry["minutes"] == certificates.minutes_now(row) for entry, row in covered
            ),
        )

    return read(bone, ("certificates", "hours"), after, query)


class ReportController(Controller):
    path = "/api/v1/reports"
    tags = ["reports"]  # noqa: RUF012

    def _monitoring(
        self, bone: Backbone, first: str, last: str, after: int | None
    ) -> MonitoringReport:
        check_months_asked(first, last, bone.local_now())
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
