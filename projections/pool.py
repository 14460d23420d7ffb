"""The community pool: every movement in or out (donations, grants, closures, corrections)
with its counterpart and reason, and so its balance."""

from __future__ import annotations

from typing import Any, ClassVar

from domain.ledger import AccountKind, system_account_id
from domain.station import DEFAULT_STATION
from projections.dispatch import by_payload
from projections.readdb import one_of
from projections.readstore import ReadDb, Row
from services.messaging.envelope import Envelope, TransferPosted

POOL = system_account_id(AccountKind.POOL)


class Pool:
    name = "pool"
    tables: ClassVar[dict[str, str]] = {
        "pool_movements": (
            "CREATE TABLE IF NOT EXISTS pool_movements ("
            " transfer_id TEXT PRIMARY KEY,"
            " kind TEXT NOT NULL,"
            " counterpart TEXT,"
            " minutes BIGINT NOT NULL,"  # into the pool (positive) or out of it (negative)
            " memo TEXT NOT NULL,"
            " actor TEXT NOT NULL,"
            " channel TEXT NOT NULL,"
            " occurred_at TEXT NOT NULL,"
            " position BIGINT NOT NULL)"
        ),
    }

    def apply(self, db: ReadDb, envelope: Envelope) -> None:
        self._on(envelope.payload(), db, envelope)

    @by_payload
    def _on(self, payload: Any, db: ReadDb, envelope: Envelope) -> None:
        """Events this read model does not show are skipped (but still tracked)."""

    @_on.register
    def _transfer(self, payload: TransferPosted, db: ReadDb, envelope: Envelope) -> None:
        into_pool = [leg.minutes for leg in payload.legs if leg.account_id == POOL]
        if not into_pool:
            return
        others = [leg.account_id for leg in payload.legs if leg.account_id != POOL]
        db.execute(
            "INSERT INTO pool_movements VALUES (%(id)s, %(kind)s, %(counterpart)s, %(minutes)s,"
            " %(memo)s, %(actor)s, %(channel)s, %(at)s, %(position)s)",
            {
                "id": str(envelope.stream_id),
                "kind": payload.kind,
                "counterpart": str(others[0]) if len(others) == 1 else None,
                "minutes": into_pool[0],
                "memo": payload.memo,
                "actor": envelope.actor,
                "channel": envelope.channel,
                "at": payload.occurred_at.isoformat(),
                "position": envelope.position,
            },
        )


def summary(db: ReadDb) -> Row:
    row = db.one(
        # PostgreSQL sums BIGINTs as NUMERIC; cast back so both stores answer integers.
        "SELECT CAST(COALESCE(SUM(minutes), 0) AS BIGINT) AS balance,"
        " CAST(COALESCE(SUM(CASE WHEN kind = 'donation' THEN minutes ELSE 0 END), 0)"
        " AS BIGINT) AS donated,"
        " CAST(COALESCE(SUM(CASE WHEN kind = 'grant' THEN -minutes ELSE 0 END), 0)"
        " AS BIGINT) AS granted,"
        " COUNT(CASE WHEN kind = 'grant' THEN 1 END) AS grants"
        " FROM pool_movements"
    )
    assert row is not None, "an aggregate query always answers one row"
    return row


def movements(
    db: ReadDb,
    *,
    kind: str | None,
    before: int | None,
    limit: int,
    stations: list[str] | None = None,
) -> list[Row]:
    """Newest first; ``before``: the previous page's last ``position``. ``stations``: only
    movements with residents who live at one of them now (the ``balances`` and ``stations``
    models say where), and those with no single resident."""
    params: dict[str, Any] = {
        "before": before if before is not None else 2**62,
        "kind": kind,
        "limit": limit,
        "first": str(DEFAULT_STATION),
    }
    where = "position < %(before)s"
    if kind is not None:
        where += " AND kind = %(kind)s"
    if stations is not None:
        where += (
            " AND (holder IS NULL OR holder <> 'member'"
            f" OR {one_of('station_id', stations, params)})"
        )
    return db.all(
        "SELECT * FROM (SELECT m.*, b.kind AS holder,"
        " COALESCE(h.station_id, %(first)s) AS station_id FROM pool_movements m"
        " LEFT JOIN balances b ON b.account_id = m.counterpart"
        " LEFT JOIN member_homes h ON h.member_id = b.owner) AS moved"
        f" WHERE {where} ORDER BY position DESC LIMIT %(limit)s",
        params,
    )
