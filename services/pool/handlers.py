"""Pool command handlers: donations into the community pool and grants out of it."""

from __future__ import annotations

from domain.ledger import (
    AccountKind,
    Leg,
    Transfer,
    TransferKind,
    system_account_id,
    transfer_id_for,
    two_party_legs,
)
from domain.pool import donate, grant
from domain.rules import KeyReused
from services.bus import Acting, Handler, Receipt
from services.ledger.handlers import account_of
from services.pool.commands import DonateToPool, GrantFromPool
from services.stations.handlers import check_serves
from services.store.eventstore import Timebank, retried_on_conflict


def _retried(
    app: Timebank, idempotency_key: str, kind: TransferKind, legs: tuple[Leg, ...], memo: str
) -> Receipt | None:
    existing = app.find(transfer_id_for(idempotency_key), Transfer)
    if existing is None:
        return None
    if not existing.same_request(kind, legs, memo):
        raise KeyReused
    return Receipt(existing.id, app.last_position(), replayed=True)


@retried_on_conflict
def donation(command: DonateToPool, acting: Acting) -> Receipt:
    """Minutes a member earned, given to the pool (a resident: from their own account)."""
    app, donor = acting.app, command.from_account
    acting.caller.check_owns(donor)
    pool_id = system_account_id(AccountKind.POOL)
    legs = two_party_legs(donor, pool_id, command.minutes)
    key, memo = command.idempotency_key, command.memo
    if retried := _retried(app, key, TransferKind.DONATION, legs, memo):
        return retried
    account = account_of(app, donor)
    pool = account_of(app, pool_id)
    posted = donate(
        idempotency_key=key,
        donor=account,
        pool=pool,
        minutes=command.minutes,
        memo=memo,
        occurred_at=acting.now,
        by=acting.by,
    )
    return Receipt(posted.id, app.record(posted, account, pool))


@retried_on_conflict
def grant_from_pool(command: GrantFromPool, acting: Acting) -> Receipt:
    """Pool minutes for a resident in need, with the reason the record shows."""
    app, recipient = acting.app, command.to_account
    pool_id = system_account_id(AccountKind.POOL)
    legs = two_party_legs(pool_id, recipient, command.minutes)
    key, reason = command.idempotency_key, command.reason
    if retried := _retried(app, key, TransferKind.GRANT, legs, reason):
        return retried
    account = account_of(app, recipient)
    check_serves(acting, account)
    pool = account_of(app, pool_id)
    posted = grant(
        idempotency_key=key,
        pool=pool,
        recipient=account,
        minutes=command.minutes,
        reason=reason,
        occurred_at=acting.now,
        by=acting.by,
    )
    return Receipt(posted.id, app.record(posted, account, pool))


HANDLERS: dict[type, Handler] = {DonateToPool: donation, GrantFromPool: grant_from_pool}
