"""The resident council over HTTP: motions, their votes and implementation (its meetings and
rules: services/api/meetings.py)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from msgspec import Meta

from domain.identity import Role
from domain.motion import MotionStatus
from domain.rules import NotFound, RuleViolated
from domain.station import DEFAULT_STATION
from projections import council, staff_directory
from projections.readstore import ReadDb
from services.api.board import CouncilStation, council_station, without_member_ids
from services.api.command_routes import command_route
from services.composition.runtime import Backbone
from services.council import handlers
from services.council.commands import (
    AddMilestone,
    AdmitMotion,
    AssignOwner,
    Ballot,
    CastBallot,
    CloseVote,
    DeclineMotion,
    FinishMotion,
    LapseMotion,
    MilestoneName,
    NewMilestone,
    OpenVote,
    Outcome,
    Owner,
    Progress,
    ReachMilestone,
    Reasoned,
    Reassignment,
    ReassignOwner,
    ReportProgress,
    ScheduleMotion,
    Scheduling,
    SubmitMotion,
    SupportMotion,
    WithdrawMotion,
)
from services.web.auth import allow, public
from services.web.context import After, Before, Limit, next_before
from services.web.reads import Reads
from services.windows import station_now

RESIDENTS = (Role.RESIDENT, Role.VOLUNTEER)
BY_RESIDENTS = allow(*RESIDENTS)
BY_COUNCIL = allow(Role.COUNCIL)


class TallyView(msgspec.Struct, kw_only=True):
    status: str
    yes: int
    no: int
    abstain: int
    entitled: int
    present: int
    voted: int | None  # how many have cast a ballot
    secret: bool
    result: str | None  # as decided at close; while open, what the ballots would decide now
    ballots: list[dict[str, str]] | None  # who voted how; None for a secret ballot


class MotionRow(msgspec.Struct, kw_only=True):
    """A motion on the board, as the council read model holds it."""

    motion_id: str
    title: str
    text: str
    mover: str
    status: str
    amends: str | None
    reconsiders: str | None
    rescinds: str | None
    supporters: int
    seconding_threshold: int
    second_by: str
    meeting: str | None
    noticed: Annotated[int | None, Meta(description="1: on the agenda before the meeting")]
    secret: Annotated[int, Meta(description="1: a secret ballot (once voting opened)")]
    rules: Annotated[str | None, Meta(description="VotingOpened as recorded (JSON)")]
    entitled: int | None
    present: int | None
    voted: int | None
    result: str | None
    owner: str | None
    due: str | None
    progress: int
    progress_note: str | None
    submitted_at: str
    position: int
    station_id: str


class Board(msgspec.Struct, kw_only=True):
    motions: list[MotionRow]
    next_before: int | None


class TrackedMotion(MotionRow, kw_only=True):
    overdue: Annotated[int, Meta(description="1: past due, or a milestone past due")]
    owner_name: Annotated[
        str | None, Meta(description="The owner's username in the staff directory")
    ] = None
    owner_title: Annotated[
        str | None, Meta(description="The owner's council title (chair, …), if any")
    ] = None


def _tracked(db: ReadDb, station: UUID, today: str) -> list[dict[str, Any]]:
    """The tracker, each owner named as the staff directory names them (not by their id)."""
    staff = {f"staff:{row['staff_id']}": row for row in staff_directory.everyone(db)}
    rows = without_member_ids(council.tracker(db, council_station(db, station), today))
    for row in rows:
        named = staff.get(row["owner"] or "")
        row["owner_name"] = named["username"] if named else None
        row["owner_title"] = named["title"] if named else None
    return rows


class Step(msgspec.Struct, kw_only=True):
    motion_id: str
    position: int
    type: str
    actor: str
    channel: str
    at: str
    detail: dict[str, Any]  # the event's published payload


class Milestone(msgspec.Struct, kw_only=True):
    name: str
    due: str
    reached_at: str | None


class MotionView(MotionRow, kw_only=True):
    steps: list[Step]
    milestones: list[Milestone]


def decoded(steps: list[dict[str, Any]], *kinds: str) -> list[dict[str, Any]]:
    """``steps`` (of ``kinds`` only, when named) with each event's payload decoded."""
    return [
        {**step, "detail": msgspec.json.decode(step["detail"])}
        for step in steps
        if not kinds or step["type"] in kinds
    ]


class MotionController(Controller):
    """The motions' reads (``MOTIONS`` adds their commands)."""

    @get("/", sync_to_thread=True, opt=public(), summary="The public motion board")
    def board(
        self,
        reads: NamedDependency[Reads],
        after: After = None,
        status: Annotated[MotionStatus | None, QueryParameter()] = None,
        before: Before = None,
        limit: Limit = 50,
        station: CouncilStation = DEFAULT_STATION,
    ) -> Board:
        rows = reads.query(
            ("council", "stations"),
            after,
            lambda db: council.board(
                db, council_station(db, station), status=status, before=before, limit=limit
            ),
        )
        return Board(
            motions=msgspec.convert(without_member_ids(rows), list[MotionRow]),
            next_before=next_before(rows, limit),
        )

    @get("/tracker", sync_to_thread=True, opt=public(), summary="Adopted motions being done")
    def tracker(
        self,
        reads: NamedDependency[Reads],
        after: After = None,
        station: CouncilStation = DEFAULT_STATION,
    ) -> list[TrackedMotion]:
        today = station_now().date().isoformat()
        rows = reads.query(
            ("council", "staff_directory", "stations"),
            after,
            lambda db: _tracked(db, station, today),
        )
        return msgspec.convert(rows, list[TrackedMotion])

    @get(
        "/{motion_id:uuid}",
        sync_to_thread=True,
        opt=public(),
        summary="A motion and its full timeline: every step, who, when",
    )
    def show(
        self, motion_id: FromPath[UUID], reads: NamedDependency[Reads], after: After = None
    ) -> MotionView:
        row = reads.query(("council",), after, lambda db: council.motion(db, str(motion_id)))
        if row is None:
            raise NotFound("motion-not-found", f"There is no motion {motion_id}.")
        shown = without_member_ids({**row, "steps": decoded(row["steps"])})
        return msgspec.convert(shown, MotionView)

    @get(
        "/{motion_id:uuid}/tally",
        sync_to_thread=True,
        opt=public(),
        summary="The tally: live while voting is open (counts only for a secret ballot)",
    )
    def tally(
        self, motion_id: FromPath[UUID], bone: NamedDependency[Backbone], after: After = None
    ) -> TallyView:
        found, counted = bone.read_side.query(
            ("council",), after, lambda db: council.tally_of(db, str(motion_id))
        )
        if not found:
            raise NotFound("motion-not-found", f"There is no motion {motion_id}.")
        if counted is None:
            raise RuleViolated("voting-not-open", "Voting on this motion has not opened.")
        counted = handlers.with_live_counts(bone.timebank, bone.vault, motion_id, counted)
        return msgspec.convert(without_member_ids(counted), TallyView)


MOTIONS = Router(
    "/api/v1/motions",
    tags=["council"],
    route_handlers=[
        MotionController,
        command_route(
            "submit",
            post(
                "/",
                opt=allow(*RESIDENTS, Role.COORDINATOR),
                summary="Submit a motion (a coordinator: one a resident handed in on paper, as "
                "theirs)",
            ),
            SubmitMotion,
        ),
        command_route(
            "support", post("/{motion_id:uuid}/support", opt=BY_RESIDENTS), SupportMotion
        ),
        command_route("lapse", post("/{motion_id:uuid}/lapse", opt=BY_COUNCIL), LapseMotion),
        command_route("admit", post("/{motion_id:uuid}/admission", opt=BY_COUNCIL), AdmitMotion),
        command_route(
            "decline", post("/{motion_id:uuid}/declining", opt=BY_COUNCIL), DeclineMotion, Reasoned
        ),
        command_route(
            "schedule",
            post("/{motion_id:uuid}/scheduling", opt=BY_COUNCIL),
            ScheduleMotion,
            Scheduling,
        ),
        command_route("open_vote", post("/{motion_id:uuid}/voting", opt=BY_COUNCIL), OpenVote),
        command_route(
            "close_vote", post("/{motion_id:uuid}/voting/close", opt=BY_COUNCIL), CloseVote
        ),
        command_route(
            "vote", post("/{motion_id:uuid}/ballots", opt=BY_RESIDENTS), CastBallot, Ballot
        ),
        command_route(
            "withdraw",
            post("/{motion_id:uuid}/withdrawal", opt=BY_RESIDENTS),
            WithdrawMotion,
            Reasoned,
        ),
        command_route(
            "assign", post("/{motion_id:uuid}/owner", opt=BY_COUNCIL), AssignOwner, Owner
        ),
        command_route(
            "reassign",
            post(
                "/{motion_id:uuid}/owner/reassignment",
                opt=BY_COUNCIL,
                summary="Hand an adopted motion to another owner, saying why",
            ),
            ReassignOwner,
            Reassignment,
        ),
        command_route(
            "progress",
            post(
                "/{motion_id:uuid}/progress",
                opt=allow(Role.COUNCIL, Role.COORDINATOR),
                summary="Report progress (its owner, or a council officer)",
            ),
            ReportProgress,
            Progress,
        ),
        command_route(
            "add_milestone",
            post("/{motion_id:uuid}/milestones", opt=BY_COUNCIL),
            AddMilestone,
            NewMilestone,
        ),
        command_route(
            "reach_milestone",
            post("/{motion_id:uuid}/milestones/reached", opt=allow(Role.COUNCIL, Role.COORDINATOR)),
            ReachMilestone,
            MilestoneName,
        ),
        command_route(
            "finish", post("/{motion_id:uuid}/outcome", opt=BY_COUNCIL), FinishMotion, Outcome
        ),
    ],
)
