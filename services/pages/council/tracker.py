"""The implementation tracker: adopted motions waiting for an owner, and those being carried
out with their progress, milestones and what is overdue; the council assigns owners, reports
progress, adds and reaches milestones, and ends an implementation."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.response import Template
from msgspec import Meta

from projections import council
from projections.readstore import ReadDb
from services import windows
from services.bus import Receipt
from services.composition.runtime import Backbone
from services.council import commands
from services.council.commands import (
    AddMilestone,
    AssignOwner,
    FinishMotion,
    ReachMilestone,
    ReassignOwner,
    ReportProgress,
)
from services.pages.council.common import (
    COUNCIL,
    WITH_STAFF,
    council_of,
    done,
    people,
    render,
    staff_choices,
)
from services.pages.council.motions import motion_action, today
from services.pages.forms import Sent
from services.web.context import After
from services.web.reach import Reach

TRACKER = "/council/tracker"
WAITING = 100  # adopted motions shown waiting for an owner


class Owner(msgspec.Struct, kw_only=True):
    owner: Annotated[str, Meta(min_length=1, max_length=80)]  # a staff subject
    due: Annotated[str, Meta(pattern=r"^(\d{4}-\d{2}-\d{2})?$")] = ""  # a date input left empty

    def command(self, motion_id: UUID) -> AssignOwner:
        now = windows.station_now()
        due = windows.day_of("due", self.due, windows.Window.PLANNED, now) if self.due else None
        return AssignOwner(motion_id=motion_id, owner=self.owner, due=due)


class Reassignment(commands.Reassignment, forbid_unknown_fields=False):
    """The API's body, from a form."""

    def command(self, motion_id: UUID) -> ReassignOwner:
        return ReassignOwner.at(self, motion_id=motion_id)


class Progress(commands.Progress, forbid_unknown_fields=False):
    """The API's body, from a form (which also carries its CSRF token)."""

    def command(self, motion_id: UUID) -> ReportProgress:
        return ReportProgress.at(self, motion_id=motion_id)


class NewMilestone(commands.NewMilestone, forbid_unknown_fields=False):
    """The API's body, from a form."""

    def command(self, motion_id: UUID) -> AddMilestone:
        return AddMilestone.at(self, motion_id=motion_id)


class MilestoneName(commands.MilestoneName, forbid_unknown_fields=False):
    """The API's body, from a form."""

    def command(self, motion_id: UUID) -> ReachMilestone:
        return ReachMilestone.at(self, motion_id=motion_id)


class Outcome(commands.Outcome, forbid_unknown_fields=False):
    """The API's body, from a form."""

    def command(self, motion_id: UUID) -> FinishMotion:
        return FinishMotion.at(self, motion_id=motion_id)


def _tracker(bone: Backbone, db: ReadDb, station: str, on: str) -> dict[str, Any]:
    rows = council.tracker(db, station, on)
    for row in rows:
        found = council.motion(db, row["motion_id"])
        row["milestones"] = found["milestones"] if found else []
    return {
        "waiting": council.board(db, station, status="adopted", before=None, limit=WAITING),
        "motions": rows,
        "people": people(bone, db, (row["owner"] for row in rows if row["owner"])),
        "staff": staff_choices(db),
    }


class TrackerPages(Controller):
    path = "/council"

    @get("/tracker", opt=COUNCIL, sync_to_thread=True)
    def tracker(
        self, bone: NamedDependency[Backbone], reach: NamedDependency[Reach], after: After = None
    ) -> Template:
        on, station = today(bone), council_of(reach)
        page = bone.read_side.query(WITH_STAFF, after, lambda db: _tracker(bone, db, station, on))
        return render(bone, "tracker.html", "tracker", today=on, **page)


def _to_tracker(sent: Sent, receipt: Receipt) -> Response[Any]:
    return done(sent.request, TRACKER, receipt)


ACTIONS = [
    motion_action("owner", Owner, _to_tracker),
    motion_action("owner/reassignment", Reassignment),
    motion_action("progress", Progress),
    motion_action("milestones", NewMilestone),
    motion_action("milestones/reached", MilestoneName),
    motion_action("outcome", Outcome),
]
