"""The approval queue of volunteer hour entries: a page of submitted entries with checkboxes,
approved together (after a confirmation in plain words, since approval credits the volunteers)
or rejected together with one reason; each entry's result is shown beside it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Template

from domain.hours import EntryStatus
from domain.identity import Role
from domain.provenance import Provenance
from domain.rules import RuleViolated
from projections import hours
from services import hours as entries
from services.api.auth import allow
from services.api.context import Before, next_before, read
from services.ledger import Receipt
from services.pages import refusals
from services.pages.console.common import (
    LIST_LIMIT,
    STAFF,
    Form,
    category_names,
    confirm,
    people,
    show,
)
from services.pages.i18n import gettext, moment, ngettext, number
from services.pages.i18n import hours as hours_of
from services.runtime import Backbone

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


def _queue(
    bone: Backbone,
    status: EntryStatus,
    before: int | None,
    after: int | None = None,
    selected: list[UUID] | None = None,
) -> dict[str, Any]:
    """A page of entries in ``status`` (newest first), with what the table needs to show
    them; ``selected``: the entries asked about, whatever their status now."""

    def query(db: Any) -> dict[str, Any]:
        rows = hours.listed(
            db,
            volunteer=None,
            status=status,
            started_from=None,
            started_before=None,
            before=before,
            limit=LIST_LIMIT,
        )
        chosen = [hours.entry(db, str(entry_id)) for entry_id in selected or []]
        return {
            "entries": rows,
            "chosen": [row for row in chosen if row is not None],
            "next_before": next_before(rows, LIST_LIMIT),
            "people": people(bone, db),
            "categories": category_names(db),
        }

    return {
        "status": status,
        "results": [],
        "message": "",
        **read(bone, ("hours",), after, query),
    }


@get("/hours", opt=allow(*STAFF), sync_to_thread=True)
def queue(
    request: Request[Any, Any, Any],
    bone: NamedDependency[Backbone],
    status: Annotated[EntryStatus, QueryParameter()] = EntryStatus.SUBMITTED,
    before: Before = None,
) -> Template:
    return show(request, QUEUE, _queue(bone, status, before), QUEUE_PART)


def _results(
    request: Request[Any, Any, Any], bone: Backbone, outcomes: list[entries.Result]
) -> Template:
    """The queue as it now stands, with what became of each entry asked about."""
    asked = [UUID(outcome.item) for outcome in outcomes]
    context = _queue(bone, EntryStatus.SUBMITTED, None, bone.timebank.last_position(), asked)
    rows = {row["entry_id"]: row for row in context["chosen"]}
    context["results"] = [
        {
            "entry": rows.get(outcome.item),
            "done": outcome.code is None,
            "why": ""
            if outcome.code is None
            else refusals.explain(RuleViolated(outcome.code, outcome.message or "")),
        }
        for outcome in outcomes
    ]
    return show(request, QUEUE, context, QUEUE_PART)


def _nothing_chosen(request: Request[Any, Any, Any], bone: Backbone) -> Template:
    context = _queue(bone, EntryStatus.SUBMITTED, None)
    context["message"] = gettext("Tick at least one entry first.")
    return show(request, QUEUE, context, QUEUE_PART)


def _confirm_approval(
    request: Request[Any, Any, Any], bone: Backbone, asked: list[UUID]
) -> Template:
    """Approval credits the volunteers: first say, in plain words, how much to whom."""
    context = _queue(bone, EntryStatus.SUBMITTED, None, selected=asked)
    chosen = [row for row in context["chosen"] if row["status"] == EntryStatus.SUBMITTED]
    if not chosen:
        return _nothing_chosen(request, bone)
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
        gettext("Member %(number)s: %(activity)s, %(when)s — %(hours)s")
        % {
            "number": who.volunteer_number(row["volunteer_id"]),
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
    request: Request[Any, Any, Any],
    bone: Backbone,
    asked: list[UUID],
    command: Callable[[UUID], Receipt],
) -> Template:
    """``command`` for each entry asked about, on its own; the queue then shows each result."""
    if not asked:
        return _nothing_chosen(request, bone)
    outcomes = entries.each([str(entry_id) for entry_id in asked], lambda item: command(UUID(item)))
    return _results(request, bone, outcomes)


@post("/hours/approvals", opt=allow(Role.COORDINATOR), sync_to_thread=True, status_code=200)
def approve(
    request: Request[Any, Any, Any],
    data: Form[Selection],
    bone: NamedDependency[Backbone],
    by: NamedDependency[Provenance],
) -> Template:
    """First what approving would credit, to confirm; once confirmed, each entry on its own."""
    if data.ids and not data.confirmed:
        return _confirm_approval(request, bone, data.ids)
    return _decide(
        request,
        bone,
        data.ids,
        lambda entry_id: bone.commits.run_from_thread(
            entries.approve, bone.timebank, entry_id=entry_id, by=by
        ),
    )


@post("/hours/rejections", opt=allow(Role.COORDINATOR), sync_to_thread=True, status_code=200)
def reject(
    request: Request[Any, Any, Any],
    data: Form[Selection],
    bone: NamedDependency[Backbone],
    by: NamedDependency[Provenance],
) -> Template:
    """Reject the ticked entries with one reason (nothing is credited, so no confirmation)."""
    if data.ids and not data.reason.strip():
        raise RuleViolated("reason-required", "Say why, so the record can show it.")
    return _decide(
        request,
        bone,
        data.ids,
        lambda entry_id: bone.commits.run_from_thread(
            entries.reject, bone.timebank, entry_id=entry_id, reason=data.reason, by=by
        ),
    )
