"""Help categories and listings over HTTP: the kiosk's marketplace board; each command route
hands its body to the bus."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from domain.identity import Role
from domain.listing import ListingKind
from domain.rules import NotFound
from projections import marketplace
from services.api import schemas
from services.api.schemas import answer
from services.bus import Bus, Caller
from services.composition.runtime import Backbone
from services.listings.commands import (
    AddCategory,
    CategoryRetirement,
    CloseListing,
    ListingClosure,
    PostListing,
    RetireCategory,
)
from services.web.auth import Principal, allow
from services.web.context import After, Before, Limit, next_before, read

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


class Listings(msgspec.Struct, kw_only=True):
    listings: list[Listing]
    next_before: int | None


def _listing(row: dict[str, Any]) -> Listing:
    return msgspec.convert(row, Listing, strict=False)


class CategoryController(Controller):
    path = "/api/v1/categories"
    tags = ["marketplace"]  # noqa: RUF012

    @get("/", sync_to_thread=True, opt=allow(*EVERYONE), summary="Help categories")
    def list_categories(
        self,
        bone: NamedDependency[Backbone],
        after: After = None,
        include_retired: Annotated[bool, QueryParameter()] = False,
    ) -> list[Category]:
        rows = read(
            bone,
            ("marketplace",),
            after,
            lambda db: marketplace.categories(db, include_retired=include_retired),
        )
        return [msgspec.convert(row, Category, strict=False) for row in rows]

    @post("/", opt=allow(Role.COORDINATOR), summary="Add a category")
    async def add(
        self,
        data: JSONBody[AddCategory],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Response[schemas.Receipt]:
        return answer(await bus.handle(data, caller))

    @post(
        "/{code:str}/retirement",
        opt=allow(Role.COORDINATOR),
        summary="Retire a category (existing listings keep it)",
    )
    async def retire(
        self,
        code: FromPath[str],
        data: JSONBody[CategoryRetirement],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Response[schemas.Receipt]:
        return answer(await bus.handle(RetireCategory.at(data, code=code), caller))


class ListingController(Controller):
    path = "/api/v1/listings"
    tags = ["marketplace"]  # noqa: RUF012

    @post(
        "/",
        opt=allow(Role.RESIDENT, Role.VOLUNTEER),
        summary="Post an offer of help, or a request for it",
    )
    async def post_listing(
        self,
        data: JSONBody[PostListing],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Response[schemas.Receipt]:
        return answer(await bus.handle(data, caller))

    @get("/", sync_to_thread=True, opt=allow(*EVERYONE), summary="Search the board, newest first")
    def search(
        self,
        request: Request[Principal, Any, Any],
        bone: NamedDependency[Backbone],
        after: After = None,
        category: Annotated[str | None, QueryParameter(max_length=32)] = None,
        building: Annotated[str | None, QueryParameter(max_length=40)] = None,
        kind: Annotated[ListingKind | None, QueryParameter()] = None,
        q: Annotated[str | None, QueryParameter(max_length=80, description="Words to find")] = None,
        mine: Annotated[
            bool, QueryParameter(description="Only my own listings, closed too")
        ] = False,
        before: Before = None,
        limit: Limit = 50,
    ) -> Listings:
        owner = request.user.account_id if mine else None
        if mine and owner is None:
            return Listings(listings=[], next_before=None)  # staff post no listings
        rows = read(
            bone,
            ("marketplace",),
            after,
            lambda db: marketplace.search(
                db,
                category=category,
                building=building,
                kind=kind,
                text=q,
                owner=str(owner) if owner else None,
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
        self, listing_id: FromPath[UUID], bone: NamedDependency[Backbone], after: After = None
    ) -> Listing:
        row = read(
            bone, ("marketplace",), after, lambda db: marketplace.listing(db, str(listing_id))
        )
        if row is None:
            raise NotFound("listing-not-found", f"There is no listing {listing_id}.")
        return _listing(row)

    @post(
        "/{listing_id:uuid}/closure",
        opt=allow(Role.RESIDENT, Role.VOLUNTEER, Role.COORDINATOR),
        summary="Take a listing off the board (its owner, or a coordinator)",
    )
    async def close(
        self,
        listing_id: FromPath[UUID],
        data: JSONBody[ListingClosure],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Response[schemas.Receipt]:
        return answer(await bus.handle(CloseListing.at(data, listing_id=listing_id), caller))
