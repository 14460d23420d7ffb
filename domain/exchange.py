"""Help exchanges between residents: recorded by the provider, confirmed by the receiver.

Rules (DESIGN.md, Domain, Exchange; issue 4):
- the provider records the minutes given; no credit moves until every receiver has confirmed
  (or a coordinator for them), and then all of it moves in one transfer, receivers → providers;
- an exchange nobody confirms expires; a confirmed one can still be disputed for a while;
- a disputed exchange is held out of balances (what had moved is moved back) until a
  coordinator upholds, adjusts or cancels it, and the resolution posts what is then owed;
- a group exchange (one provider serving several receivers, or the reverse) settles all or
  nothing, because its transfer is one transfer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.ledger import (
    AccountKind,
    Leg,
    TimeAccount,
    Transfer,
    TransferKind,
    check_transfer,
    internal_key,
    post_correction,
    post_transfer,
)
from domain.listing import check_no_contact_details
from domain.provenance import Provenance
from domain.rules import KeyReused, RuleViolated, require_reason
from domain.station import DEFAULT_STATION

_EXCHANGE_NAMESPACE = uuid5(NAMESPACE_URL, "urn:timebank:exchange")
_RULEBOOK_ID = uuid5(NAMESPACE_URL, "urn:timebank:exchange-rules")


class ExchangeStatus(StrEnum):
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    SETTLED = "settled"
    DISPUTED = "disputed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class Outcome(StrEnum):
    """How a coordinator resolves a dispute."""

    UPHOLD = "uphold"  # the recorded minutes stand
    ADJUST = "adjust"  # different minutes stand
    CANCEL = "cancel"  # nothing is owed


@dataclass(frozen=True)
class Pair:
    """One provider helped one receiver for ``minutes``."""

    provider: UUID
    receiver: UUID
    minutes: int


@dataclass(frozen=True)
class ExchangeRules:
    max_minutes: int  # per pair in one exchange
    confirm_within_hours: int  # unconfirmed exchanges expire after this
    dispute_within_hours: int  # after settling, how long either side may still dispute

    def __post_init__(self) -> None:
        values = (self.max_minutes, self.confirm_within_hours, self.dispute_within_hours)
        if any(type(value) is not int or value <= 0 for value in values):
            raise RuleViolated(
                "invalid-exchange-rules", "Exchange rules are whole numbers above zero."
            )


class ExchangeRulebook(Aggregate):
    """The exchange rules in force; changed only by events saying who changed them and why."""

    @staticmethod
    def create_id() -> UUID:
        return _RULEBOOK_ID

    @event("ExchangeRulesSet")
    def __init__(
        self, max_minutes: int, confirm_within_hours: int, dispute_within_hours: int, by: Provenance
    ) -> None:
        self.rules = ExchangeRules(max_minutes, confirm_within_hours, dispute_within_hours)

    def change(self, rules: ExchangeRules, reason: str, by: Provenance) -> None:
        require_reason(reason, "Changing the exchange rules needs a reason.")
        self._change(
            max_minutes=rules.max_minutes,
            confirm_within_hours=rules.confirm_within_hours,
            dispute_within_hours=rules.dispute_within_hours,
            reason=reason,
            by=by,
        )

    @event("ExchangeRulesChanged")
    def _change(
        self,
        max_minutes: int,
        confirm_within_hours: int,
        dispute_within_hours: int,
        reason: str,
        by: Provenance,
    ) -> None:
        self.rules = ExchangeRules(max_minutes, confirm_within_hours, dispute_within_hours)


def rulebook_id() -> UUID:
    return _RULEBOOK_ID


def exchange_id_for(idempotency_key: str) -> UUID:
    return uuid5(_EXCHANGE_NAMESPACE, idempotency_key)


def check_pairs(pairs: tuple[Pair, ...], max_minutes: int) -> None:
    if not pairs:
        raise RuleViolated("no-pairs", "Name who helped whom.")
    for pair in pairs:
        if type(pair.minutes) is not int or pair.minutes <= 0:
            raise RuleViolated("invalid-minutes", "Minutes are whole numbers above zero.")
        if pair.minutes > max_minutes:
            raise RuleViolated(
                "over-exchange-maximum",
                f"One exchange may carry at most {max_minutes} minutes per person; "
                f"{pair.minutes} is more. Record longer help as several exchanges.",
            )
        if pair.provider == pair.receiver:
            raise RuleViolated("self-exchange", "Nobody can exchange help with themselves.")
    if len({(pair.provider, pair.receiver) for pair in pairs}) != len(pairs):
        raise RuleViolated("duplicate-pair", "Each provider and receiver appear together once.")
    providers = {pair.provider for pair in pairs}
    receivers = {pair.receiver for pair in pairs}
    if len(providers) > 1 and len(receivers) > 1:
        raise RuleViolated(
            "mixed-group",
            "A group exchange has one provider serving several receivers, or several "
            "providers serving one receiver.",
        )
    if providers & receivers:
        raise RuleViolated("self-exchange", "Nobody can both give and receive in one exchange.")


def legs_of(pairs: tuple[Pair, ...]) -> tuple[Leg, ...]:
    """Receivers pay providers: one leg per account, the pairs' minutes added up."""
    net: dict[UUID, int] = {}
    for pair in pairs:
        net[pair.receiver] = net.get(pair.receiver, 0) - pair.minutes
        net[pair.provider] = net.get(pair.provider, 0) + pair.minutes
    return tuple(Leg(account, minutes) for account, minutes in net.items() if minutes)


class Exchange(Aggregate):
    """Help given, from its recording to its settlement (or its end without one)."""

    @staticmethod
    def create_id(idempotency_key: str) -> UUID:
        return exchange_id_for(idempotency_key)

    class HelpRecorded(Aggregate.Created):
        """Version 2 names each party's home station when the help was recorded (``homes``,
        account → station), so help between stations (通存通兑) shows both; help recorded
        before stations existed was all within the first station."""

        idempotency_key: str
        pairs: tuple[Pair, ...]
        listing_id: UUID | None
        description: str
        occurred_at: datetime
        expires_at: datetime
        dispute_within_hours: int
        max_minutes: int
        by: Provenance
        homes: dict[UUID, UUID]
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["homes"] = {
                party: DEFAULT_STATION
                for pair in state["pairs"]
                for party in (pair.provider, pair.receiver)
            }

    @event(HelpRecorded)
    def __init__(
        self,
        idempotency_key: str,
        pairs: tuple[Pair, ...],
        listing_id: UUID | None,
        description: str,
        occurred_at: datetime,
        expires_at: datetime,
        dispute_within_hours: int,
        max_minutes: int,
        by: Provenance,
        homes: dict[UUID, UUID],
    ) -> None:
        self.pairs = tuple(pairs)
        self.homes = dict(homes)
        self.recorded_pairs = self.pairs  # what the provider recorded, whatever was resolved
        self.listing_id = listing_id
        self.description = description
        self.occurred_at = occurred_at
        self.expires_at = expires_at
        # The rules in force when the help was recorded govern it to the end.
        self.dispute_within = timedelta(hours=dispute_within_hours)
        self.max_minutes = max_minutes
        self.status = ExchangeStatus.AWAITING_CONFIRMATION
        self.confirmed: set[UUID] = set()
        self.settlement: UUID | None = None  # the transfer that moved the minutes, if any
        self.settled_at: datetime | None = None
        self.is_resolved = False
        # Each client key a command on it was made with, and which command: a retry answers
        # as the first request did, a key reused for another command is refused.
        self.keys = {idempotency_key: "record"}

    def is_retry(self, idempotency_key: str, command: str) -> bool:
        """Whether ``command`` was already made with this key (so answer as before)."""
        done = self.keys.get(idempotency_key)
        if done is not None and done != command:
            raise KeyReused
        return done is not None

    @property
    def providers(self) -> frozenset[UUID]:
        return frozenset(pair.provider for pair in self.pairs)

    @property
    def receivers(self) -> frozenset[UUID]:
        return frozenset(pair.receiver for pair in self.pairs)

    @property
    def parties(self) -> frozenset[UUID]:
        return self.providers | self.receivers

    @property
    def stations(self) -> frozenset[UUID]:
        """The home stations of its parties: two when help crossed between stations."""
        return frozenset(self.homes.values())

    @property
    def minutes(self) -> int:
        return sum(pair.minutes for pair in self.pairs)

    def check_status(self, *allowed: ExchangeStatus) -> None:
        if self.status not in allowed:
            raise RuleViolated(
                f"exchange-{self.status.value.replace('_', '-')}",
                f"Exchange {self.id} is {self.status.value.replace('_', ' ')}; that is not "
                "possible now.",
            )

    def check_confirmable(self, receiver: UUID, now: datetime) -> None:
        if receiver not in self.receivers:
            raise RuleViolated(
                "not-a-receiver", "Only someone who received this help can confirm it."
            )
        if receiver in self.confirmed:
            raise RuleViolated("already-confirmed", "This help is already confirmed.")
        self.check_status(ExchangeStatus.AWAITING_CONFIRMATION)
        if now > self.expires_at:
            raise RuleViolated(
                "exchange-expired",
                "This help was not confirmed in time and has expired; the provider can record "
                "it again.",
            )

    @event("ExchangeConfirmed")
    def record_confirmation(
        self, receiver: UUID, on_behalf: bool, idempotency_key: str, by: Provenance
    ) -> None:
        self.confirmed.add(receiver)
        self.keys[idempotency_key] = "confirm"

    @event("ExchangeSettled")
    def record_settlement(self, transfer_id: UUID, at: datetime, by: Provenance) -> None:
        self.status = ExchangeStatus.SETTLED
        self.settlement = transfer_id
        self.settled_at = at

    def check_disputable(self, party: UUID | None, now: datetime) -> None:
        """``party`` None: a coordinator disputes it for the parties."""
        if party is not None and party not in self.parties:
            raise RuleViolated(
                "not-a-party", "Only the provider or the receiver can dispute this help."
            )
        self.check_status(ExchangeStatus.AWAITING_CONFIRMATION, ExchangeStatus.SETTLED)
        if self.is_resolved:
            raise RuleViolated(
                "already-resolved", "A coordinator already resolved a dispute over this help."
            )
        if self.status is ExchangeStatus.AWAITING_CONFIRMATION and now > self.expires_at:
            raise RuleViolated("exchange-expired", "This help has expired; nothing is owed.")
        if self.settled_at is not None and now > self.settled_at + self.dispute_within:
            hours = int(self.dispute_within.total_seconds() // 3600)
            raise RuleViolated(
                "dispute-window-closed",
                f"Help can be disputed until {hours} hours after it was confirmed; that time "
                "has passed. A coordinator can still post a correction.",
            )

    @event("ExchangeDisputed")
    def record_dispute(
        self,
        party: UUID | None,
        reason: str,
        hold: UUID | None,
        idempotency_key: str,
        by: Provenance,
    ) -> None:
        self.status = ExchangeStatus.DISPUTED
        self.keys[idempotency_key] = "dispute"

    @event("DisputeResolved")
    def record_resolution(
        self,
        outcome: Outcome,
        pairs: tuple[Pair, ...],
        reason: str,
        transfer_id: UUID | None,
        idempotency_key: str,
        at: datetime,
        by: Provenance,
    ) -> None:
        self.is_resolved = True
        self.keys[idempotency_key] = "resolve"
        if Outcome(outcome) is Outcome.CANCEL:
            self.status = ExchangeStatus.CANCELLED
            return
        self.pairs = tuple(pairs)
        self.status = ExchangeStatus.SETTLED
        self.settlement = transfer_id
        self.settled_at = at

    def withdraw(self, reason: str, idempotency_key: str, by: Provenance) -> None:
        """The provider takes back help recorded by mistake, before anyone confirmed it."""
        self.check_status(ExchangeStatus.AWAITING_CONFIRMATION)
        if self.confirmed:
            raise RuleViolated(
                "already-confirmed", "Someone already confirmed this help; dispute it instead."
            )
        _check_reason(reason)
        self._withdraw(reason=reason, idempotency_key=idempotency_key, by=by)

    @event("ExchangeWithdrawn")
    def _withdraw(self, reason: str, idempotency_key: str, by: Provenance) -> None:
        self.status = ExchangeStatus.WITHDRAWN
        self.keys[idempotency_key] = "withdraw"

    def expire(self, now: datetime, by: Provenance) -> None:
        self.check_status(ExchangeStatus.AWAITING_CONFIRMATION)
        if now <= self.expires_at:
            raise RuleViolated("not-yet-expired", f"Exchange {self.id} has time left to confirm.")
        self._expire(at=now, by=by)

    @event("ExchangeExpired")
    def _expire(self, at: datetime, by: Provenance) -> None:
        self.status = ExchangeStatus.EXPIRED


def _check_reason(reason: str) -> None:
    require_reason(reason, "Say why, so the record can show it.")


_LIMIT_CODES = ("below-floor", "above-cap")


def _without_balances(refused: RuleViolated) -> RuleViolated:
    """The same refusal, minus the account's balance: the one told may be another party."""
    if refused.code not in _LIMIT_CODES:
        return refused
    return RuleViolated(
        refused.code,
        "Settling this help would take someone's balance past its limit, so nothing moved. "
        "A coordinator can look at the accounts and help.",
    )


def record_help(
    *,
    idempotency_key: str,
    pairs: tuple[Pair, ...],
    listing_id: UUID | None,
    description: str,
    occurred_at: datetime,
    now: datetime,
    rules: ExchangeRules,
    accounts: Mapping[UUID, TimeAccount],
    by: Provenance,
    homes: Mapping[UUID, UUID] | None = None,
) -> Exchange:
    """``accounts``: the time account of everyone in ``pairs``; ``homes``: the home station
    of each of them (None: a single-station install's, all at the first)."""
    check_pairs(pairs, rules.max_minutes)
    for account in (accounts[leg.account_id] for leg in legs_of(pairs)):
        if account.kind is not AccountKind.MEMBER or account.is_closed:
            raise RuleViolated(
                "not-a-member-account", "Help is exchanged between members with open accounts."
            )
    check_no_contact_details(description)
    return Exchange(
        idempotency_key=idempotency_key,
        pairs=pairs,
        listing_id=listing_id,
        description=description,
        occurred_at=occurred_at,
        expires_at=now + timedelta(hours=rules.confirm_within_hours),
        dispute_within_hours=rules.dispute_within_hours,
        max_minutes=rules.max_minutes,
        by=by,
        homes={
            party: DEFAULT_STATION if homes is None else homes[party]
            for pair in pairs
            for party in (pair.provider, pair.receiver)
        },
    )


def _settle(
    exchange: Exchange,
    pairs: tuple[Pair, ...],
    *,
    purpose: str,
    memo: str,
    accounts: Mapping[UUID, TimeAccount],
    by: Provenance,
) -> Transfer:
    return post_transfer(
        idempotency_key=internal_key(purpose, exchange.id),
        kind=TransferKind.EXCHANGE,
        legs=legs_of(pairs),
        memo=memo,
        occurred_at=exchange.occurred_at,
        corrects=None,
        accounts=accounts,
        by=by,
    )


def confirm_exchange(
    exchange: Exchange,
    *,
    receiver: UUID,
    on_behalf: bool,
    idempotency_key: str,
    now: datetime,
    accounts: Mapping[UUID, TimeAccount],
    by: Provenance,
) -> Transfer | None:
    """Record ``receiver``'s confirmation; the last one settles the whole exchange at once.

    Everything is checked before anything changes, so a refused settlement (a receiver at
    their floor) leaves the exchange as it was.
    """
    exchange.check_confirmable(receiver, now)
    is_last = exchange.confirmed | {receiver} == exchange.receivers
    if is_last:
        try:
            check_transfer(legs_of(exchange.pairs), accounts)
        except RuleViolated as refused:
            raise _without_balances(refused) from refused
    exchange.record_confirmation(
        receiver=receiver, on_behalf=on_behalf, idempotency_key=idempotency_key, by=by
    )
    if not is_last:
        return None
    settlement = _settle(
        exchange,
        exchange.pairs,
        purpose="settlement",
        memo=exchange.description,
        accounts=accounts,
        by=by,
    )
    exchange.record_settlement(transfer_id=settlement.id, at=now, by=by)
    return settlement


def dispute_exchange(
    exchange: Exchange,
    *,
    party: UUID | None,
    reason: str,
    idempotency_key: str,
    now: datetime,
    settlement: Transfer | None,
    accounts: Mapping[UUID, TimeAccount],
    by: Provenance,
) -> Transfer | None:
    """Hold the exchange out of balances: what its settlement moved is moved back."""
    exchange.check_disputable(party, now)
    _check_reason(reason)
    hold = None
    if exchange.status is ExchangeStatus.SETTLED:
        assert settlement is not None and settlement.id == exchange.settlement
        try:
            hold = post_correction(
                settlement,
                idempotency_key=internal_key("hold", exchange.id),
                minutes=None,
                reason=reason,
                occurred_at=now,
                accounts=accounts,
                by=by,
            )
        except RuleViolated as refused:
            if refused.code not in _LIMIT_CODES:
                raise
            raise RuleViolated(
                "hold-needs-coordinator",
                "These minutes have already been used, so they cannot be held back "
                "automatically. A coordinator can change the account's limits and dispute it, "
                "or post a correction.",
            ) from refused
    exchange.record_dispute(
        party=party,
        reason=reason,
        hold=hold.id if hold else None,
        idempotency_key=idempotency_key,
        by=by,
    )
    return hold


def resolve_dispute(
    exchange: Exchange,
    *,
    outcome: Outcome,
    minutes: tuple[int, ...] | None,
    reason: str,
    idempotency_key: str,
    now: datetime,
    accounts: Mapping[UUID, TimeAccount],
    by: Provenance,
) -> Transfer | None:
    """Settle what the coordinator decided is owed: the recorded minutes, adjusted ones (one
    number per pair, in order), or nothing."""
    exchange.check_status(ExchangeStatus.DISPUTED)
    _check_reason(reason)
    outcome = Outcome(outcome)
    pairs = exchange.pairs
    if outcome is Outcome.ADJUST:
        pairs = _adjusted(exchange, minutes)
    elif minutes is not None:
        raise RuleViolated("minutes-only-when-adjusting", "Give minutes only to adjust them.")
    settlement = None
    if outcome is not Outcome.CANCEL:
        settlement = _settle(
            exchange, pairs, purpose="resolution", memo=reason, accounts=accounts, by=by
        )
    exchange.record_resolution(
        outcome=outcome,
        pairs=pairs,
        reason=reason,
        transfer_id=settlement.id if settlement else None,
        idempotency_key=idempotency_key,
        at=now,
        by=by,
    )
    return settlement


def _adjusted(exchange: Exchange, minutes: tuple[int, ...] | None) -> tuple[Pair, ...]:
    if minutes is None or len(minutes) != len(exchange.pairs):
        raise RuleViolated(
            "adjusted-minutes-mismatch",
            f"Give one number of minutes for each of the {len(exchange.pairs)} people helped.",
        )
    pairs = tuple(
        Pair(pair.provider, pair.receiver, adjusted)
        for pair, adjusted in zip(exchange.pairs, minutes, strict=True)
    )
    check_pairs(pairs, exchange.max_minutes)
    if pairs == exchange.pairs:
        raise RuleViolated("nothing-adjusted", "These are the recorded minutes; uphold instead.")
    return pairs
