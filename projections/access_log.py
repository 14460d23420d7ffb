"""The personal-data access log: every time staff opened a person's data — who, whose, when,
why. Coordinators list it; nobody can edit it (it is a projection of immutable events).

A list shown with names (PersonalDataListed) is one row, its ``member_id`` the word ``list``
and ``shown`` the number of people in it; ``access_log_members`` names each of them, so the
log of one person finds the lists that showed their name too."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from projections.dispatch import by_payload
from projections.readdb import one_of
from projections.readstore import ReadDb, Row
from services.messaging.envelope import Envelope, PersonalDataListed, PersonalDataOpened

LIST = "list"  # the member_id of a row that stands for a list view


class AccessLog:
    name = "access_log"
    tables: ClassVar[dict[str, str]] = {
        "access_log": (
            "CREATE TABLE IF NOT EXISTS access_log ("
            " position BIGINT PRIMARY KEY,"
            " member_id TEXT NOT NULL,"
            " actor TEXT NOT NULL,"
            " channel TEXT NOT NULL,"
            " purpose TEXT NOT NULL,"
            " opened_at TEXT NOT NULL)"
        ),
        "access_log_members": (
            "CREATE TABLE IF NOT EXISTS access_log_members ("
            " position BIGINT NOT NULL,"
            " member_id TEXT NOT NULL,"
            " PRIMARY KEY (position, member_id))"
        ),
    }

    def apply(self, db: ReadDb, envelope: Envelope) -> None:
        self._on(envelope.payload(), db, envelope)

    @by_payload
    def _on(self, payload: Any, db: ReadDb, envelope: Envelope) -> None:
        """Events this read model does not show are skipped (but still tracked)."""

    @_on.register
    def _opened(self, payload: PersonalDataOpened, db: ReadDb, envelope: Envelope) -> None:
        _record(db, envelope, str(payload.member_id), payload.purpose)

    @_on.register
    def _listed(self, payload: PersonalDataListed, db: ReadDb, envelope: Envelope) -> None:
        _record(db, envelope, LIST, payload.purpose)
        for member_id in dict.fromkeys(payload.member_ids):
            db.execute(
                "INSERT INTO access_log_members VALUES (%(position)s, %(member)s)",
                {"position": envelope.position, "member": str(member_id)},
            )


def _record(db: ReadDb, envelope: Envelope, member: str, purpose: str) -> None:
    db.execute(
        "INSERT INTO access_log VALUES"
        " (%(position)s, %(member)s, %(actor)s, %(channel)s, %(purpose)s, %(at)s)",
        {
            "position": envelope.position,
            "member": member,
            "actor": envelope.actor,
            "channel": envelope.channel,
            "purpose": purpose,
            "at": envelope.recorded_at.isoformat(),
        },
    )


_SHOWN = (
    "SELECT log.*, (SELECT COUNT(*) FROM access_log_members shown"
    " WHERE shown.position = log.position) AS shown FROM access_log log"
)


def entries(
    db: ReadDb, member_id: UUID | None, *, limit: int, among: list[str] | None = None
) -> list[Row]:
    """Newest first, for one person (their openings and the lists that named them) or for
    everyone; ``shown``: how many people a list named (0 for one person's opening).
    ``among``: only openings of the people of these stations (their home, in the ``stations``
    read model), a list if it named one of them; None: everyone's."""
    params: dict[str, Any] = {"limit": limit}
    clauses = []
    if member_id is not None:
        params["member"] = str(member_id)
        clauses.append(
            "(log.member_id = %(member)s OR log.position IN"
            " (SELECT position FROM access_log_members WHERE member_id = %(member)s))"
        )
    if among is not None:
        homes = f"SELECT member_id FROM member_homes WHERE {one_of('station_id', among, params)}"
        clauses.append(
            f"(log.member_id IN ({homes}) OR log.position IN (SELECT position FROM"
            f" access_log_members WHERE member_id IN ({homes})))"
        )
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    return db.all(f"{_SHOWN}{where} ORDER BY log.position DESC LIMIT %(limit)s", params)
