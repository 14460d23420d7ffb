"""Council command handlers: rules, motions, meetings, votes and implementation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from domain.council import (
    DEFAULT_RULES,
    Choice,
    CouncilRules,
    Result,
    Tally,
    VotingRules,
    council_rules_id,
    decide,
)
from domain.identity import Member, Role, Staff, check_may_act
from domain.meeting import Meeting, call_meeting, meeting_id_for
from domain.motion import (
    SETTLED,
    Motion,
    MotionStatus,
    check_owner,
    motion_id_for,
    owner_for,
    submit_motion,
)
from domain.provenance import Provenance
from domain.rules import KeyReused, NotFound, RuleViolated
from services.bus import Acting, Caller, Handler, Receipt
from services.council.commands import (
    AddMilestone,
    AdmitMotion,
    AssignOwner,
    CallMeeting,
    CastBallot,
    ChangeRules,
    CloseMeeting,
    CloseVote,
    DeclineMotion,
    FinishMotion,
    LapseMotion,
    MoveOnAgenda,
    OpenVote,
    OrderAgenda,
    ReachMilestone,
    ReassignOwner,
    RecordAttendance,
    ReportProgress,
    ScheduleMotion,
    SubmitMotion,
    SupportMotion,
    WithdrawMotion,
)
from services.store.eventstore import Timebank, change_each_due, retried_on_conflict
from services.store.vault import BallotBox, Vault

PAPER = "paper"  # the channel of what a resident handed in on paper and staff entered


def _rules(app: Timebank) -> CouncilRules:
    found = app.find(council_rules_id(), CouncilRules)
    assert found is not None, "start_council runs when the backbone is built"
    return found


def rules_in_force(app: Timebank) -> VotingRules:
    return _rules(app).rules


@retried_on_conflict
def start_council(app: Timebank, by: Provenance) -> int:
    """Record the council's starting rules, once."""
    if council_rules_id() in app.repository:
        return app.last_position()
    return app.record(CouncilRules(rules=DEFAULT_RULES, by=by))


@retried_on_conflict
def change_rules(command: ChangeRules, acting: Acting) -> Receipt:
    """Change the voting rules, saying why (votes already opened keep theirs)."""
    values = msgspec.structs.asdict(command)
    reason = values.pop("reason")
    council = _rules(acting.app)
    council.change(VotingRules(**values), reason, acting.by)
    return Receipt(council.id, acting.app.record(council))


def motion_of(app: Timebank, motion_id: UUID) -> Motion:
    motion = app.find(motion_id, Motion)
    if motion is None:
        raise NotFound("motion-not-found", f"There is no motion {motion_id}.")
    return motion


def meeting_of(app: Timebank, meeting_id: UUID) -> Meeting:
    meeting = app.find(meeting_id, Meeting)
    if meeting is None:
        raise NotFound("meeting-not-found", f"There is no meeting {meeting_id}.")
    return meeting


def on_paper(by: Provenance) -> Provenance:
    """A motion a resident handed in on paper, entered by the coordinator ``by`` names: the
    resident is its mover, the coordinator its recorder, through the ``paper`` channel."""
    return replace(by, channel=PAPER)


def _mover(command: SubmitMotion, caller: Caller) -> UUID:
    """Whose motion it is: a resident's own, or the resident a coordinator names."""
    me = caller.member_id
    if me is not None and command.mover not in (None, me):
        raise RuleViolated("not-your-motion", "You can submit motions only as yourself.")
    mover = me or command.mover
    if mover is None:
        raise RuleViolated("mover-required", "Name the resident whose motion you enter.")
    return mover


@retried_on_conflict
def submit(command: SubmitMotion, acting: Acting) -> Receipt:
    """Submit a motion: a resident's own, or one a coordinator enters from paper."""
    app, mover = acting.app, _mover(command, acting.caller)
    existing = app.find(motion_id_for(command.idempotency_key), Motion)
    if existing is not None:
        if (existing.mover, existing.title) != (mover, command.title.strip()):
            raise KeyReused
        return Receipt(existing.id, app.last_position(), replayed=True)
    by = acting.by if acting.caller.is_member else on_paper(acting.by)
    if by.channel == PAPER:  # a resident submitting is checked as whoever acts (record)
        check_may_act(app.find(mover, Member))
    parent = motion_of(app, command.amends) if command.amends else None
    earlier = motion_of(app, command.reconsiders) if command.reconsiders else None
    motion = submit_motion(
        idempotency_key=command.idempotency_key,
        mover=mover,
        title=command.title,
        text=command.text,
        amends=parent,
        reconsiders=earlier,
        rules=rules_in_force(app),
        now=acting.now,
        by=by,
        rescinds=motion_of(app, command.rescinds) if command.rescinds else None,
    )
    return Receipt(motion.id, app.record(motion, parent))


@retried_on_conflict
def _act(app: Timebank, motion_id: UUID, action: Callable[[Motion], object]) -> Receipt:
    """Apply ``action`` to one motion and save it."""
    motion = motion_of(app, motion_id)
    action(motion)
    return Receipt(motion.id, app.record(motion))


def _member(caller: Caller) -> UUID:
    assert caller.member_id is not None, "residents and volunteers sign in as members"
    return caller.member_id


def support(command: SupportMotion, acting: Acting) -> Receipt:
    supporter, now, by = _member(acting.caller), acting.now, acting.by
    return _act(acting.app, command.motion_id, lambda m: m.support(supporter, now, by))


def lapse(command: LapseMotion, acting: Acting) -> Receipt:
    now, by = acting.now, acting.by
    return _act(acting.app, command.motion_id, lambda motion: motion.lapse(now, by))


def admit(command: AdmitMotion, acting: Acting) -> Receipt:
    return _act(acting.app, command.motion_id, lambda motion: motion.admit(acting.by))


def decline(command: DeclineMotion, acting: Acting) -> Receipt:
    by = acting.by
    return _act(acting.app, command.motion_id, lambda motion: motion.decline(command.reason, by))


def withdraw(command: WithdrawMotion, acting: Acting) -> Receipt:
    mover, by = _member(acting.caller), acting.by
    return _act(acting.app, command.motion_id, lambda m: m.withdraw(mover, command.reason, by))


@retried_on_conflict
def call(command: CallMeeting, acting: Acting) -> Receipt:
    """Call a meeting: when, where, and which members may vote at it."""
    app, entitled = acting.app, tuple(command.entitled)
    existing = app.find(meeting_id_for(command.idempotency_key), Meeting)
    if existing is not None:
        if (existing.title, existing.starts_at, existing.entitled) != (
            command.title.strip(),
            command.starts_at,
            frozenset(entitled),
        ):
            raise KeyReused
        return Receipt(existing.id, app.last_position(), replayed=True)
    meeting = call_meeting(
        idempotency_key=command.idempotency_key,
        title=command.title,
        starts_at=command.starts_at,
        place=command.place,
        entitled=entitled,
        by=acting.by,
    )
    return Receipt(meeting.id, app.record(meeting))


@retried_on_conflict
def schedule(command: ScheduleMotion, acting: Acting) -> Receipt:
    """Notice an admitted motion on a meeting's agenda (公示); before the meeting begins, that
    is the prior notice a motion to rescind needs to pass by a majority."""
    app, by = acting.app, acting.by
    motion = motion_of(app, command.motion_id)
    meeting = meeting_of(app, command.meeting_id)
    if meeting.is_closed:
        raise RuleViolated("meeting-closed", "This meeting is closed.")
    motion.schedule(meeting.id, by, noticed=meeting.gives_notice(acting.now))
    meeting.add_to_agenda(motion.id, by)
    return Receipt(motion.id, app.record(motion, meeting))


@retried_on_conflict
def _meeting_act(app: Timebank, meeting_id: UUID, action: Callable[[Meeting], object]) -> Receipt:
    meeting = meeting_of(app, meeting_id)
    action(meeting)
    return Receipt(meeting.id, app.record(meeting))


def order_agenda(command: OrderAgenda, acting: Acting) -> Receipt:
    order, by = tuple(command.motions), acting.by
    return _meeting_act(acting.app, command.meeting_id, lambda m: m.reorder(order, by))


def move_on_agenda(command: MoveOnAgenda, acting: Acting) -> Receipt:
    motion, step, by = command.motion_id, command.step, acting.by
    return _meeting_act(acting.app, command.meeting_id, lambda m: m.move(motion, step, by))


def record_attendance(command: RecordAttendance, acting: Acting) -> Receipt:
    present, by = tuple(command.present), acting.by
    return _meeting_act(acting.app, command.meeting_id, lambda m: m.record_attendance(present, by))


def close_meeting(command: CloseMeeting, acting: Acting) -> Receipt:
    return _meeting_act(acting.app, command.meeting_id, lambda m: m.close(acting.by))


@retried_on_conflict
def open_vote(command: OpenVote, acting: Acting) -> Receipt:
    """Open voting: the rules in force, who is entitled and who is present go on record."""
    app = acting.app
    motion = motion_of(app, command.motion_id)
    if motion.meeting is None:
        raise RuleViolated("not-scheduled", "Schedule the motion at a meeting first.")
    meeting = meeting_of(app, motion.meeting)
    pending = sum(
        1
        for child in map(lambda id_: motion_of(app, id_), motion.amendments)
        if child.status not in SETTLED
    )
    motion.open_vote(rules_in_force(app), meeting, pending, acting.now, acting.by)
    return Receipt(motion.id, app.record(motion))


def _box(vault: Vault | None, motion: Motion) -> BallotBox | None:
    """A secret vote's ballot box, in ``vault`` (the key store)."""
    return BallotBox(vault, motion.id) if vault is not None and motion.is_secret else None


def vote(command: CastBallot, acting: Acting) -> Receipt:
    """Cast a ballot; a secret vote's choice is sealed in its ballot box in the vault."""
    voter, by, vault = _member(acting.caller), acting.by, acting.vault
    return _act(
        acting.app,
        command.motion_id,
        lambda motion: motion.cast(voter, command.choice, by, _box(vault, motion)),
    )


@retried_on_conflict
def _close_vote(
    app: Timebank, motion_id: UUID, by: Provenance, vault: Vault | None
) -> tuple[Receipt, BallotBox | None]:
    motion = motion_of(app, motion_id)
    box = _box(vault, motion)
    motion.close_vote(by, box)
    return Receipt(motion.id, app.record(motion)), box


def counted_vote(app: Timebank, *, motion_id: UUID, by: Provenance, vault: Vault) -> Motion:
    """The motion as closing its vote now would leave it, counted (not saved, and its ballot
    box kept: a load is a copy): what a confirmation shows before the vote is closed for
    good, read rather than dry-run, since closing destroys the ballot box."""
    motion = motion_of(app, motion_id)
    motion.close_vote(by, _box(vault, motion))
    return motion


def close_vote(command: CloseVote, acting: Acting) -> Receipt:
    """Count the ballots and record the counts and the result; then a secret vote's ballot box
    is destroyed, so its sealed ballots can never be opened again."""
    receipt, box = _close_vote(acting.app, command.motion_id, acting.by, acting.vault)
    if box is not None:
        box.destroy()
    return receipt


def live_counts(app: Timebank, *, motion_id: UUID, vault: Vault) -> tuple[Tally, Result] | None:
    """A secret vote's counts as its ballots stand (counts only), and what they would decide;
    None before voting opens. Its read models hold no choices until it closes."""
    motion = motion_of(app, motion_id)
    if motion.rules is None:
        return None
    counts = motion.counts(_box(vault, motion))
    return counts, motion.result or decide(counts, motion.rules)


def own_choice(app: Timebank, *, motion_id: UUID, voter: UUID, vault: Vault) -> Choice | None:
    """What ``voter`` chose in an open vote, shown to them alone: a secret vote's read models
    hold no choices, so it is opened from the ballot box for this one voter."""
    motion = motion_of(app, motion_id)
    if motion.status is not MotionStatus.VOTING:
        return None
    return motion.choice_of(voter, _box(vault, motion))


def with_live_counts(
    app: Timebank, vault: Vault, motion_id: UUID, counted: dict[str, Any]
) -> dict[str, Any]:
    """``counted`` (projections.council.tally_of) with the counts and the result filled in
    where they are sealed: a secret vote still open, counted from its ballot box."""
    if counted["result"] is not None:
        return counted
    live = live_counts(app, motion_id=motion_id, vault=vault)
    assert live is not None, "the read model saw the vote open"
    counts, result = live
    sealed = {"yes": counts.yes, "no": counts.no, "abstain": counts.abstain}
    return {**counted, **sealed, "result": result}


def lapse_due(app: Timebank, candidates: list[UUID], now: datetime, by: Provenance) -> int:
    """Lapse those of ``candidates`` still short of support past their deadline (not seconded,
    withdrawn or lapsed since the read model listed them); how many were."""
    return change_each_due(
        app, Motion, candidates, lambda motion: motion.lapse(now, by), done="motions.lapsed"
    )


def owner_named(app: Timebank, named: str) -> str:
    """The owner ``named`` stands for, as a motion records them: the id the staff directory
    lists, bare or as ``staff:<id>``; a name in any other form is refused before anything is
    looked up."""
    subject = named.strip().lower()
    subject = subject if subject.startswith("staff:") else f"staff:{subject}"
    check_owner(subject)
    staff = app.find(UUID(subject.removeprefix("staff:")), Staff)
    if staff is None:
        raise RuleViolated(
            "unknown-owner", f"The staff directory lists no one as {subject}.", field="owner"
        )
    return owner_for(staff)


def assign(command: AssignOwner, acting: Acting) -> Receipt:
    subject, by = owner_named(acting.app, command.owner), acting.by
    return _act(acting.app, command.motion_id, lambda m: m.assign(subject, command.due, by))


def reassign(command: ReassignOwner, acting: Acting) -> Receipt:
    subject, by = owner_named(acting.app, command.owner), acting.by
    return _act(acting.app, command.motion_id, lambda m: m.reassign(subject, command.reason, by))


def _reporter(app: Timebank, by: Provenance) -> str | None:
    """Who reports progress, checked against the owner; None for a council officer (as the
    staff directory records them), who may report on any motion."""
    kind, _, raw = by.actor.partition(":")
    try:
        staff = app.find(UUID(raw), Staff) if kind == "staff" else None
    except ValueError:  # not an id: no one the directory lists
        staff = None
    return None if staff is not None and staff.role is Role.COUNCIL else by.actor


def report_progress(command: ReportProgress, acting: Acting) -> Receipt:
    """Report progress: the motion's owner, or a council officer."""
    by = acting.by
    reporter = _reporter(acting.app, by)
    return _act(
        acting.app,
        command.motion_id,
        lambda m: m.report_progress(command.percent, command.note, by, reporter=reporter),
    )


def add_milestone(command: AddMilestone, acting: Acting) -> Receipt:
    by = acting.by
    return _act(
        acting.app, command.motion_id, lambda m: m.add_milestone(command.name, command.due, by)
    )


def reach_milestone(command: ReachMilestone, acting: Acting) -> Receipt:
    by = acting.by
    return _act(acting.app, command.motion_id, lambda m: m.reach_milestone(command.name, by))


def finish(command: FinishMotion, acting: Acting) -> Receipt:
    by = acting.by
    return _act(
        acting.app, command.motion_id, lambda m: m.finish(command.status, command.reason, by)
    )


HANDLERS: dict[type, Handler] = {
    SubmitMotion: submit,
    SupportMotion: support,
    LapseMotion: lapse,
    AdmitMotion: admit,
    DeclineMotion: decline,
    WithdrawMotion: withdraw,
    ScheduleMotion: schedule,
    OpenVote: open_vote,
    CastBallot: vote,
    CloseVote: close_vote,
    AssignOwner: assign,
    ReassignOwner: reassign,
    ReportProgress: report_progress,
    AddMilestone: add_milestone,
    ReachMilestone: reach_milestone,
    FinishMotion: finish,
    CallMeeting: call,
    OrderAgenda: order_agenda,
    MoveOnAgenda: move_on_agenda,
    RecordAttendance: record_attendance,
    CloseMeeting: close_meeting,
    ChangeRules: change_rules,
}
