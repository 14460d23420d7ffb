"""Time accounts and the transfers between them (时间银行 ledger).

Rules (DESIGN.md, Domain; DOMAIN-NOTES, ledger):
- time is integer minutes; every transfer's legs sum to zero, so the whole bank sums to zero;
- a posting may not push a balance further below its floor or above its cap;
- nothing is deleted: a correction is a new transfer that points at what it corrects;
- a closed account takes no postings; its balance moved to the pool when it closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.provenance import Provenance
from domain.rules import RuleViolated, require_reason

_ACCOUNT_NAMESPACE = uuid5(NAMESPACE_URL, "urn:timebank:account")
_TRANSFER_NAMESPACE = uuid5(NAMESPACE_URL, "urn:timebank:transfer")


class AccountKind(StrEnum):
    MEMBER = "member"
    COMMUNITY = "community"  # issues credits for approved volunteer hours; may go negative
    POOL = "pool"  # 公益池: donated minutes that coordinators grant to residents in need


class TransferKind(StrEnum):
    """Why minutes moved: every minute in an account traces back to one of these."""

    TRANSFER = "transfer"  # a member gave minutes from their own account
    EXCHANGE = "exchange"  # settles a confirmed (or resolved) help exchange
    HOURS = "hours"  # credits approved volunteer service, from the community account
    DONATION = "donation"  # a member gave minutes to the pool
    GRANT = "grant"  # a coordinator gave pool minutes to a resident in need
    FAMILY_GIFT = "family-gift"  # a member gave minutes earned by service to family (亲属转赠)
    CORRECTION = "correction"
    CLOSURE = "closure"


@dataclass(frozen=True)
class Limits:
    """Council-set bounds on a balance, in minutes; ``None`` means unbounded."""

    floor: int | None
    cap: int | None

    def __post_init__(self) -> None:
        if any(bound is not None and type(bound) is not int for bound in (self.floor, self.cap)):
            raise RuleViolated("invalid-limits", "Limits are whole numbers of minutes.")
        if self.floor is not None and self.floor > 0:
            raise RuleViolated("invalid-limits", "A balance floor cannot be above zero.")
        if self.cap is not None and self.cap < 0:
            raise RuleViolated("invalid-limits", "A balance cap cannot be below zero.")


MEMBER_LIMITS = Limits(floor=-600, cap=90_000)
SYSTEM_LIMITS = {
    AccountKind.COMMUNITY: Limits(floor=None, cap=None),
    AccountKind.POOL: Limits(floor=0, cap=None),
}


def account_id_for(owner: str, kind: AccountKind) -> UUID:
    """Each owner has exactly one account of a kind, so its id derives from the owner."""
    return uuid5(_ACCOUNT_NAMESPACE, f"{AccountKind(kind).value}:{owner}")


def system_account_id(kind: AccountKind) -> UUID:
    """The fixed id of the ``community`` or ``pool`` account, the same in every installation."""
    return account_id_for(kind.value, kind)


@dataclass(frozen=True)
class Leg:
    """One side of a transfer: minutes into (positive) or out of (negative) an account."""

    account_id: UUID
    minutes: int


def two_party_legs(source: UUID, target: UUID, minutes: int) -> tuple[Leg, ...]:
    return (Leg(source, -minutes), Leg(target, minutes))


def check_legs(legs: tuple[Leg, ...]) -> None:
    if len(legs) < 2:
        raise RuleViolated(
            "too-few-legs", "A transfer moves minutes between at least two accounts."
        )
    if any(type(leg.minutes) is not int or leg.minutes == 0 for leg in legs):
        raise RuleViolated(
            "invalid-minutes", "Every leg must move a whole, non-zero number of minutes."
        )
    if len({leg.account_id for leg in legs}) != len(legs):
        raise RuleViolated(
            "same-account", "An account can appear only once in a transfer, and not on both sides."
        )
    if sum(leg.minutes for leg in legs) != 0:
        raise RuleViolated(
            "unbalanced-transfer", "The legs of a transfer must sum to zero minutes."
        )


class TimeAccount(Aggregate):
    """One member's (or a system) account of minutes."""

    @staticmethod
    def create_id(owner: str, kind: AccountKind) -> UUID:
        return account_id_for(owner, kind)

    @event("AccountOpened")
    def __init__(self, owner: str, kind: AccountKind, limits: Limits, by: Provenance) -> None:
        self.owner = owner
        # Events stored before enums were written with their type (services/store/transcoding.py)
        # give the kind back as a plain string; coerce so identity checks stay exact.
        self.kind = AccountKind(kind)
        self.limits = limits
        self.balance = 0
        self.is_closed = False

    def check_posting(self, minutes: int) -> None:
        if self.is_closed:
            raise RuleViolated(
                "account-closed", f"Account {self.id} is closed and takes no postings."
            )
        after = self.balance + minutes
        floor, cap = self.limits.floor, self.limits.cap
        if minutes < 0 and floor is not None and after < floor:
            raise RuleViolated(
                "below-floor",
                f"Account {self.id} has {self.balance} minutes; taking {-minutes} would leave "
                f"{after}, below its floor of {floor}.",
            )
        if minutes > 0 and cap is not None and after > cap:
            raise RuleViolated(
                "above-cap",
                f"Account {self.id} has {self.balance} minutes; adding {minutes} would make "
                f"{after}, above its cap of {cap}.",
            )

    def post(self, transfer_id: UUID, minutes: int, by: Provenance) -> None:
        self.check_posting(minutes)
        self._post(transfer_id=transfer_id, minutes=minutes, balance=self.balance + minutes, by=by)

    @event("EntryPosted")
    def _post(self, transfer_id: UUID, minutes: int, balance: int, by: Provenance) -> None:
        self.balance = balance

    def change_limits(self, limits: Limits, reason: str, by: Provenance) -> None:
        if self.kind is not AccountKind.MEMBER:
            # The pool never goes negative and the community account is unbounded, by design.
            raise RuleViolated(
                "system-account", "The community and pool accounts' limits are fixed."
            )
        if self.is_closed:
            raise RuleViolated("account-closed", f"Account {self.id} is closed.")
        require_reason(reason, "Changing an account's limits needs a reason.")
        self._change_limits(limits=limits, reason=reason, by=by)

    @event("LimitsChanged")
    def _change_limits(self, limits: Limits, reason: str, by: Provenance) -> None:
        self.limits = limits

    def check_closable(self, reason: str) -> None:
        if self.kind is not AccountKind.MEMBER:
            raise RuleViolated(
                "system-account", "The community and pool accounts cannot be closed."
            )
        if self.is_closed:
            raise RuleViolated("account-closed", f"Account {self.id} is already closed.")
        require_reason(reason, "Closing an account needs a reason.")

    def close(self, reason: str, by: Provenance) -> None:
        self.check_closable(reason)
        if self.balance != 0:
            raise RuleViolated(
                "balance-not-settled", "Move the balance to the pool before closing."
            )
        self._close(reason=reason, by=by)

    @event("AccountClosed")
    def _close(self, reason: str, by: Provenance) -> None:
        self.is_closed = True


class Transfer(Aggregate):
    """A movement of minutes between accounts: legs summing to zero, posted all or nothing.

    Its id derives from the client's idempotency key, so a retried request finds the transfer
    it already posted instead of posting it again.
    """

    @staticmethod
    def create_id(idempotency_key: str) -> UUID:
        return transfer_id_for(idempotency_key)

    @event("TransferPosted")
    def __init__(
        self,
        idempotency_key: str,
        kind: TransferKind,
        legs: tuple[Leg, ...],
        memo: str,
        occurred_at: datetime,
        corrects: UUID | None,
        by: Provenance,
    ) -> None:
        self.idempotency_key = idempotency_key
        self.kind = TransferKind(kind)
        self.legs = tuple(legs)
        self.memo = memo
        self.occurred_at = occurred_at
        self.corrects = corrects
        self.posted_by = by
        self.reversed: dict[UUID, int] = {}

    def same_request(self, kind: TransferKind, legs: tuple[Leg, ...], memo: str) -> bool:
        return (self.kind, self.legs, self.memo) == (kind, legs, memo)

    def reversal_legs(self, minutes: int | None) -> tuple[Leg, ...]:
        """Legs undoing what is still uncorrected: all of it, or ``minutes`` of a two-party one."""
        if minutes is None:
            remaining = tuple(
                Leg(leg.account_id, -(leg.minutes + self.reversed.get(leg.account_id, 0)))
                for leg in self.legs
            )
            return tuple(leg for leg in remaining if leg.minutes != 0)
        if len(self.legs) != 2:
            raise RuleViolated(
                "partial-group-correction",
                "A transfer between more than two accounts can only be corrected as a whole.",
            )
        source, target = sorted(self.legs, key=lambda leg: leg.minutes)
        return two_party_legs(target.account_id, source.account_id, minutes)

    def check_reversal(self, legs: tuple[Leg, ...]) -> None:
        """``legs`` may only move back what this transfer moved and is not yet corrected."""
        if self.kind is TransferKind.CORRECTION:
            raise RuleViolated(
                "correcting-a-correction",
                "A correction cannot itself be corrected; post a new transfer instead.",
            )
        original = {leg.account_id: leg.minutes for leg in self.legs}
        reversed_now = dict(self.reversed)
        for leg in legs:
            moved = original.get(leg.account_id)
            if moved is None or (moved > 0) == (leg.minutes > 0):
                raise RuleViolated(
                    "not-a-reversal",
                    "A correction can only move minutes back between the accounts of the original.",
                )
            reversed_now[leg.account_id] = reversed_now.get(leg.account_id, 0) + leg.minutes
            if abs(reversed_now[leg.account_id]) > abs(moved):
                raise RuleViolated(
                    "over-correction",
                    f"Transfer {self.id} moved {abs(moved)} minutes for account {leg.account_id}; "
                    "a correction cannot undo more than that.",
                )

    def record_correction(self, correction: Transfer) -> None:
        """Note ``correction``, a transfer posted to undo (part of) this one."""
        if correction.kind is not TransferKind.CORRECTION or correction.corrects != self.id:
            raise RuleViolated("not-a-correction", f"That transfer does not correct {self.id}.")
        self.check_reversal(correction.legs)
        self._record_correction(
            correction_id=correction.id, legs=correction.legs, by=correction.posted_by
        )

    @event("TransferCorrected")
    def _record_correction(
        self, correction_id: UUID, legs: tuple[Leg, ...], by: Provenance
    ) -> None:
        for leg in legs:
            self.reversed[leg.account_id] = self.reversed.get(leg.account_id, 0) + leg.minutes


def transfer_id_for(idempotency_key: str) -> UUID:
    return uuid5(_TRANSFER_NAMESPACE, idempotency_key)


def internal_key(purpose: str, subject: UUID) -> str:
    """The idempotency key of a transfer the system posts for ``subject`` (a closure, an
    exchange's settlement). ``#`` and ``/`` are refused in client keys, so no client can
    claim the id of a transfer the system will post later."""
    return f"#{purpose}/{subject}"


def check_transfer(legs: tuple[Leg, ...], accounts: Mapping[UUID, TimeAccount]) -> None:
    """Every rule a transfer of ``legs`` must meet, checked without changing anything."""
    check_legs(legs)
    for leg in legs:
        accounts[leg.account_id].check_posting(leg.minutes)


def post_transfer(
    *,
    idempotency_key: str,
    kind: TransferKind,
    legs: tuple[Leg, ...],
    memo: str,
    occurred_at: datetime,
    corrects: UUID | None,
    accounts: Mapping[UUID, TimeAccount],
    by: Provenance,
) -> Transfer:
    """Check every rule for every leg first, then record the transfer and post its legs.

    The caller saves the transfer and all of ``accounts`` together, so the legs land atomically.
    """
    check_transfer(legs, accounts)
    transfer = Transfer(
        idempotency_key=idempotency_key,
        kind=kind,
        legs=legs,
        memo=memo,
        occurred_at=occurred_at,
        corrects=corrects,
        by=by,
    )
    for leg in legs:
        accounts[leg.account_id].post(transfer.id, leg.minutes, by)
    return transfer


def settle_for_closure(
    account: TimeAccount,
    *,
    pool: TimeAccount,
    community: TimeAccount,
    occurred_at: datetime,
    reason: str,
    by: Provenance,
) -> Transfer | None:
    """Empty ``account`` before it closes: credits go to the pool, a debt is written off.

    A debt goes to ``community`` rather than the pool, because the pool may not go negative and
    a departing member's debt is what the community as a whole forgave.
    """
    account.check_closable(reason)
    if account.balance == 0:
        return None
    counterpart = pool if account.balance > 0 else community
    return post_transfer(
        idempotency_key=internal_key("closure", account.id),
        kind=TransferKind.CLOSURE,
        legs=two_party_legs(account.id, counterpart.id, account.balance),
        memo=reason,
        occurred_at=occurred_at,
        corrects=None,
        accounts={account.id: account, counterpart.id: counterpart},
        by=by,
    )


def post_correction(
    original: Transfer,
    *,
    idempotency_key: str,
    minutes: int | None,
    reason: str,
    occurred_at: datetime,
    accounts: Mapping[UUID, TimeAccount],
    by: Provenance,
) -> Transfer:
    """Post the compensating transfer for (``minutes`` of) ``original``, checking every rule
    before any account is touched; the original records that it was corrected.
    """
    require_reason(reason, "A correction needs a reason.")
    legs = original.reversal_legs(minutes)
    if not legs:
        raise RuleViolated(
            "already-corrected", f"Transfer {original.id} is already fully corrected."
        )
    original.check_reversal(legs)
    correction = post_transfer(
        idempotency_key=idempotency_key,
        kind=TransferKind.CORRECTION,
        legs=legs,
        memo=reason,
        occurred_at=occurred_at,
        corrects=original.id,
        accounts=accounts,
        by=by,
    )
    original.record_correction(correction)
    return correction
