"""The console's CSV downloads of service hours, as the API exports them: an entry's audit
history, and a volunteer's entries over a period. The rows are the API's own."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from services.composition.runtime import Backbone
from services.pages.console.common import STAFF
from services.web.auth import Principal, allow
from services.web.context import After
from services.web.hour_history import (
    check_volunteer_reached,
    history_export,
    reached_entry,
    volunteer_export,
    volunteer_report,
)
from services.web.reach import Reach

Day = Annotated[date | None, QueryParameter(description="A day (the station's)")]


@get("/hours/{entry_id:uuid}/history.csv", opt=allow(*STAFF, people=True), sync_to_thread=True)
def history(
    request: Request[Principal, Any, Any],
    entry_id: FromPath[UUID],
    bone: NamedDependency[Backbone],
    reach: NamedDependency[Reach],
    after: After = None,
) -> Response[str]:
    """Every step of the entry: one line per field it changed, before and after, and why."""
    _, steps = reached_entry(request.user, reach, bone.read_side, entry_id, after)
    return history_export(entry_id, steps)


@get(
    "/volunteers/{volunteer_id:uuid}/hours.csv", opt=allow(*STAFF, people=True), sync_to_thread=True
)
def volunteer_hours(
    request: Request[Principal, Any, Any],
    volunteer_id: FromPath[UUID],
    bone: NamedDependency[Backbone],
    reach: NamedDependency[Reach],
    first: Day = None,
    last: Day = None,
    after: After = None,
) -> Response[str]:
    """The volunteer's entries from ``first`` to ``last`` (by default this month so far), one
    line per entry."""
    check_volunteer_reached(request.user, reach, bone.read_side, volunteer_id, after)
    today = bone.today()
    first, last = first or today.replace(day=1), last or today
    return volunteer_export(volunteer_report(bone.read_side, volunteer_id, first, last, after))
