"""A volunteer logs their own service hours at the kiosk (the record of Art. 7 of
《志愿服务记录与证明出具办法》); each awaits a coordinator's approval, which credits the time.
Only members registered as volunteers see this."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template
from msgspec import Meta

from domain.hours import Service
from domain.identity import Role
from domain.provenance import Provenance
from domain.volunteer import volunteer_id_for
from projections import hours
from services import hours as entries
from services.api.auth import allow
from services.api.context import After, read
from services.pages.kiosk.frame import (
    ActionKey,
    Form,
    Minutes,
    category_names,
    member_of,
    new_key,
    screen,
    showing,
)
from services.runtime import Backbone
from services.windows import DoneOn, TimeOfDay, Windowed

VOLUNTEERS = allow(Role.VOLUNTEER)
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

    def service(self, zone: ZoneInfo) -> Service:
        """The service as recorded: the day and time the volunteer wrote, in the station's
        time zone."""
        fields = msgspec.structs.asdict(self)
        del fields["key"], fields["day"], fields["start"]
        started = datetime.combine(self.day, time.fromisoformat(self.start), zone)
        return Service(started_at=started, **fields)


def _as_last_time(rows: list[Any], station: str) -> dict[str, str]:
    """Who organised the service and who was in charge, as the volunteer gave them last time
    (newest first in ``rows``); the first time, the organiser is the station."""
    if not rows:
        return {"organiser": station, "responsible": ""}
    return {"organiser": rows[0]["organiser"], "responsible": rows[0]["responsible"]}


class VolunteerHours(Controller):
    path = "/kiosk/hours"

    @get("/", opt=VOLUNTEERS, sync_to_thread=True)
    def form(
        self, request: Request[Any, Any, Any], bone: NamedDependency[Backbone], after: After = None
    ) -> Template:
        volunteer = str(volunteer_id_for(member_of(request)))

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

        found = read(bone, ("hours", "marketplace"), after, query)
        return screen(
            request,
            "hours.html",
            today=bone.today().isoformat(),
            yesterday=(bone.today() - timedelta(days=1)).isoformat(),
            key=new_key(),
            **_as_last_time(found["rows"], bone.settings.station_name),
            **found,
        )

    @post("/", opt=VOLUNTEERS, sync_to_thread=True)
    def submit(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[ServiceGiven, Form],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Redirect:
        receipt = bone.commits.run_from_thread(
            entries.submit,
            bone.timebank,
            idempotency_key=f"kiosk-hours:{data.key}",
            volunteer_id=volunteer_id_for(member_of(request)),
            service=data.service(bone.settings.zone),
            now=bone.local_now(),
            by=by,
        )
        return showing("/kiosk/hours", receipt, done="logged")
