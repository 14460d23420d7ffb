"""Help categories and listings over HTTP: the kiosk's marketplace board."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from msgspec import Meta

from domain.identity import Role
from domain.listing import ListingKind
from domain.provenance import Provenance
from domain.rules import NotFound
from projections import marketplace
from services import listings
from services.api import schemas
from services.api.auth import Principal, allow
from services.api.context import After, Before, Limit, answer, next_before, read
from services.bus import IdempotencyKey, Receipt
from services.runtime import Backbone

EVERYONE = tuple(Role)
BoardText = Annotated[str, Meta(max_length=200)]


class NewCategory(schemas.Strict):
    code: Annotated[str, Meta(min_length=2, max_length=32, description="e.g. `gardening`")]
    name_zh: Annotated[str, Meta(min_length=1, max_length=40)]
    name_en: Annotated[str, Meta(min_length=1, max_length=60)]


class Category(msgspec.Struct, kw_only=True):
    code: str
    name_zh: str
    name_en: str
    is_active: bool


class ListingDraft(msgspec.Struct, kw_only=True):
    """What a resident writes for the board, checked alike by the API and the kiosk's form."""

    kind: ListingKind
    category: Annotated[str, Meta(min_length=1, max_length=32)]
    title: Annotated[str, Meta(min_length=1, max_length=80)]
    description: Annotated[str, Meta(max_length=1000)] = ""
    building: Annotated[str, Meta(max_length=40, description="e.g. 3号楼")] = ""
    place: BoardText = ""
    availability: Annotated[BoardText, Meta(description="When, e.g. 周二上午")] = ""

    def post(self, bone: Backbone, *, idempotency_key: str, owner: UUID, by: Provenance) -> Receipt:
        """Put the listing on the board as ``owner``'s."""
        return listings.post(
            bone.timebank,
            idempotency_key=idempotency_key,
            owner=owner,
            kind=self.kind,
            category=self.category,
            title=self.title,
            description=self.description,
            building=self.building,
            place=self.place,
            availability=self.availability,
            by=by,
        )


class NewListing(ListingDraft, schemas.Strict):
    idempotency_key: IdempotencyKey


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
        data: JSONBody[NewCategory],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        receipt = await bone.commits.run(
            listings.add_category,
            bone.timebank,
            code=data.code,
            name_zh=data.name_zh,
            name_en=data.name_en,
            by=by,
        )
        return answer(receipt)

    @post(
        "/{code:str}/retirement",
        opt=allow(Role.COORDINATOR),
        summary="Retire a category (existing listings keep it)",
    )
    async def retire(
        self,
        code: FromPath[str],
        data: JSONBody[schemas.Closure],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        return answer(
            await bone.commits.run(
                listings.retire_category, bone.timebank, code=code, reason=data.reason, by=by
            )
        )


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
        request: Request[Principal, Any, Any],
        data: JSONBody[NewListing],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        owner = request.user.account_id
        assert owner is not None, "residents and volunteers sign in with their account"
        receipt = await bone.commits.run(
            data.post, bone, idempotency_key=data.idempotency_key, owner=owner, by=by
        )
        return answer(receipt)

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
        request: Request[Principal, Any, Any],
        data: JSONBody[schemas.Closure],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        principal = request.user
        receipt = await bone.commits.run(
            listings.close,
            bone.timebank,
            listing_id=listing_id,
            closer=principal.account_id if principal.is_member else None,
            reason=data.reason,
            by=by,
        )
        return answer(receipt)
