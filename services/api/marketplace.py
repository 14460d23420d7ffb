"""Help categories and listings over HTTP: the kiosk's marketplace board; each command route
hands its body to the bus."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from domain.identity import Role
from domain.listing import ListingKind
from domain.rules import NotFound
from projections import marketplace
from services.api.command_routes import command_route
from services.listings.commands import (
    AddCategory,
    CategoryRetirement,
    CloseListing,
    ListingClosure,
    PostListing,
    RetireCategory,
)
from services.web.auth import Principal, allow
from services.web.context import After, Before, Limit, next_before
from services.web.reads import Reads

EVERYONE = tuple(Role)


class Category(msgspec.Struct, kw_only=True):
    code: str
    name_zh: str
    name_en: str
    is_active: bool


class Listing(msgspec.Struct, kw_only=True):
    listing_id: str
    owner: str
    kind: str
    category: str
    title: str
    description: str
    building: str
    place: str
    availability: str
    is_open: bool
    posted_at: str
    closed_at: str | None
    position: int
    station_id: str  # the poster's home station: the board shows every station's (通存通兑)


class Listings(msgspec.Struct, kw_only=True):
    listings: list[Listing]
    next_before: int | None


def _listing(row: dict[str, Any]) -> Listing:
    return msgspec.convert(row, Listing, strict=False)


class CategoryController(Controller):
    """The categories' reads (``CATEGORIES`` adds their commands)."""

    @get("/", sync_to_thread=True, opt=allow(*EVERYONE), summary="Help categories")
    def list_categories(
        self,
        reads: NamedDependency[Reads],
        after: After = None,
        include_retired: Annotated[bool, QueryParameter()] = False,
    ) -> list[Category]:
        rows = reads.query(
            ("marketplace",),
            after,
            lambda db: marketplace.categories(db, include_retired=include_retired),
        )
        return [msgspec.convert(row, Category, strict=False) for row in rows]


class ListingController(Controller):
    """The listings' reads (``LISTINGS`` adds their commands)."""

    @get("/", sync_to_thread=True, opt=allow(*EVERYONE), summary="Search the board, newest first")
    def search(
        self,
        request: Request[Principal, Any, Any],
        reads: NamedDependency[Reads],
        after: After = None,
        category: Annotated[str | None, QueryParameter(max_length=32)] = None,
        building: Annotated[str | None, QueryParameter(max_length=40)] = None,
        kind: Annotated[ListingKind | None, QueryParameter()] = None,
        q: Annotated[str | None, QueryParameter(max_length=80, description="Words to find")] = None,
        station: Annotated[
            UUID | None, QueryParameter(description="Only listings posted at this station")
        ] = None,
        mine: Annotated[
            bool, QueryParameter(description="Only my own listings, closed too")
        ] = False,
        before: Before = None,
        limit: Limit = 50,
    ) -> Listings:
        owner = request.user.account_id if mine else None
        if mine and owner is None:
            return Listings(listings=[], next_before=None)  # staff post no listings
        rows = reads.query(
            ("marketplace",),
            after,
            lambda db: marketplace.search(
                db,
                category=category,
                building=building,
                kind=kind,
                text=q,
                owner=str(owner) if owner else None,
                stations=[str(station)] if station else None,
                open_only=not mine,
                before=before,
                limit=limit,
            ),
        )
        return Listings(
            listings=[_listing(row) for row in rows], next_before=next_before(rows, limit)
        )

    @get("/{listing_id:uuid}", sync_to_thread=True, opt=allow(*EVERYONE), summary="One listing")
    def show(
        self, listing_id: FromPath[UUID], reads: NamedDependency[Reads], after: After = None
    ) -> Listing:
        row = reads.query(
            ("marketplace",), after, lambda db: marketplace.listing(db, str(listing_id))
        )
        if row is None:
            raise NotFound("listing-not-found", f"There is no listing {listing_id}.")
        return _listing(row)


CATEGORIES = Router(
    "/api/v1/categories",
    tags=["marketplace"],
    route_handlers=[
        CategoryController,
        command_route(
            "add", post("/", opt=allow(Role.COORDINATOR), summary="Add a category"), AddCategory
        ),
        command_route(
            "retire",
            post(
                "/{code:str}/retirement",
                opt=allow(Role.COORDINATOR),
                summary="Retire a category (existing listings keep it)",
            ),
            RetireCategory,
            CategoryRetirement,
        ),
    ],
)
LISTINGS = Router(
    "/api/v1/listings",
    tags=["marketplace"],
    route_handlers=[
        ListingController,
        command_route(
            "post_listing",
            post(
                "/",
                opt=allow(Role.RESIDENT, Role.VOLUNTEER),
                summary="Post an offer of help, or a request for it",
            ),
            PostListing,
        ),
        command_route(
            "close",
            post(
                "/{listing_id:uuid}/closure",
                opt=allow(Role.RESIDENT, Role.VOLUNTEER, Role.COORDINATOR),
                summary="Take a listing off the board (its owner, or a coordinator)",
            ),
            CloseListing,
            ListingClosure,
        ),
    ],
)
