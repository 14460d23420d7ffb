"""What the public council board (motions, their timelines and tallies, the tracker, meetings
and minutes) shows of people: no member ids. Anyone may read it without signing in, and a
member id is what every record of a person's time, hours and votes is kept under, so wherever
one would stand (a mover, a supporter, a voter, who was entitled or came, the actor of a step)
the board says ``resident``. Counts, choices and staff stay as they are; the council's own
pages, for signed-in officers, show members by member number."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar.params import QueryParameter

from domain.rules import NotFound
from projections import stations
from projections.readstore import ReadDb

RESIDENT = "resident"
# Each station has its own council; the board shows one, by default the first station's, so
# the board's addresses from before stations keep showing what they showed.
CouncilStation = Annotated[
    UUID, QueryParameter(description="The station whose council; by default the first station")
]


def council_station(db: ReadDb, station: UUID) -> str:
    """``station`` as the council read model keeps it, once known to be a station."""
    if stations.station(db, str(station)) is None:
        raise NotFound("station-not-found", f"There is no station {station}.")
    return str(station)


_MEMBER_KEYS = frozenset({"mover", "supporter", "voter", "entitled", "present"})
# Read-model columns that hold JSON text rather than JSON: who came, the votes' rules as opened.
_JSON_TEXT_KEYS = frozenset({"present", "rules"})


def without_member_ids(value: Any) -> Any:
    """``value`` (read-model rows, decoded) with every member id read as ``resident``."""
    if isinstance(value, list):
        return [without_member_ids(item) for item in value]
    if isinstance(value, dict):
        return {key: _shown(key, item) for key, item in value.items()}
    return value


def _shown(key: str, value: Any) -> Any:
    if key in _JSON_TEXT_KEYS and isinstance(value, str):
        return msgspec.json.encode(_shown(key, msgspec.json.decode(value))).decode()
    if key == "actor" and isinstance(value, str) and value.startswith("member:"):
        return RESIDENT
    if key in _MEMBER_KEYS and isinstance(value, str):
        return RESIDENT
    if key in _MEMBER_KEYS and isinstance(value, list):
        return [RESIDENT for _ in value]
    return without_member_ids(value)
