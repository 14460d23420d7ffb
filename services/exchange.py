"""Exchange command handlers: record help, confirm it, dispute and resolve it, expire it.

Each loads the exchange and the accounts it touches, lets the domain decide, and saves them
in one ``save()``: an exchange never settles without its transfer, nor a transfer without its
exchange. A client key already used for the same command answers as the first request did.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.exchange import (
    Exchange,
    ExchangeRulebook,
    ExchangeRules,
    Outcome,
    Pair,
    confirm_exchange,
    dispute_exchange,
    exchange_id_for,
    record_help,
    resolve_dispute,
    rulebook_id,
)
from domain.ledger import TimeAccount, Transfer
from domain.provenance import Provenance
from domain.rules import KeyReused, NotFound, RuleViolated
from services.bus import Receipt
from services.eventstore import Timebank, change_each_due, retried_on_conflict
from services.ledger.handlers import account_of, check_not_future
from services.listings.handlers import listing_of


def exchange_of(app: Timebank, exchange_id: UUID) -> Exchange:
    exchange = app.find(exchange_id, Exchange)
    if exchange is None:
        raise NotFound("exchange-not-found", f"There is no exchange {exchange_id}.")
    return exchange


def _accounts(app: Timebank, exchange: Exchange) -> dict[UUID, TimeAccount]:
    return {account_id: account_of(app, account_id) for account_id in exchange.parties}


def _replayed(app: Timebank, exchange: Exchange) -> Receipt:
    return Receipt(exchange.id, app.last_position(), replayed=True)


@retried_on_conflict
def start_rulebook(app: Timebank, defaults: ExchangeRules, by: Provenance) -> int:
    """Record the station's starting exchange rules, once."""
    if rulebook_id() in app.repository:
        return app.last_position()
    return app.record(
        ExchangeRulebook(
            max_minutes=defaults.max_minutes,
            confirm_within_hours=defaults.confirm_within_hours,
            dispute_within_hours=defaults.dispute_within_hours,
            by=by,
        )
    )


def rules_in_force(app: Timebank) -> ExchangeRules:
    rulebook = app.find(rulebook_id(), ExchangeRulebook)
    assert rulebook is not None, "start_rulebook runs when the backbone is built"
    return rulebook.rules


@retried_on_conflict
def change_rules(app: Timebank, *, rules: ExchangeRules, reason: str, by: Provenance) -> Receipt:
    rulebook = app.find(rulebook_id(), ExchangeRulebook)
    assert rulebook is not None, "start_rulebook runs when the backbone is built"
    rulebook.change(rules, reason, by)
    return Receipt(rulebook.id, app.record(rulebook))


@retried_on_conflict
def record(
    app: Timebank,
    *,
    idempotency_key: str,
    pairs: tuple[Pair, ...],
    listing_id: UUID | None,
    description: str,
    occurred_at: datetime,
    now: datetime,
    by: Provenance,
) -> Receipt:
    existing = app.find(exchange_id_for(idempotency_key), Exchange)
    if existing is not None:
        recorded = (existing.recorded_pairs, existing.listing_id, existing.description)
        if recorded != (pairs, listing_id, description):
            raise KeyReused
        return _replayed(app, existing)
    check_not_future(occurred_at, now)
    if listing_id is not None:
        listing_of(app, listing_id)
    accounts = {
        account_id: account_of(app, account_id)
        for pair in pairs
        for account_id in (pair.provider, pair.receiver)
    }
    exchange = record_help(
        idempotency_key=idempotency_key,
        pairs=pairs,
        listing_id=listing_id,
        description=description,
        occurred_at=occurred_at,
        now=now,
        rules=rules_in_force(app),
        accounts=accounts,
        by=by,
    )
    return Receipt(exchange.id, app.record(exchange))


def _settling(
    app: Timebank,
    exchange_id: UUID,
    idempotency_key: str,
    command: str,
    decide: Callable[[Exchange, dict[UUID, TimeAccount]], tuple[Aggregate | None, ...]],
) -> Receipt:
    """Load the exchange and its parties' accounts, let ``decide`` act on them, and save all
    it changed (the exchange, transfers it posted or corrected, the accounts) at once."""
    exchange = exchange_of(app, exchange_id)
    if exchange.is_retry(idempotency_key, command):
        return _replayed(app, exchange)
    accounts = _accounts(app, exchange)
    changed = decide(exchange, accounts)
    # Accounts a command left alone have no new events, so saving them records nothing.
    return Receipt(exchange.id, app.record(exchange, *changed, *accounts.values()))


@retried_on_conflict
def confirm(
    app: Timebank,
    *,
    exchange_id: UUID,
    receiver: UUID,
    on_behalf: bool,
    idempotency_key: str,
    now: datetime,
    by: Provenance,
) -> Receipt:
    def decide(exchange: Exchange, accounts: dict[UUID, TimeAccount]) -> tuple[Transfer | None]:
        settlement = confirm_exchange(
            exchange,
            receiver=receiver,
            on_behalf=on_behalf,
            idempotency_key=idempotency_key,
            now=now,
            accounts=accounts,
            by=by,
        )
        return (settlement,)

    return _settling(app, exchange_id, idempotency_key, "confirm", decide)


@retried_on_conflict
def dispute(
    app: Timebank,
    *,
    exchange_id: UUID,
    party: UUID | None,
    reason: str,
    idempotency_key: str,
    now: datetime,
    by: Provenance,
) -> Receipt:
    def decide(
        exchange: Exchange, accounts: dict[UUID, TimeAccount]
    ) -> tuple[Transfer | None, Transfer | None]:
        settlement = app.find(exchange.settlement, Transfer) if exchange.settlement else None
        hold = dispute_exchange(
            exchange,
            party=party,
            reason=reason,
            idempotency_key=idempotency_key,
            now=now,
            settlement=settlement,
            accounts=accounts,
            by=by,
        )
        return hold, settlement

    return _settling(app, exchange_id, idempotency_key, "dispute", decide)


@retried_on_conflict
def resolve(
    app: Timebank,
    *,
    exchange_id: UUID,
    outcome: Outcome,
    minutes: tuple[int, ...] | None,
    reason: str,
    idempotency_key: str,
    now: datetime,
    by: Provenance,
) -> Receipt:
    def decide(exchange: Exchange, accounts: dict[UUID, TimeAccount]) -> tuple[Transfer | None]:
        settlement = resolve_dispute(
            exchange,
            outcome=outcome,
            minutes=minutes,
            reason=reason,
            idempotency_key=idempotency_key,
            now=now,
            accounts=accounts,
            by=by,
        )
        return (settlement,)

    return _settling(app, exchange_id, idempotency_key, "resolve", decide)


@retried_on_conflict
def withdraw(
    app: Timebank,
    *,
    exchange_id: UUID,
    provider: UUID | None,
    reason: str,
    idempotency_key: str,
    by: Provenance,
) -> Receipt:
    """``provider`` None: a coordinator withdraws it for the provider."""
    exchange = exchange_of(app, exchange_id)
    if exchange.is_retry(idempotency_key, "withdraw"):
        return _replayed(app, exchange)
    if provider is not None and provider not in exchange.providers:
        raise RuleViolated("not-a-provider", "Only whoever gave this help can withdraw it.")
    exchange.withdraw(reason, idempotency_key, by)
    return Receipt(exchange.id, app.record(exchange))


def expire_due(app: Timebank, candidates: list[UUID], now: datetime, by: Provenance) -> int:
    """Expire those of ``candidates`` still unconfirmed past their time (not confirmed,
    disputed or withdrawn since the read model listed them); how many were."""
    return change_each_due(
        app, Exchange, candidates, lambda found: found.expire(now, by), done="exchanges.expired"
    )
