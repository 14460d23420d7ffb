"""One hour entry: its page with the audit timeline, and what a coordinator does to it —
approve (confirmed first: it credits), reject with a reason, amend or void with a reason and
who asked (confirmed first when credits move). After each, the page is read at the command's
position, so the timeline shows the new step at once."""

from __future__ import annotations

from dataclasses import fields as fields_of
from datetime import datetime, time
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from msgspec import Meta

from domain.hours import EntryStatus, Service
from domain.provenance import Provenance
from services.composition.runtime import Backbone
from services.hours.commands import AmendEntry, ApproveEntry, RejectEntry, VoidEntry
from services.hours.handlers import entry_of
from services.pages.console.common import (
    STAFF,
    RecordPage,
    confirm,
    show,
)
from services.pages.console.timeline import Shown, entry_view
from services.pages.forms import Sent
from services.pages.i18n import N_, gettext
from services.pages.i18n import hours as hours_of
from services.web.auth import allow
from services.web.context import After
from services.web.reach import Reach
from services.windows import DoneOn, TimeOfDay, Windowed

ENTRY = "/hours/{entry_id:uuid}"
PAGE = "console/hours/entry.html"
PART = "console/hours/_entry.html"
Text = Annotated[str, Meta(max_length=200)]
Reason = Annotated[str, Meta(max_length=500)]
Requester = Annotated[str, Meta(max_length=100)]


class Approval(msgspec.Struct, kw_only=True):
    confirmed: bool = False

    def command(self, entry_id: UUID) -> ApproveEntry:
        return ApproveEntry(entry_id=entry_id)


class Rejection(msgspec.Struct, kw_only=True):
    reason: Reason = ""

    def command(self, entry_id: UUID) -> RejectEntry:
        return RejectEntry(entry_id=entry_id, reason=self.reason)


class Voiding(msgspec.Struct, kw_only=True):
    reason: Reason = ""
    requested_by: Requester = ""
    confirmed: bool = False

    def command(self, entry_id: UUID) -> VoidEntry:
        return VoidEntry(entry_id=entry_id, reason=self.reason, requested_by=self.requested_by)


class Amendment(Windowed, kw_only=True):
    """The entry as it should read, in the station's day and time, and why it changes."""

    activity: Text
    day: DoneOn
    start: TimeOfDay
    minutes: Annotated[int, Meta(gt=0, le=24 * 60)]
    place: Text = ""
    content: Annotated[str, Meta(max_length=1000)] = ""
    organiser: Text
    responsible: Text
    category: Annotated[str, Meta(max_length=40)]
    building: Annotated[str, Meta(max_length=40)] = ""
    reason: Reason = ""
    requested_by: Requester = ""
    confirmed: bool = False

    def command(self, entry_id: UUID, beneficiary: UUID | None, zone: ZoneInfo) -> AmendEntry:
        """The amendment as the API takes it, begun at the station's day and time (whom the
        service was for stays as it was)."""
        written = msgspec.structs.asdict(self)
        for field in ("day", "start", "confirmed"):
            written.pop(field)
        started_at = datetime.combine(self.day, time.fromisoformat(self.start), zone)
        return AmendEntry(
            **written, entry_id=entry_id, started_at=started_at, beneficiary=beneficiary
        )

    def fields(self) -> list[tuple[str, Any]]:
        """What the confirmation sends back."""
        sent = msgspec.structs.asdict(self)
        sent.pop("confirmed")
        return list(sent.items())


# The entry after a command: its timeline shows the new step at once.
ENTRY_PAGE = RecordPage(
    ENTRY, PAGE, PART, lambda sent, position: entry_view(sent.station, sent.record_id, position)
)


@get(ENTRY, opt=allow(*STAFF, people=True), sync_to_thread=True)
def entry(
    request: Request[Any, Any, Any],
    entry_id: FromPath[UUID],
    bone: NamedDependency[Backbone],
    by: NamedDependency[Provenance],
    reach: NamedDependency[Reach],
    after: After = None,
) -> Template:
    view = entry_view(bone, entry_id, after, (by, reach))
    return show(request, PAGE, {**view, "done": ""}, PART)


def _credit_change(status: EntryStatus, credited: int, minutes: int) -> list[str]:
    """What an amendment does to the volunteer's account, in plain words."""
    difference = minutes - credited
    if status is not EntryStatus.APPROVED or difference == 0:
        return [gettext("No time credits move.")]
    if difference > 0:
        text = gettext("%(hours)s more will be credited to the volunteer.")
    else:
        text = gettext("%(hours)s will be taken back from the volunteer's account.")
    return [text % {"hours": hours_of(abs(difference))}]


def _changed(before: Service, after: Service) -> dict[str, list[Any]]:
    """Each field an amendment changes, before and after."""
    return {
        field.name: [getattr(before, field.name), getattr(after, field.name)]
        for field in fields_of(Service)
        if getattr(before, field.name) != getattr(after, field.name)
    }


def _amendment(sent: Sent) -> AmendEntry:
    """The amendment, begun at the station's day and time (whom the service was for stays as
    it was)."""
    bone, entry_id = sent.station, sent.record_id
    beneficiary = entry_of(bone.timebank, entry_id).service.beneficiary
    return sent.form.command(entry_id, beneficiary, bone.settings.zone)


def _amending(sent: Sent) -> Template:
    """The changes before → after, and what they do to credits."""
    bone, entry_id, data = sent.station, sent.record_id, sent.form
    found = entry_of(bone.timebank, entry_id)
    service = _amendment(sent).service(bone.settings.zone)
    shown: Shown = entry_view(bone, entry_id)["shown"]
    return confirm(
        sent.request,
        question=gettext("Amend this entry?"),
        sentences=[
            *_credit_change(found.status, found.credited, service.minutes),
            gettext("Why: %(reason)s. Asked by: %(requested_by)s.")
            % {"reason": data.reason, "requested_by": data.requested_by},
        ],
        items=[
            f"{change['field']}: {change['before']} → {change['after']}"
            for change in shown.changes(_changed(found.service, service))
        ],
        action=f"/console/hours/{entry_id}/amendment",
        fields=data.fields(),
        target="#entry",
        back=f"/console/hours/{entry_id}",
        yes=gettext("Yes, amend"),
    )


def _approving(sent: Sent) -> Template:
    """Approving credits the volunteer: first how much, and for what."""
    bone, entry_id = sent.station, sent.record_id
    found = entry_of(bone.timebank, entry_id)
    view = entry_view(bone, entry_id)
    return confirm(
        sent.request,
        question=gettext("Approve this entry?"),
        sentences=[
            gettext(
                "Member %(number)s will be credited %(hours)s from the community account"
                " for “%(activity)s”."
            )
            % {
                "number": view["volunteer"],
                "hours": hours_of(found.service.minutes),
                "activity": found.service.activity,
            }
        ],
        action=f"/console/hours/{entry_id}/approval",
        fields=[],
        target="#entry",
        back=f"/console/hours/{entry_id}",
        yes=gettext("Yes, approve and credit"),
    )


def _voiding(sent: Sent) -> Template:
    """Voiding takes back what was credited: first how much, and why."""
    entry_id, data = sent.record_id, sent.form
    credited = entry_of(sent.station.timebank, entry_id).credited
    return confirm(
        sent.request,
        question=gettext("Void this entry?"),
        sentences=[
            gettext("%(hours)s will be taken back from the volunteer's account.")
            % {"hours": hours_of(credited)},
            gettext("Why: %(reason)s. Asked by: %(requested_by)s.")
            % {"reason": data.reason, "requested_by": data.requested_by},
        ],
        action=f"/console/hours/{entry_id}/voiding",
        fields=[("reason", data.reason), ("requested_by", data.requested_by)],
        target="#entry",
        back=f"/console/hours/{entry_id}",
        yes=gettext("Yes, void"),
    )


ACTIONS = [
    ENTRY_PAGE.action("approval", Approval, N_("Approved and credited."), ask=_approving),
    ENTRY_PAGE.action("rejection", Rejection, N_("Rejected.")),
    ENTRY_PAGE.action("voiding", Voiding, N_("Voided."), ask=_voiding),
    ENTRY_PAGE.action(
        "amendment",
        Amendment,
        N_("Amended. The timeline below shows the change."),
        ask=_amending,
        command=_amendment,
    ),
]
