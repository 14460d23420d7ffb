"""Where everyone and everything belongs: the stations of the deployment with their street and
district, each member's home station, each staff account's reach and each kiosk's station."""

from __future__ import annotations

from typing import Any, ClassVar

from projections.dispatch import by_payload
from projections.readstore import ReadDb, Row
from services.messaging.envelope import (
    Envelope,
    KioskRegistered,
    MemberMovedHome,
    MemberRegistered,
    ScopeData,
    StaffRegistered,
    StaffScopeChanged,
    StationClosed,
    StationOpened,
    StationRenamed,
)


class Stations:
    name = "stations"
    tables: ClassVar[dict[str, str]] = {
        "stations": (
            "CREATE TABLE IF NOT EXISTS stations ("
            " station_id TEXT PRIMARY KEY,"
            " code TEXT NOT NULL,"
            " name TEXT NOT NULL,"
            " district TEXT NOT NULL,"
            " street TEXT NOT NULL,"
            " is_open SMALLINT NOT NULL,"
            " opened_at TEXT NOT NULL,"
            " closed_at TEXT,"
            " reason TEXT)"
        ),
        "member_homes": (
            "CREATE TABLE IF NOT EXISTS member_homes ("
            " member_id TEXT PRIMARY KEY,"
            " station_id TEXT NOT NULL)"
        ),
        "staff_reach": (
            "CREATE TABLE IF NOT EXISTS staff_reach ("
            " staff_id TEXT PRIMARY KEY,"
            " level TEXT NOT NULL,"
            " station_id TEXT,"
            " district TEXT,"
            " street TEXT)"
        ),
        "kiosk_stations": (
            "CREATE TABLE IF NOT EXISTS kiosk_stations ("
            " kiosk_id TEXT PRIMARY KEY,"
            " station_id TEXT NOT NULL)"
        ),
    }

    def apply(self, db: ReadDb, envelope: Envelope) -> None:
        self._on(envelope.payload(), db, envelope)

    @by_payload
    def _on(self, payload: Any, db: ReadDb, envelope: Envelope) -> None:
        """Events this read model does not show are skipped (but still tracked)."""

    @_on.register
    def _opened(self, payload: StationOpened, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "INSERT INTO stations VALUES (%(id)s, %(code)s, %(name)s, %(district)s, %(street)s,"
            " 1, %(at)s, NULL, NULL)",
            {
                "id": str(envelope.stream_id),
                "code": payload.code,
                "name": payload.name,
                "district": payload.place.district,
                "street": payload.place.street,
                "at": envelope.recorded_at.isoformat(),
            },
        )

    @_on.register
    def _renamed(self, payload: StationRenamed, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "UPDATE stations SET name = %(name)s, district = %(district)s, street = %(street)s"
            " WHERE station_id = %(id)s",
            {
                "id": str(envelope.stream_id),
                "name": payload.name,
                "district": payload.place.district,
                "street": payload.place.street,
            },
        )

    @_on.register
    def _closed(self, payload: StationClosed, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "UPDATE stations SET is_open = 0, closed_at = %(at)s, reason = %(reason)s"
            " WHERE station_id = %(id)s",
            {
                "id": str(envelope.stream_id),
                "at": envelope.recorded_at.isoformat(),
                "reason": payload.reason,
            },
        )

    @_on.register
    def _member(self, payload: MemberRegistered, db: ReadDb, envelope: Envelope) -> None:
        self._home(db, envelope, payload.station)

    @_on.register
    def _moved(self, payload: MemberMovedHome, db: ReadDb, envelope: Envelope) -> None:
        self._home(db, envelope, payload.station)

    def _home(self, db: ReadDb, envelope: Envelope, station: Any) -> None:
        keep_home(db, "member_homes", envelope, station)

    @_on.register
    def _staff(self, payload: StaffRegistered, db: ReadDb, envelope: Envelope) -> None:
        self._reach(db, envelope, payload.scope)

    @_on.register
    def _reach_changed(self, payload: StaffScopeChanged, db: ReadDb, envelope: Envelope) -> None:
        self._reach(db, envelope, payload.scope)

    def _reach(self, db: ReadDb, envelope: Envelope, scope: ScopeData) -> None:
        db.execute(
            "INSERT INTO staff_reach VALUES (%(id)s, %(level)s, %(station)s, %(district)s,"
            " %(street)s) ON CONFLICT (staff_id) DO UPDATE SET level = excluded.level,"
            " station_id = excluded.station_id, district = excluded.district,"
            " street = excluded.street",
            {
                "id": str(envelope.stream_id),
                "level": scope.level,
                "station": None if scope.station is None else str(scope.station),
                "district": scope.district,
                "street": scope.street,
            },
        )

    @_on.register
    def _kiosk(self, payload: KioskRegistered, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "INSERT INTO kiosk_stations VALUES (%(id)s, %(station)s)",
            {"id": str(envelope.stream_id), "station": str(payload.station)},
        )


def keep_home(db: ReadDb, table: str, envelope: Envelope, station: Any) -> None:
    """A member's home station from a ``MemberRegistered`` or ``MemberMovedHome``, into a
    ``table`` (member_id, station_id) of the model that follows homes."""
    db.execute(
        f"INSERT INTO {table} VALUES (%(id)s, %(station)s)"
        " ON CONFLICT (member_id) DO UPDATE SET station_id = excluded.station_id",
        {"id": str(envelope.stream_id), "station": str(station)},
    )


def every_station(db: ReadDb) -> list[Row]:
    """Open stations first; each group by district, street and code."""
    return db.all("SELECT * FROM stations ORDER BY is_open DESC, district, street, code")


def station(db: ReadDb, station_id: str) -> Row | None:
    return db.one("SELECT * FROM stations WHERE station_id = %(id)s", {"id": station_id})


def home_of(db: ReadDb, member_id: str) -> str | None:
    row = db.one("SELECT station_id FROM member_homes WHERE member_id = %(id)s", {"id": member_id})
    return None if row is None else row["station_id"]


def reach_of(db: ReadDb, staff_id: str) -> Row | None:
    return db.one("SELECT * FROM staff_reach WHERE staff_id = %(id)s", {"id": staff_id})


def reached_by(db: ReadDb, staff_id: str) -> tuple[str, list[str]] | None:
    """How far a staff account reaches (station, street or district) and the stations that
    makes: its own, or every station of its street or district (None while the account is
    not known here yet)."""
    reach = reach_of(db, staff_id)
    if reach is None:
        return None
    if reach["level"] == "station":
        return "station", [reach["station_id"]]
    where, params = "district = %(district)s", {"district": reach["district"]}
    if reach["level"] == "street":
        where, params = f"{where} AND street = %(street)s", {**params, "street": reach["street"]}
    rows = db.all(f"SELECT station_id FROM stations WHERE {where}", params)
    return reach["level"], [row["station_id"] for row in rows]


def staff_within(db: ReadDb, staff_id: str) -> set[str]:
    """The staff accounts whose reach lies wholly within this account's: those of its
    stations, and for a street or district account the street's or district's own."""
    reach = reach_of(db, staff_id)
    if reach is None:
        return set()
    _, among = reached_by(db, staff_id) or ("station", [])
    stations_in = set(among)

    def within(row: Row) -> bool:
        if row["level"] == "station":
            return row["station_id"] in stations_in
        if reach["level"] == "district":
            return row["district"] == reach["district"]
        return reach["level"] == row["level"] == "street" and (row["district"], row["street"]) == (
            reach["district"],
            reach["street"],
        )

    return {row["staff_id"] for row in db.all("SELECT * FROM staff_reach") if within(row)}
