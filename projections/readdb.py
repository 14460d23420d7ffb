"""One transaction on the read store, as the read models see it: SQL written once with
``%(name)s`` parameters for SQLite and PostgreSQL alike, writes sent in batches."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from projections.stored import storable

Row = dict[str, Any]
_NAMED_PARAM = re.compile(r"%\((\w+)\)s")


def one_of(column: str, values: list[str], params: dict[str, Any]) -> str:
    """The condition ``column`` is one of ``values`` (never true for none), its parameters
    added to ``params``."""
    if not values:
        return "1 = 0"
    names = [f"{column}_{index}" for index in range(len(values))]
    params.update(zip(names, values, strict=True))
    return f"{column} IN ({', '.join(f'%({name})s' for name in names)})"


@lru_cache(maxsize=512)
def _sqlite_style(statement: str) -> str:
    """``%(name)s`` → ``:name``; cached, as projections run the same few statements per event."""
    return _NAMED_PARAM.sub(r":\1", statement)


_WRITE = re.compile(r"\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(\w+)\s", re.IGNORECASE)
_READ = re.compile(r"\b(?:SELECT|FROM|USING)\b", re.IGNORECASE)


@lru_cache(maxsize=512)
def _only_table_written(statement: str) -> str | None:
    """The table ``statement`` writes, if it is a write that touches no other table."""
    write = _WRITE.match(statement)
    if write is None or _READ.search(statement, write.end()):
        return None
    return write.group(1)


class ReadDb:
    """One transaction on the read store; SQL is written once, with ``%(name)s`` parameters.

    Writes go out lazily, each statement's rows together as one ``executemany``, which costs
    the driver far less than a call for each row (on PostgreSQL, each call is a trip through
    psycopg's pipeline). Rows are sent in the order they came for each table, but writes to
    different tables may overtake one another: read-model tables have no foreign keys or
    triggers between them, and a statement that reads another table (a sub-select, ``FROM``,
    ``USING``) or is not a write at all goes out on its own, after everything before it. A
    read sends what is pending first, and so does the end of the transaction (``flush``).
    """

    def __init__(self, cursor: Any, *, sqlite: bool) -> None:
        self._cursor = cursor
        self._sqlite = sqlite
        self._pending: dict[str, list[dict[str, Any]]] = {}  # statement -> a dict for each row
        self._tables: dict[str, str] = {}  # table -> the pending statement that writes it
        # Scratch space for one read model, living exactly as long as this transaction: what
        # the model wrote earlier in the same batch, so it need not read it back.
        self.memo: dict[str, Any] = {}

    def execute(self, statement: str, params: dict[str, Any] | None = None) -> None:
        if self._sqlite:
            statement = _sqlite_style(statement)
        table = _only_table_written(statement)
        if table is None or self._tables.get(table, statement) != statement:
            self.flush()  # what came before goes first
        self._pending.setdefault(statement, []).append(storable(params) if params else {})
        if table is None:
            self.flush()
        else:
            self._tables[table] = statement

    def flush(self) -> None:
        """Send the pending writes."""
        pending, self._pending, self._tables = self._pending, {}, {}
        for statement, rows in pending.items():
            if len(rows) == 1:
                self._cursor.execute(statement, rows[0])
            else:
                self._cursor.executemany(statement, rows)

    def one(self, statement: str, params: dict[str, Any] | None = None) -> Row | None:
        with self._answer(statement, params) as cursor:
            row = cursor.fetchone()
        return None if row is None else dict(row)

    def all(self, statement: str, params: dict[str, Any] | None = None) -> list[Row]:
        with self._answer(statement, params) as cursor:
            return [dict(row) for row in cursor.fetchall()]

    @contextmanager
    def _answer(self, statement: str, params: dict[str, Any] | None) -> Iterator[Any]:
        """A cursor holding the answer to ``statement``, sent after the pending writes."""
        self.flush()
        if self._sqlite:
            self._cursor.execute(_sqlite_style(statement), params or {})
            yield self._cursor
            return
        # In pipeline mode, answers to writes sent earlier on a cursor may arrive after a read
        # was sent on it, and take the read's place: each read gets a cursor of its own.
        with self._cursor.connection.cursor() as reader:
            reader.execute(statement, params or {})
            yield reader
