"""Ledger command handlers: plain functions over the Timebank application.

Each loads what it touches, lets the domain decide, and saves every changed aggregate in one
``save()``. A version conflict means another command changed an account meanwhile: the whole
command is retried from a fresh load, a bounded number of times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import RecordConflictError

from domain.ledger import (
    MEMBER_LIMITS,
    SYSTEM_LIMITS,
    AccountKind,
    Limits,
    TimeAccount,
    Transfer,
    TransferKind,
    account_id_for,
    post_correction,
    post_transfer,
    settle_for_closure,
    system_account_id,
    transfer_id_for,
    two_party_legs,
)
from domain.provenance import Provenance
from domain.rules import KeyReused, NotFound, RuleViolated
from services.eventstore import Timebank, retried_on_conflict
from services.windows import CLOCK_SKEW


@dataclass(frozen=True)
class Receipt:
    id: UUID
    position: int
    replayed: bool = False


def account_of(app: Timebank, account_id: UUID) -> TimeAccount:
    account = app.find(account_id, TimeAccount)
    if account is None:
        raise NotFound("account-not-found", f"There is no time account {account_id}.")
    return account


def check_not_future(occurred_at: datetime, now: datetime) -> None:
    if occurred_at > now + CLOCK_SKEW:
        raise RuleViolated("occurred-in-future", "Help cannot be recorded before it happened.")


@retried_on_conflict
def open_system_accounts(app: Timebank, by: Provenance) -> int:
    """Open the community and pool accounts if this store has not got them yet."""
    missing = [kind for kind in SYSTEM_LIMITS if system_account_id(kind) not in app.repository]
    accounts = [
        TimeAccount(owner=kind.value, kind=kind, limits=SYSTEM_LIMITS[kind], by=by)
        for kind in missing
    ]
    return app.record(*accounts)


@retried_on_conflict
def open_account(
    app: Timebank, owner: str, by: Provenance, limits: Limits = MEMBER_LIMITS
) -> Receipt:
    """Open a member's account; opening it again answers with the existing one."""
    account_id = account_id_for(owner, AccountKind.MEMBER)
    if account_id in app.repository:
        return Receipt(account_id, app.last_position(), replayed=True)
    account = TimeAccount(owner=owner, kind=AccountKind.MEMBER, limits=limits, by=by)
    return Receipt(account.id, app.record(account))


@retried_on_conflict
def transfer(
    app: Timebank,
    *,
    idempotency_key: str,
    source: UUID,
    target: UUID,
    minutes: int,
    memo: str,
    occurred_at: datetime,
    now: datetime,
    by: Provenance,
) -> Receipt:
    legs = two_party_legs(source, target, minutes)
    try:
        check_not_future(occurred_at, now)
        accounts = {account_id: account_of(app, account_id) for account_id in (source, target)}
        posted = post_transfer(
            idempotency_key=idempotency_key,
            kind=TransferKind.TRANSFER,
            legs=legs,
            memo=memo,
            occurred_at=occurred_at,
            corrects=None,
            accounts=accounts,
            by=by,
        )
        return Receipt(posted.id, app.record(posted, *accounts.values()))
    except (RuleViolated, NotFound, RecordConflictError):
        # Nearly every key is new, so a retry is looked for only when posting failed: a retried
        # request must answer as the first one did, even if the accounts have moved on since.
        existing = app.find(transfer_id_for(idempotency_key), Transfer)
        if existing is None:
            raise
        return _replay(app, existing, same=existing.same_request(TransferKind.TRANSFER, legs, memo))


@retried_on_conflict
def correct(
    app: Timebank,
    *,
    idempotency_key: str,
    transfer_id: UUID,
    minutes: int | None,
    reason: str,
    occurred_at: datetime,
    by: Provenance,
) -> Receipt:
    """Post the compensating transfer for (part of) ``transfer_id``; the original stays."""
    original = app.find(transfer_id, Transfer)
    if original is None:
        raise NotFound("transfer-not-found", f"There is no transfer {transfer_id}.")
    existing = app.find(transfer_id_for(idempotency_key), Transfer)
    if existing is not None:
        # A full correction's legs depend on what was left to undo, so match on intent.
        same = existing.kind is TransferKind.CORRECTION and existing.corrects == original.id
        return _replay(app, existing, same=same and existing.memo == reason)
    legs = original.reversal_legs(minutes)
    accounts = {leg.account_id: account_of(app, leg.account_id) for leg in legs}
    correction = post_correction(
        original,
        idempotency_key=idempotency_key,
        minutes=minutes,
        reason=reason,
        occurred_at=occurred_at,
        accounts=accounts,
        by=by,
    )
    return Receipt(correction.id, app.record(correction, original, *accounts.values()))


@retried_on_conflict
def close_account(
    app: Timebank, *, account_id: UUID, reason: str, occurred_at: datetime, by: Provenance
) -> Receipt:
    """Move the balance to the pool (or write a debt off) and close, in one save."""
    account = account_of(app, account_id)
    pool = account_of(app, system_account_id(AccountKind.POOL))
    community = account_of(app, system_account_id(AccountKind.COMMUNITY))
    settlement = settle_for_closure(
        account, pool=pool, community=community, occurred_at=occurred_at, reason=reason, by=by
    )
    account.close(reason, by)
    return Receipt(account.id, app.record(settlement, account, pool, community))


def _replay(app: Timebank, existing: Transfer, *, same: bool) -> Receipt:
    if not same:
        raise KeyReused
    # The original position is not kept on the aggregate; the current one is a safe lower
    # bound for read-your-writes, since the original is at or before it.
    return Receipt(existing.id, app.last_position(), replayed=True)


@retried_on_conflict
def change_limits(
    app: Timebank, *, account_id: UUID, limits: Limits, reason: str, by: Provenance
) -> Receipt:
    """Set an account's floor and cap; the event keeps who changed them and why."""
    account = account_of(app, account_id)
    account.change_limits(limits, reason, by)
    return Receipt(account.id, app.record(account))
