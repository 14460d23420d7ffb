"""Example tests of the council's voting rules, motions and meetings (domain/council.py,
domain/motion.py, domain/meeting.py), one rule at a time.

Every refusal is checked the same way: the command raises the expected code and leaves every
aggregate's version and state as it was, with no pending events.
"""

import copy
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from uuid import NAMESPACE_URL, UUID, uuid5

import pytest

from domain.council import (
    DEFAULT_RULES,
    Base,
    Choice,
    CouncilRules,
    Result,
    Tally,
    Threshold,
    council_rules_id,
    decide,
    rules_for_rescission,
    tally,
)
from domain.identity import CouncilTitle, Role, Staff
from domain.meeting import Meeting, call_meeting, meeting_id_for
from domain.motion import (
    RESCINDABLE,
    SETTLED,
    TRANSITIONS,
    Motion,
    MotionStatus,
    motion_id_for,
    owner_for,
    submit_motion,
)
from domain.provenance import Provenance
from domain.rules import RuleViolated
from tests.unit.ballot_box import MemoryBallotBox

BY = Provenance(actor="test", channel="test", correlation_id="c")
WHEN = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
SECOND = timedelta(seconds=1)
OWNER = f"staff:{uuid5(NAMESPACE_URL, 'urn:test:staff:works')}"  # as a motion records one
OTHER_OWNER = f"staff:{uuid5(NAMESPACE_URL, 'urn:test:staff:committee')}"
DEADLINE = WHEN + timedelta(days=DEFAULT_RULES.seconding_days)
# Residents: A-E sit on the council, F and G do not.
A, B, C, D, E, F, G = (UUID(int=i) for i in range(1, 8))
MEMBERS = (A, B, C, D, E)
S = MotionStatus
YES, NO, ABSTAIN = Choice.YES, Choice.NO, Choice.ABSTAIN


def rules(**changes):
    return replace(DEFAULT_RULES, **changes)


def counts(yes=0, no=0, abstain=0, entitled=10, present=10):
    return Tally(yes=yes, no=no, abstain=abstain, entitled=entitled, present=present)


# --- helpers -------------------------------------------------------------------------------------


class World:
    """In-memory motions, meetings and the council's rules, with helpers that bring a motion to
    any point of its lifecycle the way the application would."""

    def __init__(self) -> None:
        self.council = CouncilRules(DEFAULT_RULES, BY)
        self.motions = []
        self.meetings = []
        self._keys = 0
        self.box = MemoryBallotBox()  # where secret votes' choices are sealed

    def key(self):
        self._keys += 1
        return f"key-{self._keys}"

    def submit(
        self,
        mover=A,
        title="Fix the lift in block 3",
        text="Ask the property office to repair the lift within a month.",
        amends=None,
        reconsiders=None,
        rules=None,
        now=WHEN,
        key=None,
        rescinds=None,
    ):
        motion = submit_motion(
            idempotency_key=key or self.key(),
            mover=mover,
            title=title,
            text=text,
            amends=amends,
            reconsiders=reconsiders,
            rules=rules or self.council.rules,
            now=now,
            by=BY,
            rescinds=rescinds,
        )
        self.motions.append(motion)
        return motion

    def meeting(self, entitled=MEMBERS, present=None, key=None):
        meeting = call_meeting(
            idempotency_key=key or self.key(),
            title="Spring council",
            starts_at=WHEN + timedelta(days=40),
            place="Community hall",
            entitled=tuple(entitled),
            by=BY,
        )
        if present is not None:
            meeting.record_attendance(tuple(present), BY)
        self.meetings.append(meeting)
        return meeting

    def seconded(self, mover=A, **kwargs):
        motion = self.submit(mover=mover, **kwargs)
        others = [r for r in MEMBERS if r != mover]
        for supporter in others[: motion.seconding_threshold]:
            motion.support(supporter, WHEN, BY)
        assert motion.status is S.SECONDED
        return motion

    def admitted(self, **kwargs):
        motion = self.seconded(**kwargs)
        motion.admit(BY)
        return motion

    def scheduled(self, meeting=None, noticed=True, **kwargs):
        meeting = meeting or self.meeting(present=MEMBERS)
        motion = self.admitted(**kwargs)
        motion.schedule(meeting.id, BY, noticed=noticed)
        meeting.add_to_agenda(motion.id, BY)
        return motion

    def unsettled_amendments(self, motion):
        by_id = {m.id: m for m in self.motions}
        return sum(by_id[i].status not in SETTLED for i in motion.amendments)

    def sitting(self, entitled=MEMBERS, present=MEMBERS, attendance=True):
        """A meeting under way (called as any is, but with whoever is ``entitled``), its
        attendance on record unless told otherwise; those not entitled are not recorded."""
        meeting = Meeting(
            idempotency_key=self.key(),
            title="Spring council",
            starts_at=WHEN + timedelta(days=40),
            place="Community hall",
            entitled=tuple(entitled),
            by=BY,
        )
        if attendance:
            meeting.record_attendance(tuple(set(present) & set(entitled)), BY)
        return meeting

    def open(self, motion, rules=None, entitled=MEMBERS, present=MEMBERS, meeting=None, now=None):
        meeting = meeting or self.sitting(entitled, present)
        motion.open_vote(
            rules or self.council.rules,
            meeting,
            self.unsettled_amendments(motion),
            now or meeting.starts_at,
            BY,
        )

    def voting(self, rules=None, entitled=MEMBERS, present=MEMBERS, **kwargs):
        motion = self.scheduled(**kwargs)
        self.open(motion, rules, entitled, present)
        return motion

    def decided(self, result=Result.ADOPTED, **kwargs):
        motion = self.voting(**kwargs)
        choice = NO if result is Result.REJECTED else YES
        if result is not Result.NO_QUORUM:
            for voter in sorted(motion.present):
                motion.cast(voter, choice, BY, self.box)
        assert motion.close_vote(BY, self.box) is result
        return motion

    def implementing(self, **kwargs):
        motion = self.decided(**kwargs)
        motion.assign(OWNER, date(2024, 9, 1), BY)
        return motion

    def stalled(self, **kwargs):
        motion = self.implementing(**kwargs)
        motion.finish(S.STALLED, "waiting for the contractor", BY)
        return motion

    def aggregates(self):
        return [self.council, *self.motions, *self.meetings]

    def snapshot(self):
        return {
            a.id: (
                a.version,
                {k: copy.deepcopy(v) for k, v in vars(a).items() if k != "_pending_events"},
            )
            for a in self.aggregates()
        }

    def flush(self):
        for aggregate in self.aggregates():
            aggregate.collect_events()

    def pending(self):
        return [event for a in self.aggregates() for event in a.collect_events()]


@pytest.fixture
def world():
    return World()


def assert_refused(world, code, command):
    """Run ``command``: it must raise ``code`` and change nothing at all."""
    world.flush()
    before = world.snapshot()
    count = len(world.motions), len(world.meetings)
    with pytest.raises(RuleViolated) as info:
        command()
    assert info.value.code == code, info.value.message
    assert (len(world.motions), len(world.meetings)) == count
    assert world.snapshot() == before
    assert world.pending() == []
    return info.value


def names(aggregate):
    return names_of(aggregate.collect_events())


def names_of(events):
    return [type(event).__name__ for event in events]


# --- decide: thresholds --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("yes", "no", "expected"),
    [
        (3, 2, Result.ADOPTED),
        (1, 0, Result.ADOPTED),
        (2, 2, Result.REJECTED),  # a tie fails
        (0, 0, Result.REJECTED),  # nobody voted
        (2, 3, Result.REJECTED),
        (50, 50, Result.REJECTED),
        (51, 50, Result.ADOPTED),
    ],
)
def test_a_simple_majority_needs_more_than_half_of_the_votes_cast(yes, no, expected):
    assert decide(counts(yes, no, entitled=200, present=200), DEFAULT_RULES) is expected


@pytest.mark.parametrize(
    ("yes", "no", "expected"),
    [
        (2, 1, Result.ADOPTED),  # exactly two thirds
        (4, 2, Result.ADOPTED),
        (200, 100, Result.ADOPTED),
        (199, 101, Result.REJECTED),  # just under two thirds
        (3, 2, Result.REJECTED),
        (6, 4, Result.REJECTED),
        (1, 1, Result.REJECTED),
        (0, 0, Result.REJECTED),  # nothing cast: no share of nothing passes
        (1, 0, Result.ADOPTED),
    ],
)
def test_two_thirds_is_exactly_two_thirds_of_the_votes_cast(yes, no, expected):
    two_thirds = rules(threshold=Threshold.TWO_THIRDS)
    assert decide(counts(yes, no, entitled=300, present=300), two_thirds) is expected


@pytest.mark.parametrize("base", list(Base))
@pytest.mark.parametrize(
    ("yes", "no", "present", "expected"),
    [
        (5, 0, 10, Result.REJECTED),  # half of the members is not a majority of them
        (6, 0, 6, Result.ADOPTED),  # six of ten members, whoever else came
        (6, 4, 10, Result.ADOPTED),
        (5, 1, 7, Result.REJECTED),  # a majority of those voting, not of the members
        (4, 0, 4, Result.REJECTED),
    ],
)
def test_a_majority_of_members_counts_those_entitled_not_those_voting(
    base, yes, no, present, expected
):
    majority = rules(threshold=Threshold.MAJORITY_OF_MEMBERS, base=base, quorum_share=0)
    assert decide(counts(yes, no, entitled=10, present=present), majority) is expected


@pytest.mark.parametrize(
    ("yes", "threshold", "expected"),
    [
        (3, Threshold.SIMPLE_MAJORITY, Result.REJECTED),  # 3 of 7 present
        (4, Threshold.SIMPLE_MAJORITY, Result.ADOPTED),
        (4, Threshold.TWO_THIRDS, Result.REJECTED),  # 12 < 14
        (5, Threshold.TWO_THIRDS, Result.ADOPTED),
    ],
)
def test_a_present_base_counts_everyone_present_whether_they_voted_or_not(yes, threshold, expected):
    present_base = rules(base=Base.PRESENT, threshold=threshold)
    # Seven of ten present; only the yes votes were cast: silence counts against.
    assert decide(counts(yes, 0, entitled=10, present=7), present_base) is expected


@pytest.mark.parametrize(
    ("yes", "threshold", "expected"),
    [
        (5, Threshold.SIMPLE_MAJORITY, Result.REJECTED),  # 5 of 10 entitled
        (6, Threshold.SIMPLE_MAJORITY, Result.ADOPTED),
        (6, Threshold.TWO_THIRDS, Result.REJECTED),  # 18 < 20
        (7, Threshold.TWO_THIRDS, Result.ADOPTED),
    ],
)
def test_an_entitled_base_counts_every_member_even_the_absent(yes, threshold, expected):
    entitled_base = rules(base=Base.ENTITLED, threshold=threshold)
    assert decide(counts(yes, 0, entitled=10, present=8), entitled_base) is expected


@pytest.mark.parametrize(
    ("threshold", "yes", "no", "abstain", "not_counted", "counted"),
    [
        (Threshold.SIMPLE_MAJORITY, 3, 2, 5, Result.ADOPTED, Result.REJECTED),
        (Threshold.SIMPLE_MAJORITY, 3, 2, 0, Result.ADOPTED, Result.ADOPTED),
        (Threshold.TWO_THIRDS, 2, 1, 1, Result.ADOPTED, Result.REJECTED),
        (Threshold.TWO_THIRDS, 4, 0, 2, Result.ADOPTED, Result.ADOPTED),  # 12 >= 12
        (Threshold.TWO_THIRDS, 0, 0, 3, Result.REJECTED, Result.REJECTED),
    ],
)
def test_abstentions_are_part_of_a_cast_base_only_when_they_count(
    threshold, yes, no, abstain, not_counted, counted
):
    tally_ = counts(yes, no, abstain)
    base = rules(threshold=threshold, base=Base.CAST)
    assert decide(tally_, replace(base, abstentions_count=False)) is not_counted
    assert decide(tally_, replace(base, abstentions_count=True)) is counted


@pytest.mark.parametrize("base", [Base.PRESENT, Base.ENTITLED])
def test_abstentions_count_only_changes_a_cast_base(base):
    tally_ = counts(yes=6, no=1, abstain=3, entitled=10, present=10)
    for threshold in Threshold:
        results = {
            decide(tally_, rules(threshold=threshold, base=base, abstentions_count=flag))
            for flag in (True, False)
        }
        assert len(results) == 1


# --- decide: quorum ------------------------------------------------------------------------------


@pytest.mark.parametrize(("present", "expected"), [(4, Result.NO_QUORUM), (5, Result.ADOPTED)])
def test_a_quorum_by_count(present, expected):
    by_count = rules(quorum_count=5, quorum_share=0)
    assert decide(counts(present, 0, entitled=20, present=present), by_count) is expected


@pytest.mark.parametrize(
    ("share", "entitled", "present", "expected"),
    [
        (0.5, 10, 4, Result.NO_QUORUM),
        (0.5, 10, 5, Result.ADOPTED),  # exactly half is enough: "at least"
        (0.5, 9, 4, Result.NO_QUORUM),  # 4 of 9 is under half
        (0.5, 9, 5, Result.ADOPTED),
        (2 / 3, 9, 5, Result.NO_QUORUM),
        (2 / 3, 9, 6, Result.ADOPTED),
        (0.75, 4, 3, Result.ADOPTED),
        (1, 5, 4, Result.NO_QUORUM),
        (1, 5, 5, Result.ADOPTED),
        (0, 5, 1, Result.ADOPTED),
    ],
)
def test_a_quorum_by_share_of_those_entitled(share, entitled, present, expected):
    by_share = rules(quorum_count=0, quorum_share=share)
    assert decide(counts(present, 0, entitled=entitled, present=present), by_share) is expected


def test_both_the_quorum_count_and_the_quorum_share_must_be_met():
    both = rules(quorum_count=3, quorum_share=0.5)
    assert decide(counts(2, 0, entitled=4, present=2), both) is Result.NO_QUORUM  # share met
    assert decide(counts(3, 0, entitled=10, present=3), both) is Result.NO_QUORUM  # count met
    assert decide(counts(3, 0, entitled=6, present=3), both) is Result.ADOPTED


def test_without_a_quorum_even_a_unanimous_vote_is_void():
    unanimous = counts(yes=4, no=0, entitled=10, present=4)
    for threshold in Threshold:
        for base in Base:
            assert decide(unanimous, rules(threshold=threshold, base=base)) is Result.NO_QUORUM


def test_with_no_quorum_required_an_empty_room_rejects():
    nobody = rules(quorum_count=0, quorum_share=0)
    assert decide(counts(entitled=5, present=0), nobody) is Result.REJECTED


@pytest.mark.parametrize(("share", "present"), [(0.56, 14), (0.28, 7)])
def test_a_quorum_of_exactly_the_share_is_met_whatever_the_share(share, present):
    # As floats, 0.56 * 25 == 14.000000000000002 and 0.28 * 25 == 7.000000000000001: the share
    # is taken as the decimal the council wrote, so 14 and 7 of 25 are exactly enough.
    by_share = rules(quorum_count=0, quorum_share=share)
    assert present / 25 == share
    assert decide(counts(present, 0, entitled=25, present=present), by_share) is Result.ADOPTED


# --- tally ---------------------------------------------------------------------------------------


def test_a_tally_counts_only_the_ballots_of_members_entitled_and_present():
    ballots = {A: YES, B: NO, C: ABSTAIN, D: YES, F: YES, G: NO}
    # D is entitled but absent; F came but is not entitled; G is neither.
    result = tally(ballots, entitled=frozenset(MEMBERS), present=frozenset({A, B, C, E, F}))
    assert result == Tally(yes=1, no=1, abstain=1, entitled=5, present=4)
    assert result.cast == 3


def test_a_tally_of_no_ballots():
    result = tally({}, entitled=frozenset(MEMBERS), present=frozenset())
    assert result == Tally(yes=0, no=0, abstain=0, entitled=5, present=0)
    assert result.cast == 0


# --- voting rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [{"quorum_count": -1}, {"quorum_share": -0.01}, {"quorum_share": 1.01}, {"quorum_share": 2}],
)
def test_a_quorum_is_a_count_of_zero_or_more_and_a_share_from_zero_to_one(changes):
    with pytest.raises(RuleViolated) as info:
        rules(**changes)
    assert info.value.code == "invalid-quorum"


@pytest.mark.parametrize(
    "changes", [{"seconding_threshold": -1}, {"seconding_days": 0}, {"seconding_days": -3}]
)
def test_seconding_needs_zero_or_more_supporters_and_at_least_a_day(changes):
    with pytest.raises(RuleViolated) as info:
        rules(**changes)
    assert info.value.code == "invalid-seconding"


def test_the_edges_of_valid_rules_are_allowed():
    edge = rules(quorum_count=0, quorum_share=0, seconding_threshold=0, seconding_days=1)
    assert edge.quorum_share == 0
    assert rules(quorum_share=1).quorum_share == 1


# --- council rules -------------------------------------------------------------------------------


def test_the_council_rules_are_one_aggregate_set_with_who_set_them():
    council = CouncilRules(DEFAULT_RULES, BY)
    assert council.id == council_rules_id() == CouncilRules.create_id()
    assert council.rules == DEFAULT_RULES
    events = council.collect_events()
    assert [type(e).__name__ for e in events] == ["CouncilRulesSet"]
    assert events[0].by == BY


def test_changing_the_rules_records_who_and_why(world):
    world.flush()
    two_thirds = rules(threshold=Threshold.TWO_THIRDS)
    world.council.change(two_thirds, "constitutional change", BY)
    assert world.council.rules == two_thirds
    events = world.council.collect_events()
    assert [type(e).__name__ for e in events] == ["CouncilRulesChanged"]
    assert events[0].reason == "constitutional change"
    assert world.council.version == 2


@pytest.mark.parametrize("reason", ["", "   "])
def test_changing_the_rules_needs_a_reason(world, reason):
    assert_refused(
        world,
        "reason-required",
        lambda: world.council.change(rules(threshold=Threshold.TWO_THIRDS), reason, BY),
    )


def test_changing_the_rules_to_the_rules_in_force_is_refused(world):
    same = rules()  # equal to, not the same object as, the rules in force
    assert_refused(world, "rules-unchanged", lambda: world.council.change(same, "again", BY))


# --- submitting ----------------------------------------------------------------------------------


def test_submitting_a_motion(world):
    motion = world.submit(title="  Fix the lift  ", key="lift")
    assert motion.id == motion_id_for("lift") == Motion.create_id("lift")
    assert motion.status is S.SUBMITTED
    assert (motion.mover, motion.title) == (A, "Fix the lift")
    assert motion.second_by == DEADLINE
    assert motion.seconding_threshold == DEFAULT_RULES.seconding_threshold
    assert motion.supporters == set()
    assert (motion.amends, motion.reconsiders, motion.meeting, motion.rules) == (None,) * 4
    assert (motion.ballots, motion.result) == ({}, None)
    assert names(motion) == ["MotionSubmitted"]


@pytest.mark.parametrize(("title", "text"), [("", "do it"), ("  ", "do it"), ("Lift", " ")])
def test_a_motion_needs_a_title_and_what_it_proposes(world, title, text):
    parent = world.submit()
    assert_refused(
        world, "motion-incomplete", lambda: world.submit(title=title, text=text, amends=parent)
    )


def test_a_motion_needing_no_supporters_is_seconded_at_once(world):
    motion = world.submit(rules=rules(seconding_threshold=0))
    assert motion.status is S.SECONDED
    assert names(motion) == ["MotionSubmitted", "MotionSeconded"]


def test_the_seconding_rules_are_those_in_force_at_submission(world):
    motion = world.submit(rules=rules(seconding_threshold=1, seconding_days=7))
    assert (motion.seconding_threshold, motion.second_by) == (1, WHEN + timedelta(days=7))


# --- support and lapse ---------------------------------------------------------------------------


def test_a_motion_is_seconded_exactly_at_the_threshold(world):
    motion = world.submit()
    world.flush()
    motion.support(B, WHEN, BY)
    motion.support(C, WHEN, BY)
    assert motion.status is S.SUBMITTED
    assert names(motion) == ["MotionSupported", "MotionSupported"]
    motion.support(D, WHEN, BY)
    assert motion.status is S.SECONDED
    assert motion.supporters == {B, C, D}
    assert names(motion) == ["MotionSupported", "MotionSeconded"]


def test_the_mover_cannot_support_their_own_motion(world):
    motion = world.submit(mover=A)
    assert_refused(world, "own-motion", lambda: motion.support(A, WHEN, BY))


def test_a_resident_supports_a_motion_once(world):
    motion = world.submit()
    motion.support(B, WHEN, BY)
    assert_refused(world, "already-supported", lambda: motion.support(B, WHEN, BY))


def test_support_at_the_deadline_counts(world):
    motion = world.submit(rules=rules(seconding_threshold=1))
    motion.support(B, DEADLINE, BY)
    assert motion.status is S.SECONDED


def test_support_after_the_deadline_is_refused(world):
    motion = world.submit()
    assert_refused(world, "seconding-closed", lambda: motion.support(B, DEADLINE + SECOND, BY))


def test_a_seconded_motion_takes_no_more_support(world):
    motion = world.seconded()
    assert_refused(world, "motion-seconded", lambda: motion.support(E, WHEN, BY))


def test_anyone_may_support_not_only_council_members(world):
    motion = world.submit(rules=rules(seconding_threshold=2))
    motion.support(F, WHEN, BY)
    motion.support(G, WHEN, BY)
    assert motion.status is S.SECONDED


@pytest.mark.parametrize("now", [WHEN, DEADLINE - SECOND, DEADLINE])
def test_a_motion_does_not_lapse_while_it_may_still_gather_support(world, now):
    motion = world.submit()
    assert_refused(world, "seconding-open", lambda: motion.lapse(now, BY))


def test_a_motion_lapses_after_its_deadline(world):
    motion = world.submit()
    motion.support(B, WHEN, BY)
    world.flush()
    motion.lapse(DEADLINE + SECOND, BY)
    assert motion.status is S.LAPSED
    assert names(motion) == ["MotionLapsed"]
    assert_refused(world, "motion-lapsed", lambda: motion.support(C, WHEN, BY))


def test_a_seconded_motion_does_not_lapse(world):
    motion = world.seconded()
    assert_refused(world, "motion-seconded", lambda: motion.lapse(DEADLINE + SECOND, BY))


# --- admit, decline, schedule --------------------------------------------------------------------


def test_admitting_a_seconded_motion(world):
    motion = world.seconded()
    world.flush()
    motion.admit(BY)
    assert motion.status is S.ADMITTED
    assert names(motion) == ["MotionAdmitted"]


def test_an_unseconded_motion_cannot_be_admitted_or_declined(world):
    motion = world.submit()
    assert_refused(world, "motion-submitted", lambda: motion.admit(BY))
    assert_refused(world, "motion-submitted", lambda: motion.decline("off topic", BY))


def test_declining_a_motion(world):
    motion = world.seconded()
    world.flush()
    motion.decline("not the council's business", BY)
    assert motion.status is S.DECLINED
    assert names(motion) == ["MotionDeclined"]
    assert_refused(world, "motion-declined", lambda: motion.admit(BY))


@pytest.mark.parametrize("reason", ["", "  "])
def test_declining_needs_a_reason(world, reason):
    motion = world.seconded()
    assert_refused(world, "reason-required", lambda: motion.decline(reason, BY))


def test_an_admitted_motion_is_admitted_once(world):
    motion = world.admitted()
    assert_refused(world, "motion-admitted", lambda: motion.admit(BY))
    assert_refused(world, "motion-admitted", lambda: motion.decline("changed our minds", BY))


def test_scheduling_an_admitted_motion_for_a_meeting(world):
    meeting = world.meeting()
    motion = world.admitted()
    world.flush()
    motion.schedule(meeting.id, BY)
    assert (motion.status, motion.meeting) == (S.SCHEDULED, meeting.id)
    assert names(motion) == ["MotionScheduled"]


def test_only_an_admitted_motion_is_scheduled(world):
    meeting = world.meeting()
    seconded = world.seconded()
    assert_refused(world, "motion-seconded", lambda: seconded.schedule(meeting.id, BY))
    scheduled = world.scheduled(meeting)
    assert_refused(world, "motion-scheduled", lambda: scheduled.schedule(meeting.id, BY))


# --- opening a vote ------------------------------------------------------------------------------


def test_opening_a_vote_records_the_rules_and_who_may_vote(world):
    motion = world.scheduled()
    world.flush()
    two_thirds = rules(threshold=Threshold.TWO_THIRDS)
    # F and G are in the room but not on the council.
    world.open(motion, two_thirds, entitled=MEMBERS, present={A, B, C, F, G})
    assert motion.status is S.VOTING
    assert motion.rules == two_thirds
    assert motion.entitled == frozenset(MEMBERS)
    assert motion.present == frozenset({A, B, C})
    assert names(motion) == ["VotingOpened"]


def test_only_a_scheduled_motion_opens_for_voting(world):
    motion = world.admitted()
    assert_refused(world, "motion-admitted", lambda: world.open(motion))
    voting = world.voting()
    assert_refused(world, "motion-voting", lambda: world.open(voting))


def test_a_vote_waits_for_its_amendments(world):
    motion = world.scheduled(mover=A)
    amendment = world.submit(mover=B, amends=motion, title="Fix it within a week")
    assert motion.amendments == [amendment.id]
    assert_refused(world, "amendments-pending", lambda: world.open(motion))
    amendment.withdraw(B, "merged into the motion", BY)
    world.open(motion)
    assert motion.status is S.VOTING


def test_a_vote_needs_someone_entitled(world):
    motion = world.scheduled()
    assert_refused(world, "nobody-entitled", lambda: world.open(motion, entitled=()))


def test_a_vote_opens_once_the_meeting_has_begun(world):
    motion = world.scheduled()
    meeting = world.sitting()
    early = meeting.starts_at - timedelta(minutes=1)
    refusal = assert_refused(
        world, "meeting-not-started", lambda: world.open(motion, meeting=meeting, now=early)
    )
    assert meeting.starts_at.isoformat(timespec="minutes") in refusal.message
    world.open(motion, meeting=meeting, now=meeting.starts_at)
    assert motion.status is S.VOTING


def test_a_vote_opens_once_attendance_is_recorded(world):
    motion = world.scheduled()
    meeting = world.sitting(attendance=False)
    assert_refused(world, "attendance-not-recorded", lambda: world.open(motion, meeting=meeting))
    meeting.record_attendance((A, B, C), BY)
    world.open(motion, meeting=meeting)
    assert motion.present == frozenset({A, B, C})


def test_a_vote_does_not_open_at_a_closed_meeting(world):
    motion = world.scheduled()
    meeting = world.sitting()
    meeting.close(BY)
    assert_refused(world, "meeting-closed", lambda: world.open(motion, meeting=meeting))


def test_a_vote_may_open_with_nobody_present(world):
    motion = world.scheduled()
    world.open(motion, present=())
    assert motion.present == frozenset()
    assert motion.close_vote(BY) is Result.NO_QUORUM


# --- casting -------------------------------------------------------------------------------------


def test_casting_a_ballot(world):
    motion = world.voting()
    world.flush()
    motion.cast(A, YES, BY)
    motion.cast(B, NO, BY)
    motion.cast(C, ABSTAIN, BY)
    assert motion.ballots == {A: YES, B: NO, C: ABSTAIN}
    assert motion.counts() == Tally(yes=1, no=1, abstain=1, entitled=5, present=5)
    assert names(motion) == ["BallotCast"] * 3


def test_no_ballot_before_the_vote_opens_or_after_it_closes(world):
    scheduled = world.scheduled()
    assert_refused(world, "voting-not-open", lambda: scheduled.cast(A, YES, BY))
    closed = world.decided()
    assert_refused(world, "voting-not-open", lambda: closed.cast(A, NO, BY))


def test_only_members_entitled_vote(world):
    motion = world.voting(present={A, B, C, F})
    assert_refused(world, "not-entitled", lambda: motion.cast(F, YES, BY))
    assert_refused(world, "not-entitled", lambda: motion.cast(G, YES, BY))


def test_only_members_present_vote(world):
    motion = world.voting(present={A, B, C})
    assert_refused(world, "not-present", lambda: motion.cast(E, YES, BY))


def test_a_vote_cannot_change_when_the_rules_say_so(world):
    motion = world.voting(rules=rules(votes_may_change=False))
    motion.cast(A, YES, BY)
    assert_refused(world, "vote-already-cast", lambda: motion.cast(A, NO, BY))
    assert_refused(world, "vote-already-cast", lambda: motion.cast(A, YES, BY))
    assert motion.ballots == {A: YES}


def test_a_changed_vote_replaces_the_earlier_one(world):
    motion = world.voting(rules=rules(votes_may_change=True))
    world.flush()
    motion.cast(A, YES, BY)
    motion.cast(A, NO, BY)
    motion.cast(A, ABSTAIN, BY)
    assert motion.ballots == {A: ABSTAIN}
    assert motion.counts() == Tally(yes=0, no=0, abstain=1, entitled=5, present=5)
    # Each ballot names the one it replaces, so a secret tally can follow without names.
    events = motion.collect_events()
    assert [(e.choice, e.replaces) for e in events] == [(YES, None), (NO, YES), (ABSTAIN, NO)]


def test_casting_the_same_vote_again_is_refused(world):
    motion = world.voting()
    motion.cast(A, YES, BY)
    assert_refused(world, "same-vote", lambda: motion.cast(A, YES, BY))


# --- closing -------------------------------------------------------------------------------------


BALLOTS = {A: YES, B: YES, C: NO, D: ABSTAIN}  # E is absent


@pytest.mark.parametrize(
    ("vote_rules", "expected"),
    [
        (rules(), Result.ADOPTED),  # 2 of 3 cast
        (rules(abstentions_count=True), Result.REJECTED),  # 2 of 4
        (rules(threshold=Threshold.TWO_THIRDS), Result.ADOPTED),  # exactly 2 of 3
        (rules(threshold=Threshold.TWO_THIRDS, base=Base.PRESENT), Result.REJECTED),
        (rules(threshold=Threshold.MAJORITY_OF_MEMBERS), Result.REJECTED),  # 2 of 5
        (rules(quorum_count=5), Result.NO_QUORUM),
        (rules(quorum_share=0.8), Result.ADOPTED),  # 4 of 5 present
        (rules(quorum_share=0.81), Result.NO_QUORUM),
    ],
)
def test_the_result_is_the_tally_of_the_ballots_under_the_rules_at_opening(
    world, vote_rules, expected
):
    motion = world.voting(rules=vote_rules, present={A, B, C, D})
    for voter, choice in BALLOTS.items():
        motion.cast(voter, choice, BY)
    world.flush()
    result = motion.close_vote(BY)
    assert result is expected
    assert result is decide(
        tally(BALLOTS, entitled=motion.entitled, present=motion.present), vote_rules
    )
    assert motion.result is expected
    assert motion.status is MotionStatus(expected.value)
    assert names(motion) == ["VotingClosed"]
    assert_refused(world, "voting-not-open", lambda: motion.close_vote(BY))


def test_a_closed_vote_keeps_the_rules_it_opened_under_when_the_rules_change(world):
    motion = world.voting(rules=world.council.rules)
    motion.cast(A, YES, BY)
    motion.cast(B, YES, BY)
    motion.cast(C, NO, BY)
    world.council.change(rules(threshold=Threshold.MAJORITY_OF_MEMBERS), "stricter", BY)
    assert motion.close_vote(BY) is Result.ADOPTED  # 2 of 3 cast, though only 2 of 5 members
    assert motion.rules == DEFAULT_RULES
    later = world.voting()
    assert later.rules == rules(threshold=Threshold.MAJORITY_OF_MEMBERS)


def test_a_motion_submitted_before_the_rules_change_keeps_its_seconding_threshold(world):
    motion = world.submit()
    world.council.change(rules(seconding_threshold=1), "easier seconding", BY)
    motion.support(B, WHEN, BY)
    assert motion.status is S.SUBMITTED
    assert motion.seconding_threshold == 3


def test_closing_records_the_counts_the_result_was_decided_on(world):
    motion = world.voting(present={A, B, C, D})
    for voter, choice in BALLOTS.items():
        motion.cast(voter, choice, BY)
    world.flush()
    motion.close_vote(BY)
    (event,) = motion.collect_events()
    assert (event.result, event.yes, event.no, event.abstain) == (Result.ADOPTED, 2, 1, 1)
    assert motion.tally_at_close == Tally(yes=2, no=1, abstain=1, entitled=5, present=4)


# --- secret ballots ------------------------------------------------------------------------------


def secret_vote(world, **changes):
    return world.voting(rules=rules(secret=True, **changes), present={A, B, C, D})


def test_a_secret_ballot_records_who_voted_and_the_choice_only_sealed(world):
    motion = secret_vote(world)
    world.flush()
    for voter, choice in BALLOTS.items():
        motion.cast(voter, choice, BY, world.box)
    events = motion.collect_events()
    assert names_of(events) == ["SecretBallotCast"] * 4
    for event, (voter, choice) in zip(events, BALLOTS.items(), strict=True):
        assert (event.voter, event.changed) == (voter, False)
        assert not {"choice", "replaces"} & set(vars(event))
        assert choice.value not in event.sealed_choice
        assert world.box.open(voter, event.sealed_choice) is choice
    assert motion.ballots == {} and set(motion.sealed_ballots) == set(BALLOTS)
    assert motion.voters == set(BALLOTS)
    assert motion.choices(world.box) == BALLOTS
    assert motion.counts(world.box) == Tally(yes=2, no=1, abstain=1, entitled=5, present=4)


def test_a_secret_vote_counts_the_sealed_ballots_and_records_only_the_counts(world):
    motion = secret_vote(world)
    for voter, choice in BALLOTS.items():
        motion.cast(voter, choice, BY, world.box)
    world.flush()
    assert motion.close_vote(BY, world.box) is Result.ADOPTED
    (closed,) = motion.collect_events()
    assert (closed.yes, closed.no, closed.abstain) == (2, 1, 1)
    # Once the box is destroyed the ballots cannot be opened, and the counts still read.
    world.box.destroy()
    with pytest.raises(RuleViolated) as info:
        motion.choices(world.box)
    assert info.value.code == "ballot-box-destroyed"
    counts = motion.counts(world.box)
    assert counts == Tally(yes=2, no=1, abstain=1, entitled=5, present=4)
    assert decide(counts, motion.rules) is motion.result


def test_a_secret_vote_replays_to_its_result_after_its_box_is_destroyed(world):
    motion = secret_vote(world)
    events = motion.collect_events()
    for voter, choice in BALLOTS.items():
        motion.cast(voter, choice, BY, world.box)
    motion.cast(C, YES, BY, world.box)  # a changed vote
    motion.close_vote(BY, world.box)
    events += motion.collect_events()
    world.box.destroy()
    replayed = None
    for event in events:
        replayed = event.mutate(replayed)
    assert replayed.sealed_ballots == motion.sealed_ballots
    assert (replayed.result, replayed.tally_at_close) == (Result.ADOPTED, motion.tally_at_close)
    assert replayed.counts() == Tally(yes=3, no=0, abstain=1, entitled=5, present=4)


def test_a_secret_vote_changes_and_refuses_as_an_open_one_does(world):
    motion = secret_vote(world)
    motion.cast(A, YES, BY, world.box)
    assert_refused(world, "same-vote", lambda: motion.cast(A, YES, BY, world.box))
    motion.cast(A, NO, BY, world.box)
    (*_, changed) = motion.collect_events()
    assert (changed.voter, changed.changed) == (A, True)
    assert motion.choices(world.box) == {A: NO}
    fixed = secret_vote(world, votes_may_change=False)
    fixed.cast(A, YES, BY, world.box)
    assert_refused(world, "vote-already-cast", lambda: fixed.cast(A, NO, BY, world.box))
    assert_refused(world, "not-present", lambda: fixed.cast(E, NO, BY, world.box))


def test_a_voter_sees_their_own_choice_alone_open_or_secret(world):
    for motion in (world.voting(present={A, B, C, D}), secret_vote(world)):
        assert motion.choice_of(A, world.box) is None
        motion.cast(A, YES, BY, world.box)
        motion.cast(B, NO, BY, world.box)
        assert (motion.choice_of(A, world.box), motion.choice_of(B, world.box)) == (YES, NO)


def test_a_secret_vote_is_cast_and_counted_only_through_its_box(world):
    motion = secret_vote(world)
    with pytest.raises(TypeError):
        motion.cast(A, YES, BY)
    motion.cast(A, YES, BY, world.box)
    with pytest.raises(TypeError):
        motion.close_vote(BY)
    assert motion.status is S.VOTING


# --- withdrawing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["submit", "seconded", "admitted", "scheduled"])
def test_the_mover_may_withdraw_before_the_vote(world, stage):
    motion = getattr(world, stage)(mover=B)
    world.flush()
    motion.withdraw(B, "solved already", BY)
    assert motion.status is S.WITHDRAWN
    assert names(motion) == ["MotionWithdrawn"]


def test_only_the_mover_withdraws(world):
    motion = world.seconded(mover=B)
    assert_refused(world, "not-the-mover", lambda: motion.withdraw(A, "I object", BY))


@pytest.mark.parametrize("reason", ["", "  "])
def test_withdrawing_needs_a_reason(world, reason):
    motion = world.seconded(mover=B)
    assert_refused(world, "reason-required", lambda: motion.withdraw(B, reason, BY))


def test_a_motion_cannot_be_withdrawn_once_voting_opened(world):
    voting = world.voting(mover=B)
    assert_refused(world, "motion-voting", lambda: voting.withdraw(B, "too late", BY))
    adopted = world.decided(mover=B)
    assert_refused(world, "motion-adopted", lambda: adopted.withdraw(B, "too late", BY))
    withdrawn = world.submit(mover=B)
    withdrawn.withdraw(B, "changed my mind", BY)
    assert_refused(world, "motion-withdrawn", lambda: withdrawn.withdraw(B, "again", BY))


# --- implementation ------------------------------------------------------------------------------


def test_assigning_an_owner_starts_the_implementation(world):
    motion = world.decided()
    world.flush()
    motion.assign(OWNER, date(2024, 9, 1), BY)
    assert (motion.status, motion.owner) == (S.IMPLEMENTING, OWNER)
    assert names(motion) == ["OwnerAssigned"]


@pytest.mark.parametrize("result", [Result.REJECTED, Result.NO_QUORUM])
def test_only_an_adopted_motion_is_implemented(world, result):
    motion = world.decided(result, rules=rules(quorum_count=6 if result is Result.NO_QUORUM else 0))
    code = f"motion-{result.value.replace('_', '-')}"
    assert_refused(world, code, lambda: motion.assign(OWNER, None, BY))


def test_an_owner_is_named(world):
    motion = world.decided()
    assert_refused(world, "owner-required", lambda: motion.assign("  ", None, BY))


@pytest.mark.parametrize(
    "named", ["Property office", "coord.one", str(uuid5(NAMESPACE_URL, "x")), "staff:works"]
)
def test_an_owner_is_named_as_the_staff_directory_lists_them(world, named):
    motion = world.decided()
    refusal = assert_refused(world, "invalid-owner", lambda: motion.assign(named, None, BY))
    assert refusal.field == "owner"


def test_only_an_active_coordinator_or_council_officer_owns_a_motion():
    coordinator = Staff("coord.one", Role.COORDINATOR, "hash", BY)
    officer = Staff("chair", Role.COUNCIL, "hash", BY, title=CouncilTitle.CHAIR)
    assert owner_for(coordinator) == f"staff:{coordinator.id}"
    assert owner_for(officer) == f"staff:{officer.id}"
    admin = Staff("admin", Role.ADMIN, "hash", BY)
    coordinator.deactivate("left the station", BY)
    for staff in (admin, coordinator):
        with pytest.raises(RuleViolated) as refused:
            owner_for(staff)
        assert (refused.value.code, refused.value.field) == ("not-an-owner", "owner")


def test_an_owner_is_handed_over_with_a_reason_and_progress_stays(world):
    motion = world.implementing()
    motion.report_progress(40, "", BY)
    world.flush()
    assert_refused(world, "owner-unchanged", lambda: motion.reassign(OWNER, "again", BY))
    assert_refused(world, "reason-required", lambda: motion.reassign(OTHER_OWNER, " ", BY))
    assert_refused(world, "invalid-owner", lambda: motion.reassign("Residents", "why", BY))
    assert_refused(
        world,
        "contact-details-in-text",
        lambda: motion.reassign(OTHER_OWNER, "call 13800138000", BY),
    )
    motion.reassign(OTHER_OWNER, "the coordinator is on leave", BY)
    assert (motion.owner, motion.progress, motion.status) == (OTHER_OWNER, 40, S.IMPLEMENTING)
    assert names(motion) == ["MotionOwnerReassigned"]
    assert report_by(motion, OTHER_OWNER) and not report_by(motion, OWNER)


def test_only_a_motion_being_carried_out_is_handed_over(world):
    motion = world.decided()
    assert_refused(world, "not-in-implementation", lambda: motion.reassign(OTHER_OWNER, "why", BY))


def report_by(motion, reporter):
    """Whether ``reporter`` may report the motion's progress (as a coordinator would)."""
    try:
        motion.report_progress(motion.progress, "", BY, reporter=reporter)
    except RuleViolated:
        return False
    return True


def test_an_owner_is_assigned_once_while_implementing(world):
    motion = world.implementing()
    assert_refused(world, "motion-implementing", lambda: motion.assign(OTHER_OWNER, None, BY))


@pytest.mark.parametrize("percent", [0, 40, 100])
def test_reporting_progress(world, percent):
    motion = world.implementing()
    world.flush()
    motion.report_progress(percent, "contractor booked", BY)
    assert motion.progress == percent
    assert names(motion) == ["ProgressReported"]


@pytest.mark.parametrize("percent", [101, -1, 150, 50.0, True])
def test_progress_is_a_whole_percent_from_0_to_100(world, percent):
    motion = world.implementing()
    assert_refused(world, "invalid-progress", lambda: motion.report_progress(percent, "", BY))


@pytest.mark.parametrize("stage", ["submit", "scheduled", "voting", "decided"])
def test_progress_only_for_a_motion_being_implemented(world, stage):
    motion = getattr(world, stage)()
    assert_refused(world, "not-in-implementation", lambda: motion.report_progress(10, "", BY))
    assert_refused(
        world, "not-in-implementation", lambda: motion.add_milestone("quote", WHEN.date(), BY)
    )
    assert_refused(world, "not-in-implementation", lambda: motion.reach_milestone("quote", BY))


def test_milestones(world):
    motion = world.implementing()
    world.flush()
    motion.add_milestone("quote", date(2024, 6, 1), BY)
    motion.add_milestone("repair", date(2024, 7, 1), BY)
    motion.reach_milestone("quote", BY)
    assert motion.milestones == {"quote": True, "repair": False}
    assert names(motion) == ["MilestoneAdded", "MilestoneAdded", "MilestoneReached"]
    assert_refused(
        world, "milestone-exists", lambda: motion.add_milestone("quote", date(2024, 8, 1), BY)
    )
    assert_refused(world, "unknown-milestone", lambda: motion.reach_milestone("inspection", BY))
    assert_refused(world, "milestone-reached", lambda: motion.reach_milestone("quote", BY))
    assert_refused(
        world, "milestone-name-required", lambda: motion.add_milestone(" ", date(2024, 8, 1), BY)
    )


def test_finishing_done_needs_no_reason(world):
    motion = world.implementing()
    world.flush()
    motion.finish(S.DONE, "", BY)
    assert motion.status is S.DONE
    assert names(motion) == ["ImplementationUpdated"]
    assert_refused(world, "motion-done", lambda: motion.finish(S.CANCELLED, "late", BY))
    assert_refused(world, "not-in-implementation", lambda: motion.report_progress(10, "", BY))


@pytest.mark.parametrize("outcome", [S.STALLED, S.CANCELLED])
@pytest.mark.parametrize("reason", ["", "   "])
def test_a_stall_or_a_cancellation_needs_a_reason(world, outcome, reason):
    motion = world.implementing()
    assert_refused(world, "reason-required", lambda: motion.finish(outcome, reason, BY))


@pytest.mark.parametrize("outcome", [S.ADOPTED, S.IMPLEMENTING, S.WITHDRAWN])
def test_an_implementation_ends_done_stalled_or_cancelled(world, outcome):
    motion = world.implementing()
    assert_refused(world, "invalid-outcome", lambda: motion.finish(outcome, "because", BY))


def test_a_motion_must_be_implementing_to_finish(world):
    motion = world.decided()
    assert_refused(world, "motion-adopted", lambda: motion.finish(S.DONE, "", BY))


def test_a_stalled_motion_is_implementing_again_when_progress_is_reported(world):
    motion = world.stalled()
    assert_refused(world, "motion-stalled", lambda: motion.finish(S.STALLED, "still", BY))
    motion.add_milestone("new contractor", date(2024, 8, 1), BY)
    world.flush()
    motion.report_progress(60, "new contractor found", BY)
    assert (motion.status, motion.progress) == (S.IMPLEMENTING, 60)
    assert names(motion) == ["ProgressReported"]


def test_a_stalled_motion_may_be_reassigned_finished_or_cancelled(world):
    reassigned = world.stalled()
    reassigned.assign(OTHER_OWNER, None, BY)
    assert (reassigned.status, reassigned.owner) == (S.IMPLEMENTING, OTHER_OWNER)
    done = world.stalled()
    done.finish(S.DONE, "", BY)
    assert done.status is S.DONE
    cancelled = world.stalled()
    cancelled.finish(S.CANCELLED, "no budget", BY)
    assert cancelled.status is S.CANCELLED


# --- amendments and reconsideration --------------------------------------------------------------


def test_an_amendment_is_noted_on_the_motion_it_amends(world):
    motion = world.admitted()
    world.flush()
    amendment = world.submit(mover=C, amends=motion)
    assert amendment.amends == motion.id
    assert motion.amendments == [amendment.id]
    assert names(motion) == ["AmendmentProposed"]


@pytest.mark.parametrize(
    "make",
    [
        lambda w: w.decided(Result.ADOPTED),
        lambda w: w.decided(Result.REJECTED),
        lambda w: w.implementing(),
        lambda w: w.submit(now=WHEN - timedelta(days=60)),  # lapsed below
        lambda w: w.seconded(),  # withdrawn below
    ],
    ids=["adopted", "rejected", "implementing", "lapsed", "withdrawn"],
)
def test_a_settled_motion_cannot_be_amended(world, make):
    motion = make(world)
    if motion.status is S.SUBMITTED:
        motion.lapse(WHEN, BY)
    elif motion.status is S.SECONDED:
        motion.withdraw(A, "solved", BY)
    assert motion.status in SETTLED
    assert_refused(world, "amending-a-settled-motion", lambda: world.submit(mover=C, amends=motion))


@pytest.mark.parametrize("stage", ["submit", "seconded", "admitted", "scheduled", "voting"])
def test_only_a_decided_motion_can_be_reconsidered(world, stage):
    motion = getattr(world, stage)()
    assert_refused(world, "not-yet-decided", lambda: world.submit(mover=C, reconsiders=motion))


def test_reconsidering_a_decided_motion(world):
    motion = world.decided(Result.REJECTED)
    world.flush()
    again = world.submit(mover=C, reconsiders=motion)
    assert again.reconsiders == motion.id
    assert names(motion) == []


def test_a_motion_being_voted_on_takes_no_amendments(world):
    motion = world.voting()
    error = assert_refused(world, "parent-vote-open", lambda: world.submit(mover=C, amends=motion))
    assert "voted on" in error.message
    assert motion.amendments == []


@pytest.mark.parametrize("stage", ["submit", "seconded", "admitted", "scheduled"])
def test_a_motion_not_yet_voted_on_takes_amendments(world, stage):
    motion = getattr(world, stage)()
    amendment = world.submit(mover=C, amends=motion)
    assert motion.amendments == [amendment.id]


# --- rescinding ----------------------------------------------------------------------------------
# DOMAIN-NOTES (council procedure): rescinding needs a majority with prior notice, two thirds
# without. Prior notice: the motion was on the agenda before its meeting began (公示).

RESCINDING = {A: YES, B: YES, C: YES, D: NO, E: NO}  # 3 of 5: a majority, short of two thirds


def rescinding(world, noticed, **vote_rules):
    """A motion to rescind an adopted one, scheduled with notice or not, voted by
    ``RESCINDING`` and closed; it and the motion it would rescind."""
    adopted = world.decided(Result.ADOPTED)
    if vote_rules:
        world.council.change(rules(**vote_rules), "for this test", BY)
    motion = world.scheduled(mover=B, rescinds=adopted, noticed=noticed)
    world.open(motion)
    for voter, choice in RESCINDING.items():
        motion.cast(voter, choice, BY)
    motion.close_vote(BY)
    return motion, adopted


def test_the_same_ballots_rescind_with_notice_and_do_not_without_it(world):
    noticed, adopted = rescinding(world, noticed=True)
    assert noticed.rescinds == adopted.id and noticed.noticed
    assert noticed.rules == DEFAULT_RULES  # the council's simple majority
    assert noticed.result is Result.ADOPTED

    unnoticed, _ = rescinding(world, noticed=False)
    assert not unnoticed.noticed
    # The rules recorded when its vote opened say two thirds, so a replay decides the same.
    assert unnoticed.rules == rules(threshold=Threshold.TWO_THIRDS)
    assert unnoticed.counts() == noticed.counts()
    assert unnoticed.result is Result.REJECTED


def test_two_thirds_rescind_without_notice(world):
    motion = world.scheduled(rescinds=world.decided(Result.ADOPTED), noticed=False)
    world.open(motion)
    for voter in (A, B, C, D):
        motion.cast(voter, YES, BY)
    motion.cast(E, NO, BY)
    assert motion.close_vote(BY) is Result.ADOPTED  # 4 of 5


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [
        (Threshold.TWO_THIRDS, Result.REJECTED),  # 3 of 5 cast
        (Threshold.MAJORITY_OF_MEMBERS, Result.ADOPTED),  # 3 of 5 members
    ],
    ids=["two-thirds", "majority-of-members"],
)
def test_a_council_already_asking_more_than_a_majority_keeps_its_threshold(
    world, threshold, expected
):
    """Robert's Rules let a majority of all members rescind without notice as well."""
    motion, _ = rescinding(world, noticed=False, threshold=threshold)
    assert motion.rules == rules(threshold=threshold)
    assert motion.result is expected


def test_reconsidering_is_voted_under_the_councils_rules_notice_or_not(world):
    motion = world.scheduled(reconsiders=world.decided(Result.REJECTED), noticed=False)
    world.open(motion)
    assert motion.rules == DEFAULT_RULES


@pytest.mark.parametrize("stage", ["adopted", "implementing", "stalled"])
def test_an_adopted_motion_not_yet_carried_out_may_be_rescinded(world, stage):
    earlier = {
        "adopted": lambda: world.decided(Result.ADOPTED),
        "implementing": world.implementing,
        "stalled": world.stalled,
    }[stage]()
    assert earlier.status in RESCINDABLE
    motion = world.submit(mover=C, rescinds=earlier)
    assert (motion.rescinds, motion.reconsiders) == (earlier.id, None)


@pytest.mark.parametrize(
    "make",
    [
        lambda w: w.submit(),
        lambda w: w.voting(),
        lambda w: w.decided(Result.REJECTED),
        lambda w: w.decided(Result.NO_QUORUM, present=()),
        lambda w: w.implementing(),  # done below
    ],
    ids=["submitted", "voting", "rejected", "no-quorum", "done"],
)
def test_only_an_adopted_motion_not_yet_carried_out_can_be_rescinded(world, make):
    earlier = make(world)
    if earlier.status is S.IMPLEMENTING:
        earlier.finish(S.DONE, "", BY)
    assert_refused(world, "not-rescindable", lambda: world.submit(mover=C, rescinds=earlier))


def test_the_rules_for_rescinding():
    simple = rules()
    assert rules_for_rescission(simple, noticed=True) == simple
    assert rules_for_rescission(simple, noticed=False) == rules(threshold=Threshold.TWO_THIRDS)
    for threshold in (Threshold.TWO_THIRDS, Threshold.MAJORITY_OF_MEMBERS):
        stricter = rules(threshold=threshold, base=Base.PRESENT)
        assert rules_for_rescission(stricter, noticed=False) == stricter
    # Only the threshold changes: the council's base, quorum and the rest stay.
    present = rules(base=Base.PRESENT, quorum_count=3, secret=True)
    assert rules_for_rescission(present, noticed=False) == replace(
        present, threshold=Threshold.TWO_THIRDS
    )


def test_notice_is_being_on_the_agenda_before_the_meeting_begins(world):
    meeting = world.meeting()
    starts = meeting.starts_at
    assert meeting.gives_notice(starts - timedelta(days=3))
    assert meeting.gives_notice(starts - SECOND)
    assert not meeting.gives_notice(starts)
    assert not meeting.gives_notice(starts + timedelta(hours=1))


def test_scheduling_records_whether_notice_was_given(world):
    motion = world.admitted()
    world.flush()
    motion.schedule(world.meeting().id, BY, noticed=False)
    (event,) = motion.collect_events()
    assert type(event).__name__ == "MotionScheduled"
    assert (event.noticed, motion.noticed) == (False, False)


# --- the lifecycle table -------------------------------------------------------------------------


def test_settled_motions_are_the_ones_past_their_vote_or_out_of_the_way():
    assert set(TRANSITIONS) | SETTLED == set(MotionStatus)
    for status in MotionStatus:
        for successor in TRANSITIONS.get(status, ()):
            # Nothing settled ever becomes unsettled again.
            assert status not in SETTLED or successor in SETTLED


# --- meetings ------------------------------------------------------------------------------------


def test_calling_a_meeting(world):
    meeting = call_meeting(
        idempotency_key="spring",
        title="  Spring council ",
        starts_at=WHEN,
        place=" Hall ",
        entitled=(A, B, C),
        by=BY,
    )
    assert meeting.id == meeting_id_for("spring") == Meeting.create_id("spring")
    assert meeting.title == "Spring council"
    assert meeting.entitled == frozenset({A, B, C})
    assert (meeting.agenda, meeting.present, meeting.is_closed) == ([], frozenset(), False)
    assert names(meeting) == ["MeetingCalled"]


@pytest.mark.parametrize(
    ("title", "place", "entitled", "code"),
    [
        ("", "Hall", (A,), "meeting-incomplete"),
        ("Council", "  ", (A,), "meeting-incomplete"),
        ("Council", "Hall", (), "nobody-entitled"),
        ("Council", "Hall", (A, B, A), "duplicate-member"),
    ],
)
def test_a_meeting_needs_a_title_a_place_and_its_members_once_each(
    world, title, place, entitled, code
):
    assert_refused(
        world,
        code,
        lambda: call_meeting(
            idempotency_key="m",
            title=title,
            starts_at=WHEN,
            place=place,
            entitled=entitled,
            by=BY,
        ),
    )


def test_reordering_the_agenda(world):
    meeting = world.meeting()
    first, second = world.scheduled(meeting), world.scheduled(meeting)
    assert meeting.agenda == [first.id, second.id]
    world.flush()
    meeting.reorder((second.id, first.id), BY)
    assert meeting.agenda == [second.id, first.id]
    assert names(meeting) == ["AgendaReordered"]


def test_a_motion_moves_on_the_agenda_as_it_stands_now(world):
    """Two officers moving motions one after the other both get their move: each is applied
    to the agenda as the last one left it (the page once sent a whole order it had read)."""
    meeting = world.meeting()
    first, second, third = (world.scheduled(meeting) for _ in range(3))
    world.flush()
    meeting.move(third.id, -1, BY)
    meeting.move(first.id, 1, BY)
    assert meeting.agenda == [third.id, first.id, second.id]
    meeting.move(third.id, -5, BY)  # kept within the agenda
    assert meeting.agenda == [third.id, first.id, second.id]
    assert names(meeting) == ["AgendaReordered"] * 3
    with pytest.raises(RuleViolated) as refused:
        meeting.move(world.submit().id, 1, BY)
    assert refused.value.code == "not-on-agenda"


def test_a_reordered_agenda_has_the_same_motions_once_each(world):
    meeting = world.meeting()
    first, second = world.scheduled(meeting), world.scheduled(meeting)
    other = world.submit()
    for agenda in [
        (first.id,),
        (first.id, second.id, other.id),
        (first.id, first.id),
        (first.id, other.id),
        (),
    ]:
        assert_refused(world, "agenda-mismatch", lambda agenda=agenda: meeting.reorder(agenda, BY))


def test_recording_attendance(world):
    meeting = world.meeting()
    world.flush()
    meeting.record_attendance((C, A, C), BY)
    assert meeting.present == frozenset({A, C})
    meeting.record_attendance((B,), BY)
    assert meeting.present == frozenset({B})  # a new record replaces the earlier one
    assert names(meeting) == ["AttendanceRecorded"] * 2


def test_only_members_entitled_are_recorded_present(world):
    meeting = world.meeting(entitled=(A, B, C))
    assert_refused(world, "not-a-council-member", lambda: meeting.record_attendance((A, F), BY))
    assert_refused(world, "not-a-council-member", lambda: meeting.record_attendance((D,), BY))


def test_a_closed_meeting_refuses_changes(world):
    meeting = world.meeting()
    first, second = world.scheduled(meeting), world.scheduled(meeting)
    world.flush()
    meeting.close(BY)
    assert meeting.is_closed
    assert names(meeting) == ["MeetingClosed"]
    assert_refused(world, "meeting-closed", lambda: meeting.close(BY))
    assert_refused(world, "meeting-closed", lambda: meeting.record_attendance((A,), BY))
    assert_refused(world, "meeting-closed", lambda: meeting.reorder((second.id, first.id), BY))


def test_a_closed_meeting_takes_no_new_agenda_items(world):
    meeting = world.meeting()
    meeting.close(BY)
    motion = world.admitted()
    assert_refused(world, "meeting-closed", lambda: meeting.add_to_agenda(motion.id, BY))
