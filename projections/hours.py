"""Service-hour entries and their audit trail: every step of every entry with who took it,
when, through which channel, what changed (before → after) and why."""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec

from projections.dispatch import by_payload
from projections.readdb import one_of
from projections.readstore import ReadDb, Row
from projections.stored import month_of, stamp
from services.messaging.envelope import (
    Envelope,
    HoursAmended,
    HoursApproved,
    HoursRejected,
    HoursSubmitted,
    HoursVoided,
    ServiceData,
)

SERVICE_FIELDS = tuple(field for field in ServiceData.__struct_fields__)
_STEPS = (HoursSubmitted, HoursApproved, HoursRejected, HoursAmended, HoursVoided)


def _service_row(service: ServiceData) -> dict[str, Any]:
    row = msgspec.to_builtins(service)
    row["started_at"] = stamp(service.started_at)
    row["month"] = month_of(service.started_at)
    return row


class Hours:
    name = "hours"
    tables: ClassVar[dict[str, str]] = {
        "hour_entries": (
            "CREATE TABLE IF NOT EXISTS hour_entries ("
            " entry_id TEXT PRIMARY KEY,"
            " volunteer_id TEXT NOT NULL,"
            " account_id TEXT NOT NULL,"
            " status TEXT NOT NULL,"
            " activity TEXT NOT NULL,"
            " started_at TEXT NOT NULL,"
            " month TEXT NOT NULL,"
            " minutes BIGINT NOT NULL,"
            " place TEXT NOT NULL,"
            " content TEXT NOT NULL,"
            " organiser TEXT NOT NULL,"
            " responsible TEXT NOT NULL,"
            " category TEXT NOT NULL,"
            " building TEXT NOT NULL,"
            " beneficiary TEXT,"
            " flags TEXT NOT NULL,"
            " channel TEXT NOT NULL,"
            " recorded_by TEXT NOT NULL,"
            " recorded_at TEXT NOT NULL,"
            " decided_by TEXT,"
            " decided_at TEXT,"
            " position BIGINT NOT NULL,"  # where it was submitted: pages stay stable
            " station_id TEXT NOT NULL)"  # where the service was given
        ),
        "hour_steps": (
            "CREATE TABLE IF NOT EXISTS hour_steps ("
            " entry_id TEXT NOT NULL,"
            " position BIGINT NOT NULL,"
            " type TEXT NOT NULL,"
            " actor TEXT NOT NULL,"
            " channel TEXT NOT NULL,"
            " at TEXT NOT NULL,"
            " reason TEXT,"
            " requested_by TEXT,"
            " changes TEXT NOT NULL,"  # JSON: {field: [before, after]}
            " PRIMARY KEY (entry_id, position))"
        ),
    }

    def apply(self, db: ReadDb, envelope: Envelope) -> None:
        payload = envelope.payload()
        if isinstance(payload, _STEPS):
            self._on(payload, db, envelope)

    def _step(
        self,
        db: ReadDb,
        envelope: Envelope,
        changes: dict[str, list[Any]],
        reason: str | None = None,
        requested_by: str | None = None,
    ) -> None:
        db.execute(
            "INSERT INTO hour_steps VALUES (%(id)s, %(position)s, %(type)s, %(actor)s,"
            " %(channel)s, %(at)s, %(reason)s, %(requested_by)s, %(changes)s)",
            {
                "id": str(envelope.stream_id),
                "position": envelope.position,
                "type": envelope.type,
                "actor": envelope.actor,
                "channel": envelope.channel,
                "at": stamp(envelope.recorded_at),
                "reason": reason,
                "requested_by": requested_by,
                "changes": msgspec.json.encode(changes).decode(),
            },
        )

    def _decided(self, db: ReadDb, envelope: Envelope, status: str) -> dict[str, list[Any]]:
        before = self._entry(db, envelope)
        db.execute(
            "UPDATE hour_entries SET status = %(status)s, decided_by = %(actor)s,"
            " decided_at = %(at)s WHERE entry_id = %(id)s",
            {
                "status": status,
                "actor": envelope.actor,
                "at": stamp(envelope.recorded_at),
                "id": str(envelope.stream_id),
            },
        )
        return {"status": [before["status"], status]}

    def _entry(self, db: ReadDb, envelope: Envelope) -> Row:
        row = db.one(
            "SELECT * FROM hour_entries WHERE entry_id = %(id)s", {"id": str(envelope.stream_id)}
        )
        assert row is not None, "HoursSubmitted precedes every other step"
        return row

    @by_payload
    def _on(self, payload: Any, db: ReadDb, envelope: Envelope) -> None:
        raise TypeError(f"no handler for {type(payload).__name__}")

    @_on.register
    def _submitted(self, payload: HoursSubmitted, db: ReadDb, envelope: Envelope) -> None:
        service = _service_row(payload.service)
        db.execute(
            "INSERT INTO hour_entries VALUES (%(id)s, %(volunteer)s, %(account)s, 'submitted',"
            " %(activity)s, %(started_at)s, %(month)s, %(minutes)s, %(place)s, %(content)s,"
            " %(organiser)s, %(responsible)s, %(category)s, %(building)s, %(beneficiary)s,"
            " %(flags)s, %(channel)s, %(actor)s, %(at)s, NULL, NULL, %(position)s, %(station)s)",
            {
                **service,
                "id": str(envelope.stream_id),
                "volunteer": str(payload.volunteer_id),
                "account": str(payload.account_id),
                "flags": ",".join(payload.flags),
                "channel": envelope.channel,
                "actor": envelope.actor,
                "at": stamp(envelope.recorded_at),
                "position": envelope.position,
                "station": str(payload.station),
            },
        )
        changes = {field: [None, service[field]] for field in SERVICE_FIELDS}
        self._step(db, envelope, {**changes, "status": [None, "submitted"]})

    @_on.register
    def _approved(self, payload: HoursApproved, db: ReadDb, envelope: Envelope) -> None:
        self._step(db, envelope, self._decided(db, envelope, "approved"))

    @_on.register
    def _rejected(self, payload: HoursRejected, db: ReadDb, envelope: Envelope) -> None:
        self._step(db, envelope, self._decided(db, envelope, "rejected"), payload.reason)

    @_on.register
    def _voided(self, payload: HoursVoided, db: ReadDb, envelope: Envelope) -> None:
        changes = self._decided(db, envelope, "voided")
        self._step(db, envelope, changes, payload.reason, payload.requested_by)

    @_on.register
    def _amended(self, payload: HoursAmended, db: ReadDb, envelope: Envelope) -> None:
        before = self._entry(db, envelope)
        after = _service_row(payload.service)
        assignments = ", ".join(f"{field} = %({field})s" for field in (*SERVICE_FIELDS, "month"))
        db.execute(
            f"UPDATE hour_entries SET {assignments}, flags = %(flags)s WHERE entry_id = %(id)s",
            {**after, "flags": ",".join(payload.flags), "id": str(envelope.stream_id)},
        )
        changes = {
            field: [before[field], after[field]]
            for field in SERVICE_FIELDS
            if before[field] != after[field]
        }
        self._step(db, envelope, changes, payload.reason, payload.requested_by)


def entry(db: ReadDb, entry_id: str) -> Row | None:
    return db.one("SELECT * FROM hour_entries WHERE entry_id = %(id)s", {"id": entry_id})


def history(db: ReadDb, entry_id: str) -> list[Row]:
    return db.all(
        "SELECT * FROM hour_steps WHERE entry_id = %(id)s ORDER BY position", {"id": entry_id}
    )


def listed(
    db: ReadDb,
    *,
    volunteer: str | None,
    status: str | None,
    started_from: str | None,
    started_before: str | None,
    before: int | None,
    limit: int,
    among: list[str] | None = None,
    stations: list[str] | None = None,
) -> list[Row]:
    """Newest first; ``before``: the previous page's last ``position``; ``among``: only these
    volunteers' entries; ``stations``: only entries given at these stations."""
    clauses = ["position < %(before)s"]
    params: dict[str, Any] = {"before": before if before is not None else 2**62, "limit": limit}
    if among is not None:
        clauses.append(one_of("volunteer_id", among, params))
    if stations is not None:
        clauses.append(one_of("station_id", stations, params))
    for clause, name, value in (
        ("volunteer_id = %(volunteer)s", "volunteer", volunteer),
        ("status = %(status)s", "status", status),
        ("started_at >= %(started_from)s", "started_from", started_from),
        ("started_at < %(started_before)s", "started_before", started_before),
    ):
        if value is not None:
            clauses.append(clause)
            params[name] = value
    return db.all(
        f"SELECT * FROM hour_entries WHERE {' AND '.join(clauses)}"
        " ORDER BY position DESC LIMIT %(limit)s",
        params,
    )


def totals(db: ReadDb, volunteer: str, started_from: str, started_before: str) -> list[Row]:
    """A volunteer's approved minutes and entries by month and category over a range."""
    return db.all(
        "SELECT month, category, CAST(SUM(minutes) AS BIGINT) AS minutes, COUNT(*) AS entries"
        " FROM hour_entries WHERE volunteer_id = %(volunteer)s AND status = 'approved'"
        " AND started_at >= %(started_from)s AND started_at < %(started_before)s"
        " GROUP BY month, category ORDER BY month, category",
        {"volunteer": volunteer, "started_from": started_from, "started_before": started_before},
    )


def steps_after(db: ReadDb, entry_ids: list[str], position: int) -> list[Row]:
    """What happened to these entries after ``position`` (a certificate's corrections)."""
    if not entry_ids:
        return []
    names = {f"e{index}": entry_id for index, entry_id in enumerate(entry_ids)}
    listed = ", ".join(f"%({name})s" for name in names)
    return db.all(
        f"SELECT * FROM hour_steps WHERE entry_id IN ({listed}) AND position > %(position)s"
        " ORDER BY position",
        {**names, "position": position},
    )


def status_counts(db: ReadDb, stations: list[str]) -> dict[str, int]:
    """How many entries of these stations stand in each status (the console's "needs
    attention" figures)."""
    params: dict[str, Any] = {}
    rows = db.all(
        "SELECT status, COUNT(*) AS entries FROM hour_entries"
        f" WHERE {one_of('station_id', stations, params)} GROUP BY status",
        params,
    )
    return {row["status"]: row["entries"] for row in rows}
