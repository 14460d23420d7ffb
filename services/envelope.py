"""The published language: the envelope every event travels in on NATS, and its payloads.

Consumers decode these Structs, never the domain's classes, so the domain can be refactored
without breaking a read model; a payload change bumps the event's ``schema``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from domain.provenance import Provenance

STREAM = "TIMEBANK"
SUBJECT_PREFIX = "timebank"


class Envelope(msgspec.Struct, frozen=True, kw_only=True):
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
        return msgspec.json.decode(self.data, type=PAYLOADS[self.type])


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


class StaffRegistered(Payload):
    username: str
    role: str
    title: str | None = None


class StaffPasswordChanged(Payload):
    pass


class StaffDeactivated(Payload):
    reason: str


class MemberRegistered(Payload):
    """Only the pseudonymous member number: the sealed details and the PIN hash stay in the
    event store, so no broker, consumer or backup of the stream ever holds them."""

    member_number: str


class PinRejected(Payload):
    at: datetime


class PinAccepted(Payload):
    pass


class PinReset(Payload):
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


class KioskRegistered(Payload):
    """The digest of the device token stays in the event store."""

    name: str


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


class ListingClosed(Payload):
    reason: str


_CONTEXT_PAYLOADS: dict[str, tuple[type[Payload], ...]] = {
    "identity": (
        StaffRegistered,
        StaffPasswordChanged,
        StaffDeactivated,
        MemberRegistered,
        PinRejected,
        PinAccepted,
        PinReset,
        MemberDeactivated,
        ConsentGiven,
        ConsentWithdrawn,
        MemberErased,
        PersonalDataOpened,
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
