"""The volunteer registry as coordinators search it (skills, categories, building, status),
with each volunteer's awards, evaluations and trainings. Names stay sealed in the event store;
the registry holds pseudonymous ids only."""

from __future__ import annotations

from typing import Any, ClassVar

from projections import homes
from projections.dispatch import by_payload
from projections.readdb import one_of
from projections.readstore import ReadDb, Row
from services.messaging.envelope import (
    AwardGiven,
    Envelope,
    MemberMovedHome,
    MemberRegistered,
    TrainingHeld,
    VolunteerEvaluated,
    VolunteerProfileUpdated,
    VolunteerRegistered,
    VolunteerStatusChanged,
)


def _labels(values: list[str]) -> str:
    """Stored between separators, so one label is found with LIKE '%|label|%'."""
    return "|" + "|".join(values) + "|"


class Volunteers:
    name = "volunteers"
    tables: ClassVar[dict[str, str]] = {
        "volunteers": (
            "CREATE TABLE IF NOT EXISTS volunteers ("
            " volunteer_id TEXT PRIMARY KEY,"
            " member_id TEXT NOT NULL,"
            " account_id TEXT NOT NULL,"
            " skills TEXT NOT NULL,"
            " categories TEXT NOT NULL,"
            " building TEXT NOT NULL,"
            " status TEXT NOT NULL,"
            " consent_version TEXT NOT NULL,"
            " registered_at TEXT NOT NULL,"
            " position BIGINT NOT NULL,"
            " station_id TEXT NOT NULL)"  # the volunteer's home station, as it is now
        ),
        "volunteer_records": (
            "CREATE TABLE IF NOT EXISTS volunteer_records ("
            " volunteer_id TEXT NOT NULL,"
            " position BIGINT NOT NULL,"
            " kind TEXT NOT NULL,"  # award, evaluation, training, status
            " title TEXT NOT NULL,"
            " detail TEXT NOT NULL,"
            " on_date TEXT NOT NULL,"
            " minutes BIGINT,"
            " actor TEXT NOT NULL,"
            " PRIMARY KEY (volunteer_id, position))"
        ),
        # Each training session once (its attendees are its rows in volunteer_records).
        "trainings": (
            "CREATE TABLE IF NOT EXISTS trainings ("
            " training_id TEXT PRIMARY KEY,"
            " name TEXT NOT NULL,"
            " content TEXT NOT NULL,"
            " organiser TEXT NOT NULL,"
            " minutes BIGINT NOT NULL,"
            " held_on TEXT NOT NULL,"
            " attendees BIGINT NOT NULL,"
            " actor TEXT NOT NULL,"
            " position BIGINT NOT NULL,"
            " station_id TEXT NOT NULL)"
        ),
        "volunteer_homes": homes.table("volunteer_homes"),
    }

    def apply(self, db: ReadDb, envelope: Envelope) -> None:
        self._on(envelope.payload(), db, envelope)

    @by_payload
    def _on(self, payload: Any, db: ReadDb, envelope: Envelope) -> None:
        """Events this read model does not show are skipped (but still tracked)."""

    def _record(
        self,
        db: ReadDb,
        envelope: Envelope,
        volunteer_id: str,
        kind: str,
        title: str,
        detail: str,
        on_date: str,
        minutes: int | None = None,
    ) -> None:
        db.execute(
            "INSERT INTO volunteer_records VALUES (%(id)s, %(position)s, %(kind)s, %(title)s,"
            " %(detail)s, %(on_date)s, %(minutes)s, %(actor)s)",
            {
                "id": volunteer_id,
                "position": envelope.position,
                "kind": kind,
                "title": title,
                "detail": detail,
                "on_date": on_date,
                "minutes": minutes,
                "actor": envelope.actor,
            },
        )

    @_on.register
    def _member(self, payload: MemberRegistered, db: ReadDb, envelope: Envelope) -> None:
        homes.keep(db, "volunteer_homes", envelope.stream_id, payload.station)

    @_on.register
    def _moved(self, payload: MemberMovedHome, db: ReadDb, envelope: Envelope) -> None:
        homes.move(db, "volunteer_homes", "volunteers", envelope.stream_id, payload.station)

    @_on.register
    def _registered(self, payload: VolunteerRegistered, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "INSERT INTO volunteers VALUES (%(id)s, %(member)s, %(account)s, %(skills)s,"
            " %(categories)s, %(building)s, 'active', %(consent)s, %(at)s, %(position)s,"
            " %(station)s)",
            {
                "id": str(envelope.stream_id),
                "member": str(payload.member_id),
                "account": str(payload.account_id),
                "skills": _labels(payload.skills),
                "categories": _labels(payload.categories),
                "building": payload.building,
                "consent": payload.consent_version,
                "at": envelope.recorded_at.isoformat(),
                "position": envelope.position,
                "station": homes.home(db, "volunteer_homes", payload.member_id),
            },
        )

    @_on.register
    def _status(self, payload: VolunteerStatusChanged, db: ReadDb, envelope: Envelope) -> None:
        volunteer_id = str(envelope.stream_id)
        db.execute(
            "UPDATE volunteers SET status = %(status)s WHERE volunteer_id = %(id)s",
            {"status": payload.status, "id": volunteer_id},
        )
        at = envelope.recorded_at.date().isoformat()
        self._record(db, envelope, volunteer_id, "status", payload.status, payload.reason, at)

    @_on.register
    def _profile(self, payload: VolunteerProfileUpdated, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "UPDATE volunteers SET skills = %(skills)s, categories = %(categories)s,"
            " building = %(building)s WHERE volunteer_id = %(id)s",
            {
                "skills": _labels(payload.skills),
                "categories": _labels(payload.categories),
                "building": payload.building,
                "id": str(envelope.stream_id),
            },
        )

    @_on.register
    def _award(self, payload: AwardGiven, db: ReadDb, envelope: Envelope) -> None:
        self._record(
            db,
            envelope,
            str(envelope.stream_id),
            "award",
            payload.name,
            payload.awarded_by,
            payload.awarded_on.isoformat(),
        )

    @_on.register
    def _evaluated(self, payload: VolunteerEvaluated, db: ReadDb, envelope: Envelope) -> None:
        stars = f" ({payload.stars}★)" if payload.stars else ""
        self._record(
            db,
            envelope,
            str(envelope.stream_id),
            "evaluation",
            f"{payload.rating}{stars}",
            payload.note,
            payload.evaluated_on.isoformat(),
        )

    @_on.register
    def _training(self, payload: TrainingHeld, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "INSERT INTO trainings VALUES (%(id)s, %(name)s, %(content)s, %(organiser)s,"
            " %(minutes)s, %(held_on)s, %(attendees)s, %(actor)s, %(position)s, %(station)s)",
            {
                "id": str(envelope.stream_id),
                "name": payload.name,
                "content": payload.content,
                "organiser": payload.organiser,
                "minutes": payload.minutes,
                "held_on": payload.held_on.isoformat(),
                "attendees": len(payload.attendees),
                "actor": envelope.actor,
                "position": envelope.position,
                "station": str(payload.station),
            },
        )
        for attendee in payload.attendees:
            self._record(
                db,
                envelope,
                str(attendee),
                "training",
                payload.name,
                f"{payload.organiser}: {payload.content}",
                payload.held_on.isoformat(),
                payload.minutes,
            )


def volunteer(db: ReadDb, volunteer_id: str) -> Row | None:
    row = db.one("SELECT * FROM volunteers WHERE volunteer_id = %(id)s", {"id": volunteer_id})
    if row is not None:
        row["records"] = db.all(
            "SELECT * FROM volunteer_records WHERE volunteer_id = %(id)s ORDER BY position",
            {"id": volunteer_id},
        )
    return row


def home_of(db: ReadDb, volunteer_id: str) -> str | None:
    """The volunteer's home station (None for no such volunteer)."""
    row = db.one(
        "SELECT station_id FROM volunteers WHERE volunteer_id = %(id)s", {"id": volunteer_id}
    )
    return None if row is None else row["station_id"]


def trainings(db: ReadDb, *, limit: int, stations: list[str]) -> list[Row]:
    """The latest trainings these stations held, newest first, each with the ids of its
    attendees."""
    params: dict[str, Any] = {"limit": limit}
    rows = db.all(
        f"SELECT * FROM trainings WHERE {one_of('station_id', stations, params)}"
        " ORDER BY position DESC LIMIT %(limit)s",
        params,
    )
    params = {}
    held = one_of("position", [row["position"] for row in rows], params)
    attended = db.all(
        f"SELECT volunteer_id, position FROM volunteer_records WHERE kind = 'training' AND {held}",
        params,
    )
    for row in rows:
        row["attendee_ids"] = [
            str(record["volunteer_id"])
            for record in attended
            if record["position"] == row["position"]
        ]
    return rows


def search(
    db: ReadDb,
    *,
    skill: str | None,
    category: str | None,
    building: str | None,
    status: str | None,
    before: int | None,
    limit: int,
    stations: list[str],
    among: list[str] | None = None,
) -> list[Row]:
    """Newest first, of volunteers whose home is one of ``stations``; ``before``: the previous
    page's last ``position``; ``among``: only these volunteers."""
    clauses = ["position < %(before)s"]
    params: dict[str, Any] = {"before": before if before is not None else 2**62, "limit": limit}
    clauses.append(one_of("station_id", stations, params))
    if among is not None:
        clauses.append(one_of("volunteer_id", among, params))
    if skill is not None:
        clauses.append("skills LIKE %(skill)s")
        params["skill"] = f"%|{skill}|%"
    if category is not None:
        clauses.append("categories LIKE %(category)s")
        params["category"] = f"%|{category}|%"
    for column, value in (("building", building), ("status", status)):
        if value is not None:
            clauses.append(f"{column} = %({column})s")
            params[column] = value
    return db.all(
        f"SELECT * FROM volunteers WHERE {' AND '.join(clauses)}"
        " ORDER BY position DESC LIMIT %(limit)s",
        params,
    )


def members(db: ReadDb, stations: list[str]) -> dict[str, str]:
    """The id of every volunteer of these stations, by member id (a search by name goes
    through them)."""
    params: dict[str, Any] = {}
    rows = db.all(
        "SELECT volunteer_id, member_id FROM volunteers"
        f" WHERE {one_of('station_id', stations, params)}",
        params,
    )
    return {str(row["member_id"]): str(row["volunteer_id"]) for row in rows}


def labels(row: Row) -> Row:
    """The row with its skills and categories as lists again."""
    return {
        **row,
        "skills": [label for label in row["skills"].split("|") if label],
        "categories": [label for label in row["categories"].split("|") if label],
    }
