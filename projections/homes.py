"""Residents' home stations, as a read model that counts people by station keeps them for
itself: a model is rebuilt alone, from the events in order, so it cannot lean on another
model's tables for where someone lived when an event of theirs happened."""

from __future__ import annotations

from typing import Any

from domain.station import DEFAULT_STATION
from projections.readstore import ReadDb


def table(name: str) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {name} ( member_id TEXT PRIMARY KEY, station_id TEXT NOT NULL)"
    )


def keep(db: ReadDb, name: str, member_id: Any, station: Any) -> None:
    db.execute(
        f"INSERT INTO {name} VALUES (%(member)s, %(station)s)"
        " ON CONFLICT (member_id) DO UPDATE SET station_id = excluded.station_id",
        {"member": str(member_id), "station": str(station)},
    )


def home(db: ReadDb, name: str, member_id: Any) -> str:
    """The member's station (the first station for one registered before this model saw
    them, which a rebuild from the start never meets)."""
    row = db.one(f"SELECT station_id FROM {name} WHERE member_id = %(id)s", {"id": str(member_id)})
    return str(DEFAULT_STATION) if row is None else row["station_id"]


def move(db: ReadDb, name: str, table: str, member_id: Any, station: Any) -> None:
    """The member moved home: so do their rows of ``table`` (by ``member_id``)."""
    keep(db, name, member_id, station)
    db.execute(
        f"UPDATE {table} SET station_id = %(station)s WHERE member_id = %(member)s",
        {"station": str(station), "member": str(member_id)},
    )
