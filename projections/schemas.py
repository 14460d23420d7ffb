"""What shape each read model's tables were made in, so a model whose shape changed with the
code is rebuilt on its own instead of being applied into tables it no longer fits.

A model's *shape* is a digest of its CREATE TABLE statements and of its ``version`` (raised
when what a model shows changes without its tables changing, so rows it already holds would
be wrong). Opening the read store compares each model's shape with the one it recorded; a
model whose shape differs, or one made before shapes were recorded, is dropped and created
afresh at position 0, and the projector then replays it from the event store like a new
model. Models whose shape is unchanged keep their rows and position.

Every process that opens the read store does this under the store's lock on creating tables,
so run the processes of one deployment on one version of the code: an older projector left
running would apply into the newer tables.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from projections.readstore import ReadDb, ReadModel

log = structlog.get_logger(__name__)

TABLE = "read_model_shapes"
CREATE = f"CREATE TABLE IF NOT EXISTS {TABLE} (model TEXT PRIMARY KEY, shape TEXT NOT NULL)"


def shape_of(model: ReadModel) -> str:
    statements = "\n".join(f"{name}: {model.tables[name]}" for name in sorted(model.tables))
    version = getattr(model, "version", 1)
    return hashlib.sha256(f"{version}\n{statements}".encode()).hexdigest()


def reshaped(db: ReadDb, models: Sequence[ReadModel]) -> list[ReadModel]:
    """The models whose recorded shape is not their shape today (or was never recorded)."""
    recorded = {row["model"]: row["shape"] for row in db.all(f"SELECT model, shape FROM {TABLE}")}
    return [model for model in models if recorded.get(model.name) != shape_of(model)]


def record(db: ReadDb, model: ReadModel) -> None:
    db.execute(
        f"INSERT INTO {TABLE} (model, shape) VALUES (%(model)s, %(shape)s)"
        " ON CONFLICT (model) DO UPDATE SET shape = excluded.shape",
        {"model": model.name, "shape": shape_of(model)},
    )
    log.info("read_model.reshaped", model=model.name)
