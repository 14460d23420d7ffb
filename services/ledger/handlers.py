"""Ledger command handlers: plain functions of a command and what the bus gives them.

Each loads what it touches, lets the domain decide, and saves every changed aggregate in one
``save()``. A version conflict means another command changed an account meanwhile: the whole
command is retried from a fresh load, a bounded number of times.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.persistence import RecordConflictError

from domain.ledger import (
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
from services.bus import Acting, Handler, Receipt
from services.ledger.commands import (
    ChangeLimits,
    CloseAccount,
    CorrectTransfer,
    OpenAccount,
    PostTransfer,
)
from services.stations.handlers import check_serves, check_works_at_any, home_of
from services.store.eventstore import Timebank, retried_on_conflict
from services.windows import check_not_future


def account_named(ref: str) -> UUID:
    """The account a reference names: an account id, or ``community`` / ``pool``."""
    if ref in (AccountKind.COMMUNITY, AccountKind.POOL):
        return system_account_id(AccountKind(ref))
    try:
        return UUID(ref)
    except ValueError:
        raise NotFound("account-not-found", f"There is no time account {ref!r}.") from None


def account_of(app: Timebank, account_id: UUID) -> TimeAccount:
    account = app.find(account_id, TimeAccount)
    if account is None:
        raise NotFound("account-not-found", f"There is no time account {account_id}.")
    return account


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
def open_account(command: OpenAccount, acting: Acting) -> Receipt:
    """Open a member's account; opening it again answers with the existing one."""
    app = acting.app
    account_id = account_id_for(command.owner, AccountKind.MEMBER)
    if account_id in app.repository:
        return Receipt(account_id, app.last_position(), replayed=True)
    account = TimeAccount(
        owner=command.owner,
        kind=AccountKind.MEMBER,
        limits=acting.settings.member_limits,
        by=acting.by,
    )
    return Receipt(account.id, app.record(account))


@retried_on_conflict
def transfer(command: PostTransfer, acting: Acting) -> Receipt:
    """Move minutes between two accounts (a resident: from their own)."""
    app, source = acting.app, account_named(command.from_account)
    acting.caller.check_owns(source)
    legs = two_party_legs(source, account_named(command.to_account), command.minutes)
    occurred_at = command.occurred_at or acting.now
    try:
        check_not_future(occurred_at, acting.now)
        accounts = {leg.account_id: account_of(app, leg.account_id) for leg in legs}
        check_serves(acting, accounts[source])  # the receiver may live anywhere (通存通兑)
        posted = post_transfer(
            idempotency_key=command.idempotency_key,
            kind=TransferKind.TRANSFER,
            legs=legs,
            memo=command.memo,
            occurred_at=occurred_at,
            corrects=None,
            accounts=accounts,
            by=acting.by,
        )
        return Receipt(posted.id, app.record(posted, *accounts.values()))
    except (RuleViolated, NotFound, RecordConflictError):
        # Nearly every key is new, so a retry is looked for only when posting failed: a retried
        # request must answer as the first one did, even if the accounts have moved on since.
        existing = app.find(transfer_id_for(command.idempotency_key), Transfer)
        if existing is None:
            raise
        same = existing.same_request(TransferKind.TRANSFER, legs, command.memo)
        return _replay(app, existing, same=same)


@retried_on_conflict
def correct(command: CorrectTransfer, acting: Acting) -> Receipt:
    """Post the compensating transfer for (part of) a transfer; the original stays."""
    app = acting.app
    original = app.find(command.transfer_id, Transfer)
    if original is None:
        raise NotFound("transfer-not-found", f"There is no transfer {command.transfer_id}.")
    existing = app.find(transfer_id_for(command.idempotency_key), Transfer)
    if existing is not None:
        # A full correction's legs depend on what was left to undo, so match on intent.
        same = existing.kind is TransferKind.CORRECTION and existing.corrects == original.id
        return _replay(app, existing, same=same and existing.memo == command.reason)
    legs = original.reversal_legs(command.minutes)
    accounts = {leg.account_id: account_of(app, leg.account_id) for leg in legs}
    residents = [account for account in accounts.values() if account.kind is AccountKind.MEMBER]
    if residents and not acting.caller.is_member:
        check_works_at_any(app, acting.by, [home_of(app, account) for account in residents])
    correction = post_correction(
        original,
        idempotency_key=command.idempotency_key,
        minutes=command.minutes,
        reason=command.reason,
        occurred_at=acting.now,
        accounts=accounts,
        by=acting.by,
    )
    return Receipt(correction.id, app.record(correction, original, *accounts.values()))


@retried_on_conflict
def close_account(command: CloseAccount, acting: Acting) -> Receipt:
    """Move the balance to the pool (or write a debt off) and close, in one save."""
    app, by = acting.app, acting.by
    account = account_of(app, account_named(command.account))
    check_serves(acting, account)
    pool = account_of(app, system_account_id(AccountKind.POOL))
    community = account_of(app, system_account_id(AccountKind.COMMUNITY))
    settlement = settle_for_closure(
        account,
        pool=pool,
        community=community,
        occurred_at=acting.now,
        reason=command.reason,
        by=by,
    )
    account.close(command.reason, by)
    return Receipt(account.id, app.record(settlement, account, pool, community))


def _replay(app: Timebank, existing: Transfer, *, same: bool) -> Receipt:
    if not same:
        raise KeyReused
    # The original position is not kept on the aggregate; the current one is a safe lower
    # bound for read-your-writes, since the original is at or before it.
    return Receipt(existing.id, app.last_position(), replayed=True)


@retried_on_conflict
def change_limits(command: ChangeLimits, acting: Acting) -> Receipt:
    """Set an account's floor and cap; the event keeps who changed them and why."""
    account = account_of(acting.app, account_named(command.account))
    check_serves(acting, account)
    account.change_limits(Limits(command.floor, command.cap), command.reason, acting.by)
    return Receipt(account.id, acting.app.record(account))


HANDLERS: dict[type, Handler] = {
    OpenAccount: open_account,
    PostTransfer: transfer,
    CorrectTransfer: correct,
    CloseAccount: close_account,
    ChangeLimits: change_limits,
}
