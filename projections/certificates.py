"""Issued certificates, as the public verification page shows them."""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec

from projections import hours
from projections.dispatch import by_payload
from projections.readstore import ReadDb, Row
from services.messaging.envelope import CertificateIssued, Envelope


class Certificates:
    name = "certificates"
    tables: ClassVar[dict[str, str]] = {
        "certificates": (
            "CREATE TABLE IF NOT EXISTS certificates ("
            " code TEXT PRIMARY KEY,"
            " certificate_id TEXT NOT NULL,"
            " volunteer_id TEXT NOT NULL,"
            " period_from TEXT NOT NULL,"
            " period_to TEXT NOT NULL,"
            " minutes BIGINT NOT NULL,"
            " entries TEXT NOT NULL,"
            " recording_body TEXT NOT NULL,"
            " as_of BIGINT NOT NULL,"
            " issued_at TEXT NOT NULL,"
            " issued_by TEXT NOT NULL,"
            " position BIGINT NOT NULL)"
        ),
    }

    def apply(self, db: ReadDb, envelope: Envelope) -> None:
        self._on(envelope.payload(), db, envelope)

    @by_payload
    def _on(self, payload: Any, db: ReadDb, envelope: Envelope) -> None:
        """Events this read model does not show are skipped (but still tracked)."""

    @_on.register
    def _issued(self, payload: CertificateIssued, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "INSERT INTO certificates VALUES (%(code)s, %(id)s, %(volunteer)s, %(from)s, %(to)s,"
            " %(minutes)s, %(entries)s, %(body)s, %(as_of)s, %(at)s, %(actor)s, %(position)s)",
            {
                "code": payload.code,
                "id": str(envelope.stream_id),
                "volunteer": str(payload.volunteer_id),
                "from": payload.period_from.isoformat(),
                "to": payload.period_to.isoformat(),
                "minutes": payload.minutes,
                "entries": msgspec.json.encode(payload.entries).decode(),
                "body": payload.recording_body,
                "as_of": payload.as_of,
                "at": envelope.recorded_at.isoformat(),
                "actor": envelope.actor,
                "position": envelope.position,
            },
        )


def certificate(db: ReadDb, code: str) -> Row | None:
    return db.one("SELECT * FROM certificates WHERE code = %(code)s", {"code": code.upper()})


def for_volunteer(db: ReadDb, volunteer_id: str) -> list[Row]:
    return db.all(
        "SELECT * FROM certificates WHERE volunteer_id = %(id)s ORDER BY position DESC",
        {"id": volunteer_id},
    )


def covered(db: ReadDb, found: Row) -> list[tuple[dict[str, Any], Row | None]]:
    """Each entry the certificate covered, as certified, beside the entry as it stands now."""
    certified: list[dict[str, Any]] = msgspec.json.decode(found["entries"])
    return [(entry, hours.entry(db, entry["entry_id"])) for entry in certified]


def minutes_now(row: Row | None) -> int | None:
    """What an entry counts for now: its minutes while approved; None once voided."""
    return row["minutes"] if row is not None and row["status"] == "approved" else None
