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
from domain.identity import Member, check_may_act
from domain.meeting import Meeting, call_meeting, meeting_id_for
from domain.motion import (
    SETTLED,
    Motion,
    MotionStatus,
    check_same_council,
    motion_id_for,
    submit_motion,
)
from domain.provenance import Provenance
from domain.rules import KeyReused, RuleViolated
from domain.station import DEFAULT_STATION
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
from services.council.implementation import (
    add_milestone,
    assign,
    finish,
    reach_milestone,
    reassign,
    report_progress,
)
from services.council.records import act, check_council_of, home_of, meeting_of, motion_of
from services.stations.handlers import check_works_at, station_for, station_of
from services.store.eventstore import Timebank, change_each_due, retried_on_conflict
from services.store.vault import BallotBox, Vault

PAPER = "paper"  # the channel of what a resident handed in on paper and staff entered
# Who set a station council's starting rules: the system, when the council first changes them.
_STARTED = Provenance(actor="system", channel="council", correlation_id="council-started")


def _rules(app: Timebank, station: UUID) -> CouncilRules:
    """A station council's rules: the first station's are set when the backbone is built;
    another station's council starts from the defaults until it first changes them."""
    found = app.find(council_rules_id(station), CouncilRules)
    if found is None and station == DEFAULT_STATION:
        raise AssertionError("start_council runs when the backbone is built")
    if found is not None:
        return found
    return CouncilRules(rules=DEFAULT_RULES, by=_STARTED, station=station_of(app, station).id)


def rules_in_force(app: Timebank, station: UUID = DEFAULT_STATION) -> VotingRules:
    return _rules(app, station).rules


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
    council = _rules(acting.app, station_for(acting, values.pop("station")))
    council.change(VotingRules(**values), reason, acting.by)
    return Receipt(council.id, acting.app.record(council))


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
    station = home_of(app, mover)
    if by.channel == PAPER:  # a resident submitting is checked as whoever acts (record)
        check_may_act(app.find(mover, Member))
        check_works_at(app, acting.by, station)
    parent = motion_of(app, command.amends) if command.amends else None
    earlier = motion_of(app, command.reconsiders) if command.reconsiders else None
    motion = submit_motion(
        idempotency_key=command.idempotency_key,
        mover=mover,
        title=command.title,
        text=command.text,
        amends=parent,
        reconsiders=earlier,
        rules=rules_in_force(app, station),
        now=acting.now,
        by=by,
        rescinds=motion_of(app, command.rescinds) if command.rescinds else None,
        station=station,
    )
    return Receipt(motion.id, app.record(motion, parent))


def _member(caller: Caller) -> UUID:
    assert caller.member_id is not None, "residents and volunteers sign in as members"
    return caller.member_id


def support(command: SupportMotion, acting: Acting) -> Receipt:
    supporter, now, by = _member(acting.caller), acting.now, acting.by
    return act(acting, command.motion_id, lambda m: m.support(supporter, now, by))


def lapse(command: LapseMotion, acting: Acting) -> Receipt:
    now, by = acting.now, acting.by
    return act(acting, command.motion_id, lambda motion: motion.lapse(now, by))


def admit(command: AdmitMotion, acting: Acting) -> Receipt:
    return act(acting, command.motion_id, lambda motion: motion.admit(acting.by))


def decline(command: DeclineMotion, acting: Acting) -> Receipt:
    by = acting.by
    return act(acting, command.motion_id, lambda motion: motion.decline(command.reason, by))


def withdraw(command: WithdrawMotion, acting: Acting) -> Receipt:
    mover, by = _member(acting.caller), acting.by
    return act(acting, command.motion_id, lambda m: m.withdraw(mover, command.reason, by))


@retried_on_conflict
def call(command: CallMeeting, acting: Acting) -> Receipt:
    """Call a meeting: when, where, and which members may vote at it."""
    app, entitled = acting.app, tuple(command.entitled)
    station = station_for(acting, command.station)
    existing = app.find(meeting_id_for(command.idempotency_key), Meeting)
    if existing is not None:
        if (existing.title, existing.starts_at, existing.entitled) != (
            command.title.strip(),
            command.starts_at,
            frozenset(entitled),
        ):
            raise KeyReused
        return Receipt(existing.id, app.last_position(), replayed=True)
    check_entitled_live_at(app, entitled, station)
    meeting = call_meeting(
        idempotency_key=command.idempotency_key,
        title=command.title,
        starts_at=command.starts_at,
        place=command.place,
        entitled=entitled,
        by=acting.by,
        station=station,
    )
    return Receipt(meeting.id, app.record(meeting))


def check_entitled_live_at(app: Timebank, entitled: tuple[UUID, ...], station: UUID) -> None:
    """Only residents of the meeting's station are entitled to vote at it."""
    elsewhere = [member for member in entitled if home_of(app, member) != station]
    if elsewhere:
        raise RuleViolated(
            "entitled-elsewhere",
            f"{len(elsewhere)} of those named are residents of another station; only the"
            " station's own residents vote at its council.",
            field="entitled",
        )


@retried_on_conflict
def schedule(command: ScheduleMotion, acting: Acting) -> Receipt:
    """Notice an admitted motion on a meeting's agenda (公示); before the meeting begins, that
    is the prior notice a motion to rescind needs to pass by a majority."""
    app, by = acting.app, acting.by
    motion = motion_of(app, command.motion_id)
    meeting = meeting_of(app, command.meeting_id)
    check_council_of(acting, motion.station)
    check_same_council(meeting.station, motion.station)
    if meeting.is_closed:
        raise RuleViolated("meeting-closed", "This meeting is closed.")
    motion.schedule(meeting.id, by, noticed=meeting.gives_notice(acting.now))
    meeting.add_to_agenda(motion.id, by)
    return Receipt(motion.id, app.record(motion, meeting))


@retried_on_conflict
def _meeting_act(acting: Acting, meeting_id: UUID, action: Callable[[Meeting], object]) -> Receipt:
    meeting = meeting_of(acting.app, meeting_id)
    check_council_of(acting, meeting.station)
    action(meeting)
    return Receipt(meeting.id, acting.app.record(meeting))


def order_agenda(command: OrderAgenda, acting: Acting) -> Receipt:
    order, by = tuple(command.motions), acting.by
    return _meeting_act(acting, command.meeting_id, lambda m: m.reorder(order, by))


def move_on_agenda(command: MoveOnAgenda, acting: Acting) -> Receipt:
    motion, step, by = command.motion_id, command.step, acting.by
    return _meeting_act(acting, command.meeting_id, lambda m: m.move(motion, step, by))


def record_attendance(command: RecordAttendance, acting: Acting) -> Receipt:
    present, by = tuple(command.present), acting.by
    return _meeting_act(acting, command.meeting_id, lambda m: m.record_attendance(present, by))


def close_meeting(command: CloseMeeting, acting: Acting) -> Receipt:
    return _meeting_act(acting, command.meeting_id, lambda m: m.close(acting.by))


@retried_on_conflict
def open_vote(command: OpenVote, acting: Acting) -> Receipt:
    """Open voting: the rules in force, who is entitled and who is present go on record."""
    app = acting.app
    motion = motion_of(app, command.motion_id)
    check_council_of(acting, motion.station)
    if motion.meeting is None:
        raise RuleViolated("not-scheduled", "Schedule the motion at a meeting first.")
    meeting = meeting_of(app, motion.meeting)
    pending = sum(
        1
        for child in map(lambda id_: motion_of(app, id_), motion.amendments)
        if child.status not in SETTLED
    )
    motion.open_vote(rules_in_force(app, motion.station), meeting, pending, acting.now, acting.by)
    return Receipt(motion.id, app.record(motion))


def _box(vault: Vault | None, motion: Motion) -> BallotBox | None:
    """A secret vote's ballot box, in ``vault`` (the key store)."""
    return BallotBox(vault, motion.id) if vault is not None and motion.is_secret else None


def vote(command: CastBallot, acting: Acting) -> Receipt:
    """Cast a ballot; a secret vote's choice is sealed in its ballot box in the vault."""
    voter, by, vault = _member(acting.caller), acting.by, acting.vault
    return act(
        acting,
        command.motion_id,
        lambda motion: motion.cast(voter, command.choice, by, _box(vault, motion)),
    )


@retried_on_conflict
def _close_vote(acting: Acting, motion_id: UUID) -> tuple[Receipt, BallotBox | None]:
    motion = motion_of(acting.app, motion_id)
    check_council_of(acting, motion.station)
    box = _box(acting.vault, motion)
    motion.close_vote(acting.by, box)
    return Receipt(motion.id, acting.app.record(motion)), box


def counted_vote(app: Timebank, *, motion_id: UUID, by: Provenance, vault: Vault) -> Motion:
    """The motion as closing its vote now would leave it, counted (not saved, and its ballot
    box kept: a load is a copy): what a confirmation shows before the vote is closed for
    good, read rather than dry-run, since closing destroys the ballot box."""
    motion = motion_of(app, motion_id)
    check_works_at(app, by, motion.station)
    motion.close_vote(by, _box(vault, motion))
    return motion


def close_vote(command: CloseVote, acting: Acting) -> Receipt:
    """Count the ballots and record the counts and the result; then a secret vote's ballot box
    is destroyed, so its sealed ballots can never be opened again."""
    receipt, box = _close_vote(acting, command.motion_id)
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
