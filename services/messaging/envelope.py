"""The published language: the envelope every event travels in on NATS, and its payloads.

Consumers decode these Structs, never the domain's classes, so the domain can be refactored
without breaking a read model; a payload change bumps the event's ``schema``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec

from domain.provenance import Provenance
from domain.station import DEFAULT_STATION, Level

STREAM = "TIMEBANK"
SUBJECT_PREFIX = "timebank"


class Envelope(msgspec.Struct, frozen=True, kw_only=True, dict=True):
    position: int
    stream_id: UUID
    version: int
    type: str
    schema: int
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    channel: str
    correlation_id: str
    causation_id: str | None = None
    data: msgspec.Raw

    @property
    def subject(self) -> str:
        return f"{SUBJECT_PREFIX}.{CONTEXTS[self.type]}.{self.type}"

    def payload(self) -> Any:
        """Decoded once for every read model that shows the event (a payload is frozen, and
        read models only read it): several decode each event in a replay. Kept by hand, not
        by ``functools.cached_property``, whose lock costs more than the decoding."""
        kept = self.__dict__
        payload = kept.get("_payload")
        if payload is None:
            payload = kept["_payload"] = msgspec.json.decode(self.data, type=PAYLOADS[self.type])
        return payload


class Payload(msgspec.Struct, frozen=True, kw_only=True):
    pass


class LimitsData(msgspec.Struct, frozen=True):
    floor: int | None
    cap: int | None


class LegData(msgspec.Struct, frozen=True):
    account_id: UUID
    minutes: int


class AccountOpened(Payload):
    owner: str
    kind: str
    limits: LimitsData


class EntryPosted(Payload):
    transfer_id: UUID
    minutes: int
    balance: int


class LimitsChanged(Payload):
    limits: LimitsData
    reason: str


class AccountClosed(Payload):
    reason: str


class TransferPosted(Payload):
    idempotency_key: str
    kind: str
    legs: list[LegData]
    memo: str
    occurred_at: datetime
    corrects: UUID | None


class TransferCorrected(Payload):
    correction_id: UUID
    legs: list[LegData]


class ScopeData(msgspec.Struct, frozen=True, kw_only=True):
    level: str
    station: UUID | None = None
    district: str | None = None
    street: str | None = None


class PlaceData(msgspec.Struct, frozen=True):
    district: str
    street: str


class StationOpened(Payload):
    code: str
    name: str
    place: PlaceData


class StationRenamed(Payload):
    name: str
    place: PlaceData
    reason: str


class StationClosed(Payload):
    reason: str


class StaffRegistered(Payload):
    """Schema 1 had no scope: those accounts work at the first station."""

    username: str
    role: str
    title: str | None = None
    scope: ScopeData = ScopeData(level=Level.STATION, station=DEFAULT_STATION)


class StaffScopeChanged(Payload):
    scope: ScopeData
    reason: str


class StaffPasswordChanged(Payload):
    pass


class StaffDeactivated(Payload):
    reason: str


class MemberRegistered(Payload):
    """Only the pseudonymous member number: the sealed details and the PIN hash stay in the
    event store, so no broker, consumer or backup of the stream ever holds them."""

    member_number: str
    station: UUID = DEFAULT_STATION  # schema 1 had none: the first station


class MemberMovedHome(Payload):
    station: UUID
    reason: str


class PinRejected(Payload):
    at: datetime


class PinAccepted(Payload):
    pass


class PinReset(Payload):
    pass


class PinSetupCodeIssued(Payload):
    """When the code stops working; its hash stays in the event store."""

    expires_at: datetime


class PinLockoutCleared(Payload):
    """The wrong PINs counted towards a lockout are forgotten (a new setup code was issued)."""


class PinChosen(Payload):
    pass


class MemberDeactivated(Payload):
    reason: str


class ConsentGiven(Payload):
    notice_version: str


class ConsentWithdrawn(Payload):
    notice_version: str


class MemberErased(Payload):
    reason: str


class PersonalDataOpened(Payload):
    member_id: UUID
    purpose: str


class PersonalDataListed(Payload):
    """Member ids only: the names shown stay sealed."""

    member_ids: tuple[UUID, ...]
    purpose: str


class KioskRegistered(Payload):
    """The digest of the device token stays in the event store."""

    name: str
    station: UUID = DEFAULT_STATION  # schema 1 had none: the first station


class KioskRetired(Payload):
    reason: str


class PairData(msgspec.Struct, frozen=True):
    provider: UUID
    receiver: UUID
    minutes: int


class ExchangeRulesSet(Payload):
    max_minutes: int
    confirm_within_hours: int
    dispute_within_hours: int


class ExchangeRulesChanged(ExchangeRulesSet):
    reason: str


class HelpRecorded(Payload):
    pairs: list[PairData]
    listing_id: UUID | None
    description: str
    occurred_at: datetime
    expires_at: datetime
    dispute_within_hours: int
    max_minutes: int
    homes: dict[UUID, UUID] = {}  # account → home station; schema 1 had none

    def home(self, account: UUID) -> UUID:
        """Where a party lived when the help was recorded (before stations: the first)."""
        return self.homes.get(account, DEFAULT_STATION)


class ExchangeConfirmed(Payload):
    receiver: UUID
    on_behalf: bool  # a coordinator confirmed for the receiver


class ExchangeSettled(Payload):
    transfer_id: UUID
    at: datetime


class ExchangeDisputed(Payload):
    party: UUID | None  # None: a coordinator disputed it for the parties
    reason: str
    hold: UUID | None  # the correction that moved a settlement back, if it had settled


class DisputeResolved(Payload):
    outcome: str
    pairs: list[PairData]
    reason: str
    transfer_id: UUID | None
    at: datetime


class ExchangeWithdrawn(Payload):
    reason: str


class ExchangeExpired(Payload):
    at: datetime


class CategoriesStarted(Payload):
    pass


class CategoryAdded(Payload):
    code: str
    name_zh: str
    name_en: str


class CategoryRetired(Payload):
    code: str
    reason: str


class ListingPosted(Payload):
    """Board text, checked free of phone and ID numbers before it is recorded."""

    owner: UUID
    kind: str
    category: str
    title: str
    description: str
    building: str
    place: str
    availability: str
    station: UUID = DEFAULT_STATION  # the poster's home; schema 1 had none: the first station


class ListingClosed(Payload):
    reason: str


class VolunteerRegistered(Payload):
    """The sealed Art. 5 details stay in the event store."""

    member_id: UUID
    account_id: UUID
    consent_version: str
    skills: list[str]
    categories: list[str]
    building: str
    registered_on: date


class VolunteerStatusChanged(Payload):
    status: str
    reason: str


class VolunteerProfileUpdated(Payload):
    skills: list[str]
    categories: list[str]
    building: str


class AwardGiven(Payload):
    name: str
    awarded_on: date
    awarded_by: str


class VolunteerEvaluated(Payload):
    rating: str
    stars: int | None
    evaluated_on: date
    note: str


class ServiceSpanKept(Payload):
    entry_id: UUID
    started_at: datetime
    minutes: int


class ServiceSpanDropped(Payload):
    entry_id: UUID


class TrainingHeld(Payload):
    name: str
    content: str
    minutes: int
    organiser: str
    held_on: date
    attendees: list[UUID]


class ServiceData(msgspec.Struct, frozen=True):
    activity: str
    started_at: datetime
    minutes: int
    place: str
    content: str
    organiser: str
    responsible: str
    category: str
    building: str
    beneficiary: UUID | None


class HoursSubmitted(Payload):
    volunteer_id: UUID
    account_id: UUID
    service: ServiceData
    flags: list[str]
    recorded_on: date


class HoursApproved(Payload):
    transfer_id: UUID
    minutes: int


class HoursRejected(Payload):
    reason: str


class HoursAmended(Payload):
    service: ServiceData
    flags: list[str]
    reason: str
    requested_by: str
    transfers: list[UUID]


class HoursVoided(Payload):
    reason: str
    requested_by: str
    transfers: list[UUID]


class CoveredEntryData(msgspec.Struct, frozen=True):
    entry_id: UUID
    minutes: int


class CertificateIssued(Payload):
    code: str
    volunteer_id: UUID
    period_from: date
    period_to: date
    entries: list[CoveredEntryData]
    minutes: int
    recording_body: str
    as_of: int


class VotingRulesData(msgspec.Struct, frozen=True):
    quorum_count: int
    quorum_share: float
    threshold: str
    base: str
    abstentions_count: bool
    votes_may_change: bool
    secret: bool
    seconding_threshold: int
    seconding_days: int


class CouncilRulesSet(Payload):
    rules: VotingRulesData
    station: UUID = DEFAULT_STATION  # schema 1 had none: the first station's council


class CouncilRulesChanged(Payload):
    rules: VotingRulesData
    reason: str


class MotionSubmitted(Payload):
    mover: UUID
    title: str
    text: str
    amends: UUID | None
    reconsiders: UUID | None
    second_by: datetime
    seconding_threshold: int
    rescinds: UUID | None = None  # the adopted motion it would rescind
    station: UUID = DEFAULT_STATION  # schema 1 had none: the first station's council


class MotionSupported(Payload):
    supporter: UUID


class MotionSeconded(Payload):
    pass


class MotionLapsed(Payload):
    at: datetime


class MotionAdmitted(Payload):
    pass


class MotionDeclined(Payload):
    reason: str


class MotionScheduled(Payload):
    meeting: UUID
    noticed: bool = True  # on the agenda before the meeting began (prior notice)


class AmendmentProposed(Payload):
    amendment: UUID


class VotingOpened(Payload):
    rules: VotingRulesData
    entitled: list[UUID]
    present: list[UUID]


class BallotCast(Payload):
    """An open vote's ballot."""

    voter: UUID
    choice: str
    replaces: str | None  # the voter's earlier choice, when the rules let them change it


class SecretBallotCast(Payload):
    """A secret vote's ballot: who voted, never how (the sealed choice stays in the event
    store, and its key is destroyed once the vote is counted)."""

    voter: UUID
    changed: bool  # it replaces the voter's earlier ballot


class VotingClosed(Payload):
    result: str
    # The counts the result was decided on (None only in events recorded before they were).
    yes: int | None = None
    no: int | None = None
    abstain: int | None = None


class MotionWithdrawn(Payload):
    reason: str


class OwnerAssigned(Payload):
    owner: str
    due: date | None


class MotionOwnerReassigned(Payload):
    owner: str
    previous: str | None
    reason: str


class ProgressReported(Payload):
    percent: int
    note: str


class MilestoneAdded(Payload):
    name: str
    due: date


class MilestoneReached(Payload):
    name: str


class ImplementationUpdated(Payload):
    status: str
    reason: str


class MeetingCalled(Payload):
    title: str
    starts_at: datetime
    place: str
    entitled: list[UUID]
    station: UUID = DEFAULT_STATION  # schema 1 had none: the first station's council


class AgendaItemAdded(Payload):
    motion: UUID


class AgendaReordered(Payload):
    agenda: list[UUID]


class AttendanceRecorded(Payload):
    present: list[UUID]


class MeetingClosed(Payload):
    pass


_CONTEXT_PAYLOADS: dict[str, tuple[type[Payload], ...]] = {
    "identity": (
        StationOpened,
        StationRenamed,
        StationClosed,
        StaffRegistered,
        StaffScopeChanged,
        StaffPasswordChanged,
        StaffDeactivated,
        MemberRegistered,
        PinRejected,
        PinAccepted,
        PinReset,
        PinSetupCodeIssued,
        PinLockoutCleared,
        PinChosen,
        MemberDeactivated,
        MemberMovedHome,
        ConsentGiven,
        ConsentWithdrawn,
        MemberErased,
        PersonalDataOpened,
        PersonalDataListed,
        KioskRegistered,
        KioskRetired,
    ),
    "ledger": (
        AccountOpened,
        EntryPosted,
        LimitsChanged,
        AccountClosed,
        TransferPosted,
        TransferCorrected,
    ),
    "exchange": (
        ExchangeRulesSet,
        ExchangeRulesChanged,
        HelpRecorded,
        ExchangeConfirmed,
        ExchangeSettled,
        ExchangeDisputed,
        DisputeResolved,
        ExchangeWithdrawn,
        ExchangeExpired,
        CategoriesStarted,
        CategoryAdded,
        CategoryRetired,
        ListingPosted,
        ListingClosed,
    ),
    "volunteer": (
        VolunteerRegistered,
        VolunteerStatusChanged,
        VolunteerProfileUpdated,
        AwardGiven,
        VolunteerEvaluated,
        ServiceSpanKept,
        ServiceSpanDropped,
        TrainingHeld,
    ),
    "hours": (
        HoursSubmitted,
        HoursApproved,
        HoursRejected,
        HoursAmended,
        HoursVoided,
        CertificateIssued,
    ),
    "council": (
        CouncilRulesSet,
        CouncilRulesChanged,
        MotionSubmitted,
        MotionSupported,
        MotionSeconded,
        MotionLapsed,
        MotionAdmitted,
        MotionDeclined,
        MotionScheduled,
        AmendmentProposed,
        VotingOpened,
        BallotCast,
        SecretBallotCast,
        VotingClosed,
        MotionWithdrawn,
        OwnerAssigned,
        MotionOwnerReassigned,
        ProgressReported,
        MilestoneAdded,
        MilestoneReached,
        ImplementationUpdated,
        MeetingCalled,
        AgendaItemAdded,
        AgendaReordered,
        AttendanceRecorded,
        MeetingClosed,
    ),
}
PAYLOADS: dict[str, type[Payload]] = {
    payload.__name__: payload for payloads in _CONTEXT_PAYLOADS.values() for payload in payloads
}
CONTEXTS: dict[str, str] = {
    payload.__name__: context
    for context, payloads in _CONTEXT_PAYLOADS.items()
    for payload in payloads
}

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Envelope)


def seal(domain_event: Any, position: int) -> Envelope:
    """Wrap a stored domain event for publication, validating it against its published schema."""
    event_type = type(domain_event).__name__
    payload = msgspec.convert(domain_event, PAYLOADS[event_type], from_attributes=True)
    by: Provenance = domain_event.by
    return Envelope(
        position=position,
        stream_id=domain_event.originator_id,
        version=domain_event.originator_version,
        type=event_type,
        schema=getattr(type(domain_event), "class_version", 1),
        occurred_at=getattr(domain_event, "occurred_at", domain_event.timestamp),
        recorded_at=domain_event.timestamp,
        actor=by.actor,
        channel=by.channel,
        correlation_id=by.correlation_id,
        causation_id=by.causation_id,
        data=msgspec.Raw(_encoder.encode(payload)),
    )


def encode(envelope: Envelope) -> bytes:
    return _encoder.encode(envelope)


def decode(raw: bytes) -> Envelope:
    return _decoder.decode(raw)


def message_id(position: int) -> str:
    """JetStream's dedup key for the event at ``position`` (DESIGN.md, relay)."""
    return f"timebank:{position}"


def position_of(message_id_header: str) -> int:
    return int(message_id_header.rsplit(":", 1)[1])
