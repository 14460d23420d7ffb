"""The staff directory an admin manages: every staff account, its role and whether active."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from projections import stations
from projections.dispatch import by_payload
from projections.readstore import ReadDb, Row
from services.messaging.envelope import Envelope, StaffDeactivated, StaffRegistered


class StaffDirectory:
    name = "staff_directory"
    tables: ClassVar[dict[str, str]] = {
        "staff_directory": (
            "CREATE TABLE IF NOT EXISTS staff_directory ("
            " staff_id TEXT PRIMARY KEY,"
            " username TEXT NOT NULL,"
            " role TEXT NOT NULL,"
            " title TEXT,"
            " is_active SMALLINT NOT NULL,"
            " registered_at TEXT NOT NULL)"
        ),
    }

    def apply(self, db: ReadDb, envelope: Envelope) -> None:
        self._on(envelope.payload(), db, envelope)

    @by_payload
    def _on(self, payload: Any, db: ReadDb, envelope: Envelope) -> None:
        """Events this read model does not show are skipped (but still tracked)."""

    @_on.register
    def _registered(self, payload: StaffRegistered, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "INSERT INTO staff_directory VALUES (%(id)s, %(username)s, %(role)s, %(title)s, 1,"
            " %(at)s)",
            {
                "id": str(envelope.stream_id),
                "username": payload.username,
                "role": payload.role,
                "title": payload.title,
                "at": envelope.recorded_at.isoformat(),
            },
        )

    @_on.register
    def _deactivated(self, payload: StaffDeactivated, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "UPDATE staff_directory SET is_active = 0 WHERE staff_id = %(id)s",
            {"id": str(envelope.stream_id)},
        )


def everyone(db: ReadDb) -> list[Row]:
    return db.all("SELECT * FROM staff_directory ORDER BY username")


def account(db: ReadDb, staff_id: UUID) -> Row | None:
    return db.one("SELECT * FROM staff_directory WHERE staff_id = %(id)s", {"id": str(staff_id)})


def overseen_by(db: ReadDb, staff_id: str) -> list[Row]:
    """The accounts whose reach lies within this account's (``stations.staff_within``)."""
    within = stations.staff_within(db, staff_id)
    return [row for row in everyone(db) if row["staff_id"] in within]
