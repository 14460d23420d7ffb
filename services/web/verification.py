"""A certificate verified: in full for staff, and the totals anyone holding its code may see."""

from __future__ import annotations

from uuid import UUID

import msgspec

from domain.rules import NotFound
from projections import certificates, hours, volunteers
from projections.readstore import ReadDb, Row
from services.composition.runtime import Backbone
from services.volunteers.handlers import masked_name
from services.web.hour_history import Step, step_of
from services.web.reads import Reads


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
    station_id: str | None  # the volunteer's home station: whose staff may read this


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


def found_certificate(db: ReadDb, code: str) -> Row:
    found = certificates.certificate(db, code)
    if found is None:
        raise NotFound("certificate-not-found", f"No certificate has the code {code!r}.")
    return found


def full_verification(reads: Reads, code: str, after: int | None) -> Verification:
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
            station_id=volunteers.home_of(db, found["volunteer_id"]),
        )

    return reads.query(("certificates", "hours", "volunteers"), after, query)


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

    return bone.read_side.query(("certificates", "hours"), after, query)
