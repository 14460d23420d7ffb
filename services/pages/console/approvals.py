"""The approval queue of volunteer hour entries: a page of submitted entries with checkboxes,
approved together (after a confirmation in plain words, since approval credits the volunteers)
or rejected together with one reason; each entry's result is shown beside it, linking to its
audit timeline. Entries of every status can be found by the volunteer's member number or name.
Volunteers are named in the list, the names opened as one access-log record per list shown."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Template

from domain.hours import EntryStatus
from domain.identity import Role, member_id_for
from domain.provenance import Provenance
from domain.rules import RuleViolated
from projections import hours, volunteers
from services.bus import Caller
from services.composition.runtime import Backbone
from services.hours.commands import ApproveEntries, Chosen, RejectEntries
from services.hours.handlers import Outcomes
from services.pages import purposes, refusals
from services.pages.console.common import (
    LIST_LIMIT,
    STAFF,
    Form,
    category_names,
    confirm,
    people,
    show,
    volunteer_member,
)
from services.pages.console.volunteers import named
from services.pages.i18n import gettext, moment, ngettext, number
from services.pages.i18n import hours as hours_of
from services.web.auth import allow
from services.web.context import Before, next_before
from services.web.reach import Reach, people_among

QUEUE = "console/hours/queue.html"
QUEUE_PART = "console/hours/_queue.html"


class Selection(msgspec.Struct, kw_only=True):
    """The entries ticked in the queue (one ticked box arrives as a single value)."""

    entry_ids: list[UUID] | UUID = msgspec.field(default_factory=list)
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""
    confirmed: bool = False

    @property
    def ids(self) -> list[UUID]:
        return self.entry_ids if isinstance(self.entry_ids, list) else [self.entry_ids]

    def approval(self) -> ApproveEntries:
        return ApproveEntries(entry_ids=self.ids)

    def rejection(self) -> RejectEntries:
        return RejectEntries(entry_ids=self.ids, reason=self.reason)


class Asked(msgspec.Struct, kw_only=True, frozen=True):
    """Which entries a page of the queue shows, and who is looking (names are logged)."""

    by: Provenance
    stations: tuple[str, ...]  # the looker's: a coordinator sees their own station's queue
    status: EntryStatus = EntryStatus.SUBMITTED
    who: str = ""  # a member number or part of a name: only that volunteer's entries
    before: int | None = None

    @property
    def purpose(self) -> str:
        return purposes.HOURS_FOUND if self.who else purposes.HOURS_LIST


def _among(bone: Backbone, db: Any, who: str, stations: tuple[str, ...]) -> list[str] | None:
    """The volunteers of ``stations`` whose entries a search asks for (None: everyone's)."""
    if not who:
        return None
    if who.isdigit():
        registry = volunteers.members(db, list(stations))
        return [registry[key] for key in (str(member_id_for(who)),) if key in registry]
    return named(bone, db, who, list(stations))


def _queue(
    bone: Backbone,
    asked: Asked,
    after: int | None = None,
    selected: list[UUID] | None = None,
) -> dict[str, Any]:
    """A page of entries (newest first), with what the table needs to show them, the
    volunteers named; ``selected``: the entries asked about, whatever their status now."""

    def query(db: Any) -> dict[str, Any]:
        rows = hours.listed(
            db,
            volunteer=None,
            status=asked.status,
            started_from=None,
            started_before=None,
            before=asked.before,
            limit=LIST_LIMIT,
            among=_among(bone, db, asked.who.strip(), asked.stations),
            stations=list(asked.stations),
        )
        found = [hours.entry(db, str(entry_id)) for entry_id in selected or []]
        chosen = [row for row in found if row is not None and row["station_id"] in asked.stations]
        return {
            "entries": rows,
            "chosen": chosen,
            "next_before": next_before(rows, LIST_LIMIT),
            "people": people(bone, db),
            "categories": category_names(db),
        }

    context = bone.read_side.query(("hours",), after, query)
    shown = [volunteer_member(bone.timebank, row["volunteer_id"]) for row in context["entries"]]
    shown += [volunteer_member(bone.timebank, row["volunteer_id"]) for row in context["chosen"]]
    context["people"].reveal(
        bone.vault, [m for m in shown if m is not None], purpose=asked.purpose, by=asked.by
    )
    return {"status": asked.status, "who": asked.who, "results": [], "message": "", **context}


@get("/hours", opt=allow(*STAFF, people=True), sync_to_thread=True)
def queue(
    request: Request[Any, Any, Any],
    bone: NamedDependency[Backbone],
    by: NamedDependency[Provenance],
    reach: NamedDependency[Reach],
    status: Annotated[EntryStatus, QueryParameter()] = EntryStatus.SUBMITTED,
    who: Annotated[str, QueryParameter(max_length=40)] = "",
    before: Before = None,
) -> Template:
    stations = tuple(people_among(reach))
    asked = Asked(by=by, stations=stations, status=status, who=who, before=before)
    return show(request, QUEUE, _queue(bone, asked), QUEUE_PART)


def _results(
    request: Request[Any, Any, Any], bone: Backbone, looking: Asked, outcomes: Outcomes
) -> Template:
    """The queue as it now stands, with what became of each entry asked about."""
    asked = [UUID(outcome.item) for outcome in outcomes.results]
    context = _queue(bone, looking, outcomes.position, asked)
    rows = {row["entry_id"]: row for row in context["chosen"]}
    context["results"] = [
        {
            "entry": rows.get(outcome.item),
            "done": outcome.code is None,
            "why": ""
            if outcome.code is None
            else refusals.explain(RuleViolated(outcome.code, outcome.message or "")),
        }
        for outcome in outcomes.results
    ]
    return show(request, QUEUE, context, QUEUE_PART)


def _nothing_chosen(request: Request[Any, Any, Any], bone: Backbone, looking: Asked) -> Template:
    context = _queue(bone, looking)
    context["message"] = gettext("Tick at least one entry first.")
    return show(request, QUEUE, context, QUEUE_PART)


def _approvable(bone: Backbone, caller: Caller, command: ApproveEntries) -> set[str]:
    """The entries of ``command`` the domain would approve now (the others are not shown)."""
    would = bone.bus.check(command, caller)
    return {outcome.item for outcome in would.results if outcome.code is None}


def _confirm_approval(
    request: Request[Any, Any, Any],
    bone: Backbone,
    caller: Caller,
    looking: Asked,
    command: ApproveEntries,
) -> Template:
    """Approval credits the volunteers: first say, in plain words, how much to whom (of the
    entries the domain would approve now)."""
    approvable = _approvable(bone, caller, command)
    context = _queue(bone, looking, selected=command.entry_ids)
    chosen = [row for row in context["chosen"] if row["entry_id"] in approvable]
    if not chosen:
        return _nothing_chosen(request, bone, looking)
    who = context["people"]
    total = sum(row["minutes"] for row in chosen)
    sentence = ngettext(
        "You are approving %(num)s entry: %(hours)s will be credited to the volunteer"
        " from the community account.",
        "You are approving %(num)s entries: %(hours)s in all will be credited to the"
        " volunteers from the community account.",
        len(chosen),
    ) % {"num": number(len(chosen)), "hours": hours_of(total)}
    items = [
        gettext("%(volunteer)s: %(activity)s, %(when)s — %(hours)s")
        % {
            "volunteer": who.volunteer_named(row["volunteer_id"]),
            "activity": row["activity"],
            "when": moment(row["started_at"], bone.settings.zone),
            "hours": hours_of(row["minutes"]),
        }
        for row in chosen
    ]
    return confirm(
        request,
        question=gettext("Approve these entries?"),
        sentences=[sentence],
        items=items,
        action="/console/hours/approvals",
        fields=[("entry_ids", row["entry_id"]) for row in chosen],
        target="#queue",
        back="/console/hours",
        yes=gettext("Yes, approve and credit"),
    )


def _decide(
    request: Request[Any, Any, Any], bone: Backbone, caller: Caller, looking: Asked, command: Chosen
) -> Template:
    """``command`` for each entry asked about, on its own; the queue then shows each result."""
    if not command.entry_ids:
        return _nothing_chosen(request, bone, looking)
    return _results(request, bone, looking, bone.bus.handle_from_thread(command, caller))


@post("/hours/approvals", opt=allow(Role.COORDINATOR), sync_to_thread=True, status_code=200)
def approve(
    request: Request[Any, Any, Any],
    data: Form[Selection],
    bone: NamedDependency[Backbone],
    caller: NamedDependency[Caller],
    reach: NamedDependency[Reach],
) -> Template:
    """First what approving would credit, to confirm; once confirmed, each entry on its own."""
    looking = Asked(by=caller.by, stations=tuple(people_among(reach)))
    if data.ids and not data.confirmed:
        return _confirm_approval(request, bone, caller, looking, data.approval())
    return _decide(request, bone, caller, looking, data.approval())


@post("/hours/rejections", opt=allow(Role.COORDINATOR), sync_to_thread=True, status_code=200)
def reject(
    request: Request[Any, Any, Any],
    data: Form[Selection],
    bone: NamedDependency[Backbone],
    caller: NamedDependency[Caller],
    reach: NamedDependency[Reach],
) -> Template:
    """Reject the ticked entries with one reason (nothing is credited, so no confirmation)."""
    looking = Asked(by=caller.by, stations=tuple(people_among(reach)))
    return _decide(request, bone, caller, looking, data.rejection())
