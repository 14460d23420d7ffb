"""The resident council's voting rules, and how a vote is counted under them.

Rules (DESIGN.md, Domain, Motion; DOMAIN-NOTES, council procedure):
- the rules are council settings, changed only by events saying who changed them and why;
- a motion records the rules in force when its vote opened, and its result is always the
  tally of its ballots under those rules, so a past decision reads the same after the rules
  change and the history is replayed;
- rescinding an adopted motion needs a majority with prior notice and two thirds without
  (Robert's Rules as adapted in Chinese villages; a majority of all members also suffices);
- a secret ballot's choice is sealed in a ballot box whose key is destroyed once the vote is
  counted, so no record ever links a voter to a choice after the count.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from fractions import Fraction
from typing import Protocol
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.listing import check_no_contact_details
from domain.provenance import Provenance
from domain.rules import RuleViolated, require_reason
from domain.station import DEFAULT_STATION, NamesItsStation

_COUNCIL_RULES_ID = uuid5(NAMESPACE_URL, "urn:timebank:council-rules")


class Threshold(StrEnum):
    SIMPLE_MAJORITY = "simple_majority"  # more than half of the base
    TWO_THIRDS = "two_thirds"  # at least two thirds of the base
    MAJORITY_OF_MEMBERS = "majority_of_members"  # more than half of those entitled


class Base(StrEnum):
    """What a threshold is a share of."""

    CAST = "cast"  # the votes cast (abstentions only if they count)
    PRESENT = "present"  # the entitled members present when voting opened
    ENTITLED = "entitled"  # every member entitled to vote


class Choice(StrEnum):
    YES = "yes"
    NO = "no"
    ABSTAIN = "abstain"


class Result(StrEnum):
    ADOPTED = "adopted"
    REJECTED = "rejected"
    NO_QUORUM = "no_quorum"  # void: too few present


@dataclass(frozen=True)
class VotingRules:
    quorum_count: int  # at least this many entitled members present ...
    quorum_share: float  # ... and at least this share of them (0 to 1)
    threshold: Threshold
    base: Base
    abstentions_count: bool  # whether abstentions are part of a `cast` base
    votes_may_change: bool  # before the vote closes
    secret: bool  # the live tally and minutes show counts only, never who voted how
    seconding_threshold: int  # supporters a motion needs before the council considers it
    seconding_days: int  # how long it may gather them before it lapses

    def __post_init__(self) -> None:
        if self.quorum_count < 0 or not 0 <= self.quorum_share <= 1:
            raise RuleViolated(
                "invalid-quorum", "A quorum is a count of zero or more and a share from 0 to 1."
            )
        if self.seconding_threshold < 0 or self.seconding_days <= 0:
            raise RuleViolated(
                "invalid-seconding",
                "Seconding needs zero or more supporters and a deadline of at least a day.",
            )
        Threshold(self.threshold)
        Base(self.base)


DEFAULT_RULES = VotingRules(
    quorum_count=0,
    quorum_share=0.5,
    threshold=Threshold.SIMPLE_MAJORITY,
    base=Base.CAST,
    abstentions_count=False,
    votes_may_change=True,
    secret=False,
    seconding_threshold=3,
    seconding_days=30,
)


@dataclass(frozen=True)
class Tally:
    yes: int
    no: int
    abstain: int
    entitled: int
    present: int

    @property
    def cast(self) -> int:
        return self.yes + self.no + self.abstain


def tally(
    ballots: dict[UUID, Choice], *, entitled: frozenset[UUID], present: frozenset[UUID]
) -> Tally:
    """Count the ballots of those entitled and present (anyone else's never counts)."""
    counted = [choice for voter, choice in ballots.items() if voter in entitled & present]
    return Tally(
        yes=counted.count(Choice.YES),
        no=counted.count(Choice.NO),
        abstain=counted.count(Choice.ABSTAIN),
        entitled=len(entitled),
        present=len(entitled & present),
    )


def decide(counts: Tally, rules: VotingRules) -> Result:
    """The result of a vote with ``counts`` under ``rules``: whole-number arithmetic only, so
    two thirds is exactly two thirds."""
    # The share as the decimal the council wrote (0.56 is 14/25 exactly, not a float's
    # 0.56000000000000005), so a quorum of exactly that share is met.
    share = Fraction(str(rules.quorum_share))
    if counts.present < rules.quorum_count or counts.present < share * counts.entitled:
        return Result.NO_QUORUM
    base = {
        Base.CAST: counts.yes + counts.no + (counts.abstain if rules.abstentions_count else 0),
        Base.PRESENT: counts.present,
        Base.ENTITLED: counts.entitled,
    }[Base(rules.base)]
    threshold = Threshold(rules.threshold)
    if threshold is Threshold.SIMPLE_MAJORITY:
        passed = 2 * counts.yes > base
    elif threshold is Threshold.TWO_THIRDS:
        passed = base > 0 and 3 * counts.yes >= 2 * base
    else:
        passed = 2 * counts.yes > counts.entitled
    return Result.ADOPTED if passed else Result.REJECTED


def rules_for_rescission(rules: VotingRules, *, noticed: bool) -> VotingRules:
    """The rules a motion to rescind is voted under: a majority (the council's own threshold)
    when it was on the agenda before the meeting began, else two thirds of the council's base,
    unless the council already asks two thirds or a majority of all members (which Robert's
    Rules accept for rescinding without notice too)."""
    if noticed or Threshold(rules.threshold) is not Threshold.SIMPLE_MAJORITY:
        return rules
    return replace(rules, threshold=Threshold.TWO_THIRDS)


class BallotBox(Protocol):
    """Where a secret vote's choices are sealed: only the vote's own key opens them, and that
    key is destroyed once the vote has been counted (services/council/handlers.py keeps it in
    the key store, apart from the events)."""

    def seal(self, voter: UUID, choice: Choice) -> str:
        """``choice``, sealed for ``voter``: the same length whatever the choice."""
        ...

    def open(self, voter: UUID, sealed: str) -> Choice:
        """What ``voter`` chose; refuses once the key is gone."""
        ...


def council_rules_id(station: UUID = DEFAULT_STATION) -> UUID:
    """The first station's council keeps the rules set before stations existed."""
    if station == DEFAULT_STATION:
        return _COUNCIL_RULES_ID
    return uuid5(_COUNCIL_RULES_ID, str(station))


class CouncilRules(Aggregate):
    """A station council's voting rules in force; each change an event with who changed them
    and why. Every station's council starts from ``DEFAULT_RULES``."""

    @staticmethod
    def create_id(station: UUID = DEFAULT_STATION) -> UUID:
        return council_rules_id(station)

    class CouncilRulesSet(NamesItsStation, Aggregate.Created):
        """Names the station whose council the rules are."""

        rules: VotingRules
        by: Provenance
        station: UUID

    @event(CouncilRulesSet)
    def __init__(self, rules: VotingRules, by: Provenance, station: UUID = DEFAULT_STATION) -> None:
        self.rules = rules
        self.station = station

    def change(self, rules: VotingRules, reason: str, by: Provenance) -> None:
        require_reason(reason, "Changing the council's rules needs a reason.")
        check_no_contact_details(reason)  # the rules and why they changed are public
        if rules == self.rules:
            raise RuleViolated("rules-unchanged", "These are the rules already in force.")
        self._change(rules=rules, reason=reason, by=by)

    @event("CouncilRulesChanged")
    def _change(self, rules: VotingRules, reason: str, by: Provenance) -> None:
        self.rules = rules
