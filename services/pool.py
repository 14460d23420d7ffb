"""Pool command handlers: donations into the community pool and grants out of it."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

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
from domain.provenance import Provenance
from domain.rules import KeyReused
from services.bus import Receipt
from services.eventstore import Timebank, retried_on_conflict
from services.ledger.handlers import account_of


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
def donation(
    app: Timebank,
    *,
    idempotency_key: str,
    donor: UUID,
    minutes: int,
    memo: str,
    now: datetime,
    by: Provenance,
) -> Receipt:
    pool_id = system_account_id(AccountKind.POOL)
    legs = two_party_legs(donor, pool_id, minutes)
    if retried := _retried(app, idempotency_key, TransferKind.DONATION, legs, memo):
        return retried
    account = account_of(app, donor)
    pool = account_of(app, pool_id)
    posted = donate(
        idempotency_key=idempotency_key,
        donor=account,
        pool=pool,
        minutes=minutes,
        memo=memo,
        occurred_at=now,
        by=by,
    )
    return Receipt(posted.id, app.record(posted, account, pool))


@retried_on_conflict
def grant_from_pool(
    app: Timebank,
    *,
    idempotency_key: str,
    recipient: UUID,
    minutes: int,
    reason: str,
    now: datetime,
    by: Provenance,
) -> Receipt:
    pool_id = system_account_id(AccountKind.POOL)
    legs = two_party_legs(pool_id, recipient, minutes)
    if retried := _retried(app, idempotency_key, TransferKind.GRANT, legs, reason):
        return retried
    account = account_of(app, recipient)
    pool = account_of(app, pool_id)
    posted = grant(
        idempotency_key=idempotency_key,
        pool=pool,
        recipient=account,
        minutes=minutes,
        reason=reason,
        occurred_at=now,
        by=by,
    )
    return Receipt(posted.id, app.record(posted, account, pool))
