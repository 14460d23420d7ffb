"""Turn a store URL (a SQLite path or a postgresql:// URL) into eventsourcing's environment."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

if TYPE_CHECKING:
    import psycopg

# The event store's eventsourcing Application name: it names the store's tables, for the
# command side that writes them and for the event log that reads them.
APPLICATION_NAME = "timebank"


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


def persistence_env(url: str) -> dict[str, str]:
    """eventsourcing settings for ``url``.

    A PostgreSQL URL may name a schema with ``?schema=NAME``; tests use that to stay apart.
    """
    if not is_postgres(url):
        Path(url).parent.mkdir(parents=True, exist_ok=True)
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": url}
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parts.path.lstrip("/") or "postgres",
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_SCHEMA": query.get("schema", [""])[0],
        # Connections open on demand beyond the first two, so many API replicas, a relay and
        # the projectors fit within PostgreSQL's default of 100 connections.
        "POSTGRES_POOL_SIZE": "2",
        "POSTGRES_MAX_OVERFLOW": "10",
        "POSTGRES_LOCK_TIMEOUT": "5",
    }


# The advisory lock every process takes while it creates tables in a PostgreSQL database: any
# constant will do, as long as each process uses the same one.
_SCHEMA_LOCK = 0x7469_6D65_6261_6E6B  # "timebank"


@contextmanager
def creating_tables(url: str) -> Iterator[None]:
    """Hold the store's lock on creating tables while the body runs, so replicas started at
    once on fresh stores take turns: `CREATE ... IF NOT EXISTS` is not safe when two run at
    the same moment (both find nothing; PostgreSQL then refuses the second on its catalog's
    unique index, SQLite answers "database is locked"). Released when the body ends."""
    if not is_postgres(url):
        Path(url).parent.mkdir(parents=True, exist_ok=True)
        with Path(f"{url}.create-lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
        return
    with postgres_connection(persistence_env(url)) as conn:
        # A session lock: it ends with this connection whatever happens in the body.
        conn.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
        yield


def prepare_store(url: str) -> dict[str, str]:
    """The environment for ``url``, with its PostgreSQL schema created if it names one."""
    env = persistence_env(url)
    schema = env.get("POSTGRES_SCHEMA")
    if schema:
        from psycopg import sql  # noqa: PLC0415 - only PostgreSQL installations need it loaded

        with postgres_connection(env) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    return env


def postgres_connection(env: dict[str, str]) -> psycopg.Connection[Any]:
    """A plain autocommit connection to the server ``env`` (from ``persistence_env``) names."""
    import psycopg  # noqa: PLC0415 - only PostgreSQL installations need it loaded

    return psycopg.connect(
        dbname=env["POSTGRES_DBNAME"],
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"],
        autocommit=True,
    )
