"""Listing and category command handlers: the kiosk's marketplace board."""

from __future__ import annotations

from uuid import UUID

from domain.listing import (
    Categories,
    Listing,
    ListingKind,
    categories_id,
    listing_id_for,
    post_listing,
)
from domain.provenance import Provenance
from domain.rules import KeyReused, NotFound, RuleViolated
from services.bus import Receipt
from services.eventstore import Timebank, retried_on_conflict


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
def add_category(
    app: Timebank, *, code: str, name_zh: str, name_en: str, by: Provenance
) -> Receipt:
    categories = categories_of(app)
    categories.add(code, name_zh, name_en, by)
    return Receipt(categories.id, app.record(categories))


@retried_on_conflict
def retire_category(app: Timebank, *, code: str, reason: str, by: Provenance) -> Receipt:
    categories = categories_of(app)
    if code not in categories.names:
        raise NotFound("category-not-found", f"There is no category {code!r}.")
    categories.retire(code, reason, by)
    return Receipt(categories.id, app.record(categories))


@retried_on_conflict
def post(
    app: Timebank,
    *,
    idempotency_key: str,
    owner: UUID,
    kind: ListingKind,
    category: str,
    title: str,
    description: str,
    building: str,
    place: str,
    availability: str,
    by: Provenance,
) -> Receipt:
    existing = app.find(listing_id_for(idempotency_key), Listing)
    if existing is not None:
        if (existing.owner, existing.kind, existing.title) != (owner, kind, title.strip()):
            raise KeyReused
        return Receipt(existing.id, app.last_position(), replayed=True)
    listing = post_listing(
        idempotency_key=idempotency_key,
        owner=owner,
        kind=kind,
        category=category,
        title=title,
        description=description,
        building=building,
        place=place,
        availability=availability,
        categories=categories_of(app),
        by=by,
    )
    return Receipt(listing.id, app.record(listing))


def listing_of(app: Timebank, listing_id: UUID) -> Listing:
    listing = app.find(listing_id, Listing)
    if listing is None:
        raise NotFound("listing-not-found", f"There is no listing {listing_id}.")
    return listing


@retried_on_conflict
def close(
    app: Timebank, *, listing_id: UUID, closer: UUID | None, reason: str, by: Provenance
) -> Receipt:
    """``closer``: the account of the resident closing it; None for a coordinator."""
    listing = listing_of(app, listing_id)
    if closer is not None and closer != listing.owner:
        raise RuleViolated("not-your-listing", "Only whoever posted a listing can close it.")
    listing.close(reason, by)
    return Receipt(listing.id, app.record(listing))
