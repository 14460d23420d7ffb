"""The community pool (公益池): members donate minutes, coordinators grant them to residents in
need, such as an elder with no credits of their own (DESIGN.md, Domain, Time account).
"""

from __future__ import annotations

from datetime import datetime

from domain.ledger import (
    AccountKind,
    TimeAccount,
    Transfer,
    TransferKind,
    post_transfer,
    two_party_legs,
)
from domain.provenance import Provenance
from domain.rules import RuleViolated, require_reason


def _check_movement(account: TimeAccount, minutes: int) -> None:
    if type(minutes) is not int or minutes <= 0:
        raise RuleViolated("invalid-minutes", "Minutes are whole numbers above zero.")
    if account.kind is not AccountKind.MEMBER:
        raise RuleViolated(
            "not-a-member-account", "Only members' accounts give to or receive from the pool."
        )


def donate(
    *,
    idempotency_key: str,
    donor: TimeAccount,
    pool: TimeAccount,
    minutes: int,
    memo: str,
    occurred_at: datetime,
    by: Provenance,
) -> Transfer:
    _check_movement(donor, minutes)
    if minutes > max(donor.balance, 0):
        raise RuleViolated(
            "donation-over-balance",
            f"You can donate the minutes you have earned ({max(donor.balance, 0)}), "
            "not minutes you would owe.",
        )
    return post_transfer(
        idempotency_key=idempotency_key,
        kind=TransferKind.DONATION,
        legs=two_party_legs(donor.id, pool.id, minutes),
        memo=memo,
        occurred_at=occurred_at,
        corrects=None,
        accounts={donor.id: donor, pool.id: pool},
        by=by,
    )


def grant(
    *,
    idempotency_key: str,
    pool: TimeAccount,
    recipient: TimeAccount,
    minutes: int,
    reason: str,
    occurred_at: datetime,
    by: Provenance,
) -> Transfer:
    _check_movement(recipient, minutes)
    require_reason(reason, "A grant needs a reason the record can show.")
    if minutes > pool.balance:
        raise RuleViolated(
            "pool-insufficient",
            f"The pool holds {pool.balance} minutes; a grant of {minutes} is more than it holds.",
        )
    return post_transfer(
        idempotency_key=idempotency_key,
        kind=TransferKind.GRANT,
        legs=two_party_legs(pool.id, recipient.id, minutes),
        memo=reason,
        occurred_at=occurred_at,
        corrects=None,
        accounts={pool.id: pool, recipient.id: recipient},
        by=by,
    )
