"""Give time to the community pool (公益池): how long, a note, a screen that says it in plain
words, then the donation; the new balance shows at once."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.response import Template

from projections import balances
from services.bus import Bus, Caller
from services.pages.forms import Sent, asking
from services.pages.i18n import gettext, hours
from services.pages.kiosk.frame import (
    RESIDENTS,
    ActionKey,
    Form,
    Minutes,
    Note,
    account_of,
    form_confirmed,
    new_key,
    resident_action,
    screen,
    to_done,
)
from services.pool.commands import DonateToPool
from services.web.reads import Reads


class Donation(msgspec.Struct, kw_only=True):
    minutes: Minutes
    note: Note = ""

    def command(self, donor: UUID, key: str) -> DonateToPool:
        return DonateToPool(
            idempotency_key=f"kiosk-donate:{key}",
            from_account=donor,
            minutes=self.minutes,
            memo=self.note.strip(),
        )


class DonationConfirmed(Donation, kw_only=True):
    key: ActionKey


class Donating(Controller):
    path = "/kiosk/donate"

    @get("/", opt=RESIDENTS, sync_to_thread=True)
    def form(self, request: Request[Any, Any, Any], reads: NamedDependency[Reads]) -> Template:
        account = account_of(request)
        row = reads.query(("balances",), None, lambda db: balances.account(db, account))
        return screen(request, "donate.html", earned=max(row["balance"] if row else 0, 0))

    @post("/check", opt=RESIDENTS, sync_to_thread=True)
    def check(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[Donation, Form],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Template:
        """The donation in plain words, once the domain has said it would take it."""
        question = gettext(
            "You are giving %(hours)s to the community pool. "
            "%(hours)s will move out of your account. Confirm?"
        ) % {"hours": hours(data.minutes)}
        return asking(
            bus,
            caller,
            data.command(account_of(request), new_key()),
            lambda: form_confirmed(request, question, data, path="/kiosk/donate", detail=data.note),
        )


def _donation(sent: Sent) -> DonateToPool:
    return sent.form.command(account_of(sent.request), sent.form.key)


DONATE = resident_action("/kiosk/donate", DonationConfirmed, to_done("donated"), command=_donation)
