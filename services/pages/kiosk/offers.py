"""The marketplace at the kiosk: browse offers and requests for help by kind of help, post
one, and take my own off the board. The board shows no names or contact details: the
station puts people in touch."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from domain.listing import ListingKind
from projections import marketplace
from services.bus import Bus, Caller
from services.listings.commands import CloseListing, ListingClosure, ListingDraft, PostListing
from services.pages.i18n import N_, gettext
from services.pages.kiosk.frame import (
    RESIDENTS,
    ActionKey,
    Form,
    account_of,
    category_names,
    new_key,
    screen,
    showing,
)
from services.web.context import After
from services.web.reads import Reads

SHOWN = 30  # listings on one screen
KINDS = {"offer": N_("Offers help"), "request": N_("Asks for help")}
POSTING = {"offer": N_("I can help with this"), "request": N_("I need help with this")}
CLOSED_BY_OWNER = N_("Taken off the board by whoever posted it")


class NewListing(ListingDraft, kw_only=True):
    key: ActionKey

    def command(self) -> PostListing:
        draft = msgspec.structs.asdict(self)
        key = draft.pop("key")
        return PostListing(idempotency_key=f"kiosk-listing:{key}", **draft)


def _search(reads: Reads, after: int | None, **filters: Any) -> dict[str, Any]:
    def query(db: Any) -> dict[str, Any]:
        found = marketplace.search(
            db, building=None, text=None, before=None, limit=SHOWN, **filters
        )
        return {
            "rows": found,
            "categories": category_names(db),
            "every_category": category_names(db, include_retired=True),
        }

    return reads.query(("marketplace",), after, query)


class Offers(Controller):
    path = "/kiosk/listings"

    @get("/", opt=RESIDENTS, sync_to_thread=True)
    def browse(
        self,
        request: Request[Any, Any, Any],
        reads: NamedDependency[Reads],
        category: Annotated[str | None, QueryParameter(max_length=32)] = None,
        kind: Annotated[ListingKind | None, QueryParameter()] = None,
    ) -> Template:
        found = _search(reads, None, category=category, kind=kind, owner=None, open_only=True)
        return screen(
            request, "listings.html", chosen=category, kind=kind, kinds=KINDS, mine=False, **found
        )

    @get("/mine", opt=RESIDENTS, sync_to_thread=True)
    def mine(
        self, request: Request[Any, Any, Any], reads: NamedDependency[Reads], after: After = None
    ) -> Template:
        owner = str(account_of(request))
        found = _search(reads, after, category=None, kind=None, owner=owner, open_only=False)
        return screen(
            request, "listings.html", chosen=None, kind=None, kinds=KINDS, mine=True, **found
        )

    @get("/new", opt=RESIDENTS, sync_to_thread=True)
    def form(self, request: Request[Any, Any, Any], reads: NamedDependency[Reads]) -> Template:
        return screen(
            request,
            "listing_form.html",
            categories=reads.query(("marketplace",), None, category_names),
            kinds=[(kind, gettext(text)) for kind, text in POSTING.items()],
            key=new_key(),
        )

    @post("/", opt=RESIDENTS, sync_to_thread=True)
    def post_listing(
        self,
        data: Annotated[NewListing, Form],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Redirect:
        receipt = bus.handle_from_thread(data.command(), caller)
        return showing("/kiosk/listings/mine", receipt, done="posted")

    @post("/{listing_id:uuid}/closure", opt=RESIDENTS, sync_to_thread=True)
    def close(
        self,
        listing_id: FromPath[UUID],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Redirect:
        # The kiosk's form says nothing but "take it off": the reason is always this one.
        closure = ListingClosure(reason=gettext(CLOSED_BY_OWNER))
        command = CloseListing.at(closure, listing_id=listing_id)
        receipt = bus.handle_from_thread(command, caller)
        return showing("/kiosk/listings/mine", receipt, done="closed")
