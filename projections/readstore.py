"""The read-model database: query tables plus eventsourcing's tracking table, on SQLite or
PostgreSQL, written only by projections.

A projection applies a batch of events and records the position it reached in the same
transaction (eventsourcing's TrackingRecorder), so a crash can never leave a read model
ahead of or behind its recorded position.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Protocol

from eventsourcing.persistence import InfrastructureFactory, Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder
from psycopg import sql

from services.envelope import Envelope
from services.persistence import is_postgres, prepare_store

Row = dict[str, Any]
_NAMED_PARAM = re.compile(r"%\((\w+)\)s")


@lru_cache(maxsize=512)
def _sqlite_style(statement: str) -> str:
    """``%(name)s`` → ``:name``; cached, as projections run the same few statements per event."""
    return _NAMED_PARAM.sub(r":\1", statement)


def stamp(moment: datetime) -> str:
    """One fixed-width UTC form, so stored times compare correctly as text."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class ReadDb:
    """One transaction on the read store; SQL is written once, with ``%(name)s`` parameters."""

    def __init__(self, cursor: Any, *, sqlite: bool) -> None:
        self._cursor = cursor
        self._sqlite = sqlite
        # Scratch space for read models, living exactly as long as this transaction: what a
        # model wrote earlier in the same batch, so it need not read it back.
        self.memo: dict[str, Any] = {}

    def execute(self, statement: str, params: dict[str, Any] | None = None) -> None:
        if self._sqlite:
            statement = _sqlite_style(statement)
        self._cursor.execute(statement, params or {})

    def one(self, statement: str, params: dict[str, Any] | None = None) -> Row | None:
        self.execute(statement, params)
        row = self._cursor.fetchone()
        return None if row is None else dict(row)

    def all(self, statement: str, params: dict[str, Any] | None = None) -> list[Row]:
        self.execute(statement, params)
        return [dict(row) for row in self._cursor.fetchall()]


def overdue(
    db: ReadDb, table: str, key: str, *, status: str, deadline: str, now: datetime, limit: int
) -> list[str]:
    """The ``key`` of each ``table`` row still in ``status`` whose ``deadline`` (a stamp) has
    passed at ``now``, earliest first: what a sweep should look at."""
    rows = db.all(
        f"SELECT {key} FROM {table} WHERE status = %(status)s AND {deadline} < %(now)s"
        f" ORDER BY {deadline} LIMIT %(limit)s",
        {"status": status, "now": stamp(now), "limit": limit},
    )
    return [row[key] for row in rows]


class ReadModel(Protocol):
    """What the store needs of a projection."""

    name: str
    tables: dict[str, str]  # table name -> CREATE TABLE statement

    def apply(self, db: ReadDb, envelope: Envelope) -> None: ...


class ReadStore:
    """The read store's interface, shared by the SQLite and PostgreSQL variants (each of which
    is also an eventsourcing TrackingRecorder).
    """

    datastore: Any
    tracking_table: str
    # Provided by the eventsourcing tracking recorder each concrete store also derives from.
    _insert_tracking: Any
    _max_tracking_id: Any
    max_tracking_id: Any
    wait: Any

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[ReadDb]:
        with self.datastore.transaction(commit=commit) as cursor:
            yield self._read_db(cursor)

    def _read_db(self, cursor: Any) -> ReadDb:
        return ReadDb(cursor, sqlite=True)

    def create(self, model: ReadModel) -> None:
        with self.transaction(commit=True) as db:
            for statement in model.tables.values():
                db.execute(statement)

    def drop(self, model: ReadModel) -> None:
        """Forget a read model entirely, so it can be rebuilt from the start of the stream."""
        with self.transaction(commit=True) as db:
            for table in model.tables:
                db.execute(f"DROP TABLE IF EXISTS {table}")
            db.execute(
                f"DELETE FROM {self.tracking_table} WHERE application_name = %(name)s",
                {"name": model.name},
            )

    def position(self, model_name: str) -> int:
        return self.max_tracking_id(model_name) or 0

    def apply(self, model: ReadModel, envelopes: Sequence[Envelope]) -> int:
        """Apply what is new in ``envelopes`` and track it, all in one transaction."""
        with self.datastore.transaction(commit=True) as cursor:
            reached = self._max_tracking_id(model.name, cursor) or 0
            fresh = [envelope for envelope in envelopes if envelope.position > reached]
            if not fresh:
                return reached
            db = self._read_db(cursor)
            for envelope in fresh:
                model.apply(db, envelope)
            self._insert_tracking(cursor, Tracking(model.name, fresh[-1].position))
            return fresh[-1].position

    def erase_row(self, table: str, key_column: str, key: str) -> bool:
        """Delete a row so that its bytes are gone from the store's files too, not just from
        its queries (erasure keys must not survive in a WAL or a free page)."""
        with self.transaction(commit=True) as db:
            self._before_secure_delete(db)
            existed = db.one(
                f"SELECT 1 AS present FROM {table} WHERE {key_column} = %(key)s", {"key": key}
            )
            db.execute(f"DELETE FROM {table} WHERE {key_column} = %(key)s", {"key": key})
        self._scrub(table)
        return existed is not None

    def _before_secure_delete(self, db: ReadDb) -> None:
        """Make the coming DELETE overwrite what it removes, where the backend can."""

    def _scrub(self, table: str) -> None:
        """Drop the deleted row's old copies from the backend's files."""

    def dump(self, model: ReadModel) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table in a canonical order, to compare a rebuild with the live one."""
        with self.transaction(commit=False) as db:
            return {
                table: sorted(
                    (tuple(row.values()) for row in db.all(f"SELECT * FROM {table}")), key=repr
                )
                for table in sorted(model.tables)
            }


class SQLiteReadStore(ReadStore, SQLiteTrackingRecorder):
    tracking_table = "tracking"

    def _before_secure_delete(self, db: ReadDb) -> None:
        db.execute("PRAGMA secure_delete = ON")

    def _scrub(self, table: str) -> None:
        # The write-ahead log still holds the page images written when the row was inserted.
        with self.datastore.get_connection(commit=True) as connection:
            connection.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")


class PostgresReadStore(ReadStore, PostgresTrackingRecorder):
    tracking_table = "notification_tracking"

    def _scrub(self, table: str) -> None:
        # A deleted tuple stays in the table's pages until the table is rewritten.
        with self.datastore.get_connection() as connection:
            connection.execute(
                sql.SQL("VACUUM FULL {}.{}").format(
                    sql.Identifier(self.datastore.schema), sql.Identifier(table)
                )
            )

    def _read_db(self, cursor: Any) -> ReadDb:
        # Read-model tables live beside the tracking table, in the store's schema.
        cursor.execute(
            sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(self.datastore.schema))
        )
        return ReadDb(cursor, sqlite=False)


def open_read_store(url: str, models: Sequence[ReadModel]) -> ReadStore:
    env = prepare_store(url)
    factory = InfrastructureFactory[TrackingRecorder].construct(env)
    store_class = PostgresReadStore if is_postgres(url) else SQLiteReadStore
    store = factory.tracking_recorder(store_class)
    assert isinstance(store, ReadStore)
    for model in models:
        store.create(model)
    return store
