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
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from msgspec import Meta

from domain.hours import EntryStatus, Service
from domain.identity import Role
from domain.provenance import Provenance
from services.bus import Caller, Receipt
from services.composition.runtime import Backbone
from services.hours.commands import AmendEntry, ApproveEntry, RejectEntry, VoidEntry
from services.hours.handlers import entry_of
from services.pages.console.common import STAFF, Form, confirm, coordinating, show
from services.pages.console.timeline import Shown, entry_view
from services.pages.forms import Answer, asked_first
from services.pages.i18n import N_, gettext
from services.pages.i18n import hours as hours_of
from services.web.auth import allow
from services.web.context import After, backbone
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


def _entry_page(
    request: Request[Any, Any, Any], bone: Backbone, entry_id: UUID, position: int, done: str
) -> Template:
    """The entry as it stands after the command at ``position``, saying what was done."""
    return show(request, PAGE, {**entry_view(bone, entry_id, position), "done": done}, PART)


@get("/hours/{entry_id:uuid}", opt=allow(*STAFF), sync_to_thread=True)
def entry(
    request: Request[Any, Any, Any],
    entry_id: FromPath[UUID],
    bone: NamedDependency[Backbone],
    by: NamedDependency[Provenance],
    after: After = None,
) -> Template:
    return show(request, PAGE, {**entry_view(bone, entry_id, after, by), "done": ""}, PART)


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


@post(
    f"{ENTRY}/amendment",
    opt=allow(Role.COORDINATOR),
    sync_to_thread=True,
    status_code=200,
)
def amend(
    request: Request[Any, Any, Any],
    entry_id: FromPath[UUID],
    data: Form[Amendment],
    bone: NamedDependency[Backbone],
    caller: NamedDependency[Caller],
) -> Template:
    """First the changes before → after and what they do to credits; then, confirmed, the
    amendment, after which the timeline shows it."""
    found = entry_of(bone.timebank, entry_id)
    command = data.command(entry_id, found.service.beneficiary, bone.settings.zone)

    def question() -> Template:
        service = command.service(bone.settings.zone)
        shown: Shown = entry_view(bone, entry_id)["shown"]
        return confirm(
            request,
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

    done = gettext("Amended. The timeline below shows the change.")
    return asked_first(
        bone.bus,
        caller,
        command,
        confirmed=data.confirmed,
        question=question,
        then=lambda receipt: _entry_page(request, bone, entry_id, receipt.position, done),
    )


def _saying(done: str) -> Answer:
    """After a command about the entry: its page, its timeline showing the new step."""

    def answer(request: Request[Any, Any, Any], entry_id: UUID, receipt: Receipt) -> Template:
        bone = backbone(request.app.state)
        return _entry_page(request, bone, entry_id, receipt.position, gettext(done))

    return answer


def _approving(request: Request[Any, Any, Any], entry_id: UUID, _: Approval) -> Template:
    """Approving credits the volunteer: first how much, and for what."""
    bone = backbone(request.app.state)
    found = entry_of(bone.timebank, entry_id)
    view = entry_view(bone, entry_id)
    return confirm(
        request,
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


def _voiding(request: Request[Any, Any, Any], entry_id: UUID, data: Voiding) -> Template:
    """Voiding takes back what was credited: first how much, and why."""
    credited = entry_of(backbone(request.app.state).timebank, entry_id).credited
    return confirm(
        request,
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
    coordinating(
        f"{ENTRY}/approval", Approval, _saying(N_("Approved and credited.")), ask=_approving
    ),
    coordinating(f"{ENTRY}/rejection", Rejection, _saying(N_("Rejected."))),
    coordinating(f"{ENTRY}/voiding", Voiding, _saying(N_("Voided.")), ask=_voiding),
]
