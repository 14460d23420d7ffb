"""What residents and coordinators ask of help exchanges, as they say it."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from domain.exchange import ExchangeRules, Outcome, Pair
from services.bus import Command, IdempotencyKey, Reason
from services.windows import DoneAt

# One pair's help: the rules in force judge how much of a day one exchange may carry.
Minutes = Annotated[int, Meta(gt=0, le=24 * 60)]


class PairIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    provider: UUID
    receiver: UUID
    minutes: Minutes


class RecordHelp(Command):
    idempotency_key: IdempotencyKey
    pairs: Annotated[
        list[PairIn],
        Meta(
            min_length=1,
            max_length=50,
            description="Who helped whom for how long: one pair for two residents; a group "
            "shares its provider (or its receiver) across pairs.",
        ),
    ]
    listing_id: UUID | None = None
    description: Annotated[str, Meta(max_length=500)] = ""
    occurred_at: DoneAt | None = None  # when the help was given; None: now

    @property
    def recorded_pairs(self) -> tuple[Pair, ...]:
        return tuple(Pair(pair.provider, pair.receiver, pair.minutes) for pair in self.pairs)


class Confirmation(Command):
    idempotency_key: IdempotencyKey
    receiver: UUID | None = None  # a coordinator names whom they confirm for


class ConfirmHelp(Confirmation, kw_only=True):
    exchange_id: UUID


class Dispute(Command):
    idempotency_key: IdempotencyKey
    reason: Reason


class DisputeHelp(Dispute, kw_only=True):
    exchange_id: UUID


class Resolution(Command):
    idempotency_key: IdempotencyKey
    outcome: Outcome
    reason: Reason
    minutes: Annotated[
        list[Minutes] | None,
        Meta(description="To adjust: the minutes that stand, one per pair in order."),
    ] = None


class ResolveDispute(Resolution, kw_only=True):
    exchange_id: UUID


class Withdrawal(Command):
    idempotency_key: IdempotencyKey
    reason: Reason


class WithdrawHelp(Withdrawal, kw_only=True):
    exchange_id: UUID


class Rules(msgspec.Struct, kw_only=True):
    """The exchange rules as they are read and written."""

    max_minutes: Annotated[int, Meta(gt=0, le=24 * 60)]
    confirm_within_hours: Annotated[int, Meta(gt=0, le=24 * 90)]
    dispute_within_hours: Annotated[int, Meta(gt=0, le=24 * 365)]

    @property
    def rules(self) -> ExchangeRules:
        return ExchangeRules(self.max_minutes, self.confirm_within_hours, self.dispute_within_hours)


class ChangeExchangeRules(Rules, Command, kw_only=True):
    reason: Reason
