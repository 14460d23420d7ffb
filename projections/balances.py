"""Account balances: one row per time account, its balance, limits and status."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.station import DEFAULT_STATION
from projections.dispatch import by_payload
from projections.readstore import ReadDb, Row
from services.messaging.envelope import (
    AccountClosed,
    AccountOpened,
    EntryPosted,
    Envelope,
    LimitsChanged,
)


class Balances:
    name = "balances"
    tables = {  # noqa: RUF012 - read by the store, never mutated
        "balances": (
            "CREATE TABLE IF NOT EXISTS balances ("
            " account_id TEXT PRIMARY KEY,"
            " owner TEXT NOT NULL,"
            " kind TEXT NOT NULL,"
            " balance BIGINT NOT NULL,"
            " floor BIGINT,"
            " cap BIGINT,"
            " is_closed SMALLINT NOT NULL,"
            " entries BIGINT NOT NULL,"
            " opened_at TEXT NOT NULL,"
            " position BIGINT NOT NULL)"
        ),
    }

    def apply(self, db: ReadDb, envelope: Envelope) -> None:
        self._on(envelope.payload(), db, envelope)

    @by_payload
    def _on(self, payload: Any, db: ReadDb, envelope: Envelope) -> None:
        """Events this read model does not show are skipped (but still tracked)."""

    @_on.register
    def _opened(self, payload: AccountOpened, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "INSERT INTO balances VALUES (%(id)s, %(owner)s, %(kind)s, 0, %(floor)s, %(cap)s,"
            " 0, 0, %(at)s, %(position)s)",
            {
                "id": str(envelope.stream_id),
                "owner": payload.owner,
                "kind": payload.kind,
                "floor": payload.limits.floor,
                "cap": payload.limits.cap,
                "at": envelope.recorded_at.isoformat(),
                "position": envelope.position,
            },
        )

    @_on.register
    def _posted(self, payload: EntryPosted, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "UPDATE balances SET balance = %(balance)s, entries = entries + 1,"
            " position = %(position)s WHERE account_id = %(id)s",
            {
                "balance": payload.balance,
                "position": envelope.position,
                "id": str(envelope.stream_id),
            },
        )

    @_on.register
    def _limits(self, payload: LimitsChanged, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "UPDATE balances SET floor = %(floor)s, cap = %(cap)s, position = %(position)s"
            " WHERE account_id = %(id)s",
            {
                "floor": payload.limits.floor,
                "cap": payload.limits.cap,
                "position": envelope.position,
                "id": str(envelope.stream_id),
            },
        )

    @_on.register
    def _closed(self, payload: AccountClosed, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "UPDATE balances SET is_closed = 1, position = %(position)s WHERE account_id = %(id)s",
            {"position": envelope.position, "id": str(envelope.stream_id)},
        )


def account(db: ReadDb, account_id: UUID) -> Row | None:
    return db.one("SELECT * FROM balances WHERE account_id = %(id)s", {"id": str(account_id)})


def member_accounts(db: ReadDb, *, limit: int | None) -> list[Row]:
    """Members' accounts, the most recently opened first (the console's member registry);
    ``limit`` None: all of them (a search by name looks through every member)."""
    query = "SELECT * FROM balances WHERE kind = 'member' ORDER BY opened_at DESC, account_id"
    if limit is None:
        return db.all(query, {})
    return db.all(f"{query} LIMIT %(limit)s", {"limit": limit})


def home_station(db: ReadDb, account_id: UUID) -> str | None:
    """The home station (the ``stations`` model's) of a resident's account's holder; the first
    station for an account opened for an owner who is no registered resident; None for the
    community and pool accounts, which are the whole deployment's, or an unknown account."""
    row = db.one(
        "SELECT COALESCE(h.station_id, %(first)s) AS station_id FROM balances b"
        " LEFT JOIN member_homes h ON h.member_id = b.owner"
        " WHERE b.account_id = %(id)s AND b.kind = 'member'",
        {"id": str(account_id), "first": str(DEFAULT_STATION)},
    )
    return None if row is None else row["station_id"]
