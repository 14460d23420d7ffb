"""Certificate command handler: certify a volunteer's approved service over a period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from domain.certificate import Certificate, CoveredEntry, issue_certificate
from domain.hours import EntryStatus, HourEntry
from services.bus import Acting, Handler, Receipt
from services.certificates.commands import IssueCertificate
from services.store.eventstore import Timebank
from services.volunteers.handlers import volunteer_at_hand


def _approved_in(app: Timebank, entry_ids: list[UUID], start: date, end: date) -> list[HourEntry]:
    entries = [app.find(entry_id, HourEntry) for entry_id in entry_ids]
    return [
        entry
        for entry in entries
        if entry is not None
        and entry.status is EntryStatus.APPROVED
        and start <= entry.service.started_at.date() <= end
    ]


@dataclass(frozen=True, kw_only=True)
class Certified(Receipt):
    """The certificate's receipt, and the code anyone verifies it with."""

    code: str


def issue(command: IssueCertificate, acting: Acting) -> Certified:
    """Count the volunteer's approved entries over the period as the event store holds them
    now, and record that position, so a later amendment can be shown beside what was
    certified."""
    app = acting.app
    volunteer = volunteer_at_hand(acting, command.volunteer_id)
    as_of = app.last_position()
    entries = _approved_in(app, list(volunteer.spans), command.period_from, command.period_to)
    certificate: Certificate = issue_certificate(
        volunteer_id=volunteer.id,
        period_from=command.period_from,
        period_to=command.period_to,
        entries=tuple(
            CoveredEntry(entry.id, entry.service.minutes)
            for entry in sorted(entries, key=lambda entry: entry.service.started_at)
        ),
        recording_body=command.recording_body,
        as_of=as_of,
        today=acting.local_now().date(),
        by=acting.by,
    )
    return Certified(certificate.id, app.record(certificate), code=certificate.code)


HANDLERS: dict[type, Handler] = {IssueCertificate: issue}
