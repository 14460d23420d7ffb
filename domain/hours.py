"""Service-hour entries (《志愿服务记录与证明出具办法》 Art. 7, 11, 13) and their approval.

Rules:
- an entry holds the record of Art. 7 (activity, date and start, place, content, minutes,
  organising unit, person in charge) plus category, building and an optional pseudonymous
  beneficiary; who recorded it and through which channel travel on every event;
- an entry recorded more than 10 working days after the activity is flagged late (Art. 11);
  one overlapping another of the volunteer's, or making their day longer than 16 hours, is
  flagged too; flags inform the coordinator, they do not refuse the entry;
- approval credits the volunteer's account from ``community``; an approved entry changes only
  by an amendment or a voiding, each with a reason and who asked for it (Art. 13), posting the
  compensating transfer; nothing is overwritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.ledger import (
    AccountKind,
    TimeAccount,
    Transfer,
    TransferKind,
    check_transfer,
    internal_key,
    post_correction,
    post_transfer,
    system_account_id,
    two_party_legs,
)
from domain.listing import Categories, check_no_contact_details
from domain.provenance import Provenance
from domain.rules import RuleViolated, require_reason
from domain.station import DEFAULT_STATION, NamesItsStation
from domain.volunteer import Flag, Volunteer

_ENTRY_NAMESPACE = uuid5(NAMESPACE_URL, "urn:timebank:hour-entry")
LATE_AFTER_WORKING_DAYS = 10
MAX_MINUTES_AN_ENTRY = 16 * 60


class EntryStatus(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    VOIDED = "voided"


@dataclass(frozen=True)
class Service:
    """What was done: the record of Art. 7, plus what the station's reports count by."""

    activity: str
    started_at: datetime
    minutes: int
    place: str
    content: str
    organiser: str
    responsible: str  # the person in charge, as the station names them (a staff username)
    category: str
    building: str
    beneficiary: UUID | None = None  # a member id, never a name

    @property
    def ends_at(self) -> datetime:
        return self.started_at + timedelta(minutes=self.minutes)


def check_service(service: Service, now: datetime) -> None:
    if type(service.minutes) is not int or service.minutes <= 0:
        raise RuleViolated("invalid-minutes", "Minutes are whole numbers above zero.")
    if service.minutes > MAX_MINUTES_AN_ENTRY:
        raise RuleViolated(
            "over-entry-maximum",
            f"One entry holds at most {MAX_MINUTES_AN_ENTRY} minutes; split longer service.",
        )
    if service.ends_at > now + timedelta(minutes=5):
        raise RuleViolated("date-in-future", "Service is recorded after it was given.")
    for field, value in (
        ("activity", service.activity),
        ("organiser", service.organiser),
        ("responsible", service.responsible),
        ("category", service.category),
    ):
        if not value.strip():
            raise RuleViolated(f"{field}-required", f"The entry needs its {field}.")
    check_no_contact_details(service.activity, service.place, service.content)


def working_days_between(start: date, end: date) -> int:
    """Monday-to-Friday days after ``start`` up to and including ``end`` (public holidays are
    not known to the system, so a late flag is a prompt to look, not a verdict)."""
    days = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days += 1
    return days


def entry_id_for(idempotency_key: str) -> UUID:
    return uuid5(_ENTRY_NAMESPACE, idempotency_key)


class HourEntry(Aggregate):
    @staticmethod
    def create_id(idempotency_key: str) -> UUID:
        return entry_id_for(idempotency_key)

    class HoursSubmitted(NamesItsStation, Aggregate.Created):
        """Names the station where the service was given."""

        idempotency_key: str
        volunteer_id: UUID
        account_id: UUID
        service: Service
        flags: tuple[str, ...]
        recorded_on: date
        by: Provenance
        station: UUID

    @event(HoursSubmitted)
    def __init__(
        self,
        idempotency_key: str,
        volunteer_id: UUID,
        account_id: UUID,
        service: Service,
        flags: tuple[str, ...],
        recorded_on: date,
        by: Provenance,
        station: UUID = DEFAULT_STATION,
    ) -> None:
        self.volunteer_id = volunteer_id
        self.station = station
        self.recorded_on = recorded_on  # late or not is about this day, whatever is amended
        self.account_id = account_id
        self.service = service
        self.flags = tuple(flags)
        self.status = EntryStatus.SUBMITTED
        self.credits: dict[UUID, int] = {}  # credit transfer -> minutes of it not yet undone
        self.amendments = 0

    @property
    def credited(self) -> int:
        return sum(self.credits.values())

    def check_status(self, *allowed: EntryStatus) -> None:
        if self.status not in allowed:
            raise RuleViolated(
                f"entry-{self.status.value}",
                f"Entry {self.id} is {self.status.value}; that is not possible now.",
            )

    @event("HoursApproved")
    def record_approval(self, transfer_id: UUID, minutes: int, by: Provenance) -> None:
        self.status = EntryStatus.APPROVED
        self.credits[transfer_id] = minutes

    def reject(self, reason: str, by: Provenance) -> None:
        self.check_status(EntryStatus.SUBMITTED)
        check_reason(reason)
        self._reject(reason=reason, by=by)

    @event("HoursRejected")
    def _reject(self, reason: str, by: Provenance) -> None:
        self.status = EntryStatus.REJECTED

    @event("HoursAmended")
    def record_amendment(
        self,
        service: Service,
        flags: tuple[str, ...],
        reason: str,
        requested_by: str,
        transfers: tuple[UUID, ...],
        credits: tuple[tuple[UUID, int], ...],
        by: Provenance,
    ) -> None:
        """``credits``: (credit transfer, change in what of it still stands) pairs."""
        self.service = service
        self.flags = tuple(flags)
        self.amendments += 1
        for transfer_id, change in credits:
            self.credits[transfer_id] = self.credits.get(transfer_id, 0) + change

    @event("HoursVoided")
    def record_voiding(
        self, reason: str, requested_by: str, transfers: tuple[UUID, ...], by: Provenance
    ) -> None:
        self.status = EntryStatus.VOIDED
        self.credits = {}


def check_reason(reason: str) -> None:
    """Why an entry is rejected or changed, as its record shows it."""
    require_reason(reason, "Say why, so the record can show it.")


def _flags(volunteer: Volunteer, entry_id: UUID, service: Service, recorded_on: date) -> set[str]:
    flags = {
        str(flag) for flag in volunteer.flags_for(entry_id, service.started_at, service.minutes)
    }
    if working_days_between(service.ends_at.date(), recorded_on) > LATE_AFTER_WORKING_DAYS:
        flags.add(Flag.LATE.value)
    return flags


def submit_hours(
    *,
    idempotency_key: str,
    volunteer: Volunteer,
    service: Service,
    categories: Categories,
    now: datetime,
    by: Provenance,
    station: UUID = DEFAULT_STATION,
) -> HourEntry:
    """Record service as submitted (flagged where odd) at ``station``, where it was given; the
    volunteer keeps its span. Its category is one of the station's, in use, as a listing's is:
    the reports count by it."""
    volunteer.check_may_serve()
    check_service(service, now)
    categories.check_open(service.category)
    entry_id = entry_id_for(idempotency_key)
    flags = tuple(sorted(_flags(volunteer, entry_id, service, now.date())))
    entry = HourEntry(
        idempotency_key=idempotency_key,
        volunteer_id=volunteer.id,
        account_id=volunteer.account_id,
        service=service,
        flags=flags,
        recorded_on=now.date(),
        by=by,
        station=station,
    )
    volunteer.keep_span(entry.id, service.started_at, service.minutes, by)
    return entry


def approve_hours(
    entry: HourEntry,
    *,
    account: TimeAccount,
    community: TimeAccount,
    by: Provenance,
) -> Transfer:
    """Credit the volunteer for the entry, from the community account, in the same save."""
    entry.check_status(EntryStatus.SUBMITTED)
    credit = post_transfer(
        idempotency_key=internal_key("hours", entry.id),
        kind=TransferKind.HOURS,
        legs=two_party_legs(community.id, account.id, entry.service.minutes),
        memo=entry.service.activity,
        occurred_at=entry.service.started_at,
        corrects=None,
        accounts={community.id: community, account.id: account},
        by=by,
    )
    entry.record_approval(transfer_id=credit.id, minutes=entry.service.minutes, by=by)
    return credit


def reject_hours(entry: HourEntry, volunteer: Volunteer, *, reason: str, by: Provenance) -> None:
    entry.reject(reason, by)
    volunteer.drop_span(entry.id, by)


def check_amendment(
    entry: HourEntry,
    *,
    service: Service,
    categories: Categories,
    reason: str,
    requested_by: str,
    now: datetime,
) -> None:
    """What an amendment must meet whatever the accounts hold. A new category must be one in
    use; the entry's own (retired since, say) may stay."""
    entry.check_status(EntryStatus.SUBMITTED, EntryStatus.APPROVED)
    _check_change(reason, requested_by)
    check_service(service, now)
    if service.category != entry.service.category:
        categories.check_open(service.category)
    if service == entry.service:
        raise RuleViolated("nothing-amended", "This is what the entry already says.")


def amend_hours(
    entry: HourEntry,
    *,
    volunteer: Volunteer,
    service: Service,
    categories: Categories,
    reason: str,
    requested_by: str,
    now: datetime,
    credits: Mapping[UUID, Transfer],
    accounts: Mapping[UUID, TimeAccount],
    by: Provenance,
) -> list[Transfer]:
    """Change an entry, before or after approval. An approved one is credited the difference
    (a new credit) or debited it (corrections of its credits, latest first).

    ``credits``: the entry's credit transfers by id; ``accounts``: the volunteer's account and
    ``community``.
    """
    check_amendment(
        entry,
        service=service,
        categories=categories,
        reason=reason,
        requested_by=requested_by,
        now=now,
    )
    flags = tuple(sorted(_flags(volunteer, entry.id, service, entry.recorded_on)))
    posted: list[Transfer] = []
    changes: dict[UUID, int] = {}
    difference = service.minutes - entry.credited
    if entry.status is EntryStatus.APPROVED and difference > 0:
        credit = post_transfer(
            idempotency_key=internal_key(f"hours-amendment-{entry.amendments + 1}", entry.id),
            kind=TransferKind.HOURS,
            legs=two_party_legs(
                system_account_id(AccountKind.COMMUNITY), entry.account_id, difference
            ),
            memo=reason,
            occurred_at=service.started_at,
            corrects=None,
            accounts=accounts,
            by=by,
        )
        posted, changes = [credit], {credit.id: difference}
    elif entry.status is EntryStatus.APPROVED and difference < 0:
        changes = _take_back(entry, -difference)
        posted = _corrections(entry, changes, reason, credits=credits, accounts=accounts, by=by)
    entry.record_amendment(
        service=service,
        flags=flags,
        reason=reason,
        requested_by=requested_by,
        transfers=tuple(transfer.id for transfer in posted),
        credits=tuple(changes.items()),
        by=by,
    )
    volunteer.keep_span(entry.id, service.started_at, service.minutes, by)
    return posted


def void_hours(
    entry: HourEntry,
    *,
    volunteer: Volunteer,
    reason: str,
    requested_by: str,
    credits: Mapping[UUID, Transfer],
    accounts: Mapping[UUID, TimeAccount],
    by: Provenance,
) -> list[Transfer]:
    """Undo an approved entry entirely: every credit of it is corrected."""
    entry.check_status(EntryStatus.APPROVED)
    _check_change(reason, requested_by)
    changes = _take_back(entry, entry.credited)
    posted = _corrections(entry, changes, reason, credits=credits, accounts=accounts, by=by)
    entry.record_voiding(
        reason=reason,
        requested_by=requested_by,
        transfers=tuple(transfer.id for transfer in posted),
        by=by,
    )
    volunteer.drop_span(entry.id, by)
    return posted


def _check_change(reason: str, requested_by: str) -> None:
    check_reason(reason)
    if not requested_by.strip():
        raise RuleViolated("requester-required", "Say who asked for the change (Art. 13).")


def _take_back(entry: HourEntry, minutes: int) -> dict[UUID, int]:
    """How much to take back from each credit, latest first, to undo ``minutes``."""
    changes: dict[UUID, int] = {}
    for transfer_id, remaining in reversed(list(entry.credits.items())):
        take = min(minutes, remaining)
        if take:
            changes[transfer_id] = -take
            minutes -= take
    return changes


def _corrections(
    entry: HourEntry,
    changes: Mapping[UUID, int],
    reason: str,
    *,
    credits: Mapping[UUID, Transfer],
    accounts: Mapping[UUID, TimeAccount],
    by: Provenance,
) -> list[Transfer]:
    # Several corrections, each checked as it posts, could fail halfway: check their sum first.
    taken = -sum(changes.values())
    if taken:
        community = system_account_id(AccountKind.COMMUNITY)
        check_transfer(two_party_legs(entry.account_id, community, taken), accounts)
    return [
        post_correction(
            credits[transfer_id],
            idempotency_key=internal_key(
                f"hours-correction-{entry.amendments + 1}-{index}", entry.id
            ),
            minutes=-change,
            reason=reason,
            occurred_at=entry.service.started_at,
            accounts=accounts,
            by=by,
        )
        for index, (transfer_id, change) in enumerate(changes.items())
    ]
