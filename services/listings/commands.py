"""What residents and coordinators ask of the marketplace board, as they say it."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from domain.listing import ListingKind
from services.bus import Command, IdempotencyKey, Reason

BoardText = Annotated[str, Meta(max_length=200)]


class AddCategory(Command):
    code: Annotated[str, Meta(min_length=2, max_length=32, description="e.g. `gardening`")]
    name_zh: Annotated[str, Meta(min_length=1, max_length=40)]
    name_en: Annotated[str, Meta(min_length=1, max_length=60)]


class CategoryRetirement(Command):
    reason: Reason


class RetireCategory(CategoryRetirement, kw_only=True):
    code: str


class ListingDraft(msgspec.Struct, kw_only=True):
    """What a resident writes for the board, checked alike by the API and the kiosk's form."""

    kind: ListingKind
    category: Annotated[str, Meta(min_length=1, max_length=32)]
    title: Annotated[str, Meta(min_length=1, max_length=80)]
    description: Annotated[str, Meta(max_length=1000)] = ""
    building: Annotated[str, Meta(max_length=40, description="e.g. 3号楼")] = ""
    place: BoardText = ""
    availability: Annotated[BoardText, Meta(description="When, e.g. 周二上午")] = ""


class PostListing(ListingDraft, Command):
    """Put a listing on the board: it is the listing of the resident who gives the command."""

    idempotency_key: IdempotencyKey


class ListingClosure(Command):
    reason: Reason


class CloseListing(ListingClosure, kw_only=True):
    """Its owner, or a coordinator, takes the listing off the board."""

    listing_id: UUID
