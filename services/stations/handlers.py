"""Station command handlers, and the first station every deployment starts with."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from eventsourcing.persistence import RecordConflictError

from domain.identity import Member, Staff, acting_member, acting_staff
from domain.ledger import AccountKind, TimeAccount
from domain.provenance import Provenance
from domain.rules import NotFound, RuleViolated
from domain.station import DEFAULT_STATION, DEFAULT_STATION_CODE, Level, Place, Scope, Station
from services.bus import Acting, Handler, NotYours, Receipt
from services.stations.commands import CloseStation, OpenStation, RenameStation
from services.store.eventstore import Timebank, retried_on_conflict


@retried_on_conflict
def open_first_station(app: Timebank, name: str, place: Place, by: Provenance) -> int:
    """Open the deployment's first station, once: every record made before stations existed
    belongs to it."""
    if DEFAULT_STATION in app.repository:
        return app.last_position()
    return app.record(Station(code=DEFAULT_STATION_CODE, name=name, place=place, by=by))


def station_of(app: Timebank, station_id: UUID) -> Station:
    station = app.find(station_id, Station)
    if station is None:
        raise NotFound("station-not-found", f"There is no station {station_id}.")
    return station


def scope_of(app: Timebank, by: Provenance) -> Scope | None:
    """Where the one acting works: a member of staff's scope, a resident's home station; None
    for the system, which acts everywhere."""
    if staff_id := acting_staff(by):
        staff = app.find(staff_id, Staff)
        if staff is None:
            raise NotYours("This staff account is not known here.")
        return staff.scope
    if member_id := acting_member(by):
        member = app.find(member_id, Member)
        if member is None:
            raise NotYours("This member is not known here.")
        return Scope.of_station(member.station)
    return None


def home_of(app: Timebank, account: TimeAccount) -> UUID:
    """The home station of an account's owner now. An account opened through the ledger for
    an owner who is no registered resident stands, like the system's, at the first station."""
    try:
        member = app.find(UUID(account.owner), Member)
    except ValueError:
        member = None
    return DEFAULT_STATION if member is None else member.station


def check_serves(acting: Acting, account: TimeAccount) -> None:
    """Staff act on a resident's account only if they work at the resident's station; the
    community and pool accounts are the whole deployment's."""
    if acting.caller.is_member or account.kind is not AccountKind.MEMBER:
        return
    check_works_at_any(acting.app, acting.by, [home_of(acting.app, account)])


def check_works_at_any(app: Timebank, by: Provenance, stations: Iterable[UUID]) -> None:
    """Refuse acting on a record shared by stations (help between residents of two) unless
    the caller works at one of them."""
    scope = scope_of(app, by)
    if scope is None:
        return
    found = [station_of(app, station_id) for station_id in stations]
    if not any(scope.covers(station.id, station.place) for station in found):
        raise NotYours("That belongs to stations your account does not work at.")


def station_for(acting: Acting, asked: UUID | None) -> UUID:
    """The station a new person, kiosk or record belongs to: the one asked for, else the
    caller's own; open, and one the caller works at."""
    scope = scope_of(acting.app, acting.by)
    station = station_of(acting.app, asked if asked is not None else _own_station(scope))
    station.check_open()
    check_reaches(scope, station)
    return station.id


def _own_station(scope: Scope | None) -> UUID:
    if scope is None:
        return DEFAULT_STATION
    if scope.level is Level.STATION and scope.station is not None:
        return scope.station
    raise RuleViolated("station-required", "You work across several stations: name the station.")


def check_reaches(scope: Scope | None, station: Station) -> None:
    """Refuse a station outside ``scope`` (None: the system's, which reaches everywhere)."""
    if scope is not None and not scope.covers(station.id, station.place):
        raise NotYours(f"Station {station.code} is not one your account works at.")


def check_works_at(app: Timebank, by: Provenance, station_id: UUID) -> None:
    """Refuse acting on a person or record of a station out of the caller's reach."""
    check_reaches(scope_of(app, by), station_of(app, station_id))


def check_sees_people(app: Timebank, by: Provenance, station_id: UUID) -> None:
    """Refuse a resident's personal details to anyone but their own station's staff: street
    and district accounts read figures across stations, not people (README, "Roles per
    scope")."""
    scope = scope_of(app, by)
    if scope is not None and scope.level is not Level.STATION:
        raise NotYours("A street or district account sees figures, not residents' details.")
    check_reaches(scope, station_of(app, station_id))


def reach_for(acting: Acting, asked: Scope | None) -> Scope:
    """How far a new or changed staff account reaches: never beyond the one who sets it."""
    if asked is None or asked.level is Level.STATION:
        return Scope.of_station(station_for(acting, asked and asked.station))
    asked.check_well_formed()
    scope = scope_of(acting.app, acting.by)
    if scope is not None and not scope.includes(asked):
        raise NotYours("An account cannot be given a wider reach than your own.")
    return asked


def open_station(command: OpenStation, acting: Acting) -> Receipt:
    """A new station, in a street or district the caller works across."""
    station = Station(
        code=command.code, name=command.name, place=command.placing.place, by=acting.by
    )
    check_reaches(scope_of(acting.app, acting.by), station)
    try:
        return Receipt(station.id, acting.app.record(station))
    except RecordConflictError:
        raise RuleViolated(
            "station-code-taken", f"There is already a station with the code {command.code!r}."
        ) from None


@retried_on_conflict
def rename_station(command: RenameStation, acting: Acting) -> Receipt:
    station = station_of(acting.app, command.station_id)
    scope = scope_of(acting.app, acting.by)
    check_reaches(scope, station)
    station.rename(command.name, command.placing.place, command.reason, acting.by)
    check_reaches(scope, station)  # nor moved out of the caller's reach
    return Receipt(station.id, acting.app.record(station))


@retried_on_conflict
def close_station(command: CloseStation, acting: Acting) -> Receipt:
    station = station_of(acting.app, command.station_id)
    check_reaches(scope_of(acting.app, acting.by), station)
    station.close(command.reason, acting.by)
    return Receipt(station.id, acting.app.record(station))


HANDLERS: dict[type, Handler] = {
    OpenStation: open_station,
    RenameStation: rename_station,
    CloseStation: close_station,
}
