"""Certificates of volunteer service (证明, 《志愿服务记录与证明出具办法》 Art. 14–17).

A certificate states the service time and content over a period and who recorded it, and it
must be verifiable: it is issued with a code anyone can check, and it keeps exactly what it
said, the entries it covered and the stream position it was issued at, so a later correction
to one of those entries shows beside it instead of silently changing it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.provenance import Provenance
from domain.rules import RuleViolated, check_period

_CERTIFICATE_NAMESPACE = uuid5(NAMESPACE_URL, "urn:timebank:certificate")
# No 0/O or 1/I/L: the code is read off paper and typed in by hand.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12


@dataclass(frozen=True)
class CoveredEntry:
    """One approved entry as the certificate counted it."""

    entry_id: UUID
    minutes: int


def new_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(CODE_LENGTH))


def certificate_id_for(code: str) -> UUID:
    return uuid5(_CERTIFICATE_NAMESPACE, code.upper())


class Certificate(Aggregate):
    @staticmethod
    def create_id(code: str) -> UUID:
        return certificate_id_for(code)

    @event("CertificateIssued")
    def __init__(
        self,
        code: str,
        volunteer_id: UUID,
        period_from: date,
        period_to: date,
        entries: tuple[CoveredEntry, ...],
        minutes: int,
        recording_body: str,
        as_of: int,
        by: Provenance,
    ) -> None:
        self.code = code
        self.volunteer_id = volunteer_id
        self.entries = tuple(entries)
        self.minutes = minutes
        self.as_of = as_of  # the stream position the certified figures were read at


def issue_certificate(
    *,
    volunteer_id: UUID,
    period_from: date,
    period_to: date,
    entries: tuple[CoveredEntry, ...],
    recording_body: str,
    as_of: int,
    today: date,
    by: Provenance,
) -> Certificate:
    check_period(period_from, period_to)
    if period_from > today:
        raise RuleViolated("date-in-future", "A certificate covers service already given.")
    if not entries:
        raise RuleViolated(
            "nothing-to-certify", "There is no approved service in that period to certify."
        )
    if not recording_body.strip():
        raise RuleViolated("recording-body-required", "Name the body that recorded the service.")
    return Certificate(
        code=new_code(),
        volunteer_id=volunteer_id,
        period_from=period_from,
        period_to=period_to,
        entries=entries,
        minutes=sum(entry.minutes for entry in entries),
        recording_body=recording_body,
        as_of=as_of,
        by=by,
    )
