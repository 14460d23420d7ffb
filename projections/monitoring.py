"""The monitoring figures (月度 / 中期 / 年度评估): volunteers active and new, trainings held and
minutes trained, service minutes and services given (服务人次) by month, category and building.
Each entry counts as it stands now: an amendment moves it, a voiding removes it.

Every row is kept by station (an entry and a training where they happened, a volunteer at
their home station as it is now), so a street or district draws the same figures summed over
its stations, and each station's part adds up to it."""

from __future__ import annotations

from typing import Any, ClassVar

from projections import homes
from projections.dispatch import by_payload
from projections.readdb import one_of
from projections.readstore import ReadDb, Row
from projections.stored import month_of
from services.messaging.envelope import (
    Envelope,
    HoursAmended,
    HoursApproved,
    HoursSubmitted,
    HoursVoided,
    MemberMovedHome,
    MemberRegistered,
    ServiceData,
    TrainingHeld,
    VolunteerRegistered,
    VolunteerStatusChanged,
)


def _month(service: ServiceData) -> str:
    # The time as the station wrote it (its own offset), so a month is the station's month.
    return month_of(service.started_at)


class Monitoring:
    name = "monitoring"
    tables: ClassVar[dict[str, str]] = {
        "monitoring_entries": (
            "CREATE TABLE IF NOT EXISTS monitoring_entries ("
            " entry_id TEXT PRIMARY KEY,"
            " volunteer_id TEXT NOT NULL,"
            " month TEXT NOT NULL,"
            " category TEXT NOT NULL,"
            " building TEXT NOT NULL,"
            " minutes BIGINT NOT NULL,"
            " counted SMALLINT NOT NULL,"  # approved and not voided
            " station_id TEXT NOT NULL)"
        ),
        "monitoring_volunteers": (
            "CREATE TABLE IF NOT EXISTS monitoring_volunteers ("
            " volunteer_id TEXT PRIMARY KEY,"
            " registered_month TEXT NOT NULL,"
            " status TEXT NOT NULL,"
            " member_id TEXT NOT NULL,"
            " station_id TEXT NOT NULL)"
        ),
        "monitoring_trainings": (
            "CREATE TABLE IF NOT EXISTS monitoring_trainings ("
            " training_id TEXT PRIMARY KEY,"
            " month TEXT NOT NULL,"
            " minutes BIGINT NOT NULL,"
            " attendees BIGINT NOT NULL,"
            " station_id TEXT NOT NULL)"
        ),
        "monitoring_homes": homes.table("monitoring_homes"),
    }

    def apply(self, db: ReadDb, envelope: Envelope) -> None:
        self._on(envelope.payload(), db, envelope)

    @by_payload
    def _on(self, payload: Any, db: ReadDb, envelope: Envelope) -> None:
        """Events this read model does not show are skipped (but still tracked)."""

    @_on.register
    def _member(self, payload: MemberRegistered, db: ReadDb, envelope: Envelope) -> None:
        homes.keep(db, "monitoring_homes", envelope.stream_id, payload.station)

    @_on.register
    def _moved(self, payload: MemberMovedHome, db: ReadDb, envelope: Envelope) -> None:
        homes.move(
            db, "monitoring_homes", "monitoring_volunteers", envelope.stream_id, payload.station
        )

    @_on.register
    def _registered(self, payload: VolunteerRegistered, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "INSERT INTO monitoring_volunteers VALUES (%(id)s, %(month)s, 'active', %(member)s,"
            " %(station)s)",
            {
                "id": str(envelope.stream_id),
                "month": month_of(payload.registered_on),
                "member": str(payload.member_id),
                "station": homes.home(db, "monitoring_homes", payload.member_id),
            },
        )

    @_on.register
    def _status(self, payload: VolunteerStatusChanged, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "UPDATE monitoring_volunteers SET status = %(status)s WHERE volunteer_id = %(id)s",
            {"status": payload.status, "id": str(envelope.stream_id)},
        )

    @_on.register
    def _training(self, payload: TrainingHeld, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "INSERT INTO monitoring_trainings VALUES (%(id)s, %(month)s, %(minutes)s,"
            " %(attendees)s, %(station)s)",
            {
                "id": str(envelope.stream_id),
                "month": month_of(payload.held_on),
                "minutes": payload.minutes,
                "attendees": len(payload.attendees),
                "station": str(payload.station),
            },
        )

    @_on.register
    def _submitted(self, payload: HoursSubmitted, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "INSERT INTO monitoring_entries VALUES (%(id)s, %(volunteer)s, %(month)s,"
            " %(category)s, %(building)s, %(minutes)s, 0, %(station)s)",
            {
                "id": str(envelope.stream_id),
                "station": str(payload.station),
                "volunteer": str(payload.volunteer_id),
                "month": _month(payload.service),
                "category": payload.service.category,
                "building": payload.service.building,
                "minutes": payload.service.minutes,
            },
        )

    @_on.register
    def _approved(self, payload: HoursApproved, db: ReadDb, envelope: Envelope) -> None:
        self._count(db, envelope, counted=True)

    @_on.register
    def _voided(self, payload: HoursVoided, db: ReadDb, envelope: Envelope) -> None:
        self._count(db, envelope, counted=False)

    def _count(self, db: ReadDb, envelope: Envelope, *, counted: bool) -> None:
        db.execute(
            "UPDATE monitoring_entries SET counted = %(counted)s WHERE entry_id = %(id)s",
            {"counted": int(counted), "id": str(envelope.stream_id)},
        )

    @_on.register
    def _amended(self, payload: HoursAmended, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "UPDATE monitoring_entries SET month = %(month)s, category = %(category)s,"
            " building = %(building)s, minutes = %(minutes)s WHERE entry_id = %(id)s",
            {
                "month": _month(payload.service),
                "category": payload.service.category,
                "building": payload.service.building,
                "minutes": payload.service.minutes,
                "id": str(envelope.stream_id),
            },
        )


# PostgreSQL sums BIGINTs as NUMERIC; every total is cast back so both stores answer integers.
# Each figure is drawn for ``stations`` (one, or those of a street or district) and by station,
# so a report shows its parts beside the whole.


def _within(stations: list[str], first: str, last: str) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {"first": first, "last": last}
    return one_of("station_id", stations, params), params


def service(db: ReadDb, stations: list[str], first: str, last: str) -> list[Row]:
    """Service minutes and services given, by station, month, category and building (months
    as ``YYYY-MM``, ``first`` to ``last`` inclusive)."""
    among, params = _within(stations, first, last)
    return db.all(
        "SELECT station_id, month, category, building, CAST(SUM(minutes) AS BIGINT) AS minutes,"
        " COUNT(*) AS services FROM monitoring_entries"
        f" WHERE counted = 1 AND {among} AND month >= %(first)s AND month <= %(last)s"
        " GROUP BY station_id, month, category, building"
        " ORDER BY month, category, building, station_id",
        params,
    )


def volunteers_by_month(db: ReadDb, stations: list[str], first: str, last: str) -> list[Row]:
    """Active volunteers (with counted service that month, wherever they gave it) and newly
    registered ones, by month and the volunteer's home station: each volunteer counts at one
    station, so the stations' figures add up to their street's and district's."""
    among, params = _within(stations, first, last)
    return db.all(
        "SELECT station_id, month, CAST(SUM(active) AS BIGINT) AS active,"
        " CAST(SUM(new) AS BIGINT) AS new"
        " FROM (SELECT v.station_id, e.month, COUNT(DISTINCT e.volunteer_id) AS active, 0 AS new"
        "  FROM monitoring_entries AS e JOIN monitoring_volunteers AS v"
        "  ON v.volunteer_id = e.volunteer_id WHERE e.counted = 1 GROUP BY v.station_id, e.month"
        "  UNION ALL SELECT station_id, registered_month AS month, 0 AS active, COUNT(*) AS new"
        "  FROM monitoring_volunteers GROUP BY station_id, registered_month) AS figures"
        f" WHERE {among} AND month >= %(first)s AND month <= %(last)s"
        " GROUP BY station_id, month ORDER BY month, station_id",
        params,
    )


def trainings_by_month(db: ReadDb, stations: list[str], first: str, last: str) -> list[Row]:
    """Trainings held, their length, and minutes trained (length × attendees), by station and
    month."""
    among, params = _within(stations, first, last)
    return db.all(
        "SELECT station_id, month, COUNT(*) AS trainings, CAST(SUM(minutes) AS BIGINT) AS minutes,"
        " CAST(SUM(minutes * attendees) AS BIGINT) AS minutes_trained"
        f" FROM monitoring_trainings WHERE {among} AND month >= %(first)s AND month <= %(last)s"
        " GROUP BY station_id, month ORDER BY month, station_id",
        params,
    )


def registry(db: ReadDb, stations: list[str]) -> list[Row]:
    """Volunteers on the registry now, by home station and status."""
    params: dict[str, Any] = {}
    return db.all(
        "SELECT station_id, COUNT(CASE WHEN status = 'active' THEN 1 END) AS active,"
        " COUNT(CASE WHEN status = 'paused' THEN 1 END) AS paused,"
        " COUNT(CASE WHEN status = 'left' THEN 1 END) AS left_ FROM monitoring_volunteers"
        f" WHERE {one_of('station_id', stations, params)}"
        " GROUP BY station_id ORDER BY station_id",
        params,
    )
