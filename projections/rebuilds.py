"""Rebuilding a read model while projectors run (`timebank up`, `timebank project`).

A rebuild drops the model's tables and applies the stream again from its start. A projector
that kept applying meanwhile would write into the fresh tables and move the model's tracked
position, and the rebuild would then skip everything below it: an empty read model, silently.

So a rebuild holds a *lease* on its model: a row in the read store's ``read_model_rebuilds``
table, taken in the very transaction that drops and re-creates the tables, renewed in each
transaction that applies a batch, and given back once the model has caught up with the stream
head (read after the lease was taken). Every applying transaction reads the leases of its
models after locking their tracking rows (SQLite: after taking the write lock), so it is
ordered before or after the rebuild's, never in between; one that finds another's lease applies
nothing and its projector waits for the lease to go (the models beside it go on without it).
When it goes, the projector re-points its consumer at the position the model is tracked at:
the rebuild's, which is at least the one the projector had reached.

The lease lives in the read store itself, so it works alike on SQLite and PostgreSQL and for
projectors on other machines. A rebuild that is stopped gives its lease up at once; one that is
killed leaves it, and it lapses ``LEASE_SECONDS`` after it was last renewed (on the clock of
each machine: keep them in step). Either way a waiting projector then takes the model over from
wherever the rebuild got to, and a rebuild that finds its lease taken stops with an error.

Why a lease: refusing while a projector runs cannot be decided safely (a projector may start a
moment later, or run on another machine); a database lock (``pg_advisory_lock``) has no
SQLite twin that a projector in another process could wait on without failing its batches;
and rebuilding into a second set of tables to swap in would still have to catch up with the
live model under a lock, with every read model's SQL naming its tables.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from projections.readstore import ReadDb, ReadModel, ReadStore

log = structlog.get_logger(__name__)

LEASE_SECONDS = 60.0
TABLE = "read_model_rebuilds"
CREATE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (model TEXT PRIMARY KEY, token TEXT NOT NULL,"
    " renewed_at DOUBLE PRECISION NOT NULL)"
)


class RebuildInProgress(Exception):
    """Another process rebuilds these read models: apply nothing to them until it is done."""

    def __init__(self, models: list[str]) -> None:
        super().__init__(f"being rebuilt: {', '.join(models)}")
        self.models = models


class RebuildRefused(Exception):
    """The rebuild cannot go on (another holds the model, or took it over); nothing of it
    that was applied is wrong, and a projector finishes the model."""


def _leases(db: ReadDb, names: Sequence[str]) -> dict[str, tuple[str, float]]:
    keys = {f"name{index}": name for index, name in enumerate(names)}
    rows = db.all(
        f"SELECT model, token, renewed_at FROM {TABLE} WHERE model IN"
        f" ({', '.join(f'%({key})s' for key in keys)})",
        keys,
    )
    return {row["model"]: (row["token"], row["renewed_at"]) for row in rows}


def check(db: ReadDb, names: Sequence[str], token: str | None) -> None:
    """In a transaction that applies to ``names`` (their tracking rows locked): refuse if
    another rebuilds one of them; for the rebuild holding ``token``, renew its lease."""
    leases = _leases(db, names)
    if token is None:
        if leases:
            raise RebuildInProgress(sorted(leases))
        return
    if any(leases.get(name, ("",))[0] != token for name in names):
        raise RebuildRefused("the rebuild's lease was taken over: a projector finishes the model")
    db.execute(
        f"UPDATE {TABLE} SET renewed_at = %(now)s WHERE token = %(token)s",
        {"now": time.time(), "token": token},
    )
    db.flush()  # ``db`` may be one the caller sends no more through


def reset(store: ReadStore, model: ReadModel, token: str) -> None:
    """Take the lease on ``model``, drop its tables and tracking and create them afresh, all
    in one transaction that waits for any batch being applied to it."""
    with store.transaction(commit=True) as db:
        store.lock_tracking(db, [model.name])
        held = _leases(db, [model.name]).get(model.name)
        if held is not None and time.time() - held[1] < LEASE_SECONDS:
            raise RebuildRefused(f"{model.name} is being rebuilt by another `timebank rebuild`")
        db.execute(f"DELETE FROM {TABLE} WHERE model = %(name)s", {"name": model.name})
        db.execute(
            f"INSERT INTO {TABLE} (model, token, renewed_at) VALUES (%(name)s, %(token)s, %(now)s)",
            {"name": model.name, "token": token, "now": time.time()},
        )
        store.recreate(db, model)


def give_back(store: ReadStore, name: str, token: str, *, done: bool) -> None:
    """End the lease: ``done``, the model is caught up; otherwise it lapses at once, and the
    next projector to look takes the model over from where the rebuild got to."""
    with store.transaction(commit=True) as db:
        if _leases(db, [name]).get(name, ("",))[0] != token:
            raise RebuildRefused("the rebuild's lease was taken over: a projector finishes it")
        if done:
            db.execute(f"DELETE FROM {TABLE} WHERE model = %(name)s", {"name": name})
        else:
            db.execute(f"UPDATE {TABLE} SET renewed_at = 0 WHERE model = %(name)s", {"name": name})


def rebuilding(store: ReadStore, names: Sequence[str]) -> list[str]:
    """Which of ``names`` are being rebuilt now; a lease that has lapsed is ended here."""
    with store.transaction(commit=True) as db:
        store.lock_tracking(db, names)
        leases = _leases(db, names)
        lapsed = [name for name, (_, renewed) in leases.items() if _lapsed(renewed)]
        for name in lapsed:
            db.execute(f"DELETE FROM {TABLE} WHERE model = %(name)s", {"name": name})
            log.warning("rebuild.lease_lapsed", model=name)
        return sorted(set(leases) - set(lapsed))


def _lapsed(renewed_at: float) -> bool:
    return time.time() - renewed_at >= LEASE_SECONDS
