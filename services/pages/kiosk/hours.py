"""A volunteer logs their own service hours at the kiosk (the record of Art. 7 of
《志愿服务记录与证明出具办法》); each awaits a coordinator's approval, which credits the time.
Only members registered as volunteers see this."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import msgspec
from babel.dates import format_time
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template
from msgspec import Meta

from domain.identity import Role
from domain.rules import RuleViolated
from domain.volunteer import volunteer_id_for
from projections import hours
from services.bus import Caller
from services.composition.runtime import Backbone
from services.hours.commands import SubmitEntry
from services.pages.i18n import N_, gettext, language
from services.pages.kiosk.frame import (
    ActionKey,
    Form,
    Minutes,
    category_names,
    member_of,
    new_key,
    refused_again,
    screen,
    showing,
)
from services.pages.refusals import explain
from services.web.auth import allow
from services.web.context import After
from services.web.reads import Reads
from services.windows import DoneOn, TimeOfDay, Windowed

VOLUNTEERS = allow(Role.VOLUNTEER)
# The usual start times, one touch each; any other is typed in the time field.
START_TIMES = ("08:00", "09:00", "10:00", "14:00", "15:00", "19:00")
# Said before sending (by kiosk.js) and after, should the service still refuse a time not over.
NOT_OVER_YET = N_(
    "This time is not over yet: it would end later than now. Please choose an earlier start, a "
    "shorter time, or another day."
)
RECENT = 10
Required = Annotated[str, Meta(min_length=1, max_length=200)]
Text = Annotated[str, Meta(max_length=200)]


class ServiceGiven(Windowed, kw_only=True):
    key: ActionKey
    activity: Required
    day: DoneOn
    start: TimeOfDay
    minutes: Minutes
    category: Annotated[str, Meta(min_length=1, max_length=40)]
    organiser: Required
    responsible: Required
    place: Text = ""
    content: Annotated[str, Meta(max_length=1000)] = ""
    building: Annotated[str, Meta(max_length=40)] = ""

    def command(self, zone: ZoneInfo) -> SubmitEntry:
        """The volunteer's own service, begun at the day and time they wrote, in the station's
        time zone."""
        fields = msgspec.structs.asdict(self)
        del fields["key"], fields["day"], fields["start"]
        started = datetime.combine(self.day, time.fromisoformat(self.start), zone)
        return SubmitEntry(idempotency_key=f"kiosk-hours:{self.key}", started_at=started, **fields)


def _as_last_time(rows: list[Any], station: str) -> dict[str, str]:
    """Who organised the service and who was in charge, as the volunteer gave them last time
    (newest first in ``rows``); the first time, the organiser is the station."""
    if not rows:
        return {"organiser": station, "responsible": ""}
    return {"organiser": rows[0]["organiser"], "responsible": rows[0]["responsible"]}


def start_choices() -> list[tuple[str, str]]:
    """The usual start times as one-touch choices, read as people say them (上午 9:00)."""
    pattern = "B h:mm" if language() == "zh_CN" else "h:mm a"
    return [
        (start, format_time(time.fromisoformat(start), pattern, locale=language()))
        for start in START_TIMES
    ]


def _entered(data: ServiceGiven) -> dict[str, Any]:
    """What the volunteer filled in, to fill the form in again after a refusal."""
    return {**msgspec.structs.asdict(data), "day": data.day.isoformat()}


def _refusal(refused: RuleViolated) -> str:
    """What a refused entry says: a time not over yet in words of this form."""
    return gettext(NOT_OVER_YET) if refused.code == "date-in-future" else explain(refused)


class VolunteerHours(Controller):
    path = "/kiosk/hours"

    @get("/", opt=VOLUNTEERS, sync_to_thread=True)
    def form(
        self, request: Request[Any, Any, Any], bone: NamedDependency[Backbone], after: After = None
    ) -> Template:
        return _form(request, bone, after)

    @post("/", opt=VOLUNTEERS, sync_to_thread=True)
    def submit(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[ServiceGiven, Form],
        bone: NamedDependency[Backbone],
        caller: NamedDependency[Caller],
    ) -> Redirect | Template:
        """Sent for approval; refused, the form again as it was filled in, saying why."""
        try:
            receipt = bone.bus.handle_from_thread(data.command(bone.settings.zone), caller)
        except RuleViolated as refused:
            page = _form(request, bone, None, entered=_entered(data), refusal=_refusal(refused))
            return refused_again(request, refused.code, page, 422)
        return showing("/kiosk/hours", receipt, done="logged")


def _form(
    request: Request[Any, Any, Any],
    bone: Backbone,
    after: int | None,
    *,
    entered: dict[str, Any] | None = None,
    refusal: str | None = None,
) -> Template:
    """The form, empty but for the day and who organised it (as last time), or as it was
    filled in; the volunteer's latest hours below it."""
    found = _latest(bone.read_side, str(volunteer_id_for(member_of(request))), after)
    today = bone.today()
    empty = {
        **dict.fromkeys(("activity", "start", "minutes", "place", "content", "building"), ""),
        "category": None,
        "day": today.isoformat(),
        **_as_last_time(found["rows"], bone.settings.station_name),
    }
    return screen(
        request,
        "hours.html",
        today=today.isoformat(),
        yesterday=(today - timedelta(days=1)).isoformat(),
        now=bone.local_now().strftime("%Y-%m-%dT%H:%M:%S"),
        start_choices=start_choices(),
        not_over_yet=gettext(NOT_OVER_YET),
        key=new_key(),
        entered=entered or empty,
        refusal=refusal,
        **found,
    )


def _latest(reads: Reads, volunteer: str, after: int | None) -> dict[str, Any]:
    """The volunteer's latest hours, and the help categories to choose from."""

    def query(db: Any) -> dict[str, Any]:
        return {
            "rows": hours.listed(
                db,
                volunteer=volunteer,
                status=None,
                started_from=None,
                started_before=None,
                before=None,
                limit=RECENT,
            ),
            "categories": category_names(db),
            "every_category": category_names(db, include_retired=True),
        }

    return reads.query(("hours", "marketplace"), after, query)
