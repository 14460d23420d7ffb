"""Which stations' people and records a caller may read (issue 17, isolation by station).

A coordinator reads their own station; a street's or district's staff read every station of
it. What a caller may *do* is decided on the command side (services.stations.handlers); this is
the read side's twin, drawn from the ``stations`` read model so a read costs one small query.
A resident reads only their own records, which the routes check by account; their reach is
their home station. Anyone else signed in without a station (the system) reads nothing here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from litestar import Request
from litestar.di import NamedDependency

from domain.identity import acting_member, acting_staff
from domain.provenance import Provenance
from domain.station import Level
from projections import staff_directory, stations
from projections.readstore import ReadDb, Row
from services.bus import NotYours
from services.web.auth import Principal
from services.web.context import After
from services.web.reads import Reads

T = TypeVar("T")


@dataclass(frozen=True)
class Reach:
    level: Level
    stations: frozenset[str]

    @property
    def among(self) -> list[str]:
        """The stations, for a query's ``station_id IN (...)``."""
        return sorted(self.stations)

    @property
    def is_one_station(self) -> bool:
        """Station staff and residents; street and district staff read figures across
        stations, not the personal details of their people (README, "Roles per scope")."""
        return self.level is Level.STATION

    def covers(self, station: str | UUID) -> bool:
        return str(station) in self.stations

    def check(self, station: str | UUID) -> None:
        """Refuse a record (a person, an entry, a queue) of a station out of reach."""
        if not self.covers(station):
            raise NotYours("That belongs to a station your account does not work at.")


def reach_of(principal: Principal | None, reads: Reads, after: int | None = None) -> Reach:
    by = Provenance(principal.subject if principal else "anonymous", "api", "reach")
    if staff_id := acting_staff(by):
        reach = _known(reads, after, lambda db: stations.reached_by(db, str(staff_id)))
        level, found = reach or ("station", [])
        return Reach(Level(level), frozenset(found))
    if member_id := acting_member(by):
        home = _known(reads, after, lambda db: stations.home_of(db, str(member_id)))
        return Reach(Level.STATION, frozenset({home} if home else ()))
    return Reach(Level.STATION, frozenset())


def _known(reads: Reads, after: int | None, query: Callable[[ReadDb], T | None]) -> T | None:
    """``query`` over the stations read model; if it does not know the caller yet (an account
    made a moment ago), again once the model has applied everything stored so far."""
    found = reads.query(("stations",), after, query)
    if found is None:
        found = reads.query(("stations",), reads.head(), query)
    return found


def the_reach(
    request: Request[Any, Any, Any], reads: NamedDependency[Reads], after: After = None
) -> Reach:
    """Dependency ``reach``: the signed-in caller's, once the stations read model has applied
    ``after`` (a station just opened is within the reach of the page that shows it)."""
    principal = request.scope.get("user")
    return reach_of(principal if isinstance(principal, Principal) else None, reads, after)


def check_sees_people(reach: Reach, station: str | UUID) -> None:
    """Refuse a person's records (an hour entry, a volunteer's profile) to a street or
    district account, which reads figures, and to staff of another station."""
    if not reach.is_one_station:
        raise NotYours("A street or district account sees figures, not residents' records.")
    reach.check(station)


def people_among(reach: Reach) -> list[str]:
    """The stations whose people's records a list shows (refused across stations)."""
    if not reach.is_one_station:
        raise NotYours("A street or district account sees figures, not residents' records.")
    return reach.among


def reported(
    reach: Reach,
    stations_known: list[dict[str, Any]],
    *,
    station: UUID | None,
    street: str | None,
    district: str | None,
) -> list[dict[str, Any]]:
    """The stations (rows of the ``stations`` read model) a report is drawn for: the one
    asked, a street's or a district's, within the caller's reach; by default all of it."""
    if station is not None:
        reach.check(station)
    chosen = [
        row
        for row in stations_known
        if reach.covers(row["station_id"])
        and (station is None or row["station_id"] == str(station))
        and (district is None or row["district"] == district)
        and (street is None or row["street"] == street)
    ]
    if not chosen and (street is not None or district is not None):
        raise NotYours("No station of that street or district is one your account works at.")
    return chosen


def staff_overseen(reads: Reads, by: Provenance, after: int | None) -> list[Row]:
    """The staff accounts an administrator manages: those whose reach lies within theirs."""
    staff_id = acting_staff(by)
    if staff_id is None:
        return []
    return reads.query(
        ("staff_directory", "stations"),
        after,
        lambda db: staff_directory.overseen_by(db, str(staff_id)),
    )
