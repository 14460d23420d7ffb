"""The resident's home at the kiosk: their balance, what happened last, what waits for them,
and a big button to each thing they can do. The balance refreshes itself, so help confirmed
by someone else shows without a reload."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from projections import balances, exchanges, statements
from services.pages.i18n import N_
from services.pages.kiosk.frame import RESIDENTS, account_of, fragment, screen
from services.web.context import After
from services.web.reads import Reads

STANDING_MODELS = ("balances", "statements", "exchanges")
RECENT_ENTRIES = 5
WAITING = 20  # exchanges listed as waiting, at most

# What an action came to, said on the page that follows it.
DONE = {
    "given": N_("Recorded. Nothing moves until the person you helped confirms it."),
    "confirmed": N_("Thank you. The help is confirmed and the time has moved."),
    "disputed": N_(
        "Your objection is recorded. Nothing moves until a social worker has looked into it."
    ),
    "donated": N_("Donated. Thank you for giving to the community pool."),
    "gifted": N_("Given. The time is in your family member's account now."),
    "kin-proposed": N_("Registered. Your family member confirms it at the kiosk or the station."),
    "kin-confirmed": N_("Confirmed. You are registered as family."),
}


def standing(reads: Reads, account: UUID, after: int | None) -> dict[str, Any]:
    """The resident's balance, latest entries and the help waiting on either side, read once
    the read models include ``after`` (the position of the resident's last action)."""

    def query(db: Any) -> dict[str, Any]:
        return {
            "balance": balances.account(db, account),
            "entries": statements.entries(db, account, before=None, limit=RECENT_ENTRIES),
            "to_confirm": exchanges.awaiting(
                db, account=str(account), role="receiver", limit=WAITING
            ),
            "unconfirmed": exchanges.awaiting(
                db, account=str(account), role="provider", limit=WAITING
            ),
        }

    return reads.query(STANDING_MODELS, after, query)


class KioskHome(Controller):
    path = "/kiosk"

    @get("/", opt=RESIDENTS, sync_to_thread=True)
    def home(
        self, request: Request[Any, Any, Any], reads: NamedDependency[Reads], after: After = None
    ) -> Template:
        return screen(request, "home.html", **standing(reads, account_of(request), after))

    @get("/standing", opt=RESIDENTS, sync_to_thread=True)
    def standing_now(
        self, request: Request[Any, Any, Any], reads: NamedDependency[Reads]
    ) -> Template:
        """The balance panel, polled by the page: a screen refreshing itself is no touch, so
        the session is not renewed."""
        return fragment(request, "standing.html", **standing(reads, account_of(request), None))

    @get("/done/{what:str}", opt=RESIDENTS, sync_to_thread=True)
    def done(
        self,
        request: Request[Any, Any, Any],
        reads: NamedDependency[Reads],
        what: FromPath[str],
        after: After = None,
    ) -> Template:
        message = DONE.get(what)
        if message is None:
            raise NotFoundException()
        return screen(
            request,
            "done.html",
            message=message,
            **standing(reads, account_of(request), after),
        )
