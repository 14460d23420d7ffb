"""Council command handlers: rules, motions, meetings, votes and implementation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from uuid import UUID

from domain.council import (
    DEFAULT_RULES,
    Choice,
    CouncilRules,
    VotingRules,
    council_rules_id,
)
from domain.meeting import Meeting, call_meeting, meeting_id_for
from domain.motion import SETTLED, Motion, MotionStatus, motion_id_for, submit_motion
from domain.provenance import Provenance
from domain.rules import KeyReused, NotFound, RuleViolated
from services.eventstore import Timebank, retried_on_conflict
from services.ledger import Receipt


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
def change_rules(app: Timebank, *, rules: VotingRules, reason: str, by: Provenance) -> Receipt:
    council = _rules(app)
    council.change(rules, reason, by)
    return Receipt(council.id, app.record(council))


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


@retried_on_conflict
def submit(
    app: Timebank,
    *,
    idempotency_key: str,
    mover: UUID,
    title: str,
    text: str,
    amends: UUID | None,
    reconsiders: UUID | None,
    now: datetime,
    by: Provenance,
) -> Receipt:
    existing = app.find(motion_id_for(idempotency_key), Motion)
    if existing is not None:
        if (existing.mover, existing.title) != (mover, title.strip()):
            raise KeyReused
        return Receipt(existing.id, app.last_position(), replayed=True)
    parent = motion_of(app, amends) if amends else None
    earlier = motion_of(app, reconsiders) if reconsiders else None
    motion = submit_motion(
        idempotency_key=idempotency_key,
        mover=mover,
        title=title,
        text=text,
        amends=parent,
        reconsiders=earlier,
        rules=rules_in_force(app),
        now=now,
        by=by,
    )
    return Receipt(motion.id, app.record(motion, parent))


@retried_on_conflict
def act(app: Timebank, motion_id: UUID, action: Callable[[Motion], object]) -> Receipt:
    """Apply ``action`` to one motion and save it."""
    motion = motion_of(app, motion_id)
    action(motion)
    return Receipt(motion.id, app.record(motion))


@retried_on_conflict
def call(
    app: Timebank,
    *,
    idempotency_key: str,
    title: str,
    starts_at: datetime,
    place: str,
    entitled: tuple[UUID, ...],
    by: Provenance,
) -> Receipt:
    existing = app.find(meeting_id_for(idempotency_key), Meeting)
    if existing is not None:
        if (existing.title, existing.starts_at, existing.entitled) != (
            title.strip(),
            starts_at,
            frozenset(entitled),
        ):
            raise KeyReused
        return Receipt(existing.id, app.last_position(), replayed=True)
    meeting = call_meeting(
        idempotency_key=idempotency_key,
        title=title,
        starts_at=starts_at,
        place=place,
        entitled=entitled,
        by=by,
    )
    return Receipt(meeting.id, app.record(meeting))


@retried_on_conflict
def schedule(app: Timebank, *, motion_id: UUID, meeting_id: UUID, by: Provenance) -> Receipt:
    """Notice an admitted motion on a meeting's agenda (公示)."""
    motion = motion_of(app, motion_id)
    meeting = meeting_of(app, meeting_id)
    if meeting.is_closed:
        raise RuleViolated("meeting-closed", "This meeting is closed.")
    motion.schedule(meeting.id, by)
    meeting.add_to_agenda(motion.id, by)
    return Receipt(motion.id, app.record(motion, meeting))


@retried_on_conflict
def meeting_act(app: Timebank, meeting_id: UUID, action: Callable[[Meeting], object]) -> Receipt:
    meeting = meeting_of(app, meeting_id)
    action(meeting)
    return Receipt(meeting.id, app.record(meeting))


@retried_on_conflict
def open_vote(app: Timebank, *, motion_id: UUID, by: Provenance) -> Receipt:
    """Open voting: the rules in force, who is entitled and who is present go on record."""
    motion = motion_of(app, motion_id)
    if motion.meeting is None:
        raise RuleViolated("not-scheduled", "Schedule the motion at a meeting first.")
    meeting = meeting_of(app, motion.meeting)
    if meeting.is_closed:
        raise RuleViolated("meeting-closed", "This meeting is closed.")
    pending = sum(
        1
        for child in map(lambda id_: motion_of(app, id_), motion.amendments)
        if child.status not in SETTLED
    )
    motion.open_vote(rules_in_force(app), meeting.entitled, meeting.present, pending, by)
    return Receipt(motion.id, app.record(motion))


def vote(app: Timebank, *, motion_id: UUID, voter: UUID, choice: Choice, by: Provenance) -> Receipt:
    return act(app, motion_id, lambda motion: motion.cast(voter, choice, by))


def assign(
    app: Timebank, *, motion_id: UUID, owner: str, due: date | None, by: Provenance
) -> Receipt:
    return act(app, motion_id, lambda motion: motion.assign(owner, due, by))


def finish(
    app: Timebank, *, motion_id: UUID, status: MotionStatus, reason: str, by: Provenance
) -> Receipt:
    return act(app, motion_id, lambda motion: motion.finish(status, reason, by))
