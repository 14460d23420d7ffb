"""Carrying out an adopted motion: its owner, progress, milestones and outcome, by the staff of
its own station."""

from __future__ import annotations

from uuid import UUID

from domain.identity import Role, Staff
from domain.motion import Motion, check_owner, owner_for
from domain.provenance import Provenance
from domain.rules import RuleViolated
from services.bus import Acting, Receipt
from services.council.commands import (
    AddMilestone,
    AssignOwner,
    FinishMotion,
    ReachMilestone,
    ReassignOwner,
    ReportProgress,
)
from services.council.records import act
from services.stations.handlers import station_of
from services.store.eventstore import Timebank


def owner_named(app: Timebank, named: str, station: UUID) -> str:
    """The owner ``named`` stands for, as a motion records them: the id the staff directory
    lists, bare or as ``staff:<id>``; a name in any other form is refused before anything is
    looked up. The owner works at the motion's ``station``."""
    subject = named.strip().lower()
    subject = subject if subject.startswith("staff:") else f"staff:{subject}"
    check_owner(subject)
    staff = app.find(UUID(subject.removeprefix("staff:")), Staff)
    if staff is None:
        raise RuleViolated(
            "unknown-owner", f"The staff directory lists no one as {subject}.", field="owner"
        )
    place = station_of(app, station).place
    if not staff.scope.covers(station, place):
        raise RuleViolated(
            "owner-elsewhere",
            "The owner works at another station; name someone of the motion's station.",
            field="owner",
        )
    return owner_for(staff)


def _owned(acting: Acting, motion: Motion, named: str) -> str:
    return owner_named(acting.app, named, motion.station)


def assign(command: AssignOwner, acting: Acting) -> Receipt:
    by = acting.by
    return act(
        acting,
        command.motion_id,
        lambda m: m.assign(_owned(acting, m, command.owner), command.due, by),
    )


def reassign(command: ReassignOwner, acting: Acting) -> Receipt:
    by = acting.by
    return act(
        acting,
        command.motion_id,
        lambda m: m.reassign(_owned(acting, m, command.owner), command.reason, by),
    )


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
    return act(
        acting,
        command.motion_id,
        lambda m: m.report_progress(command.percent, command.note, by, reporter=reporter),
    )


def add_milestone(command: AddMilestone, acting: Acting) -> Receipt:
    by = acting.by
    return act(acting, command.motion_id, lambda m: m.add_milestone(command.name, command.due, by))


def reach_milestone(command: ReachMilestone, acting: Acting) -> Receipt:
    by = acting.by
    return act(acting, command.motion_id, lambda m: m.reach_milestone(command.name, by))


def finish(command: FinishMotion, acting: Acting) -> Receipt:
    by = acting.by
    return act(acting, command.motion_id, lambda m: m.finish(command.status, command.reason, by))
