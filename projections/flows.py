"""Minutes travelling between stations (通存通兑): every transfer between two residents'
accounts, added up by the station the minutes left, the station they reached, the kind of
transfer and the month it happened.

A station is the account holder's home *when the minutes moved*: the model follows homes
itself, in its own table, so what it counted stays as it was when a resident later moves.
Any kind of transfer counts (exchanges, gifts between residents, corrections of them), so a
new kind needs nothing here. Transfers touching the community or pool account are not
between residents and are left out. Figures only: no account or person is kept per flow.
"""

from __future__ import annotations

from typing import Any, ClassVar

from domain.ledger import AccountKind
from domain.station import DEFAULT_STATION
from projections.dispatch import by_payload
from projections.readdb import one_of
from projections.readstore import ReadDb, Row
from projections.stations import keep_home
from services.messaging.envelope import (
    AccountOpened,
    Envelope,
    LegData,
    MemberMovedHome,
    MemberRegistered,
    TransferPosted,
)


class Flows:
    name = "flows"
    tables: ClassVar[dict[str, str]] = {
        "flow_homes": (
            "CREATE TABLE IF NOT EXISTS flow_homes ("
            " member_id TEXT PRIMARY KEY,"
            " station_id TEXT NOT NULL)"
        ),
        "flow_accounts": (
            "CREATE TABLE IF NOT EXISTS flow_accounts ("
            " account_id TEXT PRIMARY KEY,"
            " owner TEXT NOT NULL)"
        ),
        "flows": (
            "CREATE TABLE IF NOT EXISTS flows ("
            " from_station TEXT NOT NULL,"
            " to_station TEXT NOT NULL,"
            " kind TEXT NOT NULL,"
            " month TEXT NOT NULL,"  # YYYY-MM of when the minutes moved
            " minutes BIGINT NOT NULL,"
            " transfers BIGINT NOT NULL,"
            " PRIMARY KEY (from_station, to_station, kind, month))"
        ),
    }

    def apply(self, db: ReadDb, envelope: Envelope) -> None:
        self._on(envelope.payload(), db, envelope)

    @by_payload
    def _on(self, payload: Any, db: ReadDb, envelope: Envelope) -> None:
        """Events this read model does not show are skipped (but still tracked)."""

    @_on.register
    def _home(
        self, payload: MemberRegistered | MemberMovedHome, db: ReadDb, envelope: Envelope
    ) -> None:
        keep_home(db, "flow_homes", envelope, payload.station)

    @_on.register
    def _opened(self, payload: AccountOpened, db: ReadDb, envelope: Envelope) -> None:
        if payload.kind == AccountKind.MEMBER:
            db.execute(
                "INSERT INTO flow_accounts VALUES (%(id)s, %(owner)s)",
                {"id": str(envelope.stream_id), "owner": payload.owner},
            )

    @_on.register
    def _posted(self, payload: TransferPosted, db: ReadDb, envelope: Envelope) -> None:
        homes = _homes(db, [str(leg.account_id) for leg in payload.legs])
        if len(homes) < len(payload.legs):
            return  # a system account takes part: not minutes between residents
        month = payload.occurred_at.strftime("%Y-%m")
        for source, target, minutes in _matched(payload.legs):
            db.execute(
                "INSERT INTO flows VALUES (%(from)s, %(to)s, %(kind)s, %(month)s, %(minutes)s, 1)"
                " ON CONFLICT (from_station, to_station, kind, month) DO UPDATE SET"
                " minutes = flows.minutes + excluded.minutes,"
                " transfers = flows.transfers + 1",
                {
                    "from": homes[source],
                    "to": homes[target],
                    "kind": payload.kind,
                    "month": month,
                    "minutes": minutes,
                },
            )


def _homes(db: ReadDb, accounts: list[str]) -> dict[str, str]:
    """Each residents' account's holder's home now; one opened for an owner who is no
    registered resident stands at the first station (as on the command side)."""
    params: dict[str, Any] = {"first": str(DEFAULT_STATION)}
    rows = db.all(
        "SELECT a.account_id, COALESCE(h.station_id, %(first)s) AS station_id"
        " FROM flow_accounts a LEFT JOIN flow_homes h ON h.member_id = a.owner"
        f" WHERE {one_of('account_id', accounts, params)}",
        params,
    )
    return {row["account_id"]: row["station_id"] for row in rows}


def _matched(legs: list[LegData]) -> list[tuple[str, str, int]]:
    """(from account, to account, minutes): the paying legs matched in order against the
    paid ones. A transfer has one payer or one payee (a group exchange), where this is exact;
    in any case the minutes each account paid or was paid add up."""
    payers = [[str(leg.account_id), -leg.minutes] for leg in legs if leg.minutes < 0]
    payees = [[str(leg.account_id), leg.minutes] for leg in legs if leg.minutes > 0]
    matched: list[tuple[str, str, int]] = []
    while payers and payees:
        payer, payee = payers[0], payees[0]
        moved = min(payer[1], payee[1])
        matched.append((payer[0], payee[0], moved))
        payer[1] -= moved
        payee[1] -= moved
        if payer[1] == 0:
            payers.pop(0)
        if payee[1] == 0:
            payees.pop(0)
    return matched


def _window(
    clauses: list[str], params: dict[str, Any], since: str | None, until: str | None
) -> None:
    if since is not None:
        clauses.append("month >= %(since)s")
        params["since"] = since
    if until is not None:
        clauses.append("month <= %(until)s")
        params["until"] = until


def station_report(
    db: ReadDb, station: str, *, since: str | None = None, until: str | None = None
) -> list[Row]:
    """By kind: minutes the station's residents paid to other stations' (``minutes_out``),
    were paid by them (``minutes_in``), and moved among themselves (``within``)."""
    clauses = ["(from_station = %(station)s OR to_station = %(station)s)"]
    params: dict[str, Any] = {"station": station}
    _window(clauses, params, since, until)
    return db.all(
        "SELECT kind,"
        " SUM(CASE WHEN from_station = %(station)s AND to_station <> %(station)s"
        "  THEN minutes ELSE 0 END) AS minutes_out,"
        " SUM(CASE WHEN to_station = %(station)s AND from_station <> %(station)s"
        "  THEN minutes ELSE 0 END) AS minutes_in,"
        " SUM(CASE WHEN from_station = to_station THEN minutes ELSE 0 END) AS within"
        f" FROM flows WHERE {' AND '.join(clauses)} GROUP BY kind ORDER BY kind",
        params,
    )


def matrix(
    db: ReadDb, stations: list[str], *, since: str | None = None, until: str | None = None
) -> list[Row]:
    """Minutes from each of ``stations`` to each of them (the diagonal: among one station's
    own residents), every kind together."""
    params: dict[str, Any] = {}
    clauses = [one_of("from_station", stations, params), one_of("to_station", stations, params)]
    _window(clauses, params, since, until)
    return db.all(
        "SELECT from_station, to_station, SUM(minutes) AS minutes, SUM(transfers) AS transfers"
        f" FROM flows WHERE {' AND '.join(clauses)}"
        " GROUP BY from_station, to_station ORDER BY from_station, to_station",
        params,
    )
