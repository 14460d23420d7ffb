"""The station's monitoring figures (月度 / 中期 / 年度评估): volunteers active and new, trainings
held and minutes trained, service minutes and services given (服务人次) by month, category and
building. Each entry counts as it stands now: an amendment moves it, a voiding removes it."""

from __future__ import annotations

from typing import Any, ClassVar

from projections.dispatch import by_payload
from projections.readstore import ReadDb, Row
from projections.stored import month_of
from services.messaging.envelope import (
    Envelope,
    HoursAmended,
    HoursApproved,
    HoursSubmitted,
    HoursVoided,
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
            " counted SMALLINT NOT NULL)"  # approved and not voided
        ),
        "monitoring_volunteers": (
            "CREATE TABLE IF NOT EXISTS monitoring_volunteers ("
            " volunteer_id TEXT PRIMARY KEY,"
            " registered_month TEXT NOT NULL,"
            " status TEXT NOT NULL)"
        ),
        "monitoring_trainings": (
            "CREATE TABLE IF NOT EXISTS monitoring_trainings ("
            " training_id TEXT PRIMARY KEY,"
            " month TEXT NOT NULL,"
            " minutes BIGINT NOT NULL,"
            " attendees BIGINT NOT NULL)"
        ),
    }

    def apply(self, db: ReadDb, envelope: Envelope) -> None:
        self._on(envelope.payload(), db, envelope)

    @by_payload
    def _on(self, payload: Any, db: ReadDb, envelope: Envelope) -> None:
        """Events this read model does not show are skipped (but still tracked)."""

    @_on.register
    def _registered(self, payload: VolunteerRegistered, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "INSERT INTO monitoring_volunteers VALUES (%(id)s, %(month)s, 'active')",
            {"id": str(envelope.stream_id), "month": month_of(payload.registered_on)},
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
            " %(attendees)s)",
            {
                "id": str(envelope.stream_id),
                "month": month_of(payload.held_on),
                "minutes": payload.minutes,
                "attendees": len(payload.attendees),
            },
        )

    @_on.register
    def _submitted(self, payload: HoursSubmitted, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "INSERT INTO monitoring_entries VALUES (%(id)s, %(volunteer)s, %(month)s,"
            " %(category)s, %(building)s, %(minutes)s, 0)",
            {
                "id": str(envelope.stream_id),
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


def service(db: ReadDb, first: str, last: str) -> list[Row]:
    """Service minutes and services given, by month, category and building (months as
    ``YYYY-MM``, ``first`` to ``last`` inclusive)."""
    return db.all(
        "SELECT month, category, building, CAST(SUM(minutes) AS BIGINT) AS minutes,"
        " COUNT(*) AS services FROM monitoring_entries"
        " WHERE counted = 1 AND month >= %(first)s AND month <= %(last)s"
        " GROUP BY month, category, building ORDER BY month, category, building",
        {"first": first, "last": last},
    )


def volunteers_by_month(db: ReadDb, first: str, last: str) -> list[Row]:
    """Active volunteers (with counted service that month) and newly registered ones."""
    return db.all(
        "SELECT month, CAST(SUM(active) AS BIGINT) AS active, CAST(SUM(new) AS BIGINT) AS new"
        " FROM (SELECT month, COUNT(DISTINCT volunteer_id) AS active, 0 AS new"
        "  FROM monitoring_entries WHERE counted = 1 GROUP BY month"
        "  UNION ALL SELECT registered_month AS month, 0 AS active, COUNT(*) AS new"
        "  FROM monitoring_volunteers GROUP BY registered_month) AS figures"
        " WHERE month >= %(first)s AND month <= %(last)s GROUP BY month ORDER BY month",
        {"first": first, "last": last},
    )


def trainings_by_month(db: ReadDb, first: str, last: str) -> list[Row]:
    """Trainings held, their length, and minutes trained (length × attendees)."""
    return db.all(
        "SELECT month, COUNT(*) AS trainings, CAST(SUM(minutes) AS BIGINT) AS minutes,"
        " CAST(SUM(minutes * attendees) AS BIGINT) AS minutes_trained"
        " FROM monitoring_trainings WHERE month >= %(first)s AND month <= %(last)s"
        " GROUP BY month ORDER BY month",
        {"first": first, "last": last},
    )


def registry(db: ReadDb) -> Row:
    """Volunteers on the registry now, by status."""
    row = db.one(
        "SELECT COUNT(CASE WHEN status = 'active' THEN 1 END) AS active,"
        " COUNT(CASE WHEN status = 'paused' THEN 1 END) AS paused,"
        " COUNT(CASE WHEN status = 'left' THEN 1 END) AS left_ FROM monitoring_volunteers"
    )
    assert row is not None, "an aggregate query always answers one row"
    return row
