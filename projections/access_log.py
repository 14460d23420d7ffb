"""The personal-data access log: every time staff opened a person's data — who, whose, when,
why. Coordinators list it; nobody can edit it (it is a projection of immutable events)."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any, ClassVar
from uuid import UUID

from projections.readstore import ReadDb, Row
from services.envelope import Envelope, PersonalDataOpened


class AccessLog:
    name = "access_log"
    tables: ClassVar[dict[str, str]] = {
        "access_log": (
            "CREATE TABLE IF NOT EXISTS access_log ("
            " position BIGINT PRIMARY KEY,"
            " member_id TEXT NOT NULL,"
            " actor TEXT NOT NULL,"
            " channel TEXT NOT NULL,"
            " purpose TEXT NOT NULL,"
            " opened_at TEXT NOT NULL)"
        ),
    }

    def apply(self, db: ReadDb, envelope: Envelope) -> None:
        self._on(envelope.payload(), db, envelope)

    @singledispatchmethod
    def _on(self, payload: Any, db: ReadDb, envelope: Envelope) -> None:
        """Events this read model does not show are skipped (but still tracked)."""

    @_on.register
    def _opened(self, payload: PersonalDataOpened, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "INSERT INTO access_log VALUES"
            " (%(position)s, %(member)s, %(actor)s, %(channel)s, %(purpose)s, %(at)s)",
            {
                "position": envelope.position,
                "member": str(payload.member_id),
                "actor": envelope.actor,
                "channel": envelope.channel,
                "purpose": payload.purpose,
                "at": envelope.recorded_at.isoformat(),
            },
        )


def entries(db: ReadDb, member_id: UUID | None, *, limit: int) -> list[Row]:
    """Newest first, for one person or for everyone."""
    if member_id is None:
        return db.all(
            "SELECT * FROM access_log ORDER BY position DESC LIMIT %(limit)s", {"limit": limit}
        )
    return db.all(
        "SELECT * FROM access_log WHERE member_id = %(member)s ORDER BY position DESC"
        " LIMIT %(limit)s",
        {"member": str(member_id), "limit": limit},
    )
