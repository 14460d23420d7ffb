"""The kiosks an admin manages: every shared screen registered, where it stands (its name, and
its station), and whether it still signs residents in (a retired one never does again)."""

from __future__ import annotations

from typing import Any, ClassVar

from projections.dispatch import by_payload
from projections.readdb import one_of
from projections.readstore import ReadDb, Row
from services.messaging.envelope import Envelope, KioskRegistered, KioskRetired


class Kiosks:
    name = "kiosks"
    tables: ClassVar[dict[str, str]] = {
        "kiosks": (
            "CREATE TABLE IF NOT EXISTS kiosks ("
            " kiosk_id TEXT PRIMARY KEY,"
            " name TEXT NOT NULL,"
            " is_active SMALLINT NOT NULL,"
            " registered_at TEXT NOT NULL,"
            " retired_at TEXT,"
            " reason TEXT,"
            " station_id TEXT NOT NULL)"
        ),
    }

    def apply(self, db: ReadDb, envelope: Envelope) -> None:
        self._on(envelope.payload(), db, envelope)

    @by_payload
    def _on(self, payload: Any, db: ReadDb, envelope: Envelope) -> None:
        """Events this read model does not show are skipped (but still tracked)."""

    @_on.register
    def _registered(self, payload: KioskRegistered, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "INSERT INTO kiosks VALUES (%(id)s, %(name)s, 1, %(at)s, NULL, NULL, %(station)s)",
            {
                "id": str(envelope.stream_id),
                "name": payload.name,
                "at": envelope.recorded_at.isoformat(),
                "station": str(payload.station),
            },
        )

    @_on.register
    def _retired(self, payload: KioskRetired, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "UPDATE kiosks SET is_active = 0, retired_at = %(at)s, reason = %(reason)s"
            " WHERE kiosk_id = %(id)s",
            {
                "id": str(envelope.stream_id),
                "at": envelope.recorded_at.isoformat(),
                "reason": payload.reason,
            },
        )


def everyone(db: ReadDb, among: list[str]) -> list[Row]:
    """The kiosks of the stations ``among``: those in use first, then retired ones; each
    group by name."""
    params: dict[str, Any] = {}
    return db.all(
        f"SELECT * FROM kiosks WHERE {one_of('station_id', among, params)}"
        " ORDER BY is_active DESC, name, registered_at",
        params,
    )


def kiosk(db: ReadDb, kiosk_id: str) -> Row | None:
    return db.one("SELECT * FROM kiosks WHERE kiosk_id = %(id)s", {"id": kiosk_id})
