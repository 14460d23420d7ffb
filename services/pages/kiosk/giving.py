"""Record help I gave: whom (by member number), how long, what kind of help, a note; then a
screen that says it in plain words, naming the person, before anything is recorded. Nothing
moves until the person helped confirms it."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.response import Template
from msgspec import Meta

from domain.rules import RuleViolated
from services.composition.runtime import Backbone
from services.exchange.commands import PairIn, RecordHelp
from services.identity.commands import MemberNumber
from services.pages.forms import Sent
from services.pages.i18n import N_, gettext, hours
from services.pages.kiosk import people
from services.pages.kiosk.frame import (
    RESIDENTS,
    ActionKey,
    Minutes,
    Note,
    account_of,
    category_names,
    form_confirmed,
    new_key,
    resident_action,
    screen,
    to_done,
    with_note,
)
from services.web.reads import Reads

PATH = "/kiosk/give"
# Recorded in English, as every purpose is; the access log shows it in the reader's language.
PURPOSE = N_("kiosk: name the resident help is recorded for, to confirm it")


class HelpGiven(msgspec.Struct, kw_only=True):
    receiver: MemberNumber
    minutes: Minutes
    category: Annotated[str, Meta(min_length=1, max_length=32)]
    note: Note = ""

    def command(self, key: str, giver: UUID, receiver: UUID, description: str) -> RecordHelp:
        """The help as the giver records it, now: the same command the API takes."""
        return RecordHelp(
            idempotency_key=f"kiosk-give:{key}",
            pairs=[PairIn(provider=giver, receiver=receiver, minutes=self.minutes)],
            description=description,
        )


class HelpConfirmed(HelpGiven, kw_only=True):
    key: ActionKey


def _described(reads: Reads, help_: HelpGiven) -> str:
    """What the help was, in the giver's words: the kind, then their note."""
    categories = reads.query(("marketplace",), None, category_names)
    if help_.category not in categories:
        raise RuleViolated("unknown-category", f"There is no category {help_.category!r}.")
    return with_note(categories[help_.category], help_.note)


def _recorded(
    request: Request[Any, Any, Any], bone: Backbone, help_: HelpGiven, key: str
) -> tuple[UUID, RecordHelp]:
    """The receiver named, and the command that records the help given them."""
    receiver = people.member_by_number(bone, help_.receiver)
    giver, account = account_of(request), people.member_account(receiver)
    return receiver, help_.command(key, giver, account, _described(bone.read_side, help_))


class Giving(Controller):
    path = PATH

    @get("/", opt=RESIDENTS, sync_to_thread=True)
    def form(self, request: Request[Any, Any, Any], reads: NamedDependency[Reads]) -> Template:
        categories = reads.query(("marketplace",), None, category_names)
        return screen(request, "give.html", categories=categories)


def _asking(sent: Sent) -> Template:
    """The help in plain words, once the domain has said it would record it (a dry run):
    only then is the receiver named (the opening is logged)."""
    bone, data = sent.station, sent.form
    receiver, command = _recorded(sent.request, bone, data, new_key())
    name = people.name_of(bone, receiver, purpose=PURPOSE, by=sent.caller.by)
    question = gettext("You are recording %(hours)s of help you gave %(name)s. Confirm?")
    return form_confirmed(
        sent.request,
        question % {"hours": hours(data.minutes), "name": name},
        data,
        path=PATH,
        detail=command.description,
    )


def _checked(sent: Sent) -> RecordHelp:
    return _recorded(sent.request, sent.station, sent.form, new_key())[1]


def _help(sent: Sent) -> RecordHelp:
    return _recorded(sent.request, sent.station, sent.form, sent.form.key)[1]


ACTIONS = [
    resident_action(f"{PATH}/check", HelpGiven, None, ask=_asking, command=_checked),
    resident_action(PATH, HelpConfirmed, to_done("given"), command=_help),
]
