"""The resident council over HTTP: motions, meetings, votes, implementation, and its rules."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from msgspec import Meta

from domain.council import Base, Choice, Threshold, VotingRules
from domain.identity import Role
from domain.motion import MotionStatus
from domain.provenance import Provenance
from domain.rules import NotFound, RuleViolated
from projections import council, staff_directory
from projections.readstore import ReadDb
from services import council as commands
from services.api import schemas
from services.api.auth import Principal, allow, public
from services.api.board import without_member_ids
from services.api.context import After, Before, Limit, answer, next_before, read
from services.bus import IdempotencyKey, Reason, RuledNumber
from services.runtime import Backbone
from services.windows import PlannedAt, PlannedOn

RESIDENTS = (Role.RESIDENT, Role.VOLUNTEER)
Title = Annotated[str, Meta(min_length=1, max_length=120)]


class NewMotion(schemas.Strict, kw_only=True):
    idempotency_key: IdempotencyKey
    mover: Annotated[
        UUID | None,
        Meta(description="A coordinator entering a motion handed in on paper: whose it is"),
    ] = None
    title: Title
    text: Annotated[str, Meta(min_length=1, max_length=4000)]
    amends: UUID | None = None
    reconsiders: UUID | None = None
    rescinds: Annotated[
        UUID | None,
        Meta(description="An adopted motion to rescind: two thirds unless noticed in advance"),
    ] = None


class Reasoned(schemas.Strict, kw_only=True):
    reason: Reason


class Scheduling(schemas.Strict, kw_only=True):
    meeting_id: UUID


class Ballot(schemas.Strict, kw_only=True):
    choice: Choice


StaffOwner = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=80,
        description="Who carries it out: the id the staff directory lists (or staff:<id>), an"
        " active coordinator or council officer",
    ),
]


class Owner(schemas.Strict, kw_only=True):
    owner: StaffOwner
    due: PlannedOn | None = None


class Reassignment(schemas.Strict, kw_only=True):
    owner: StaffOwner
    reason: Reason


class Progress(schemas.Strict, kw_only=True):
    percent: RuledNumber
    note: Annotated[str, Meta(max_length=500)] = ""


class NewMilestone(schemas.Strict, kw_only=True):
    name: Title
    due: PlannedOn


class MilestoneName(schemas.Strict, kw_only=True):
    name: Title


class Outcome(schemas.Strict, kw_only=True):
    status: Annotated[MotionStatus, Meta(description="done, stalled or cancelled")]
    reason: Annotated[str, Meta(max_length=500)] = ""


class NewMeeting(schemas.Strict, kw_only=True):
    idempotency_key: IdempotencyKey
    title: Title
    starts_at: PlannedAt
    place: Title
    entitled: Annotated[
        list[UUID], Meta(min_length=1, max_length=500, description="Member ids who may vote")
    ]


class Agenda(schemas.Strict, kw_only=True):
    motions: Annotated[list[UUID], Meta(max_length=100)]


class Attendance(schemas.Strict, kw_only=True):
    present: Annotated[list[UUID], Meta(max_length=500)]


class Rules(msgspec.Struct, kw_only=True):
    quorum_count: Annotated[int, Meta(ge=0, le=10_000)]
    quorum_share: Annotated[float, Meta(ge=0, le=1)]
    threshold: Threshold
    base: Base
    abstentions_count: bool
    votes_may_change: bool
    secret: bool
    seconding_threshold: Annotated[int, Meta(ge=0, le=1000)]
    seconding_days: Annotated[int, Meta(ge=1, le=365)]


class RulesChange(Rules, schemas.Strict, kw_only=True):
    reason: Reason


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


def _tracked(db: ReadDb, today: str) -> list[dict[str, Any]]:
    """The tracker, each owner named as the staff directory names them (not by their id)."""
    staff = {f"staff:{row['staff_id']}": row for row in staff_directory.everyone(db)}
    rows = without_member_ids(council.tracker(db, today))
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


class MeetingRow(msgspec.Struct, kw_only=True):
    meeting_id: str
    title: str
    starts_at: str
    place: str
    entitled: int
    present: Annotated[str, Meta(description="Who came (a JSON list of member ids)")]
    agenda: Annotated[str, Meta(description="Its motions in order (a JSON list of ids)")]
    is_closed: int
    position: int


class Minutes(msgspec.Struct, kw_only=True):
    meeting_id: str
    title: str
    starts_at: str
    place: str
    entitled: int
    present: list[str]
    agenda: list[MotionView]  # each with the steps the minutes record: notice, vote, result
    is_closed: int
    position: int


def _member(principal: Principal) -> UUID:
    assert principal.member_id is not None, "residents and volunteers sign in as members"
    return principal.member_id


def _decoded(steps: list[dict[str, Any]], *kinds: str) -> list[dict[str, Any]]:
    """``steps`` (of ``kinds`` only, when named) with each event's payload decoded."""
    return [
        {**step, "detail": msgspec.json.decode(step["detail"])}
        for step in steps
        if not kinds or step["type"] in kinds
    ]


class MotionController(Controller):
    path = "/api/v1/motions"
    tags = ["council"]  # noqa: RUF012

    @post(
        "/",
        opt=allow(*RESIDENTS, Role.COORDINATOR),
        summary="Submit a motion (a coordinator: one a resident handed in on paper, as theirs)",
    )
    async def submit(
        self,
        request: Request[Principal, Any, Any],
        data: JSONBody[NewMotion],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        me = request.user.member_id
        if me is not None and data.mover not in (None, me):
            raise RuleViolated("not-your-motion", "You can submit motions only as yourself.")
        mover = me or data.mover
        if mover is None:
            raise RuleViolated("mover-required", "Name the resident whose motion you enter.")
        receipt = await bone.commits.run(
            commands.submit,
            bone.timebank,
            idempotency_key=data.idempotency_key,
            mover=mover,
            title=data.title,
            text=data.text,
            amends=data.amends,
            reconsiders=data.reconsiders,
            now=bone.clock(),
            by=by if me else commands.on_paper(by),
            rescinds=data.rescinds,
        )
        return answer(receipt)

    @get("/", sync_to_thread=True, opt=public(), summary="The public motion board")
    def board(
        self,
        bone: NamedDependency[Backbone],
        after: After = None,
        status: Annotated[MotionStatus | None, QueryParameter()] = None,
        before: Before = None,
        limit: Limit = 50,
    ) -> Board:
        rows = read(
            bone,
            ("council",),
            after,
            lambda db: council.board(db, status=status, before=before, limit=limit),
        )
        return Board(
            motions=msgspec.convert(without_member_ids(rows), list[MotionRow]),
            next_before=next_before(rows, limit),
        )

    @get("/tracker", sync_to_thread=True, opt=public(), summary="Adopted motions being done")
    def tracker(self, bone: NamedDependency[Backbone], after: After = None) -> list[TrackedMotion]:
        today = bone.today().isoformat()
        rows = read(bone, ("council", "staff_directory"), after, lambda db: _tracked(db, today))
        return msgspec.convert(rows, list[TrackedMotion])

    @get(
        "/{motion_id:uuid}",
        sync_to_thread=True,
        opt=public(),
        summary="A motion and its full timeline: every step, who, when",
    )
    def show(
        self, motion_id: FromPath[UUID], bone: NamedDependency[Backbone], after: After = None
    ) -> MotionView:
        row = read(bone, ("council",), after, lambda db: council.motion(db, str(motion_id)))
        if row is None:
            raise NotFound("motion-not-found", f"There is no motion {motion_id}.")
        shown = without_member_ids({**row, "steps": _decoded(row["steps"])})
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
        found, counted = read(
            bone, ("council",), after, lambda db: council.tally_of(db, str(motion_id))
        )
        if not found:
            raise NotFound("motion-not-found", f"There is no motion {motion_id}.")
        if counted is None:
            raise RuleViolated("voting-not-open", "Voting on this motion has not opened.")
        counted = commands.with_live_counts(bone.timebank, bone.vault, motion_id, counted)
        return msgspec.convert(without_member_ids(counted), TallyView)

    @post("/{motion_id:uuid}/support", opt=allow(*RESIDENTS))
    async def support(
        self,
        motion_id: FromPath[UUID],
        request: Request[Principal, Any, Any],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        supporter, now = _member(request.user), bone.clock()
        return answer(
            await bone.commits.run(
                commands.act, bone.timebank, motion_id, lambda m: m.support(supporter, now, by)
            )
        )

    @post("/{motion_id:uuid}/lapse", opt=allow(Role.COUNCIL))
    async def lapse(
        self,
        motion_id: FromPath[UUID],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        return answer(
            await bone.commits.run(
                commands.lapse, bone.timebank, motion_id=motion_id, now=bone.clock(), by=by
            )
        )

    @post("/{motion_id:uuid}/admission", opt=allow(Role.COUNCIL))
    async def admit(
        self,
        motion_id: FromPath[UUID],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        return answer(
            await bone.commits.run(commands.act, bone.timebank, motion_id, lambda m: m.admit(by))
        )

    @post("/{motion_id:uuid}/declining", opt=allow(Role.COUNCIL))
    async def decline(
        self,
        motion_id: FromPath[UUID],
        data: JSONBody[Reasoned],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        return answer(
            await bone.commits.run(
                commands.act, bone.timebank, motion_id, lambda m: m.decline(data.reason, by)
            )
        )

    @post("/{motion_id:uuid}/scheduling", opt=allow(Role.COUNCIL))
    async def schedule(
        self,
        motion_id: FromPath[UUID],
        data: JSONBody[Scheduling],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        return answer(
            await bone.commits.run(
                commands.schedule,
                bone.timebank,
                motion_id=motion_id,
                meeting_id=data.meeting_id,
                by=by,
                now=bone.clock(),
            )
        )

    @post("/{motion_id:uuid}/voting", opt=allow(Role.COUNCIL))
    async def open_vote(
        self,
        motion_id: FromPath[UUID],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        return answer(
            await bone.commits.run(
                commands.open_vote, bone.timebank, motion_id=motion_id, now=bone.clock(), by=by
            )
        )

    # Not grouped (services.groupcommit): once the counts are saved, a secret vote's ballot
    # box is destroyed, which cannot be undone should the group's save fail.
    @post("/{motion_id:uuid}/voting/close", sync_to_thread=False, opt=allow(Role.COUNCIL))
    def close_vote(
        self,
        motion_id: FromPath[UUID],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        return answer(
            commands.close_vote(bone.timebank, motion_id=motion_id, by=by, vault=bone.vault)
        )

    @post("/{motion_id:uuid}/ballots", opt=allow(*RESIDENTS))
    async def vote(
        self,
        motion_id: FromPath[UUID],
        request: Request[Principal, Any, Any],
        data: JSONBody[Ballot],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        voter = _member(request.user)
        return answer(
            await bone.commits.run(
                commands.vote,
                bone.timebank,
                motion_id=motion_id,
                voter=voter,
                choice=data.choice,
                by=by,
                vault=bone.vault,
            )
        )

    @post("/{motion_id:uuid}/withdrawal", opt=allow(*RESIDENTS))
    async def withdraw(
        self,
        motion_id: FromPath[UUID],
        request: Request[Principal, Any, Any],
        data: JSONBody[Reasoned],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        mover = _member(request.user)
        return answer(
            await bone.commits.run(
                commands.act, bone.timebank, motion_id, lambda m: m.withdraw(mover, data.reason, by)
            )
        )

    @post("/{motion_id:uuid}/owner", opt=allow(Role.COUNCIL))
    async def assign(
        self,
        motion_id: FromPath[UUID],
        data: JSONBody[Owner],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        return answer(
            await bone.commits.run(
                commands.assign,
                bone.timebank,
                motion_id=motion_id,
                owner=data.owner,
                due=data.due,
                by=by,
            )
        )

    @post(
        "/{motion_id:uuid}/owner/reassignment",
        opt=allow(Role.COUNCIL),
        summary="Hand an adopted motion to another owner, saying why",
    )
    async def reassign(
        self,
        motion_id: FromPath[UUID],
        data: JSONBody[Reassignment],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        return answer(
            await bone.commits.run(
                commands.reassign,
                bone.timebank,
                motion_id=motion_id,
                owner=data.owner,
                reason=data.reason,
                by=by,
            )
        )

    @post(
        "/{motion_id:uuid}/progress",
        opt=allow(Role.COUNCIL, Role.COORDINATOR),
        summary="Report progress (its owner, or a council officer)",
    )
    async def progress(
        self,
        motion_id: FromPath[UUID],
        request: Request[Principal, Any, Any],
        data: JSONBody[Progress],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        caller = request.user
        reporter = None if Role.COUNCIL in caller.roles else caller.subject
        return answer(
            await bone.commits.run(
                commands.act,
                bone.timebank,
                motion_id,
                lambda m: m.report_progress(data.percent, data.note, by, reporter=reporter),
            )
        )

    @post("/{motion_id:uuid}/milestones", opt=allow(Role.COUNCIL))
    async def add_milestone(
        self,
        motion_id: FromPath[UUID],
        data: JSONBody[NewMilestone],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        return answer(
            await bone.commits.run(
                commands.act,
                bone.timebank,
                motion_id,
                lambda m: m.add_milestone(data.name, data.due, by),
            )
        )

    @post(
        "/{motion_id:uuid}/milestones/reached",
        opt=allow(Role.COUNCIL, Role.COORDINATOR),
    )
    async def reach_milestone(
        self,
        motion_id: FromPath[UUID],
        data: JSONBody[MilestoneName],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        return answer(
            await bone.commits.run(
                commands.act, bone.timebank, motion_id, lambda m: m.reach_milestone(data.name, by)
            )
        )

    @post("/{motion_id:uuid}/outcome", opt=allow(Role.COUNCIL))
    async def finish(
        self,
        motion_id: FromPath[UUID],
        data: JSONBody[Outcome],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        return answer(
            await bone.commits.run(
                commands.finish,
                bone.timebank,
                motion_id=motion_id,
                status=data.status,
                reason=data.reason,
                by=by,
            )
        )


class MeetingController(Controller):
    path = "/api/v1/meetings"
    tags = ["council"]  # noqa: RUF012

    @post("/", opt=allow(Role.COUNCIL), summary="Call a meeting")
    async def call(
        self,
        data: JSONBody[NewMeeting],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        receipt = await bone.commits.run(
            commands.call,
            bone.timebank,
            idempotency_key=data.idempotency_key,
            title=data.title,
            starts_at=data.starts_at,
            place=data.place,
            entitled=tuple(data.entitled),
            by=by,
        )
        return answer(receipt)

    @get("/", sync_to_thread=True, opt=public(), summary="Meetings, latest first")
    def list_meetings(
        self, bone: NamedDependency[Backbone], after: After = None
    ) -> list[MeetingRow]:
        rows = read(bone, ("council",), after, council.meetings)
        return msgspec.convert(without_member_ids(rows), list[MeetingRow])

    @get(
        "/{meeting_id:uuid}/minutes",
        sync_to_thread=True,
        opt=public(),
        summary="Minutes generated from the record: who came, each motion taken, votes, results",
    )
    def minutes(
        self, meeting_id: FromPath[UUID], bone: NamedDependency[Backbone], after: After = None
    ) -> Minutes:
        def query(db: Any) -> dict[str, Any] | None:
            found = council.meeting(db, str(meeting_id))
            if found is None:
                return None
            agenda = msgspec.json.decode(found["agenda"])
            return {
                **found,
                "present": msgspec.json.decode(found["present"]),
                "agenda": [council.motion(db, motion_id) for motion_id in agenda],
            }

        found = read(bone, ("council",), after, query)
        if found is None:
            raise NotFound("meeting-not-found", f"There is no meeting {meeting_id}.")
        taken = ("MotionScheduled", "VotingOpened", "VotingClosed")
        agenda = [{**item, "steps": _decoded(item["steps"], *taken)} for item in found["agenda"]]
        return msgspec.convert(without_member_ids({**found, "agenda": agenda}), Minutes)

    @put("/{meeting_id:uuid}/agenda", opt=allow(Role.COUNCIL))
    async def reorder(
        self,
        meeting_id: FromPath[UUID],
        data: JSONBody[Agenda],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        order = tuple(data.motions)
        return answer(
            await bone.commits.run(
                commands.meeting_act, bone.timebank, meeting_id, lambda m: m.reorder(order, by)
            )
        )

    @put("/{meeting_id:uuid}/attendance", opt=allow(Role.COUNCIL))
    async def attendance(
        self,
        meeting_id: FromPath[UUID],
        data: JSONBody[Attendance],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        present = tuple(data.present)
        return answer(
            await bone.commits.run(
                commands.meeting_act,
                bone.timebank,
                meeting_id,
                lambda m: m.record_attendance(present, by),
            )
        )

    @post("/{meeting_id:uuid}/closure", opt=allow(Role.COUNCIL))
    async def close(
        self,
        meeting_id: FromPath[UUID],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        return answer(
            await bone.commits.run(
                commands.meeting_act, bone.timebank, meeting_id, lambda m: m.close(by)
            )
        )


class CouncilRulesController(Controller):
    path = "/api/v1/council/rules"
    tags = ["council"]  # noqa: RUF012

    @get("/", sync_to_thread=True, opt=public(), summary="The voting rules in force")
    def rules(self, bone: NamedDependency[Backbone]) -> Rules:
        return msgspec.convert(vars(commands.rules_in_force(bone.timebank)), Rules)

    @put(
        "/",
        opt=allow(Role.COUNCIL, Role.ADMIN),
        summary="Change the rules, saying why (votes already opened keep theirs)",
    )
    async def change(
        self,
        data: JSONBody[RulesChange],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        values = msgspec.structs.asdict(data)
        reason = values.pop("reason")
        return answer(
            await bone.commits.run(
                commands.change_rules,
                bone.timebank,
                rules=VotingRules(**values),
                reason=reason,
                by=by,
            )
        )
