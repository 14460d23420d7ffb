"""The vault's key store: one table of keys, ``person_keys`` (an id: a person's, or a secret
vote's; its key), on SQLite or PostgreSQL, apart from the event store and the read models.

The table is the one key stores have always had, so an installation's keys are read where they
are. Key stores made before this one stood alone also hold the read store's bookkeeping tables
(tracking, dead letters, rebuild leases), with nothing personal in them: they are left as
they are, for a key store may share its database with the read store.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.cipher import AESCipher
from eventsourcing.persistence import InfrastructureFactory
from psycopg import sql

from services.store.persistence import creating_tables, is_postgres, prepare_store

TABLE = "person_keys"


class KeyStore:
    def __init__(self, url: str) -> None:
        self.postgres = is_postgres(url)
        with creating_tables(url):
            factory: Any = InfrastructureFactory.construct(prepare_store(url))
            self.datastore: Any = factory.datastore
            with self._transaction(commit=True) as cursor:
                cursor.execute(
                    f"CREATE TABLE IF NOT EXISTS {self._table}"
                    " (person_id TEXT PRIMARY KEY, key TEXT NOT NULL)"
                )

    @property
    def _table(self) -> str:
        if not self.postgres:
            return TABLE
        # Qualified: the table lives in the store's schema, whatever the connection's path.
        return sql.Identifier(self.datastore.schema, TABLE).as_string()

    @property
    def _marker(self) -> str:
        """Where a statement takes a parameter."""
        return "%s" if self.postgres else "?"

    @contextmanager
    def _transaction(self, *, commit: bool) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as cursor:
            yield cursor

    def key(self, holder: UUID) -> str | None:
        """The key of ``holder``, or None: never made, or erased."""
        with self._transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT key FROM {self._table} WHERE person_id = {self._marker}", (str(holder),)
            )
            row = cursor.fetchone()
        return None if row is None else str(row["key"])

    def key_for(self, holder: UUID) -> str:
        """The key of ``holder``, made on first use."""
        known = self.key(holder)
        if known is not None:
            return known
        with self._transaction(commit=True) as cursor:
            # Two first ballots of one vote may race to make its key: the first one wins.
            cursor.execute(
                f"INSERT INTO {self._table} VALUES ({self._marker}, {self._marker})"
                " ON CONFLICT (person_id) DO NOTHING",
                (str(holder), AESCipher.create_key(32)),
            )
        key = self.key(holder)
        assert key is not None
        return key

    def erase(self, holder: UUID) -> bool:
        """Delete the key, from the store's files as well as its table: whether there was one.
        An erased key must not survive in a write-ahead log or a free page."""
        with self._transaction(commit=True) as cursor:
            if not self.postgres:
                cursor.execute("PRAGMA secure_delete = ON")  # the DELETE overwrites the row
            cursor.execute(
                f"DELETE FROM {self._table} WHERE person_id = {self._marker} RETURNING person_id",
                (str(holder),),
            )
            existed = cursor.fetchone() is not None
        self._scrub()
        return existed

    def _scrub(self) -> None:
        """Drop the deleted row's old copies from the backend's files."""
        if self.postgres:
            # A deleted tuple stays in the table's pages until the table is rewritten.
            with self.datastore.get_connection() as connection:
                connection.execute(f"VACUUM FULL {self._table}")
            return
        # The write-ahead log still holds the page images written when the row was inserted.
        with self.datastore.get_connection(commit=True) as connection:
            connection.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        self.datastore.close()
