"""Shared fixtures: a real nats-server per test, and real stores (SQLite files, and PostgreSQL
schemas when TIMEBANK_TEST_POSTGRES names a server)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

# Before the services are imported: hash PINs and passwords cheaply
# (services/composition/config.py).
os.environ.setdefault("TIMEBANK_PASSWORD_HASHING", "CHEAPEST")

import psycopg
import pytest
from psycopg import sql

from services.messaging.broker import EmbeddedBroker

POSTGRES_URL = os.environ.get("TIMEBANK_TEST_POSTGRES", "")
BACKENDS = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    running = EmbeddedBroker(tmp_path / "nats")
    running.start()
    yield running
    running.stop()


def _postgres_schema_url(schema: str) -> str:
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}schema={schema}"


def _drop_schema(schema: str) -> None:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


class StoreUrls:
    """Fresh event-store and read-store URLs for one backend."""

    def __init__(self, backend: str, tmp_path: Path) -> None:
        self.backend = backend
        self._tmp_path = tmp_path
        self._schemas: list[str] = []

    def new(self, name: str) -> str:
        if self.backend == "sqlite":
            return str(self._tmp_path / f"{name}.sqlite")
        schema = f"tb_{name}_{uuid.uuid4().hex[:10]}"
        self._schemas.append(schema)
        return _postgres_schema_url(schema)

    def cleanup(self) -> None:
        for schema in self._schemas:
            _drop_schema(schema)


@pytest.fixture(params=BACKENDS)
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreUrls]:
    urls = StoreUrls(request.param, tmp_path)
    yield urls
    urls.cleanup()


@pytest.fixture
def sqlite_stores(tmp_path: Path) -> StoreUrls:
    """SQLite files only, for tests of what the store cannot change (who may call a route):
    run on both backends they would only repeat themselves, at a cost the suite feels."""
    return StoreUrls("sqlite", tmp_path)


@pytest.fixture(autouse=True)
def _close_backbones() -> Iterator[None]:
    """Return every store connection a test opened (PostgreSQL has a connection limit)."""
    from tests.integration.support import OPENED  # noqa: PLC0415 - unit tests need no services

    yield
    while OPENED:
        OPENED.pop().close()
