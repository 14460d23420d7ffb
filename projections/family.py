"""Family ties: who is registered as whose family, and whether the tie carries gifts yet.

The gifts themselves are transfers of kind ``family-gift``: statements and balances show them
as they show every other transfer."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from domain.family import Relation
from projections.dispatch import by_payload
from projections.readstore import ReadDb, Row
from services.messaging.envelope import (
    Envelope,
    FamilyTieConfirmed,
    FamilyTieEnded,
    FamilyTieProposed,
    FamilyTieProposedAgain,
)


class Family:
    name = "family"
    tables: ClassVar[dict[str, str]] = {
        "family_ties": (
            "CREATE TABLE IF NOT EXISTS family_ties ("
            " tie_id TEXT PRIMARY KEY,"
            " proposer TEXT NOT NULL,"
            " relative TEXT NOT NULL,"
            " relation TEXT NOT NULL,"  # what the relative is to the proposer
            " status TEXT NOT NULL,"  # proposed, confirmed or ended
            " proposed_at TEXT NOT NULL,"
            " confirmed_at TEXT,"
            " ended_at TEXT,"
            " position BIGINT NOT NULL)"
        ),
    }

    def apply(self, db: ReadDb, envelope: Envelope) -> None:
        self._on(envelope.payload(), db, envelope)

    @by_payload
    def _on(self, payload: Any, db: ReadDb, envelope: Envelope) -> None:
        """Events this read model does not show are skipped (but still tracked)."""

    @_on.register
    def _proposed(self, payload: FamilyTieProposed, db: ReadDb, envelope: Envelope) -> None:
        row = {
            "id": str(envelope.stream_id),
            "proposer": str(payload.proposer),
            "relative": str(payload.relative),
            "relation": payload.relation,
            "at": envelope.recorded_at.isoformat(),
            "position": envelope.position,
        }
        db.execute(
            "INSERT INTO family_ties VALUES (%(id)s, %(proposer)s, %(relative)s, %(relation)s,"
            " 'proposed', %(at)s, NULL, NULL, %(position)s)",
            row,
        )

    @_on.register
    def _proposed_again(
        self, payload: FamilyTieProposedAgain, db: ReadDb, envelope: Envelope
    ) -> None:
        """The ended tie starts over as a proposal."""
        db.execute("DELETE FROM family_ties WHERE tie_id = %(id)s", {"id": str(envelope.stream_id)})
        self._proposed(payload, db, envelope)

    @_on.register
    def _confirmed(self, payload: FamilyTieConfirmed, db: ReadDb, envelope: Envelope) -> None:
        self._status(db, envelope, "confirmed", "confirmed_at")

    @_on.register
    def _ended(self, payload: FamilyTieEnded, db: ReadDb, envelope: Envelope) -> None:
        self._status(db, envelope, "ended", "ended_at")

    @staticmethod
    def _status(db: ReadDb, envelope: Envelope, status: str, column: str) -> None:
        db.execute(
            f"UPDATE family_ties SET status = %(status)s, {column} = %(at)s,"
            " position = %(position)s WHERE tie_id = %(id)s",
            {
                "status": status,
                "at": envelope.recorded_at.isoformat(),
                "position": envelope.position,
                "id": str(envelope.stream_id),
            },
        )


def ties_of(db: ReadDb, member: UUID) -> list[Row]:
    """Every tie ``member`` has or had, newest change first, as ``member`` sees it: the other
    member as ``relative``, and what they are to ``member``."""
    rows = db.all(
        "SELECT * FROM family_ties WHERE proposer = %(member)s OR relative = %(member)s"
        " ORDER BY position DESC",
        {"member": str(member)},
    )
    return [_seen_by(str(member), row) for row in rows]


def _seen_by(member: str, row: Row) -> Row:
    proposed_by_member = row["proposer"] == member
    relation = Relation(row["relation"])
    return {
        "tie_id": row["tie_id"],
        "relative": row["relative"] if proposed_by_member else row["proposer"],
        "relation": relation if proposed_by_member else relation.seen_from_relative,
        "status": row["status"],
        "awaiting_my_consent": row["status"] == "proposed" and not proposed_by_member,
        "proposed_at": row["proposed_at"],
        "confirmed_at": row["confirmed_at"],
        "ended_at": row["ended_at"],
    }
