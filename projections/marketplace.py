"""The marketplace board: help categories, and listings searchable by category and building."""

from __future__ import annotations

from typing import Any, ClassVar

from projections.dispatch import by_payload
from projections.readdb import one_of
from projections.readstore import ReadDb, Row
from services.messaging.envelope import (
    CategoryAdded,
    CategoryRetired,
    Envelope,
    ListingClosed,
    ListingPosted,
)


class Marketplace:
    name = "marketplace"
    tables: ClassVar[dict[str, str]] = {
        "categories": (
            "CREATE TABLE IF NOT EXISTS categories ("
            " code TEXT PRIMARY KEY,"
            " name_zh TEXT NOT NULL,"
            " name_en TEXT NOT NULL,"
            " is_active SMALLINT NOT NULL,"
            " position BIGINT NOT NULL)"
        ),
        "listings": (
            "CREATE TABLE IF NOT EXISTS listings ("
            " listing_id TEXT PRIMARY KEY,"
            " owner TEXT NOT NULL,"
            " kind TEXT NOT NULL,"
            " category TEXT NOT NULL,"
            " title TEXT NOT NULL,"
            " description TEXT NOT NULL,"
            " building TEXT NOT NULL,"
            " place TEXT NOT NULL,"
            " availability TEXT NOT NULL,"
            " is_open SMALLINT NOT NULL,"
            " posted_at TEXT NOT NULL,"
            " closed_at TEXT,"
            " position BIGINT NOT NULL,"  # where it was posted: pages stay stable
            " station_id TEXT NOT NULL)"  # the poster's home station
        ),
    }

    def apply(self, db: ReadDb, envelope: Envelope) -> None:
        self._on(envelope.payload(), db, envelope)

    @by_payload
    def _on(self, payload: Any, db: ReadDb, envelope: Envelope) -> None:
        """Events this read model does not show are skipped (but still tracked)."""

    @_on.register
    def _category(self, payload: CategoryAdded, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "INSERT INTO categories VALUES (%(code)s, %(zh)s, %(en)s, 1, %(position)s)",
            {
                "code": payload.code,
                "zh": payload.name_zh,
                "en": payload.name_en,
                "position": envelope.position,
            },
        )

    @_on.register
    def _retired(self, payload: CategoryRetired, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "UPDATE categories SET is_active = 0 WHERE code = %(code)s", {"code": payload.code}
        )

    @_on.register
    def _posted(self, payload: ListingPosted, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "INSERT INTO listings VALUES (%(id)s, %(owner)s, %(kind)s, %(category)s, %(title)s,"
            " %(description)s, %(building)s, %(place)s, %(availability)s, 1, %(at)s, NULL,"
            " %(position)s, %(station)s)",
            {
                "id": str(envelope.stream_id),
                "owner": str(payload.owner),
                "kind": payload.kind,
                "category": payload.category,
                "title": payload.title,
                "description": payload.description,
                "building": payload.building,
                "place": payload.place,
                "availability": payload.availability,
                "at": envelope.recorded_at.isoformat(),
                "position": envelope.position,
                "station": str(payload.station),
            },
        )

    @_on.register
    def _closed(self, payload: ListingClosed, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "UPDATE listings SET is_open = 0, closed_at = %(at)s WHERE listing_id = %(id)s",
            {"at": envelope.recorded_at.isoformat(), "id": str(envelope.stream_id)},
        )


def categories(db: ReadDb, *, include_retired: bool) -> list[Row]:
    return db.all(
        "SELECT * FROM categories WHERE is_active >= %(least)s ORDER BY position, code",
        {"least": 0 if include_retired else 1},
    )


def listing(db: ReadDb, listing_id: str) -> Row | None:
    return db.one("SELECT * FROM listings WHERE listing_id = %(id)s", {"id": listing_id})


def search(
    db: ReadDb,
    *,
    category: str | None,
    building: str | None,
    kind: str | None,
    text: str | None,
    owner: str | None,
    stations: list[str] | None = None,
    open_only: bool,
    before: int | None,
    limit: int,
) -> list[Row]:
    """Newest first; ``before`` is the ``position`` of the last listing of the previous page."""
    clauses = ["position < %(before)s"]
    params: dict[str, Any] = {"before": before if before is not None else 2**62, "limit": limit}
    for column, value in (
        ("category", category),
        ("building", building),
        ("kind", kind),
        ("owner", owner),
    ):
        if value is not None:
            clauses.append(f"{column} = %({column})s")
            params[column] = value
    if stations is not None:
        clauses.append(one_of("station_id", stations, params))
    if open_only:
        clauses.append("is_open = 1")
    if text:
        # LIKE ignores case on SQLite but not on PostgreSQL: lower both sides on both.
        clauses.append(
            "(LOWER(title) LIKE %(text)s ESCAPE '!' OR LOWER(description) LIKE %(text)s ESCAPE '!')"
        )
        literal = text.lower().replace("!", "!!").replace("%", "!%").replace("_", "!_")
        params["text"] = f"%{literal}%"
    return db.all(
        f"SELECT * FROM listings WHERE {' AND '.join(clauses)} ORDER BY position DESC"
        " LIMIT %(limit)s",
        params,
    )
