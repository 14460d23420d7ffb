"""A resident proposes a motion at the kiosk: a common topic in one touch (or their own
words), what should change, a screen that says it in plain words, then the motion goes on
the board to gather support, with the resident as its mover."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Template

from services.bus import Receipt
from services.composition.runtime import Backbone
from services.council import handlers
from services.council.commands import MotionText, SubmitMotion, Title
from services.pages.forms import Sent
from services.pages.i18n import N_, gettext
from services.pages.kiosk.frame import (
    RESIDENTS,
    ActionKey,
    Form,
    form_confirmed,
    member_of,
    resident_action,
    screen,
    showing,
)

NEW = "/kiosk/council/new"
# What residents' motions are often about: one touch fills the title, still editable.
COMMON_TOPICS = (
    N_("Handrails in the stairwell"),
    N_("Benches to rest on"),
    N_("Better lighting at night"),
    N_("A safer crossing"),
    N_("Cleaner shared spaces"),
    N_("Somewhere for children to play"),
)


class MotionDraft(msgspec.Struct, kw_only=True):
    title: Title
    text: MotionText


class MotionConfirmed(MotionDraft, kw_only=True):
    key: ActionKey

    def command(self) -> SubmitMotion:
        """The resident's own motion (the bus knows who they are)."""
        return SubmitMotion(
            idempotency_key=f"kiosk-motion:{self.key}", title=self.title, text=self.text
        )


class NewMotion(Controller):
    path = NEW

    @get("/", opt=RESIDENTS, sync_to_thread=True)
    def form(self, request: Request[Any, Any, Any], bone: NamedDependency[Backbone]) -> Template:
        home = handlers.home_of(bone.timebank, member_of(request))
        rules = handlers.rules_in_force(bone.timebank, home)
        return screen(request, "motion_form.html", topics=COMMON_TOPICS, rules=rules)

    @post("/check", opt=RESIDENTS, sync_to_thread=False)
    def check(
        self, request: Request[Any, Any, Any], data: Annotated[MotionDraft, Form]
    ) -> Template:
        question = gettext("You are proposing the motion “%(title)s” to the council. Confirm?")
        return form_confirmed(
            request, question % {"title": data.title.strip()}, data, path=NEW, detail=data.text
        )


def _proposed(_: Sent, receipt: Receipt) -> Response[Any]:
    """The resident's motion on the council board, as its mover sees it."""
    return showing(f"/kiosk/council/{receipt.id}", receipt, done="proposed")


PROPOSE = resident_action(NEW, MotionConfirmed, _proposed)
