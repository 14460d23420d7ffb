"""The motion board and each motion's page: its timeline (every step, who, when) and what the
council does with it — admit it, decline it with a reason, put it on a meeting's agenda."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from domain.motion import MotionStatus
from domain.provenance import Provenance
from domain.rules import NotFound
from projections import council
from projections.readstore import ReadDb
from services.bus import Receipt
from services.composition.runtime import Backbone
from services.council import commands, handlers
from services.council.commands import (
    AdmitMotion,
    DeclineMotion,
    Reasoned,
    ScheduleMotion,
)
from services.pages import purposes
from services.pages.council.common import (
    COUNCIL,
    MODELS,
    WITH_STAFF,
    Confirmation,
    check_council,
    confirming,
    council_of,
    done,
    people,
    render,
    reveal,
    staff_choices,
)
from services.pages.forms import Answer, Ask, CommandForm, Sent, action
from services.pages.i18n import gettext
from services.web.context import After, Before, next_before
from services.web.reach import Reach

PAGE_SIZE = 50


class Declining(Reasoned, forbid_unknown_fields=False):
    """The API's body, from a form (which also carries its CSRF token)."""

    def command(self, motion_id: UUID) -> DeclineMotion:
        return DeclineMotion.at(self, motion_id=motion_id)


class Admission(Confirmation):
    """Admitting a motion: nothing but the officers' "yes"."""

    def command(self, motion_id: UUID) -> AdmitMotion:
        return AdmitMotion(motion_id=motion_id)


class Scheduling(commands.Scheduling, forbid_unknown_fields=False):
    """The API's body, from a form."""

    def command(self, motion_id: UUID) -> ScheduleMotion:
        return ScheduleMotion.at(self, motion_id=motion_id)


def motion_path(motion_id: UUID | str) -> str:
    return f"/council/motions/{motion_id}"


def motion_or_refuse(db: ReadDb, motion_id: UUID | str, reach: Reach) -> dict[str, Any]:
    """The motion, if it is one of the caller's own station's council."""
    row = council.motion(db, str(motion_id))
    if row is None:
        raise NotFound("motion-not-found", f"There is no motion {motion_id}.")
    return check_council(reach, row)


def on_motion(sent: Sent, receipt: Receipt) -> Response[Any]:
    """After a command about a motion: its page, showing the effect."""
    return done(sent.request, motion_path(sent.record_id), receipt)


def motion_action(
    path: str, form: type[CommandForm], answer: Answer = on_motion, *, ask: Ask | None = None
) -> HTTPRouteHandler:
    """``POST /council/motions/{motion_id}/path``: the command ``form`` gives about the motion."""
    return action(f"/council/motions/{{motion_id:uuid}}/{path}", form, answer, ask=ask, opt=COUNCIL)


def today(bone: Backbone) -> str:
    """The station's date (ISO), against which due dates are overdue."""
    return bone.today().isoformat()


def _motion_page(bone: Backbone, db: ReadDb, motion_id: UUID, reach: Reach) -> dict[str, Any]:
    row = motion_or_refuse(db, motion_id, reach)
    steps = [{**step, "detail": msgspec.json.decode(step["detail"])} for step in row["steps"]]
    owners = {
        step["detail"][key]
        for step in steps
        for key in ("owner", "previous")
        if step["type"] in ("OwnerAssigned", "MotionOwnerReassigned") and step["detail"].get(key)
    }
    related = {
        key: council.motion(db, row[key])
        for key in ("amends", "reconsiders", "rescinds")
        if row[key] is not None
    }
    return {
        "motion": row,
        "steps": steps,
        "related": related,
        "meetings": {
            found["meeting_id"]: found for found in council.meetings(db, row["station_id"])
        },
        "people": people(
            bone, db, {step["actor"] for step in steps} | owners | {f"member:{row['mover']}"}
        ),
        "staff": staff_choices(db),
    }


class MotionPages(Controller):
    path = "/council"

    @get("/", opt=COUNCIL, sync_to_thread=True)
    def board(
        self,
        bone: NamedDependency[Backbone],
        reach: NamedDependency[Reach],
        status: Annotated[MotionStatus | None, QueryParameter()] = None,
        before: Before = None,
        after: After = None,
    ) -> Template:
        station = council_of(reach)
        rows = bone.read_side.query(
            MODELS,
            after,
            lambda db: council.board(db, station, status=status, before=before, limit=PAGE_SIZE),
        )
        return render(
            bone,
            "board.html",
            "board",
            motions=rows,
            shown=status.value if status else None,
            next_before=next_before(rows, PAGE_SIZE),
        )

    @get("/motions/{motion_id:uuid}", opt=COUNCIL, sync_to_thread=True)
    def motion(
        self,
        motion_id: FromPath[UUID],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
        reach: NamedDependency[Reach],
        after: After = None,
    ) -> Template:
        """The motion and its timeline, naming its mover and the residents who acted on it."""
        page = bone.read_side.query(
            WITH_STAFF, after, lambda db: _motion_page(bone, db, motion_id, reach)
        )
        reveal(bone, page["people"], purpose=purposes.MOTION, by=by)
        return render(bone, "motion.html", "board", today=today(bone), **page)


def _asking_to_admit(sent: Sent) -> Template:
    """An admission cannot be taken back: first which motion goes forward."""
    bone = sent.station
    path = motion_path(sent.record_id)
    return confirming(
        sent.request,
        bone,
        "board",
        question=gettext("Admit this motion?"),
        sentences=[
            gettext("“%(title)s” will go forward to a meeting's agenda.")
            % {"title": handlers.motion_of(bone.timebank, sent.record_id).title},
            gettext("An admission cannot be taken back."),
        ],
        action=f"{path}/admission",
        back=path,
        yes=gettext("Yes, admit"),
    )


ACTIONS = [
    motion_action("admission", Admission, ask=_asking_to_admit),
    motion_action("declining", Declining),
    motion_action("scheduling", Scheduling),
]
