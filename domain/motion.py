"""Council motions, from a resident's proposal to tracked implementation (议题征集 → 审查 →
公示 → 表决 → 落实反馈).

Rules (DESIGN.md, Domain, Motion):
- a motion moves only along ``TRANSITIONS``; anything else is refused and records nothing;
- it is seconded when enough other residents support it before its deadline, else it lapses;
- the council admits it or declines it with a reason; an admitted motion is noticed on a
  meeting's agenda before it is voted; amendments (child motions) are settled first;
- an amendment is proposed only while the motion it amends is not yet being voted on;
- when voting opens the rules in force, who is entitled and who is present are recorded on the
  motion; one ballot per entitled resident present, replaced only if those rules allow;
- a motion to rescind an adopted one is voted under two thirds unless it was on the agenda
  before the meeting began (prior notice): ``rules_for_rescission``;
- a secret ballot's choice is recorded only sealed in the vote's ballot box; the counts go on
  record when the vote closes;
- the result is the tally of the ballots under the recorded rules;
- an adopted motion gets an owner, progress and milestones until it is done, stalled or
  cancelled; the mover may withdraw it before the vote.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.council import (
    BallotBox,
    Choice,
    Result,
    Tally,
    VotingRules,
    decide,
    rules_for_rescission,
    tally,
)
from domain.identity import Role, Staff
from domain.listing import check_no_contact_details
from domain.meeting import Meeting
from domain.provenance import Provenance
from domain.rules import RuleViolated, is_blank, require_reason
from domain.station import DEFAULT_STATION, NamesItsStation

_MOTION_NAMESPACE = uuid5(NAMESPACE_URL, "urn:timebank:motion")


class MotionStatus(StrEnum):
    SUBMITTED = "submitted"
    SECONDED = "seconded"
    LAPSED = "lapsed"
    ADMITTED = "admitted"
    DECLINED = "declined"
    SCHEDULED = "scheduled"
    VOTING = "voting"
    ADOPTED = "adopted"
    REJECTED = "rejected"
    NO_QUORUM = "no_quorum"
    IMPLEMENTING = "implementing"
    STALLED = "stalled"
    DONE = "done"
    CANCELLED = "cancelled"
    WITHDRAWN = "withdrawn"


S = MotionStatus
TRANSITIONS: dict[MotionStatus, frozenset[MotionStatus]] = {
    S.SUBMITTED: frozenset({S.SECONDED, S.LAPSED, S.WITHDRAWN}),
    S.SECONDED: frozenset({S.ADMITTED, S.DECLINED, S.WITHDRAWN}),
    S.ADMITTED: frozenset({S.SCHEDULED, S.WITHDRAWN}),
    S.SCHEDULED: frozenset({S.VOTING, S.WITHDRAWN}),
    S.VOTING: frozenset({S.ADOPTED, S.REJECTED, S.NO_QUORUM}),
    S.ADOPTED: frozenset({S.IMPLEMENTING}),
    S.IMPLEMENTING: frozenset({S.STALLED, S.DONE, S.CANCELLED}),
    S.STALLED: frozenset({S.IMPLEMENTING, S.DONE, S.CANCELLED}),
}
SETTLED = frozenset(
    {S.LAPSED, S.DECLINED, S.ADOPTED, S.REJECTED, S.NO_QUORUM, S.WITHDRAWN}
    | {S.IMPLEMENTING, S.STALLED, S.DONE, S.CANCELLED}
)
# Adopted and not yet carried out or given up: what a motion to rescind may still undo.
RESCINDABLE = frozenset({S.ADOPTED, S.IMPLEMENTING, S.STALLED})


def check_same_council(station: UUID, other: UUID) -> None:
    """Refuse joining two stations' council business: each station's council takes its own
    residents' motions, at its own meetings."""
    if station != other:
        raise RuleViolated(
            "another-stations-council",
            "That belongs to another station's council; each station's council takes only its"
            " own residents' motions.",
        )


def motion_id_for(idempotency_key: str) -> UUID:
    return uuid5(_MOTION_NAMESPACE, idempotency_key)


def _check_reason(reason: str) -> None:
    """A reason the record can show, on the public board too: without contact details."""
    require_reason(reason, "Say why, so the record can show it.")
    check_no_contact_details(reason)


def _check_changed(earlier: Choice | None, choice: Choice) -> None:
    if earlier is choice:
        raise RuleViolated("same-vote", "That is already your vote.")


class Motion(Aggregate):
    @staticmethod
    def create_id(idempotency_key: str) -> UUID:
        return motion_id_for(idempotency_key)

    class MotionSubmitted(NamesItsStation, Aggregate.Created):
        """Names the station whose council takes the motion: its mover's home station."""

        idempotency_key: str
        mover: UUID
        title: str
        text: str
        amends: UUID | None
        reconsiders: UUID | None
        second_by: datetime
        seconding_threshold: int
        by: Provenance
        rescinds: UUID | None
        station: UUID

    @event(MotionSubmitted)
    def __init__(
        self,
        idempotency_key: str,
        mover: UUID,
        title: str,
        text: str,
        amends: UUID | None,
        reconsiders: UUID | None,
        second_by: datetime,
        seconding_threshold: int,
        by: Provenance,
        rescinds: UUID | None = None,
        station: UUID = DEFAULT_STATION,
    ) -> None:
        self.station = station
        self.mover = mover
        self.title = title
        self.amends = amends
        self.reconsiders = reconsiders
        self.rescinds = rescinds
        self.second_by = second_by
        self.seconding_threshold = seconding_threshold
        self.status = MotionStatus.SUBMITTED
        self.supporters: set[UUID] = set()
        self.amendments: list[UUID] = []
        self.meeting: UUID | None = None
        self.noticed = False  # on the meeting's agenda before the meeting began
        self.rules: VotingRules | None = None  # as in force when voting opened
        self.entitled: frozenset[UUID] = frozenset()
        self.present: frozenset[UUID] = frozenset()
        self.ballots: dict[UUID, Choice] = {}  # an open vote's
        self.sealed_ballots: dict[UUID, str] = {}  # a secret vote's, each sealed in its box
        self.result: Result | None = None
        self.tally_at_close: Tally | None = None
        self.owner: str | None = None
        self.progress = 0
        self.milestones: dict[str, bool] = {}

    def _move(self, to: MotionStatus) -> None:
        if to not in TRANSITIONS.get(self.status, frozenset()):
            raise RuleViolated(
                f"motion-{self.status.value.replace('_', '-')}",
                f"This motion is {self.status.value.replace('_', ' ')}; it cannot become "
                f"{to.value.replace('_', ' ')}.",
            )

    def support(self, supporter: UUID, now: datetime, by: Provenance) -> None:
        if supporter == self.mover:
            raise RuleViolated("own-motion", "The mover cannot second their own motion.")
        if self.status is not MotionStatus.SUBMITTED:
            raise RuleViolated(
                f"motion-{self.status.value.replace('_', '-')}",
                "This motion is no longer gathering support.",
            )
        if now > self.second_by:
            raise RuleViolated("seconding-closed", "This motion's time to gather support is over.")
        if supporter in self.supporters:
            raise RuleViolated("already-supported", "You already support this motion.")
        self._support(supporter=supporter, by=by)
        if len(self.supporters) >= self.seconding_threshold:
            self._second(by=by)

    @event("MotionSupported")
    def _support(self, supporter: UUID, by: Provenance) -> None:
        self.supporters.add(supporter)

    @event("MotionSeconded")
    def _second(self, by: Provenance) -> None:
        self.status = MotionStatus.SECONDED

    def second_if_enough(self, by: Provenance) -> None:
        """A motion needing no supporters is seconded as soon as it is submitted."""
        if self.status is MotionStatus.SUBMITTED and self.seconding_threshold == 0:
            self._second(by=by)

    def lapse(self, now: datetime, by: Provenance) -> None:
        self._move(MotionStatus.LAPSED)
        if now <= self.second_by:
            raise RuleViolated("seconding-open", "This motion still has time to gather support.")
        self._lapse(at=now, by=by)

    @event("MotionLapsed")
    def _lapse(self, at: datetime, by: Provenance) -> None:
        self.status = MotionStatus.LAPSED

    def admit(self, by: Provenance) -> None:
        self._move(MotionStatus.ADMITTED)
        self._admit(by=by)

    @event("MotionAdmitted")
    def _admit(self, by: Provenance) -> None:
        self.status = MotionStatus.ADMITTED

    def decline(self, reason: str, by: Provenance) -> None:
        self._move(MotionStatus.DECLINED)
        _check_reason(reason)
        self._decline(reason=reason, by=by)

    @event("MotionDeclined")
    def _decline(self, reason: str, by: Provenance) -> None:
        self.status = MotionStatus.DECLINED

    def schedule(self, meeting: UUID, by: Provenance, noticed: bool = True) -> None:
        """``noticed``: put on the agenda before the meeting began (公示), which is the prior
        notice a motion to rescind needs to pass by a majority."""
        self._move(MotionStatus.SCHEDULED)
        self._schedule(meeting=meeting, noticed=noticed, by=by)

    @event("MotionScheduled")
    def _schedule(self, meeting: UUID, by: Provenance, noticed: bool = True) -> None:
        self.status = MotionStatus.SCHEDULED
        self.meeting = meeting
        self.noticed = noticed

    @event("AmendmentProposed")
    def note_amendment(self, amendment: UUID, by: Provenance) -> None:
        self.amendments.append(amendment)

    def open_vote(
        self,
        rules: VotingRules,
        meeting: Meeting,
        unsettled_amendments: int,
        now: datetime,
        by: Provenance,
    ) -> None:
        """Open voting at ``meeting``, under way with its attendance on record: who is entitled
        and who is present there go on the motion, for its quorum."""
        self._move(MotionStatus.VOTING)
        if unsettled_amendments:
            raise RuleViolated(
                "amendments-pending",
                "Settle this motion's amendments before voting on it.",
            )
        meeting.check_vote_may_open(now)
        if not meeting.entitled:
            raise RuleViolated("nobody-entitled", "Nobody is entitled to vote at this meeting.")
        if self.rescinds is not None:
            rules = rules_for_rescission(rules, noticed=self.noticed)
        self._open_vote(
            rules=rules,
            entitled=tuple(sorted(meeting.entitled)),
            present=tuple(sorted(meeting.present & meeting.entitled)),
            by=by,
        )

    @event("VotingOpened")
    def _open_vote(
        self,
        rules: VotingRules,
        entitled: tuple[UUID, ...],
        present: tuple[UUID, ...],
        by: Provenance,
    ) -> None:
        self.status = MotionStatus.VOTING
        self.rules = rules
        self.entitled = frozenset(entitled)
        self.present = frozenset(present)

    @property
    def is_secret(self) -> bool:
        return self.rules is not None and self.rules.secret

    @property
    def voters(self) -> frozenset[UUID]:
        """Who has cast a ballot (not how): one each."""
        return frozenset(self.ballots) | frozenset(self.sealed_ballots)

    def _box(self, box: BallotBox | None) -> BallotBox:
        if box is None:
            raise TypeError("A secret vote's ballots go through its ballot box.")
        return box

    def cast(
        self, voter: UUID, choice: Choice, by: Provenance, box: BallotBox | None = None
    ) -> None:
        """``box``: where a secret vote's choices are sealed (needed only for a secret vote)."""
        if self.status is not MotionStatus.VOTING:
            raise RuleViolated("voting-not-open", "Voting on this motion is not open.")
        if voter not in self.entitled:
            raise RuleViolated("not-entitled", "You are not entitled to vote on this motion.")
        if voter not in self.present:
            raise RuleViolated("not-present", "Only members present at the meeting vote.")
        assert self.rules is not None
        if voter in self.voters and not self.rules.votes_may_change:
            raise RuleViolated(
                "vote-already-cast", "You have voted, and this vote's rules allow no changes."
            )
        choice = Choice(choice)
        if not self.is_secret:
            earlier = self.ballots.get(voter)
            _check_changed(earlier, choice)
            self._cast(voter=voter, choice=choice, replaces=earlier, by=by)
            return
        box = self._box(box)
        sealed = self.sealed_ballots.get(voter)
        earlier = None if sealed is None else box.open(voter, sealed)
        _check_changed(earlier, choice)
        self._cast_secret(
            voter=voter, sealed_choice=box.seal(voter, choice), changed=earlier is not None, by=by
        )

    @event("BallotCast")
    def _cast(self, voter: UUID, choice: Choice, replaces: Choice | None, by: Provenance) -> None:
        """An open vote's ballot. ``replaces``: the voter's earlier choice, so a tally can be
        kept from the ballots as they come."""
        self.ballots[voter] = Choice(choice)

    @event("SecretBallotCast")
    def _cast_secret(self, voter: UUID, sealed_choice: str, changed: bool, by: Provenance) -> None:
        """A secret vote's ballot: who voted, and their choice sealed in the vote's box (only
        the voter and whether it replaces their earlier ballot are published)."""
        self.sealed_ballots[voter] = sealed_choice

    def choices(self, box: BallotBox | None = None) -> dict[UUID, Choice]:
        """Each voter's choice; a secret vote's are opened from ``box`` (while its key lasts)."""
        if not self.is_secret or not self.sealed_ballots:
            return dict(self.ballots)
        box = self._box(box)
        return {voter: box.open(voter, sealed) for voter, sealed in self.sealed_ballots.items()}

    def choice_of(self, voter: UUID, box: BallotBox | None = None) -> Choice | None:
        """``voter``'s own choice, if they voted; a secret vote's is opened from ``box`` for
        them alone (while its key lasts)."""
        if not self.is_secret:
            return self.ballots.get(voter)
        sealed = self.sealed_ballots.get(voter)
        return None if sealed is None else self._box(box).open(voter, sealed)

    def counts(self, box: BallotBox | None = None) -> Tally:
        """The counts as recorded at close, or (while the vote is open) of the ballots cast."""
        if self.tally_at_close is not None:
            return self.tally_at_close
        return tally(self.choices(box), entitled=self.entitled, present=self.present)

    def close_vote(self, by: Provenance, box: BallotBox | None = None) -> Result:
        """Count the ballots under the recorded rules; the counts and the result go on record
        (a secret vote's box is opened for the last time)."""
        if self.status is not MotionStatus.VOTING:
            raise RuleViolated("voting-not-open", "Voting on this motion is not open.")
        assert self.rules is not None
        counts = self.counts(box)
        result = decide(counts, self.rules)
        self._close_vote(result=result, yes=counts.yes, no=counts.no, abstain=counts.abstain, by=by)
        return result

    @event("VotingClosed")
    def _close_vote(
        self,
        result: Result,
        by: Provenance,
        yes: int | None = None,
        no: int | None = None,
        abstain: int | None = None,
    ) -> None:
        # The result is kept as decided, and is always the tally of the ballots under the
        # recorded rules (a replay recomputes it and the stateful test checks it). The counts
        # are recorded too: a secret vote's ballots can no longer be opened once it closed.
        self.result = Result(result)
        self.status = MotionStatus(self.result.value)
        if yes is not None and no is not None and abstain is not None:
            self.tally_at_close = Tally(
                yes=yes,
                no=no,
                abstain=abstain,
                entitled=len(self.entitled),
                present=len(self.present),
            )

    def withdraw(self, mover: UUID, reason: str, by: Provenance) -> None:
        if mover != self.mover:
            raise RuleViolated("not-the-mover", "Only the mover can withdraw a motion.")
        self._move(MotionStatus.WITHDRAWN)
        _check_reason(reason)
        self._withdraw(reason=reason, by=by)

    @event("MotionWithdrawn")
    def _withdraw(self, reason: str, by: Provenance) -> None:
        self.status = MotionStatus.WITHDRAWN

    def assign(self, owner: str, due: date | None, by: Provenance) -> None:
        """``owner``: a staff subject (``owner_for``); a stalled motion may get a new one."""
        if self.status is not MotionStatus.ADOPTED:
            self._move(MotionStatus.IMPLEMENTING)
        check_owner(owner)
        self._assign(owner=owner, due=due, by=by)

    @event("OwnerAssigned")
    def _assign(self, owner: str, due: date | None, by: Provenance) -> None:
        self.status = MotionStatus.IMPLEMENTING
        self.owner = owner

    def reassign(self, owner: str, reason: str, by: Provenance) -> None:
        """Hand the motion's implementation to someone else, saying why (the tracker shows the
        change with its reason); its progress and milestones stay with it."""
        self._check_implementing()
        check_owner(owner)
        if owner == self.owner:
            raise RuleViolated(
                "owner-unchanged", "This is already the motion's owner.", field="owner"
            )
        _check_reason(reason)
        check_no_contact_details(reason)  # the tracker shows it to anyone
        self._reassign(owner=owner, previous=self.owner, reason=reason, by=by)

    @event("MotionOwnerReassigned")
    def _reassign(self, owner: str, previous: str | None, reason: str, by: Provenance) -> None:
        self.owner = owner

    def _check_implementing(self) -> None:
        if self.status not in (MotionStatus.IMPLEMENTING, MotionStatus.STALLED):
            raise RuleViolated(
                "not-in-implementation", "Only an adopted motion with an owner has progress."
            )

    def report_progress(
        self, percent: int, note: str, by: Provenance, reporter: str | None = None
    ) -> None:
        """``reporter``: who reports, unless a council officer does (None); only the owner."""
        if reporter is not None and reporter != self.owner:
            raise RuleViolated("not-the-owner", "Only the motion's owner reports progress.")
        self._check_implementing()
        if type(percent) is not int or not 0 <= percent <= 100:
            raise RuleViolated("invalid-progress", "Progress is a whole percent from 0 to 100.")
        check_no_contact_details(note)
        self._report_progress(percent=percent, note=note, by=by)

    @event("ProgressReported")
    def _report_progress(self, percent: int, note: str, by: Provenance) -> None:
        self.progress = percent
        self.status = MotionStatus.IMPLEMENTING

    def add_milestone(self, name: str, due: date, by: Provenance) -> None:
        self._check_implementing()
        if not name.strip():
            raise RuleViolated("milestone-name-required", "Name the milestone.")
        check_no_contact_details(name)
        if name in self.milestones:
            raise RuleViolated("milestone-exists", f"There is already a milestone {name!r}.")
        self._add_milestone(name=name, due=due, by=by)

    @event("MilestoneAdded")
    def _add_milestone(self, name: str, due: date, by: Provenance) -> None:
        self.milestones[name] = False

    def reach_milestone(self, name: str, by: Provenance) -> None:
        self._check_implementing()
        if name not in self.milestones:
            raise RuleViolated("unknown-milestone", f"There is no milestone {name!r}.")
        if self.milestones[name]:
            raise RuleViolated("milestone-reached", f"Milestone {name!r} is already reached.")
        self._reach_milestone(name=name, by=by)

    @event("MilestoneReached")
    def _reach_milestone(self, name: str, by: Provenance) -> None:
        self.milestones[name] = True

    def finish(self, to: MotionStatus, reason: str, by: Provenance) -> None:
        """Done, stalled or cancelled; a stall or a cancellation says why."""
        if to not in (MotionStatus.DONE, MotionStatus.STALLED, MotionStatus.CANCELLED):
            raise RuleViolated(
                "invalid-outcome", "An implementation ends done, stalled or cancelled."
            )
        self._move(to)
        if to is not MotionStatus.DONE:
            _check_reason(reason)
        self._finish(status=to, reason=reason, by=by)

    @event("ImplementationUpdated")
    def _finish(self, status: MotionStatus, reason: str, by: Provenance) -> None:
        self.status = MotionStatus(status)


# Who may carry an adopted motion out: the station's staff who do the work. A motion records
# its owner by their staff subject, which is what a coordinator reporting progress signs in as.
OWNER_ROLES = frozenset({Role.COORDINATOR, Role.COUNCIL})
_STAFF_SUBJECT = re.compile(r"staff:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def check_owner(owner: str) -> None:
    """An owner named as a motion records one: ``staff:<id>``, the staff directory's id (any
    other name once passed, and then kept its coordinator from reporting progress)."""
    if is_blank(owner):
        raise RuleViolated("owner-required", "Name who carries the motion out.", field="owner")
    if not _STAFF_SUBJECT.fullmatch(owner):
        raise RuleViolated(
            "invalid-owner",
            "Name the owner by the id the staff directory lists for them.",
            field="owner",
        )


def owner_for(staff: Staff) -> str:
    """A motion's owner as the motion records them, by their staff subject (``staff:<id>``,
    the id the staff directory lists): an active coordinator or council officer."""
    if not staff.is_active or staff.role not in OWNER_ROLES:
        raise RuleViolated(
            "not-an-owner",
            "A motion's owner is an active coordinator or council officer.",
            field="owner",
        )
    return f"staff:{staff.id}"


def submit_motion(
    *,
    idempotency_key: str,
    mover: UUID,
    title: str,
    text: str,
    amends: Motion | None,
    reconsiders: Motion | None,
    rules: VotingRules,
    now: datetime,
    by: Provenance,
    rescinds: Motion | None = None,
    station: UUID = DEFAULT_STATION,
) -> Motion:
    """``station``: the mover's home station, whose council takes the motion; one it amends,
    reconsiders or rescinds is that council's too."""
    if not title.strip() or not text.strip():
        raise RuleViolated("motion-incomplete", "A motion needs a title and what it proposes.")
    for earlier in (amends, reconsiders, rescinds):
        if earlier is not None:
            check_same_council(earlier.station, station)
    check_no_contact_details(title, text)  # the board is public, on a shared screen
    if amends is not None and amends.status in SETTLED:
        raise RuleViolated(
            "amending-a-settled-motion", "A motion already decided cannot be amended."
        )
    if amends is not None and amends.status is MotionStatus.VOTING:
        raise RuleViolated(
            "parent-vote-open", "This motion is being voted on; it can no longer be amended."
        )
    if reconsiders is not None and reconsiders.status not in SETTLED:
        raise RuleViolated(
            "not-yet-decided", "Only a motion already decided can be reconsidered or rescinded."
        )
    if rescinds is not None and rescinds.status not in RESCINDABLE:
        raise RuleViolated(
            "not-rescindable",
            "Only an adopted motion, not yet done or cancelled, can be rescinded.",
        )
    motion = Motion(
        idempotency_key=idempotency_key,
        mover=mover,
        title=title.strip(),
        text=text,
        amends=amends.id if amends else None,
        reconsiders=reconsiders.id if reconsiders else None,
        second_by=now + timedelta(days=rules.seconding_days),
        seconding_threshold=rules.seconding_threshold,
        by=by,
        rescinds=rescinds.id if rescinds else None,
        station=station,
    )
    motion.second_if_enough(by)
    if amends is not None:
        amends.note_amendment(motion.id, by)
    return motion
