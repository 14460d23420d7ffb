"""Council command handlers: rules, motions, meetings, votes and implementation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

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
from domain.identity import Member, Staff, check_may_act
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
from services.bus import Receipt
from services.eventstore import Timebank, change_each_due, retried_on_conflict
from services.vault import BallotBox, Vault

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
def on_paper(by: Provenance) -> Provenance:
    """A motion a resident handed in on paper, entered by the coordinator ``by`` names: the
    resident is its mover, the coordinator its recorder, through the ``paper`` channel."""
    return replace(by, channel=PAPER)


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
    rescinds: UUID | None = None,
) -> Receipt:
    existing = app.find(motion_id_for(idempotency_key), Motion)
    if existing is not None:
        if (existing.mover, existing.title) != (mover, title.strip()):
            raise KeyReused
        return Receipt(existing.id, app.last_position(), replayed=True)
    if by.channel == PAPER:  # a resident submitting is checked as whoever acts (record)
        check_may_act(app.find(mover, Member))
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
        rescinds=motion_of(app, rescinds) if rescinds else None,
    )
    return Receipt(motion.id, app.record(motion, parent))


@retried_on_conflict
def tried(app: Timebank, motion_id: UUID, action: Callable[[Motion], object]) -> Motion:
    """The motion as ``action`` leaves it, not saved (a copy: loads copy out of the cache), so
    a confirmation screen asks only about what the rules would accept; or their refusal."""
    motion = motion_of(app, motion_id)
    action(motion)
    return motion


def act(app: Timebank, motion_id: UUID, action: Callable[[Motion], object]) -> Receipt:
    """Apply ``action`` to one motion and save it."""
    motion = tried(app, motion_id, action)
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
def schedule(
    app: Timebank,
    *,
    motion_id: UUID,
    meeting_id: UUID,
    by: Provenance,
    now: datetime | None = None,
) -> Receipt:
    """Notice an admitted motion on a meeting's agenda (公示); before the meeting begins, that
    is the prior notice a motion to rescind needs to pass by a majority."""
    motion = motion_of(app, motion_id)
    meeting = meeting_of(app, meeting_id)
    if meeting.is_closed:
        raise RuleViolated("meeting-closed", "This meeting is closed.")
    motion.schedule(meeting.id, by, noticed=meeting.gives_notice(now or datetime.now(UTC)))
    meeting.add_to_agenda(motion.id, by)
    return Receipt(motion.id, app.record(motion, meeting))


@retried_on_conflict
def meeting_act(app: Timebank, meeting_id: UUID, action: Callable[[Meeting], object]) -> Receipt:
    meeting = meeting_of(app, meeting_id)
    action(meeting)
    return Receipt(meeting.id, app.record(meeting))


def opened_vote(app: Timebank, *, motion_id: UUID, now: datetime, by: Provenance) -> Motion:
    """The motion with its vote opened ``now`` (not saved: ``open_vote`` saves it), the rules
    in force, who is entitled and who is present on it; or the refusal."""
    motion = motion_of(app, motion_id)
    if motion.meeting is None:
        raise RuleViolated("not-scheduled", "Schedule the motion at a meeting first.")
    meeting = meeting_of(app, motion.meeting)
    pending = sum(
        1
        for child in map(lambda id_: motion_of(app, id_), motion.amendments)
        if child.status not in SETTLED
    )
    motion.open_vote(rules_in_force(app), meeting, pending, now, by)
    return motion


@retried_on_conflict
def open_vote(app: Timebank, *, motion_id: UUID, now: datetime, by: Provenance) -> Receipt:
    """Open voting: the rules in force, who is entitled and who is present go on record."""
    motion = opened_vote(app, motion_id=motion_id, now=now, by=by)
    return Receipt(motion.id, app.record(motion))


def _box(vault: Vault | None, motion: Motion) -> BallotBox | None:
    """A secret vote's ballot box, in ``vault`` (the key store)."""
    return BallotBox(vault, motion.id) if vault is not None and motion.is_secret else None


def vote(
    app: Timebank,
    *,
    motion_id: UUID,
    voter: UUID,
    choice: Choice,
    by: Provenance,
    vault: Vault | None = None,
) -> Receipt:
    """Cast a ballot; a secret vote's choice is sealed in its ballot box in ``vault``."""
    return act(app, motion_id, lambda motion: motion.cast(voter, choice, by, _box(vault, motion)))


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
    box kept): what a confirmation shows before the vote is closed for good."""
    return tried(app, motion_id, lambda motion: motion.close_vote(by, _box(vault, motion)))


def close_vote(
    app: Timebank, *, motion_id: UUID, by: Provenance, vault: Vault | None = None
) -> Receipt:
    """Count the ballots and record the counts and the result; then a secret vote's ballot box
    is destroyed, so its sealed ballots can never be opened again."""
    receipt, box = _close_vote(app, motion_id, by, vault)
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


def lapse(app: Timebank, *, motion_id: UUID, now: datetime, by: Provenance) -> Receipt:
    return act(app, motion_id, lambda motion: motion.lapse(now, by))


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


def assign(
    app: Timebank, *, motion_id: UUID, owner: str, due: date | None, by: Provenance
) -> Receipt:
    subject = owner_named(app, owner)
    return act(app, motion_id, lambda motion: motion.assign(subject, due, by))


def reassign(app: Timebank, *, motion_id: UUID, owner: str, reason: str, by: Provenance) -> Receipt:
    subject = owner_named(app, owner)
    return act(app, motion_id, lambda motion: motion.reassign(subject, reason, by))


def finish(
    app: Timebank, *, motion_id: UUID, status: MotionStatus, reason: str, by: Provenance
) -> Receipt:
    return act(app, motion_id, lambda motion: motion.finish(status, reason, by))
