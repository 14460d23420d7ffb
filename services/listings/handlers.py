"""Listing and category command handlers: the kiosk's marketplace board."""

from __future__ import annotations

from uuid import UUID

from domain.listing import (
    Categories,
    Listing,
    categories_id,
    listing_id_for,
    post_listing,
)
from domain.provenance import Provenance
from domain.rules import KeyReused, NotFound, RuleViolated
from services.bus import Acting, Caller, Handler, NotYours, Receipt
from services.ledger.handlers import account_of
from services.listings.commands import AddCategory, CloseListing, PostListing, RetireCategory
from services.stations.handlers import check_works_at, home_of
from services.store.eventstore import Timebank, retried_on_conflict


def categories_of(app: Timebank) -> Categories:
    categories = app.find(categories_id(), Categories)
    assert categories is not None, "start_categories runs when the backbone is built"
    return categories


@retried_on_conflict
def start_categories(app: Timebank, by: Provenance) -> int:
    """Record the categories a station starts with: all of them on a new station; on one
    started before a category joined the list, that category, once, as a ``CategoryAdded``
    (its history is left as it was, never rewritten)."""
    categories = app.find(categories_id(), Categories) or Categories(by=by)
    for code, name_zh, name_en in categories.missing_starters():
        categories.add(code, name_zh, name_en, by)
    return app.record(categories)


@retried_on_conflict
def add_category(command: AddCategory, acting: Acting) -> Receipt:
    categories = categories_of(acting.app)
    categories.add(command.code, command.name_zh, command.name_en, acting.by)
    return Receipt(categories.id, acting.app.record(categories))


@retried_on_conflict
def retire_category(command: RetireCategory, acting: Acting) -> Receipt:
    categories = categories_of(acting.app)
    if command.code not in categories.names:
        raise NotFound("category-not-found", f"There is no category {command.code!r}.")
    categories.retire(command.code, command.reason, acting.by)
    return Receipt(categories.id, acting.app.record(categories))


def _own_account(caller: Caller) -> UUID:
    """The account of the resident giving the command: a listing is always someone's."""
    if caller.account_id is None:
        raise NotYours("Only residents and volunteers post listings, as their own.")
    return caller.account_id


@retried_on_conflict
def post(command: PostListing, acting: Acting) -> Receipt:
    """Put the listing on the board as the resident's own."""
    app, owner = acting.app, _own_account(acting.caller)
    existing = app.find(listing_id_for(command.idempotency_key), Listing)
    if existing is not None:
        same = (existing.owner, existing.kind, existing.title)
        if same != (owner, command.kind, command.title.strip()):
            raise KeyReused
        return Receipt(existing.id, app.last_position(), replayed=True)
    listing = post_listing(
        idempotency_key=command.idempotency_key,
        owner=owner,
        kind=command.kind,
        category=command.category,
        title=command.title,
        description=command.description,
        building=command.building,
        place=command.place,
        availability=command.availability,
        categories=categories_of(app),
        station=home_of(app, account_of(app, owner)),
        by=acting.by,
    )
    return Receipt(listing.id, app.record(listing))


def listing_of(app: Timebank, listing_id: UUID) -> Listing:
    listing = app.find(listing_id, Listing)
    if listing is None:
        raise NotFound("listing-not-found", f"There is no listing {listing_id}.")
    return listing


@retried_on_conflict
def close(command: CloseListing, acting: Acting) -> Receipt:
    """A resident closes only a listing of their own; a coordinator, any."""
    listing = listing_of(acting.app, command.listing_id)
    caller = acting.caller
    if caller.is_member and caller.account_id != listing.owner:
        raise RuleViolated("not-your-listing", "Only whoever posted a listing can close it.")
    if not caller.is_member:
        check_works_at(acting.app, acting.by, listing.station)
    listing.close(command.reason, acting.by)
    return Receipt(listing.id, acting.app.record(listing))


HANDLERS: dict[type, Handler] = {
    AddCategory: add_category,
    RetireCategory: retire_category,
    PostListing: post,
    CloseListing: close,
}
