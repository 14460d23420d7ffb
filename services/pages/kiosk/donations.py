"""Give time to the community pool (公益池): how long, a note, a screen that says it in plain
words, then the donation; the new balance shows at once."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from domain.provenance import Provenance
from projections import balances
from services import pool
from services.api.context import read
from services.pages.i18n import gettext, hours
from services.pages.kiosk.frame import (
    RESIDENTS,
    ActionKey,
    Form,
    Minutes,
    Note,
    account_of,
    form_confirmed,
    screen,
    showing,
)
from services.runtime import Backbone


class Donation(msgspec.Struct, kw_only=True):
    minutes: Minutes
    note: Note = ""


class DonationConfirmed(Donation, kw_only=True):
    key: ActionKey


class Donating(Controller):
    path = "/kiosk/donate"

    @get("/", opt=RESIDENTS, sync_to_thread=True)
    def form(self, request: Request[Any, Any, Any], bone: NamedDependency[Backbone]) -> Template:
        account = account_of(request)
        row = read(bone, ("balances",), None, lambda db: balances.account(db, account))
        return screen(request, "donate.html", earned=max(row["balance"] if row else 0, 0))

    @post("/check", opt=RESIDENTS, sync_to_thread=False)
    def check(self, request: Request[Any, Any, Any], data: Annotated[Donation, Form]) -> Template:
        question = gettext(
            "You are giving %(hours)s to the community pool. "
            "%(hours)s will move out of your account. Confirm?"
        )
        return form_confirmed(
            request,
            question % {"hours": hours(data.minutes)},
            data,
            path="/kiosk/donate",
            detail=data.note,
        )

    @post("/", opt=RESIDENTS, sync_to_thread=True)
    def donate(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[DonationConfirmed, Form],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Redirect:
        receipt = bone.commits.run_from_thread(
            pool.donation,
            bone.timebank,
            idempotency_key=f"kiosk-donate:{data.key}",
            donor=account_of(request),
            minutes=data.minutes,
            memo=data.note.strip(),
            now=bone.clock(),
            by=by,
        )
        return showing("/kiosk/done/donated", receipt)
