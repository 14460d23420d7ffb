"""What forms offer to choose from once a deployment has several stations: the stations a new
resident or kiosk may go to, and how far a new or changed staff account may reach."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from domain.rules import RuleViolated
from domain.station import Level
from projections import stations
from projections.readstore import Row
from services.identity.commands import Reach as Reaching
from services.pages.i18n import gettext
from services.web.reach import Reach
from services.web.reads import Reads

# A station chosen on a form: its id, or nothing for the one of whoever registers.
Chosen = Annotated[str, Meta(pattern=r"^([0-9a-fA-F-]{36})?$")]


def within(reads: Reads, reach: Reach, after: int | None = None) -> list[Row]:
    """The stations the caller works at, open ones first."""
    rows = reads.query(("stations",), after, stations.every_station)
    return [row for row in rows if reach.covers(row["station_id"])]


def station_names(reads: Reads, reach: Reach) -> dict[str, str]:
    """Each station the caller works at by id: its name, code and street."""
    return {row["station_id"]: _called(row) for row in within(reads, reach)}


def station_choices(reads: Reads, reach: Reach) -> list[tuple[str, str]]:
    """The open stations a new resident or kiosk may go to; none to choose from for the staff
    of one station (it goes to theirs)."""
    if reach.is_one_station:
        return []
    return [(row["station_id"], _called(row)) for row in within(reads, reach) if row["is_open"]]


def reach_choices(reads: Reads, reach: Reach) -> list[tuple[str, str]]:
    """How far a new or changed account may reach, in the form ``Reach.written`` reads: each
    station within the caller's reach, each street of them, and a district administrator's
    district."""
    rows = [row for row in within(reads, reach) if row["is_open"]]
    choices = [(f"station:{row['station_id']}", _called(row)) for row in rows]
    if reach.is_one_station:
        return choices
    streets = sorted({(row["district"], row["street"]) for row in rows})
    every = gettext("Every station of %(place)s")
    choices += [(f"street:{d}/{s}", every % {"place": f"{d} {s}"}) for d, s in streets]
    if reach.level is Level.DISTRICT:
        districts = sorted({district for district, _ in streets})
        choices += [(f"district:{d}", every % {"place": d}) for d in districts]
    return choices


def reach_asked(written: str) -> Reaching | None:
    """The reach a form's choice names (None: the one creating the account's own station)."""
    if not written:
        return None
    try:
        return Reaching.written(written)
    except msgspec.ValidationError:
        raise RuleViolated("scope-incomplete", f"{written!r} names no reach.") from None


def chosen(station: str) -> UUID | None:
    return UUID(station) if station else None


def _called(row: Row) -> str:
    return f"{row['name']} ({row['code']}) · {row['street']}"
