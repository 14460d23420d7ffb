"""Give time to the community pool (公益池): how long, a note, a screen that says it in plain
words, then the donation; the new balance shows at once."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from projections import balances
from services.pages.forms import Sent
from services.pages.i18n import gettext, hours
from services.pages.kiosk.frame import (
    RESIDENTS,
    ActionKey,
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

PATH = "/kiosk/donate"


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
    path = PATH

    @get("/", opt=RESIDENTS, sync_to_thread=True)
    def form(self, request: Request[Any, Any, Any], reads: NamedDependency[Reads]) -> Template:
        account = account_of(request)
        row = reads.query(("balances",), None, lambda db: balances.account(db, account))
        return screen(request, "donate.html", earned=max(row["balance"] if row else 0, 0))


def _asking(sent: Sent) -> Template:
    """The donation in plain words, once the domain has said it would take it."""
    question = gettext(
        "You are giving %(hours)s to the community pool. "
        "%(hours)s will move out of your account. Confirm?"
    ) % {"hours": hours(sent.form.minutes)}
    return form_confirmed(sent.request, question, sent.form, path=PATH, detail=sent.form.note)


def _checked(sent: Sent) -> DonateToPool:
    return sent.form.command(account_of(sent.request), new_key())


def _donation(sent: Sent) -> DonateToPool:
    return sent.form.command(account_of(sent.request), sent.form.key)


ACTIONS = [
    resident_action(f"{PATH}/check", Donation, None, ask=_asking, command=_checked),
    resident_action(PATH, DonationConfirmed, to_done("donated"), command=_donation),
]
