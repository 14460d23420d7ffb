"""Account statements: every entry with its counterpart, memo and running balance."""

from __future__ import annotations

from typing import Any, NamedTuple
from uuid import UUID

import msgspec

from projections.dispatch import by_payload
from projections.readstore import ReadDb, Row
from services.messaging.envelope import EntryPosted, Envelope, LegData, TransferPosted

_TRANSFERS_MEMO = "statements.transfers"  # transfer rows inserted in this transaction


class Statements:
    name = "statements"
    tables = {  # noqa: RUF012 - read by the store, never mutated
        "statement_transfers": (
            "CREATE TABLE IF NOT EXISTS statement_transfers ("
            " transfer_id TEXT PRIMARY KEY,"
            " kind TEXT NOT NULL,"
            " memo TEXT NOT NULL,"
            " occurred_at TEXT NOT NULL,"
            " corrects TEXT,"
            " legs TEXT NOT NULL)"
        ),
        "statement_entries": (
            "CREATE TABLE IF NOT EXISTS statement_entries ("
            " account_id TEXT NOT NULL,"
            " version BIGINT NOT NULL,"
            " position BIGINT NOT NULL,"
            " transfer_id TEXT NOT NULL,"
            " kind TEXT NOT NULL,"
            " counterpart TEXT,"
            " minutes BIGINT NOT NULL,"
            " balance BIGINT NOT NULL,"
            " memo TEXT NOT NULL,"
            " corrects TEXT,"
            " occurred_at TEXT NOT NULL,"
            " recorded_at TEXT NOT NULL,"
            " actor TEXT NOT NULL,"
            " channel TEXT NOT NULL,"
            " PRIMARY KEY (account_id, version))"
        ),
    }

    def apply(self, db: ReadDb, envelope: Envelope) -> None:
        self._on(envelope.payload(), db, envelope)

    @by_payload
    def _on(self, payload: Any, db: ReadDb, envelope: Envelope) -> None:
        """Events this read model does not show are skipped (but still tracked)."""

    @_on.register
    def _transfer(self, payload: TransferPosted, db: ReadDb, envelope: Envelope) -> None:
        row = {
            "transfer_id": str(envelope.stream_id),
            "kind": payload.kind,
            "memo": payload.memo,
            "occurred_at": payload.occurred_at.isoformat(),
            "corrects": str(payload.corrects) if payload.corrects else None,
            "legs": msgspec.json.encode(payload.legs).decode(),
        }
        db.execute(
            "INSERT INTO statement_transfers VALUES (%(transfer_id)s, %(kind)s, %(memo)s,"
            " %(occurred_at)s, %(corrects)s, %(legs)s)",
            row,
        )
        # Its entries follow in the same commit, so usually in the same batch: keep the row.
        db.memo.setdefault(_TRANSFERS_MEMO, {})[row["transfer_id"]] = _Transfer(
            row, _counterparts(payload.legs)
        )

    @_on.register
    def _entry(self, payload: EntryPosted, db: ReadDb, envelope: Envelope) -> None:
        transfer_id = str(payload.transfer_id)
        transfer = db.memo.get(_TRANSFERS_MEMO, {}).get(transfer_id) or _stored_transfer(
            db, transfer_id
        )
        row = transfer.row
        db.execute(
            "INSERT INTO statement_entries VALUES (%(account)s, %(version)s, %(position)s,"
            " %(transfer)s, %(kind)s, %(counterpart)s, %(minutes)s, %(balance)s, %(memo)s,"
            " %(corrects)s, %(occurred_at)s, %(recorded_at)s, %(actor)s, %(channel)s)",
            {
                "account": str(envelope.stream_id),
                "version": envelope.version,
                "position": envelope.position,
                "transfer": transfer_id,
                "kind": row["kind"],
                "counterpart": transfer.counterparts[payload.minutes > 0],
                "minutes": payload.minutes,
                "balance": payload.balance,
                "memo": row["memo"],
                "corrects": row["corrects"],
                "occurred_at": row["occurred_at"],
                "recorded_at": envelope.recorded_at.isoformat(),
                "actor": envelope.actor,
                "channel": envelope.channel,
            },
        )


class _Transfer(NamedTuple):
    """A transfer's row, and the counterpart of its entries that are not credits and of
    those that are: worked out once for all its entries."""

    row: Row
    counterparts: tuple[str | None, str | None]


def _stored_transfer(db: ReadDb, transfer_id: str) -> _Transfer:
    row = db.one(
        "SELECT * FROM statement_transfers WHERE transfer_id = %(id)s", {"id": transfer_id}
    )
    assert row is not None, "TransferPosted precedes its entries in the same commit"
    return _Transfer(row, _counterparts(msgspec.json.decode(row["legs"], type=list[LegData])))


def _counterparts(legs: list[LegData]) -> tuple[str | None, str | None]:
    """For an entry that is not a credit, then one that is: the account on the other side,
    when there is exactly one (group transfers have many)."""
    return _counterpart(legs, credit=False), _counterpart(legs, credit=True)


def _counterpart(legs: list[LegData], *, credit: bool) -> str | None:
    others = [leg.account_id for leg in legs if (leg.minutes > 0) != credit]
    return str(others[0]) if len(others) == 1 else None


def entries(db: ReadDb, account_id: UUID, *, before: int | None, limit: int) -> list[Row]:
    """Newest first; ``before`` is the ``version`` of the last entry of the previous page."""
    return db.all(
        "SELECT * FROM statement_entries WHERE account_id = %(id)s AND version < %(before)s"
        " ORDER BY version DESC LIMIT %(limit)s",
        {"id": str(account_id), "before": before if before is not None else 2**62, "limit": limit},
    )
