"""The kiosk's marketplace: offers and requests for help, by category (DESIGN.md, Listings).

A listing is public on the board, so it must not carry contact details: the station puts
people in touch, and phone or ID numbers on a shared screen are exactly what PIPL protects.
"""

from __future__ import annotations

import re
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.provenance import Provenance
from domain.rules import RuleViolated, require_reason
from domain.station import DEFAULT_STATION, NamesItsStation

_LISTING_NAMESPACE = uuid5(NAMESPACE_URL, "urn:timebank:listing")
_CATEGORIES_ID = uuid5(NAMESPACE_URL, "urn:timebank:categories")
# Seven or more digits in a row (spaces and dashes allowed between them) is a phone or ID
# number, once dates and clock times (2024-05-01, 09:30) are set aside: never a building or
# a price.
_CONTACT_NUMBER = re.compile(r"\d(?:[\s-]?\d){6,}")
_DATE_OR_TIME = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}:\d{2}")
CATEGORY_CODE = re.compile(r"[a-z][a-z0-9-]{1,31}")

# The categories a station starts with (issue 4): code, Chinese name, English name. The
# station's three elder services (上门探访, 陪伴聊天, 代买代办) are among them. A station started
# before a category joined this list is given it once, by an event (``missing_starters``),
# so a new one goes at the end: both list them in the same order.
STARTING_CATEGORIES = (
    ("companionship", "陪伴聊天", "Companionship"),
    ("errands", "代买代办", "Shopping and errands"),
    ("repairs", "家电维修", "Appliance repairs"),
    ("escort", "接送", "Escort and rides"),
    ("tutoring", "辅导功课", "Homework help"),
    ("haircut", "理发", "Haircuts"),
    ("meals", "助餐", "Meal help"),
    ("cleaning", "保洁", "Cleaning"),
    ("home-visits", "上门探访", "Home visits"),
)


class ListingKind(StrEnum):
    OFFER = "offer"  # I can help with this
    REQUEST = "request"  # I need help with this


def check_no_contact_details(*texts: str) -> None:
    if any(_CONTACT_NUMBER.search(_DATE_OR_TIME.sub(" ", text)) for text in texts):
        raise RuleViolated(
            "contact-details-in-text",
            "Please leave out phone and ID numbers; the station puts you in touch.",
        )


class Categories(Aggregate):
    """The managed list of help categories; coordinators extend it and retire entries."""

    @staticmethod
    def create_id() -> UUID:
        return _CATEGORIES_ID

    @event("CategoriesStarted")
    def __init__(self, by: Provenance) -> None:
        self.names: dict[str, tuple[str, str]] = {}  # code -> (Chinese, English)
        self.retired: set[str] = set()

    def add(self, code: str, name_zh: str, name_en: str, by: Provenance) -> None:
        if not CATEGORY_CODE.fullmatch(code):
            raise RuleViolated(
                "invalid-category-code",
                "A category code is 2–32 lower-case letters, digits or dashes, starting with "
                "a letter.",
            )
        if code in self.names:
            raise RuleViolated("category-exists", f"There is already a category {code!r}.")
        if not name_zh.strip() or not name_en.strip():
            raise RuleViolated("category-name-required", "Give the name in Chinese and English.")
        check_no_contact_details(name_zh, name_en)  # the kiosk's board lists every category
        self._add(code=code, name_zh=name_zh.strip(), name_en=name_en.strip(), by=by)

    @event("CategoryAdded")
    def _add(self, code: str, name_zh: str, name_en: str, by: Provenance) -> None:
        self.names[code] = (name_zh, name_en)

    def retire(self, code: str, reason: str, by: Provenance) -> None:
        self.check_open(code)
        require_reason(reason, "Retiring a category needs a reason.")
        self._retire(code=code, reason=reason, by=by)

    @event("CategoryRetired")
    def _retire(self, code: str, reason: str, by: Provenance) -> None:
        self.retired.add(code)

    def check_open(self, code: str, field: str = "category") -> None:
        """Whatever is recorded under a category (a listing, service hours) names one in use:
        the station's reports count by these codes. ``field``: where the command names it."""
        if code not in self.names:
            raise RuleViolated(
                "unknown-category",
                f"There is no category {code!r}; choose one from the category list.",
                field=field,
            )
        if code in self.retired:
            raise RuleViolated(
                "category-retired", f"Category {code!r} is no longer in use.", field=field
            )

    def missing_starters(self) -> list[tuple[str, str, str]]:
        """The starting categories this station has never had, by code or by Chinese name (one
        a coordinator added, or retired, under its own code stays as they left it)."""
        known_names = {name_zh for name_zh, _ in self.names.values()}
        return [
            starter
            for starter in STARTING_CATEGORIES
            if starter[0] not in self.names and starter[1] not in known_names
        ]


def categories_id() -> UUID:
    return _CATEGORIES_ID


def listing_id_for(idempotency_key: str) -> UUID:
    return uuid5(_LISTING_NAMESPACE, idempotency_key)


class Listing(Aggregate):
    """An offer of help, or a request for it, on the board until its owner closes it."""

    @staticmethod
    def create_id(idempotency_key: str) -> UUID:
        return listing_id_for(idempotency_key)

    class ListingPosted(NamesItsStation, Aggregate.Created):
        """Names the home station of the resident who posts it (issue 17)."""

        idempotency_key: str
        owner: UUID
        kind: ListingKind
        category: str
        title: str
        description: str
        building: str
        place: str
        availability: str
        by: Provenance
        station: UUID

    @event(ListingPosted)
    def __init__(
        self,
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
        station: UUID,
    ) -> None:
        self.owner = owner  # the owner's time account
        self.station = station
        self.kind = ListingKind(kind)
        self.category = category
        self.title = title
        self.is_open = True

    def close(self, reason: str, by: Provenance) -> None:
        if not self.is_open:
            raise RuleViolated("listing-closed", f"Listing {self.id} is already closed.")
        self._close(reason=reason, by=by)

    @event("ListingClosed")
    def _close(self, reason: str, by: Provenance) -> None:
        self.is_open = False


def post_listing(
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
    categories: Categories,
    by: Provenance,
    station: UUID = DEFAULT_STATION,
) -> Listing:
    categories.check_open(category)
    if not title.strip():
        raise RuleViolated("title-required", "Say in a few words what help this is.")
    check_no_contact_details(title, description, building, place, availability)
    return Listing(
        idempotency_key=idempotency_key,
        owner=owner,
        kind=kind,
        category=category,
        title=title.strip(),
        description=description,
        building=building.strip(),
        place=place,
        availability=availability,
        by=by,
        station=station,
    )
