"""The read-model database: query tables plus eventsourcing's tracking table, on SQLite or
PostgreSQL, written only by projections.

A projection applies a batch of events and records the position it reached in the same
transaction (eventsourcing's TrackingRecorder), so a crash can never leave a read model
ahead of or behind its recorded position.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any, Protocol

from eventsourcing.persistence import (
    InfrastructureFactory,
    IntegrityError,
    Tracking,
    TrackingRecorder,
)
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder
from psycopg import sql

from projections import deadletter, rebuilds, schemas
from projections.dispatch import shown
from projections.readdb import ReadDb, Row  # noqa: F401 - read models import them from here
from projections.stored import stamp
from services.messaging.envelope import Envelope
from services.store.persistence import creating_tables, is_postgres, prepare_store


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
    sqlite_style = True  # parameters as ``:name``, not ``%(name)s``
    # Two projectors of one read model (overlapping groups) must take turns at a batch, each
    # seeing what the other applied. SQLite's single writer sees to that by itself.
    row_lock = ""
    # Provided by the eventsourcing tracking recorder each concrete store also derives from.
    _insert_tracking: Any
    max_tracking_id: Any
    wait: Any

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[ReadDb]:
        with self._transaction(commit=commit) as cursor:
            self._begin(cursor)
            db = ReadDb(cursor, sqlite=self.sqlite_style)
            yield db
            db.flush()

    def _transaction(self, *, commit: bool) -> AbstractContextManager[Any]:
        return self.datastore.transaction(commit=commit)  # type: ignore[no-any-return]

    def _begin(self, cursor: Any) -> None:
        """Prepare a new transaction for the read-model tables."""

    def create(self, model: ReadModel) -> None:
        with self.transaction(commit=True) as db:
            self._create(db, model)

    def _create(self, db: ReadDb, model: ReadModel) -> None:
        for statement in model.tables.values():
            db.execute(statement)
        # Its tracking row from the start (at position 0), for ``apply`` to lock.
        db.execute(
            f"INSERT INTO {self.tracking_table} (application_name, notification_id)"
            " VALUES (%(name)s, 0) ON CONFLICT (application_name) DO NOTHING",
            {"name": model.name},
        )

    def drop(self, model: ReadModel) -> None:
        """Forget a read model entirely (its dead letters too), so it can be rebuilt from the
        start of the stream."""
        with self.transaction(commit=True) as db:
            self._drop(db, model)

    def _drop(self, db: ReadDb, model: ReadModel) -> None:
        for table in model.tables:
            db.execute(f"DROP TABLE IF EXISTS {table}")
        name = {"name": model.name}
        db.execute(f"DELETE FROM {self.tracking_table} WHERE application_name = %(name)s", name)
        db.execute(f"DELETE FROM {deadletter.TABLE} WHERE model = %(name)s", name)

    def recreate(self, db: ReadDb, model: ReadModel) -> None:
        """In ``db``'s transaction: the model dropped and created again, at position 0."""
        self._drop(db, model)
        self._create(db, model)

    def position(self, model_name: str) -> int:
        return self.max_tracking_id(model_name) or 0

    def positions(self, model_names: Sequence[str]) -> dict[str, int]:
        """Each model's tracked position, read at one moment (0 for a model never applied)."""
        with self._reading() as db:
            return self._positions(db, model_names)

    @contextmanager
    def _reading(self) -> Iterator[ReadDb]:
        """A ReadDb for a single read."""
        with self.transaction(commit=False) as db:
            yield db

    def lock_tracking(self, db: ReadDb, model_names: Sequence[str]) -> None:
        """Hold the models' tracking rows until ``db``'s transaction ends: batches being
        applied to them finish first, and none starts meanwhile."""
        self._positions(db, model_names, lock=True)

    def _positions(
        self, db: ReadDb, model_names: Sequence[str], *, lock: bool = False
    ) -> dict[str, int]:
        """Each model's tracked position; with ``lock``, its tracking row stays locked until
        the transaction ends (where the backend locks rows), so no one else moves it meanwhile."""
        names = {f"name{index}": name for index, name in enumerate(model_names)}
        rows = db.all(
            "SELECT application_name, notification_id AS position"
            f" FROM {self.tracking_table} WHERE application_name IN"
            f" ({', '.join(f'%({key})s' for key in names)})" + (self.row_lock if lock else ""),
            names,
        )
        found = {row["application_name"]: row["position"] for row in rows}
        return {name: found.get(name) or 0 for name in model_names}

    def apply(
        self,
        models: Sequence[ReadModel],
        envelopes: Sequence[Envelope],
        *,
        rebuild: str | None = None,
    ) -> dict[str, int]:
        """Apply to each model what is new to it in ``envelopes`` (in position order), and
        track how far each got, all in one transaction; answer each model's position.

        Each model skips what its tracked position, read inside this transaction, says it has
        applied already: the models of a group may stand at different positions. Nothing is
        applied to a model another process rebuilds (``rebuild``: the lease of this one).
        """
        with self._applying() as cursor:
            self._begin(cursor)
            names = [model.name for model in models]
            locked = ReadDb(cursor, sqlite=self.sqlite_style)
            reached = self._positions(locked, names, lock=True)
            rebuilds.check(locked, names, rebuild)
            batch = _Batch(envelopes)
            tracked = []
            for model in models:
                if not envelopes or envelopes[-1].position <= reached[model.name]:
                    continue
                db = ReadDb(cursor, sqlite=self.sqlite_style)
                apply = model.apply
                for envelope in batch.shown_to(model, after=reached[model.name]):
                    apply(db, envelope)
                db.flush()
                reached[model.name] = envelopes[-1].position
                tracked.append(Tracking(model.name, envelopes[-1].position))
            self._track(cursor, tracked)
            return reached

    @contextmanager
    def _applying(self) -> Iterator[Any]:
        """The cursor of the transaction that applies one batch."""
        with self._transaction(commit=True) as cursor:
            yield cursor

    def _track(self, cursor: Any, tracked: Sequence[Tracking]) -> None:
        for tracking in tracked:
            self._insert_tracking(cursor, tracking)

    def dump(self, model: ReadModel) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table in a canonical order, to compare a rebuild with the live one."""
        with self.transaction(commit=False) as db:
            return {
                table: sorted(
                    (tuple(row.values()) for row in db.all(f"SELECT * FROM {table}")), key=repr
                )
                for table in sorted(model.tables)
            }


class _Batch:
    """A batch of envelopes in position order, indexed by event type once, so that each read
    model is handed the events it shows without looking at every other."""

    def __init__(self, envelopes: Sequence[Envelope]) -> None:
        self.envelopes = envelopes
        self.by_type: dict[str, list[int]] = {}
        for index, envelope in enumerate(envelopes):
            self.by_type.setdefault(envelope.type, []).append(index)

    def shown_to(self, model: ReadModel, *, after: int) -> list[Envelope]:
        """The events past position ``after`` that ``model`` shows, in order."""
        start = bisect_right(self.envelopes, after, key=_position)
        types = shown(type(model))
        if types is None:
            return list(self.envelopes[start:])
        chosen = sorted(
            index
            for kind in types.intersection(self.by_type)
            for index in self.by_type[kind]
            if index >= start
        )
        return [self.envelopes[index] for index in chosen]


def _position(envelope: Envelope) -> int:
    return envelope.position


class SQLiteReadStore(ReadStore, SQLiteTrackingRecorder):
    tracking_table = "tracking"

    @contextmanager
    def _transaction(self, *, commit: bool) -> Iterator[Any]:
        if not commit:
            with self.datastore.transaction(commit=False) as cursor:
                yield cursor
            return
        # A writing transaction takes the write lock as it begins: one that read first could
        # not take it once another process (a projector, a rebuild) had written since, and
        # would fail at once (SQLITE_BUSY_SNAPSHOT) rather than wait its turn.
        with self.datastore.get_connection(commit=True) as connection:
            cursor = connection.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield cursor
            except BaseException:
                connection.rollback()
                raise
            connection.commit()


class PostgresReadStore(ReadStore, PostgresTrackingRecorder):
    sqlite_style = False
    row_lock = " FOR UPDATE"

    @property
    def tracking_table(self) -> str:
        # Qualified, so that it is found outside a transaction too (see ``_reading``).
        return sql.Identifier(self.datastore.schema, self.tracking_table_name).as_string()

    @contextmanager
    def _reading(self) -> Iterator[ReadDb]:
        # A single statement needs no transaction: one round trip rather than four (begin,
        # search path, read, rollback), for what /health and lag probes ask often.
        with self.datastore.get_connection() as connection, connection.cursor() as cursor:
            yield ReadDb(cursor, sqlite=False)

    def _begin(self, cursor: Any) -> None:
        # Read-model tables live beside the tracking table, in the store's schema.
        cursor.execute(
            sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(self.datastore.schema))
        )

    @contextmanager
    def _applying(self) -> Iterator[Any]:
        # In pipeline mode a statement goes out without waiting for its answer (a read waits
        # for what is ahead of it), so a batch costs a few round trips instead of one for each
        # statement. Errors still surface before the commit: leaving the transaction syncs.
        with (
            self.datastore.get_connection() as connection,
            connection.pipeline(),
            connection.transaction(),
        ):
            yield connection.cursor()

    def _track(self, cursor: Any, tracked: Sequence[Tracking]) -> None:
        """The library's tracking upsert for every model at once (psycopg pipelines an
        executemany); as in ``_insert_tracking``, a model whose row it did not move is one
        that another writer took further, which must undo this whole batch."""
        if not tracked:
            return
        # A cursor of its own: in pipeline mode, executemany on a cursor with statements
        # before it in the pipeline answers an earlier statement's result, not its own.
        with cursor.connection.cursor() as upsert:
            upsert.executemany(
                self.insert_tracking_statement,
                [
                    {
                        "application_name": each.application_name,
                        "notification_id": each.notification_id,
                    }
                    for each in tracked
                ],
                returning=True,
            )
            for each in tracked:
                if upsert.fetchone() is None:
                    raise IntegrityError(f"Failed to record tracking for {each}")
                upsert.nextset()


def open_read_store(url: str, models: Sequence[ReadModel]) -> ReadStore:
    with creating_tables(url):
        env = prepare_store(url)
        factory = InfrastructureFactory[TrackingRecorder].construct(env)
        store_class = PostgresReadStore if is_postgres(url) else SQLiteReadStore
        store = factory.tracking_recorder(store_class)
        assert isinstance(store, ReadStore)
        with store.transaction(commit=True) as db:
            db.execute(deadletter.CREATE)
            db.execute(rebuilds.CREATE)
            db.execute(schemas.CREATE)
            for model in schemas.reshaped(db, models):
                store.recreate(db, model)
                schemas.record(db, model)
        for model in models:
            store.create(model)
    return store
