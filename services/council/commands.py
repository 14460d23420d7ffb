"""What residents, the council and coordinators ask of the council, as they say it."""

from __future__ import annotations

from typing import Annotated, ClassVar
from uuid import UUID

import msgspec
from msgspec import Meta

from domain.council import Base, Choice, Threshold
from domain.motion import MotionStatus
from services.bus import Command, IdempotencyKey, Reason, RuledNumber
from services.windows import PlannedAt, PlannedOn

Title = Annotated[str, Meta(min_length=1, max_length=120)]
MotionText = Annotated[str, Meta(min_length=1, max_length=4000)]
StationChoice = Annotated[
    UUID | None,
    Meta(description="The station whose council this is; by default the caller's own"),
]
StaffOwner = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=80,
        description="Who carries it out: the id the staff directory lists (or staff:<id>), an"
        " active coordinator or council officer",
    ),
]


class SubmitMotion(Command, kw_only=True):
    idempotency_key: IdempotencyKey
    mover: Annotated[
        UUID | None,
        Meta(description="A coordinator entering a motion handed in on paper: whose it is"),
    ] = None
    title: Title
    text: MotionText
    amends: UUID | None = None
    reconsiders: UUID | None = None
    rescinds: Annotated[
        UUID | None,
        Meta(description="An adopted motion to rescind: two thirds unless noticed in advance"),
    ] = None


class OnMotion(Command, kw_only=True):
    """A command about one motion, which its path names."""

    motion_id: UUID


class SupportMotion(OnMotion, kw_only=True):
    pass


class LapseMotion(OnMotion, kw_only=True):
    pass


class AdmitMotion(OnMotion, kw_only=True):
    pass


class OpenVote(OnMotion, kw_only=True):
    pass


class CloseVote(OnMotion, kw_only=True):
    # Once the counts are saved, a secret vote's ballot box is destroyed: it cannot be
    # dry-run, nor redone should a group's save fail.
    writes_outside_the_store: ClassVar[bool] = True
    alone: ClassVar[bool] = True


class Reasoned(Command, kw_only=True):
    reason: Reason


class DeclineMotion(Reasoned, kw_only=True):
    motion_id: UUID


class WithdrawMotion(Reasoned, kw_only=True):
    motion_id: UUID


class Scheduling(Command, kw_only=True):
    meeting_id: UUID


class ScheduleMotion(Scheduling, kw_only=True):
    motion_id: UUID


class Ballot(Command, kw_only=True):
    choice: Choice


class CastBallot(Ballot, kw_only=True):
    # A secret ballot is sealed with its vote's key, made in the key store on first use
    # (which bears doing twice, so it still joins a group).
    writes_outside_the_store: ClassVar[bool] = True
    motion_id: UUID


class Owner(Command, kw_only=True):
    owner: StaffOwner
    due: PlannedOn | None = None


class AssignOwner(Owner, kw_only=True):
    motion_id: UUID


class Reassignment(Command, kw_only=True):
    owner: StaffOwner
    reason: Reason


class ReassignOwner(Reassignment, kw_only=True):
    motion_id: UUID


class Progress(Command, kw_only=True):
    percent: RuledNumber
    note: Annotated[str, Meta(max_length=500)] = ""


class ReportProgress(Progress, kw_only=True):
    motion_id: UUID


class NewMilestone(Command, kw_only=True):
    name: Title
    due: PlannedOn


class AddMilestone(NewMilestone, kw_only=True):
    motion_id: UUID


class MilestoneName(Command, kw_only=True):
    name: Title


class ReachMilestone(MilestoneName, kw_only=True):
    motion_id: UUID


class Outcome(Command, kw_only=True):
    status: Annotated[MotionStatus, Meta(description="done, stalled or cancelled")]
    reason: Annotated[str, Meta(max_length=500)] = ""


class FinishMotion(Outcome, kw_only=True):
    motion_id: UUID


class CallMeeting(Command, kw_only=True):
    idempotency_key: IdempotencyKey
    title: Title
    starts_at: PlannedAt
    place: Title
    entitled: Annotated[
        list[UUID], Meta(min_length=1, max_length=500, description="Member ids who may vote")
    ]
    station: StationChoice = None


class Agenda(Command, kw_only=True):
    motions: Annotated[list[UUID], Meta(max_length=100)]


class OrderAgenda(Agenda, kw_only=True):
    meeting_id: UUID


class MoveOnAgenda(Command, kw_only=True):
    meeting_id: UUID
    motion_id: UUID
    step: Annotated[int, Meta(ge=-100, le=100)]  # places: up is negative


class Attendance(Command, kw_only=True):
    present: Annotated[list[UUID], Meta(max_length=500)]


class RecordAttendance(Attendance, kw_only=True):
    meeting_id: UUID


class CloseMeeting(Command, kw_only=True):
    meeting_id: UUID


class Rules(msgspec.Struct, kw_only=True):
    """The voting rules, as the API shows them and a change sends them."""

    quorum_count: Annotated[int, Meta(ge=0, le=10_000)]
    quorum_share: Annotated[float, Meta(ge=0, le=1)]
    threshold: Threshold
    base: Base
    abstentions_count: bool
    votes_may_change: bool
    secret: bool
    seconding_threshold: Annotated[int, Meta(ge=0, le=1000)]
    seconding_days: Annotated[int, Meta(ge=1, le=365)]


class ChangeRules(Rules, Command, kw_only=True):
    reason: Reason
    station: StationChoice = None
