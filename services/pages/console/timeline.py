"""An hour entry as the console shows it: what it says now, and its audit timeline — every
step with who took it, when, through which channel, what changed (before → after) and why."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec

from domain.provenance import Provenance
from domain.rules import NotFound
from projections import hours
from projections.readstore import ReadDb
from projections.stored import in_zone
from services.composition.runtime import Backbone
from services.pages import purposes
from services.pages.console.common import People, category_names, people, volunteer_member
from services.pages.i18n import hours as hours_of
from services.pages.i18n import moment
from services.pages.labels import label
from services.web.reach import Reach, check_sees_people

NOTHING = "—"


class Shown:
    """Recorded values as a coordinator reads them, in their language and the station's zone."""

    def __init__(self, who: People, categories: dict[str, str], zone: ZoneInfo) -> None:
        self.who = who
        self.categories = categories
        self.zone = zone

    def value(self, field: str, value: Any) -> str:
        if value is None or value == "":
            return NOTHING
        formats: dict[str, Callable[[Any], str]] = {
            "minutes": lambda minutes: hours_of(int(minutes)),
            "started_at": lambda when: moment(when, self.zone),
            "status": lambda status: label("entry_status", status),
            "category": lambda code: self.categories.get(code, code),
            "beneficiary": self.who.named,
        }
        return formats.get(field, str)(value)

    def changes(self, changes: dict[str, list[Any]]) -> list[dict[str, str]]:
        return [
            {
                "field": label("field", field),
                "before": self.value(field, before),
                "after": self.value(field, after),
            }
            for field, (before, after) in changes.items()
        ]

    def step(self, row: dict[str, Any]) -> dict[str, Any]:
        return {
            "position": row["position"],
            "what": label("entry_step", row["type"]),
            "type": row["type"],
            "who": self.who.who(row["actor"]),
            "channel": self.who.channel(row["channel"]),
            "at": moment(row["at"], self.zone),
            "reason": row["reason"],
            "requested_by": row["requested_by"],
            "changes": self.changes(msgspec.json.decode(row["changes"])),
        }


def entry_view(
    bone: Backbone,
    entry_id: UUID,
    after: int | None = None,
    opened: tuple[Provenance, Reach] | None = None,
) -> dict[str, Any]:
    """Everything the entry page shows, once the hours read model has reached ``after``;
    ``opened`` (the page as opened: by whom, reaching which stations), the volunteer and
    beneficiary named, one list view, for the entry's own station's staff only."""
    zone = bone.settings.zone

    def query(db: ReadDb) -> dict[str, Any]:
        row = hours.entry(db, str(entry_id))
        if row is None:
            raise NotFound("entry-not-found", f"There is no service-hour entry {entry_id}.")
        categories = category_names(db)
        shown = Shown(people(bone, db), categories, zone)
        started = in_zone(datetime.fromisoformat(row["started_at"]), zone)
        offered = category_names(db, include_retired=False)
        return {
            "entry": row,
            "flags": [flag for flag in row["flags"].split(",") if flag],
            "shown": shown,
            "history": hours.history(db, str(entry_id)),
            "categories": categories,
            "category_choices": sorted({row["category"], *offered}),
            "day": started.date().isoformat(),
            "start": started.strftime("%H:%M:%S" if started.second else "%H:%M"),
        }

    view = bone.read_side.query(("hours",), after, query)
    shown: Shown = view["shown"]
    if opened is not None:
        by, reach = opened
        check_sees_people(reach, view["entry"]["station_id"])
        named = [volunteer_member(bone.timebank, view["entry"]["volunteer_id"])]
        named += [UUID(view["entry"]["beneficiary"])] if view["entry"]["beneficiary"] else []
        members = [member for member in named if member is not None]
        shown.who.reveal(bone.vault, members, purpose=purposes.TIMELINE, by=by)
    view["volunteer"] = shown.who.volunteer_named(view["entry"]["volunteer_id"])
    view["steps"] = [shown.step(step) for step in view.pop("history")]
    return view
