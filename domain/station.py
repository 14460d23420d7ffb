"""Stations (社区/站点), and the street (街道) and district (区) each belongs to: the scope of
people, staff, kiosks and records, so one deployment serves a whole street or district.

A station is known by a short code its staff choose (``xh-01``); its id derives from the code.
The embedded default install has one station, the one every record made before stations
existed belongs to (their events are upcast to name it, never rewritten).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.provenance import Provenance
from domain.rules import RuleViolated, is_blank, require_reason

_STATION_NAMESPACE = uuid5(NAMESPACE_URL, "urn:timebank:station")

DEFAULT_STATION_CODE = "main"
CODE_MAX_LENGTH = 32


def station_id_for(code: str) -> UUID:
    """Codes are unique regardless of case, so the id derives from the folded code."""
    return uuid5(_STATION_NAMESPACE, code.casefold())


DEFAULT_STATION = station_id_for(DEFAULT_STATION_CODE)


class Level(StrEnum):
    """How far a member of staff's work reaches."""

    STATION = "station"
    STREET = "street"
    DISTRICT = "district"


@dataclass(frozen=True)
class Place:
    """Where a station stands: its street within its district. Names, not personal data."""

    district: str
    street: str


@dataclass(frozen=True)
class Scope:
    """One station, every station of a street, or every station of a district."""

    level: Level
    station: UUID | None = None
    district: str | None = None
    street: str | None = None

    @classmethod
    def of_station(cls, station: UUID) -> Scope:
        return cls(Level.STATION, station=station)

    @classmethod
    def of_street(cls, district: str, street: str) -> Scope:
        return cls(Level.STREET, district=district, street=street)

    @classmethod
    def of_district(cls, district: str) -> Scope:
        return cls(Level.DISTRICT, district=district)

    def covers(self, station: UUID, place: Place) -> bool:
        """Whether a station (at ``place``) lies within this scope."""
        match self.level:
            case Level.STATION:
                return station == self.station
            case Level.STREET:
                return (place.district, place.street) == (self.district, self.street)
            case Level.DISTRICT:
                return place.district == self.district

    def includes(self, other: Scope) -> bool:
        """Whether a street or district scope lies wholly within this one."""
        if other.level is Level.STREET and self.level is Level.DISTRICT:
            return self.district == other.district
        return self == other

    def check_well_formed(self) -> None:
        needed = {
            Level.STATION: self.station is not None,
            Level.STREET: _named(self.district) and _named(self.street),
            Level.DISTRICT: _named(self.district),
        }
        if not needed[Level(self.level)]:
            raise RuleViolated(
                "scope-incomplete",
                "A scope names its station, its street and district, or its district.",
            )


DEFAULT_SCOPE = Scope.of_station(DEFAULT_STATION)


def _named(name: str | None) -> bool:
    return name is not None and not is_blank(name)


def check_code(code: str) -> None:
    plain = code.replace("-", "")
    if not (0 < len(code) <= CODE_MAX_LENGTH and plain.isascii() and plain.isalnum()):
        raise RuleViolated(
            "station-code",
            f"A station code is 1 to {CODE_MAX_LENGTH} letters, digits or hyphens (xh-01).",
        )


class Station(Aggregate):
    """A community station, open for records until it is closed."""

    @staticmethod
    def create_id(code: str) -> UUID:
        return station_id_for(code)

    @event("StationOpened")
    def __init__(self, code: str, name: str, place: Place, by: Provenance) -> None:
        check_code(code)
        _check_named(name, place)
        self.code = code
        self.name = name
        self.place = place
        self.is_open = True

    def rename(self, name: str, place: Place, reason: str, by: Provenance) -> None:
        """A new name, or a new street or district (districts are redrawn); saying why."""
        self.check_open()
        _check_named(name, place)
        require_reason(reason, "Renaming or moving a station needs a reason.")
        self._rename(name=name, place=place, reason=reason, by=by)

    @event("StationRenamed")
    def _rename(self, name: str, place: Place, reason: str, by: Provenance) -> None:
        self.name = name
        self.place = place

    def close(self, reason: str, by: Provenance) -> None:
        """No new people or records at this station; everything it holds stays."""
        self.check_open()
        if self.id == DEFAULT_STATION:
            raise RuleViolated("default-station", "The first station cannot be closed.")
        require_reason(reason, "Closing a station needs a reason.")
        self._close(reason=reason, by=by)

    @event("StationClosed")
    def _close(self, reason: str, by: Provenance) -> None:
        self.is_open = False

    def check_open(self) -> None:
        if not self.is_open:
            raise RuleViolated("station-closed", f"Station {self.code} is closed.")


def _check_named(name: str, place: Place) -> None:
    if is_blank(name) or is_blank(place.district) or is_blank(place.street):
        raise RuleViolated(
            "station-place", "Name the station, and the street and district it belongs to."
        )
