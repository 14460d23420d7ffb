"""Record help I gave: whom (by member number), how long, what kind of help, a note; then a
screen that says it in plain words, naming the person, before anything is recorded. Nothing
moves until the person helped confirms it."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template
from msgspec import Meta

from domain.exchange import Pair, check_pairs
from domain.listing import check_no_contact_details
from domain.provenance import Provenance
from domain.rules import RuleViolated
from services import exchange
from services.api.context import read
from services.identity.commands import MemberNumber
from services.pages.i18n import N_, gettext, hours
from services.pages.kiosk import people
from services.pages.kiosk.frame import (
    RESIDENTS,
    ActionKey,
    Form,
    Minutes,
    Note,
    account_of,
    category_names,
    form_confirmed,
    screen,
    showing,
    with_note,
)
from services.runtime import Backbone

# Recorded in English, as every purpose is; the access log shows it in the reader's language.
PURPOSE = N_("kiosk: name the resident help is recorded for, to confirm it")


class HelpGiven(msgspec.Struct, kw_only=True):
    receiver: MemberNumber
    minutes: Minutes
    category: Annotated[str, Meta(min_length=1, max_length=32)]
    note: Note = ""


class HelpConfirmed(HelpGiven, kw_only=True):
    key: ActionKey


def _described(bone: Backbone, help_: HelpGiven) -> str:
    """What the help was, in the giver's words: the kind, then their note."""
    categories = read(bone, ("marketplace",), None, category_names)
    if help_.category not in categories:
        raise RuleViolated("unknown-category", f"There is no category {help_.category!r}.")
    return with_note(categories[help_.category], help_.note)


class Giving(Controller):
    path = "/kiosk/give"

    @get("/", opt=RESIDENTS, sync_to_thread=True)
    def form(self, request: Request[Any, Any, Any], bone: NamedDependency[Backbone]) -> Template:
        categories = read(bone, ("marketplace",), None, category_names)
        return screen(request, "give.html", categories=categories)

    @post("/check", opt=RESIDENTS, sync_to_thread=True)
    def check(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[HelpGiven, Form],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Template:
        """Everything the rules will check, checked now: the resident confirms only what can
        be recorded. Then the receiver is named (the opening is logged)."""
        receiver = people.member_by_number(bone, data.receiver)
        pair = Pair(account_of(request), people.member_account(receiver), data.minutes)
        check_pairs((pair,), exchange.rules_in_force(bone.timebank).max_minutes)
        check_no_contact_details(data.note)
        description = _described(bone, data)
        name = people.name_of(bone, receiver, purpose=PURPOSE, by=by)
        question = gettext("You are recording %(hours)s of help you gave %(name)s. Confirm?")
        return form_confirmed(
            request,
            question % {"hours": hours(data.minutes), "name": name},
            data,
            path="/kiosk/give",
            detail=description,
        )

    @post("/", opt=RESIDENTS, sync_to_thread=True)
    def record(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[HelpConfirmed, Form],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Redirect:
        receiver = people.member_by_number(bone, data.receiver)
        now = bone.clock()
        receipt = bone.commits.run_from_thread(
            exchange.record,
            bone.timebank,
            idempotency_key=f"kiosk-give:{data.key}",
            pairs=(Pair(account_of(request), people.member_account(receiver), data.minutes),),
            listing_id=None,
            description=_described(bone, data),
            occurred_at=now,
            now=now,
            by=by,
        )
        return showing("/kiosk/done/given", receipt)
