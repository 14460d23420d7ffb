"""Certificate command handler: certify a volunteer's approved service over a period."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from domain.certificate import Certificate, CoveredEntry, issue_certificate
from domain.hours import EntryStatus, HourEntry
from domain.provenance import Provenance
from services.bus import Receipt
from services.eventstore import Timebank
from services.volunteers import volunteer_of


def _approved_in(app: Timebank, entry_ids: list[UUID], start: date, end: date) -> list[HourEntry]:
    entries = [app.find(entry_id, HourEntry) for entry_id in entry_ids]
    return [
        entry
        for entry in entries
        if entry is not None
        and entry.status is EntryStatus.APPROVED
        and start <= entry.service.started_at.date() <= end
    ]


def issue(
    app: Timebank,
    *,
    volunteer_id: UUID,
    period_from: date,
    period_to: date,
    recording_body: str,
    today: date,
    by: Provenance,
) -> tuple[Receipt, str]:
    """The certificate's receipt and its verification code.

    It counts the approved entries as the event store holds them now, and records that
    position, so a later amendment can be shown beside what was certified.
    """
    volunteer = volunteer_of(app, volunteer_id)
    as_of = app.last_position()
    entries = _approved_in(app, list(volunteer.spans), period_from, period_to)
    certificate: Certificate = issue_certificate(
        volunteer_id=volunteer.id,
        period_from=period_from,
        period_to=period_to,
        entries=tuple(
            CoveredEntry(entry.id, entry.service.minutes)
            for entry in sorted(entries, key=lambda entry: entry.service.started_at)
        ),
        recording_body=recording_body,
        as_of=as_of,
        today=today,
        by=by,
    )
    return Receipt(certificate.id, app.record(certificate)), certificate.code
