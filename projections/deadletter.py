"""Dead letters: the events a read model could not apply, kept in the read store.

A read model that fails on an event halts just before it (everything earlier stays applied
and tracked) and its projector retries that event with a growing pause; each failed attempt
is recorded here, one row per read model and position. A model is *failing* while a dead
letter lies beyond its tracked position: /health shows it, and reads that ask for a position
at or past the dead letter are refused naming the model. It heals by itself when the event
applies after all (the failure was passing, or the projector was restarted with the fix), and
``timebank rebuild <model>`` forgets its dead letters and applies everything afresh. Rows a
model has moved past stay, as the record of what happened.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from projections.readstore import ReadStore
    from services.messaging.envelope import Envelope

TABLE = "dead_letters"
CREATE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    " model TEXT NOT NULL,"
    " position BIGINT NOT NULL,"
    " event_type TEXT NOT NULL,"
    " error TEXT NOT NULL,"
    " first_failed_at TEXT NOT NULL,"
    " last_failed_at TEXT NOT NULL,"
    " attempts BIGINT NOT NULL,"
    " PRIMARY KEY (model, position))"
)
_ERROR_LENGTH = 500  # enough to name the fault; a payload's text has no business here


class Failure(msgspec.Struct, frozen=True, kw_only=True):
    """Where a read model stopped, on which event, why, since when and how often it tried."""

    model: str
    position: int
    event_type: str
    error: str
    since: str
    attempts: int


_SELECT = (
    "SELECT d.model, d.position, d.event_type, d.error, d.first_failed_at AS since, d.attempts"
    f" FROM {TABLE} d"
)


def record(store: ReadStore, model: str, envelope: Envelope, error: Exception) -> Failure:
    """Record a failed attempt to apply ``envelope``; the read model's failure as it now stands."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with store.transaction(commit=True) as db:
        db.execute(
            f"INSERT INTO {TABLE} VALUES (%(model)s, %(position)s, %(type)s, %(error)s,"
            " %(now)s, %(now)s, 1) ON CONFLICT (model, position) DO UPDATE SET"
            " error = excluded.error, last_failed_at = excluded.last_failed_at,"
            f" attempts = {TABLE}.attempts + 1",
            {
                "model": model,
                "position": envelope.position,
                "type": envelope.type,
                "error": f"{type(error).__name__}: {error}"[:_ERROR_LENGTH],
                "now": now,
            },
        )
        row = db.one(
            f"{_SELECT} WHERE d.model = %(model)s AND d.position = %(position)s",
            {"model": model, "position": envelope.position},
        )
    return msgspec.convert(row, Failure)


def failing(store: ReadStore) -> dict[str, Failure]:
    """Each failing read model's first dead letter beyond its tracked position."""
    with store.transaction(commit=False) as db:
        rows = db.all(
            f"{_SELECT} LEFT JOIN {store.tracking_table} t ON t.application_name = d.model"
            " WHERE d.position > COALESCE(t.notification_id, 0) ORDER BY d.position DESC"
        )
    # Descending, so each model's earliest dead letter is the one that stays.
    return {row["model"]: msgspec.convert(row, Failure) for row in rows}
