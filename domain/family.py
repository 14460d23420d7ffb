"""Gifts to family (亲属转赠): a member gives minutes they earned by service to a registered
family member, also one who belongs to another station.

Rules (issue 17, item 3):
- a family tie joins two members: one proposes it, the other consents, and each consent says
  who gave it, when, and whether a coordinator recorded it from a signed paper form; either
  member may end the tie, saying why;
- a gift moves minutes only along a confirmed tie, as a transfer of its own kind;
- only minutes earned by service — help given in exchanges, approved volunteer hours — may be
  given, less what was already given; grants from the pool and gifts received may not;
- what one member gives in a calendar year (the station's) stays within a yearly limit.

Events name members by their pseudonymous ids only: no names, no kinship details beyond the
relation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

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

_TIE_NAMESPACE = uuid5(NAMESPACE_URL, "urn:timebank:family-tie")

# Help given and approved hours are service; grants, gifts and plain transfers are not.
EARNED_BY_SERVICE = frozenset({TransferKind.EXCHANGE, TransferKind.HOURS})


class Relation(StrEnum):
    """What the relative is to the member who proposed the tie."""

    SPOUSE = "spouse"
    PARENT = "parent"
    CHILD = "child"
    SIBLING = "sibling"
    GRANDPARENT = "grandparent"
    GRANDCHILD = "grandchild"

    @property
    def seen_from_relative(self) -> Relation:
        """What the proposer is to the relative."""
        return _RECIPROCAL.get(self, self)


_RECIPROCAL = {
    Relation.PARENT: Relation.CHILD,
    Relation.CHILD: Relation.PARENT,
    Relation.GRANDPARENT: Relation.GRANDCHILD,
    Relation.GRANDCHILD: Relation.GRANDPARENT,
}


def family_tie_id(one: UUID, other: UUID) -> UUID:
    """Two members have at most one tie, whoever proposed it, so its id derives from the pair."""
    first, second = sorted((str(one), str(other)))
    return uuid5(_TIE_NAMESPACE, f"{first}:{second}")


@dataclass(frozen=True)
class Consent:
    """A member agreed to the tie: at a kiosk themselves (``paper_form`` None), or on a signed
    paper form whose reference the coordinator who recorded it gives."""

    member: UUID
    at: datetime
    paper_form: str | None


class FamilyTie(Aggregate):
    """Two members registered as family, so that one may give the other minutes."""

    @staticmethod
    def create_id(proposer: UUID, relative: UUID) -> UUID:
        return family_tie_id(proposer, relative)

    @event("FamilyTieProposed")
    def __init__(
        self,
        proposer: UUID,
        relative: UUID,
        relation: Relation,
        consent: Consent,
        by: Provenance,
    ) -> None:
        _check_proposal(proposer, relative, consent)
        self._proposed(proposer, relative, relation, consent)

    def _proposed(
        self, proposer: UUID, relative: UUID, relation: Relation, consent: Consent
    ) -> None:
        self.proposer = proposer
        self.relative = relative
        # Coerced: events stored with the relation as a plain string give it back as one.
        self.relation = Relation(relation)
        self.consents: tuple[Consent, ...] = (consent,)
        self.is_confirmed = False
        self.is_ended = False

    def propose_again(
        self,
        proposer: UUID,
        relative: UUID,
        relation: Relation,
        consent: Consent,
        by: Provenance,
    ) -> None:
        """A tie that was ended may be proposed anew, by either member; it waits for the other's
        consent again."""
        if not self.is_ended:
            raise RuleViolated(
                "family-tie-exists", "These two members are already registered as family."
            )
        _check_proposal(proposer, relative, consent)
        self._propose_again(
            proposer=proposer, relative=relative, relation=relation, consent=consent, by=by
        )

    @event("FamilyTieProposedAgain")
    def _propose_again(
        self,
        proposer: UUID,
        relative: UUID,
        relation: Relation,
        consent: Consent,
        by: Provenance,
    ) -> None:
        self._proposed(proposer, relative, relation, consent)

    def confirm(self, consent: Consent, by: Provenance) -> None:
        """The relative's consent; only then may minutes be given along the tie."""
        self._check_not_ended()
        if self.is_confirmed:
            raise RuleViolated(
                "family-tie-confirmed", "This family tie is already confirmed by both."
            )
        if consent.member != self.relative:
            raise RuleViolated(
                "not-the-relative",
                "Only the family member the tie was proposed to can confirm it.",
            )
        self._confirm(consent=consent, by=by)

    @event("FamilyTieConfirmed")
    def _confirm(self, consent: Consent, by: Provenance) -> None:
        self.consents = (*self.consents, consent)
        self.is_confirmed = True

    def end(self, member: UUID, reason: str, by: Provenance) -> None:
        """Either member ends the tie (or withdraws a proposal not yet confirmed)."""
        self._check_not_ended()
        if member not in (self.proposer, self.relative):
            raise RuleViolated(
                "not-in-family-tie", "Only one of the two family members can end their tie."
            )
        require_reason(reason, "Ending a family tie needs a reason.")
        self._end(member=member, reason=reason, by=by)

    @event("FamilyTieEnded")
    def _end(self, member: UUID, reason: str, by: Provenance) -> None:
        self.is_ended = True

    def check_joins(self, giver: UUID, recipient: UUID) -> None:
        """Minutes may move between ``giver`` and ``recipient`` along this tie."""
        if {giver, recipient} != {self.proposer, self.relative} or self.is_ended:
            raise no_family_tie()
        if not self.is_confirmed:
            raise RuleViolated(
                "family-tie-unconfirmed",
                "The family member has not yet confirmed the tie; gifts wait for their consent.",
            )

    def _check_not_ended(self) -> None:
        if self.is_ended:
            raise RuleViolated("family-tie-ended", "This family tie has ended.")


def owners(giver: TimeAccount, recipient: TimeAccount) -> tuple[UUID, UUID]:
    """The members whose accounts these are; refused unless both are members' accounts."""
    if giver.kind is not AccountKind.MEMBER or recipient.kind is not AccountKind.MEMBER:
        raise RuleViolated(
            "not-a-member-account", "Only members' accounts give to or receive from family."
        )
    return UUID(giver.owner), UUID(recipient.owner)


def no_family_tie() -> RuleViolated:
    return RuleViolated(
        "no-family-tie", "Minutes can be given only to a family member registered with you."
    )


def _check_proposal(proposer: UUID, relative: UUID, consent: Consent) -> None:
    if proposer == relative:
        raise RuleViolated("family-tie-with-self", "A member cannot be their own family member.")
    if consent.member != proposer:
        raise RuleViolated(
            "not-the-proposer", "The consent recorded with a proposal is the proposer's."
        )


@dataclass(frozen=True)
class Movement:
    """One transfer as it touched the giver's account: its kind, the minutes it still moves
    for the account once corrections are taken off (signed), and the year it happened in
    (the station's calendar)."""

    kind: TransferKind
    minutes: int
    year: int

    @classmethod
    def of(cls, transfer: Transfer, account_id: UUID, zone: tzinfo) -> Movement:
        (leg,) = (leg for leg in transfer.legs if leg.account_id == account_id)
        minutes = leg.minutes + transfer.reversed.get(account_id, 0)
        return cls(transfer.kind, minutes, transfer.occurred_at.astimezone(zone).year)


@dataclass(frozen=True)
class Allowance:
    """What a member may still give their family, from the history of their account."""

    earned_by_service: int
    given: int
    given_this_year: int
    yearly_limit: int
    balance: int

    @classmethod
    def of(
        cls, movements: Iterable[Movement], *, balance: int, year: int, yearly_limit: int
    ) -> Allowance:
        seen = list(movements)
        gifts = [m for m in seen if m.kind is TransferKind.FAMILY_GIFT and m.minutes < 0]
        return cls(
            earned_by_service=sum(
                m.minutes for m in seen if m.kind in EARNED_BY_SERVICE and m.minutes > 0
            ),
            given=-sum(m.minutes for m in gifts),
            given_this_year=-sum(m.minutes for m in gifts if m.year == year),
            yearly_limit=yearly_limit,
            balance=balance,
        )

    @property
    def available(self) -> int:
        """Never more than the balance holds, what service earned less what was given, or
        what is left of this year's limit."""
        return max(
            0,
            min(
                self.balance,
                self.earned_by_service - self.given,
                self.yearly_limit - self.given_this_year,
            ),
        )

    def check(self, minutes: int) -> None:
        if minutes > self.yearly_limit - self.given_this_year:
            raise RuleViolated(
                "family-gift-yearly-limit",
                f"A member may give family {self.yearly_limit} minutes a year; "
                f"{self.given_this_year} were given this year.",
            )
        if minutes > self.available:
            raise RuleViolated(
                "family-gift-over-earned",
                f"Only minutes earned by service can be given: {self.available} now "
                f"({self.earned_by_service} earned, {self.given} given, "
                f"{self.balance} in the account).",
            )


def give_to_family(
    *,
    idempotency_key: str,
    tie: FamilyTie | None,
    giver: TimeAccount,
    recipient: TimeAccount,
    minutes: int,
    allowance: Allowance,
    memo: str,
    occurred_at: datetime,
    by: Provenance,
) -> Transfer:
    """The gift: a transfer of its own kind from the giver's account to the relative's."""
    if type(minutes) is not int or minutes <= 0:
        raise RuleViolated("invalid-minutes", "Minutes are whole numbers above zero.")
    members = owners(giver, recipient)
    if tie is None:
        raise no_family_tie()
    tie.check_joins(*members)
    allowance.check(minutes)
    return post_transfer(
        idempotency_key=idempotency_key,
        kind=TransferKind.FAMILY_GIFT,
        legs=two_party_legs(giver.id, recipient.id, minutes),
        memo=memo,
        occurred_at=occurred_at,
        corrects=None,
        accounts={giver.id: giver, recipient.id: recipient},
        by=by,
    )
