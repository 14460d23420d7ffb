"""Exchange command handlers: record help, confirm it, dispute and resolve it, withdraw it,
change the rules; and the sweep that expires help left unconfirmed.

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
    confirm_exchange,
    dispute_exchange,
    exchange_id_for,
    record_help,
    resolve_dispute,
    rulebook_id,
)
from domain.identity import acting_staff
from domain.ledger import TimeAccount, Transfer
from domain.provenance import Provenance
from domain.rules import KeyReused, NotFound, RuleViolated
from services.bus import Acting, Handler, Receipt
from services.exchange.commands import (
    ChangeExchangeRules,
    ConfirmHelp,
    DisputeHelp,
    RecordHelp,
    ResolveDispute,
    WithdrawHelp,
)
from services.ledger.handlers import account_of
from services.listings.handlers import listing_of
from services.stations.handlers import check_works_at_any, home_of
from services.store.eventstore import Timebank, change_each_due, retried_on_conflict
from services.windows import check_not_future


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
def change_rules(command: ChangeExchangeRules, acting: Acting) -> Receipt:
    """Change the rules new exchanges are recorded under, saying why."""
    rulebook = acting.app.find(rulebook_id(), ExchangeRulebook)
    assert rulebook is not None, "start_rulebook runs when the backbone is built"
    rulebook.change(command.rules, command.reason, acting.by)
    return Receipt(rulebook.id, acting.app.record(rulebook))


def _own_account(acting: Acting) -> UUID | None:
    """The caller's own account when a resident or volunteer acts; None for staff."""
    return acting.caller.account_id if acting.caller.is_member else None


@retried_on_conflict
def record(command: RecordHelp, acting: Acting) -> Receipt:
    """Record help given (a resident: help they gave themselves); nothing moves yet."""
    app, pairs = acting.app, command.recorded_pairs
    me = _own_account(acting)
    if me is not None and any(pair.provider != me for pair in pairs):
        raise RuleViolated("not-the-provider", "You can record only help you gave yourself.")
    existing = app.find(exchange_id_for(command.idempotency_key), Exchange)
    if existing is not None:
        recorded = (existing.recorded_pairs, existing.listing_id, existing.description)
        if recorded != (pairs, command.listing_id, command.description):
            raise KeyReused
        return _replayed(app, existing)
    occurred_at = command.occurred_at or acting.now
    check_not_future(occurred_at, acting.now)
    if command.listing_id is not None:
        listing_of(app, command.listing_id)
    accounts = {
        account_id: account_of(app, account_id)
        for pair in pairs
        for account_id in (pair.provider, pair.receiver)
    }
    homes = {account_id: home_of(app, account) for account_id, account in accounts.items()}
    if not acting.caller.is_member:
        check_works_at_any(app, acting.by, homes.values())
    exchange = record_help(
        idempotency_key=command.idempotency_key,
        pairs=pairs,
        listing_id=command.listing_id,
        description=command.description,
        occurred_at=occurred_at,
        now=acting.now,
        rules=rules_in_force(app),
        accounts=accounts,
        homes=homes,
        by=acting.by,
    )
    return Receipt(exchange.id, app.record(exchange))


def _check_reaches(app: Timebank, by: Provenance, exchange: Exchange) -> None:
    """Staff act on help only where one of its parties lives (residents: as its parties)."""
    if acting_staff(by) is not None:
        check_works_at_any(app, by, exchange.stations)


def _settling(
    acting: Acting,
    exchange_id: UUID,
    idempotency_key: str,
    command: str,
    decide: Callable[[Exchange, dict[UUID, TimeAccount]], tuple[Aggregate | None, ...]],
) -> Receipt:
    """Load the exchange and its parties' accounts, let ``decide`` act on them, and save all
    it changed (the exchange, transfers it posted or corrected, the accounts) at once."""
    app = acting.app
    exchange = exchange_of(app, exchange_id)
    _check_reaches(app, acting.by, exchange)
    if exchange.is_retry(idempotency_key, command):
        return _replayed(app, exchange)
    accounts = _accounts(app, exchange)
    changed = decide(exchange, accounts)
    # Accounts a command left alone have no new events, so saving them records nothing.
    return Receipt(exchange.id, app.record(exchange, *changed, *accounts.values()))


def _receiver(command: ConfirmHelp, acting: Acting) -> UUID:
    """Whom the help is confirmed for: a resident, themselves; staff, the receiver named."""
    me = _own_account(acting)
    if me is not None and command.receiver not in (None, me):
        raise RuleViolated("not-a-receiver", "You can confirm only help you received.")
    receiver = me or command.receiver
    if receiver is None:
        raise RuleViolated("receiver-required", "Name the receiver you confirm for.")
    return receiver


@retried_on_conflict
def confirm(command: ConfirmHelp, acting: Acting) -> Receipt:
    """Confirm help received (staff: on behalf of the receiver named)."""
    receiver = _receiver(command, acting)

    def decide(exchange: Exchange, accounts: dict[UUID, TimeAccount]) -> tuple[Transfer | None]:
        settlement = confirm_exchange(
            exchange,
            receiver=receiver,
            on_behalf=not acting.caller.is_member,
            idempotency_key=command.idempotency_key,
            now=acting.now,
            accounts=accounts,
            by=acting.by,
        )
        return (settlement,)

    return _settling(acting, command.exchange_id, command.idempotency_key, "confirm", decide)


@retried_on_conflict
def dispute(command: DisputeHelp, acting: Acting) -> Receipt:
    """Hold help out of balances (a resident: help they are a party to)."""
    app = acting.app

    def decide(
        exchange: Exchange, accounts: dict[UUID, TimeAccount]
    ) -> tuple[Transfer | None, Transfer | None]:
        settlement = app.find(exchange.settlement, Transfer) if exchange.settlement else None
        hold = dispute_exchange(
            exchange,
            party=_own_account(acting),
            reason=command.reason,
            idempotency_key=command.idempotency_key,
            now=acting.now,
            settlement=settlement,
            accounts=accounts,
            by=acting.by,
        )
        return hold, settlement

    return _settling(acting, command.exchange_id, command.idempotency_key, "dispute", decide)


@retried_on_conflict
def resolve(command: ResolveDispute, acting: Acting) -> Receipt:
    """Uphold, adjust or cancel disputed help; what is then owed moves."""
    minutes = tuple(command.minutes) if command.minutes is not None else None

    def decide(exchange: Exchange, accounts: dict[UUID, TimeAccount]) -> tuple[Transfer | None]:
        settlement = resolve_dispute(
            exchange,
            outcome=command.outcome,
            minutes=minutes,
            reason=command.reason,
            idempotency_key=command.idempotency_key,
            now=acting.now,
            accounts=accounts,
            by=acting.by,
        )
        return (settlement,)

    return _settling(acting, command.exchange_id, command.idempotency_key, "resolve", decide)


@retried_on_conflict
def withdraw(command: WithdrawHelp, acting: Acting) -> Receipt:
    """Withdraw help recorded by mistake (staff: for the provider)."""
    exchange = exchange_of(acting.app, command.exchange_id)
    _check_reaches(acting.app, acting.by, exchange)
    if exchange.is_retry(command.idempotency_key, "withdraw"):
        return _replayed(acting.app, exchange)
    provider = _own_account(acting)
    if provider is not None and provider not in exchange.providers:
        raise RuleViolated("not-a-provider", "Only whoever gave this help can withdraw it.")
    exchange.withdraw(command.reason, command.idempotency_key, acting.by)
    return Receipt(exchange.id, acting.app.record(exchange))


def expire_due(app: Timebank, candidates: list[UUID], now: datetime, by: Provenance) -> int:
    """Expire those of ``candidates`` still unconfirmed past their time (not confirmed,
    disputed or withdrawn since the read model listed them); how many were."""
    return change_each_due(
        app, Exchange, candidates, lambda found: found.expire(now, by), done="exchanges.expired"
    )


HANDLERS: dict[type, Handler] = {
    RecordHelp: record,
    ConfirmHelp: confirm,
    DisputeHelp: dispute,
    ResolveDispute: resolve,
    WithdrawHelp: withdraw,
    ChangeExchangeRules: change_rules,
}
