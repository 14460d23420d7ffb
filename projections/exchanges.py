"""Exchanges as their parties and coordinators see them: status, who is in it, what was
confirmed, and every step with who took it, when and through which channel."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

import msgspec

from projections.dispatch import by_payload
from projections.readdb import one_of
from projections.readstore import ReadDb, Row, overdue
from projections.stored import later_by, stamp
from services.messaging.envelope import (
    DisputeResolved,
    Envelope,
    ExchangeConfirmed,
    ExchangeDisputed,
    ExchangeExpired,
    ExchangeSettled,
    ExchangeWithdrawn,
    HelpRecorded,
    PairData,
)

_STEPS = (
    HelpRecorded,
    ExchangeConfirmed,
    ExchangeSettled,
    ExchangeDisputed,
    DisputeResolved,
    ExchangeWithdrawn,
    ExchangeExpired,
)


class Exchanges:
    name = "exchanges"
    tables: ClassVar[dict[str, str]] = {
        "exchanges": (
            "CREATE TABLE IF NOT EXISTS exchanges ("
            " exchange_id TEXT PRIMARY KEY,"
            " status TEXT NOT NULL,"
            " listing_id TEXT,"
            " description TEXT NOT NULL,"
            " minutes BIGINT NOT NULL,"
            " pairs TEXT NOT NULL,"
            " occurred_at TEXT NOT NULL,"
            " recorded_at TEXT NOT NULL,"
            " recorded_by TEXT NOT NULL,"
            " expires_at TEXT NOT NULL,"
            " dispute_within_hours BIGINT NOT NULL,"
            " settled_at TEXT,"
            " dispute_until TEXT,"
            " settlement TEXT,"
            " dispute_reason TEXT,"
            " hold TEXT,"
            " outcome TEXT,"
            " resolution_reason TEXT,"
            " position BIGINT NOT NULL)"  # where it was recorded: pages stay stable
        ),
        "exchange_parties": (
            "CREATE TABLE IF NOT EXISTS exchange_parties ("
            " exchange_id TEXT NOT NULL,"
            " account_id TEXT NOT NULL,"
            " role TEXT NOT NULL,"
            " minutes BIGINT NOT NULL,"
            " confirmed SMALLINT NOT NULL,"
            " position BIGINT NOT NULL,"
            " station_id TEXT NOT NULL,"  # the party's home station when help was recorded
            " PRIMARY KEY (exchange_id, account_id))"
        ),
        "exchange_steps": (
            "CREATE TABLE IF NOT EXISTS exchange_steps ("
            " exchange_id TEXT NOT NULL,"
            " position BIGINT NOT NULL,"
            " type TEXT NOT NULL,"
            " actor TEXT NOT NULL,"
            " channel TEXT NOT NULL,"
            " at TEXT NOT NULL,"
            " detail TEXT NOT NULL,"
            " PRIMARY KEY (exchange_id, position))"
        ),
    }

    def apply(self, db: ReadDb, envelope: Envelope) -> None:
        payload = envelope.payload()
        if isinstance(payload, _STEPS):
            self._on(payload, db, envelope)
            self._step(db, envelope)

    def _step(self, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "INSERT INTO exchange_steps VALUES (%(id)s, %(position)s, %(type)s, %(actor)s,"
            " %(channel)s, %(at)s, %(detail)s)",
            {
                "id": str(envelope.stream_id),
                "position": envelope.position,
                "type": envelope.type,
                "actor": envelope.actor,
                "channel": envelope.channel,
                "at": stamp(envelope.recorded_at),
                "detail": bytes(envelope.data).decode(),
            },
        )

    @by_payload
    def _on(self, payload: Any, db: ReadDb, envelope: Envelope) -> None:
        raise TypeError(f"no handler for {type(payload).__name__}")

    @_on.register
    def _recorded(self, payload: HelpRecorded, db: ReadDb, envelope: Envelope) -> None:
        exchange_id = str(envelope.stream_id)
        db.execute(
            "INSERT INTO exchanges VALUES (%(id)s, 'awaiting_confirmation', %(listing)s,"
            " %(description)s, %(minutes)s, %(pairs)s, %(occurred_at)s, %(recorded_at)s,"
            " %(actor)s, %(expires_at)s, %(window)s, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
            " %(position)s)",
            {
                "id": exchange_id,
                "listing": str(payload.listing_id) if payload.listing_id else None,
                "description": payload.description,
                "minutes": sum(pair.minutes for pair in payload.pairs),
                "pairs": msgspec.json.encode(payload.pairs).decode(),
                "occurred_at": stamp(payload.occurred_at),
                "recorded_at": stamp(envelope.recorded_at),
                "actor": envelope.actor,
                "expires_at": stamp(payload.expires_at),
                "window": payload.dispute_within_hours,
                "position": envelope.position,
            },
        )
        for account, role, minutes in _shares(payload.pairs):
            db.execute(
                "INSERT INTO exchange_parties VALUES (%(id)s, %(account)s, %(role)s,"
                " %(minutes)s, 0, %(position)s, %(station)s)",
                {
                    "id": exchange_id,
                    "account": account,
                    "role": role,
                    "minutes": minutes,
                    "position": envelope.position,
                    "station": str(payload.home(UUID(account))),
                },
            )

    @_on.register
    def _confirmed(self, payload: ExchangeConfirmed, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "UPDATE exchange_parties SET confirmed = 1"
            " WHERE exchange_id = %(id)s AND account_id = %(account)s",
            {"id": str(envelope.stream_id), "account": str(payload.receiver)},
        )

    @_on.register
    def _settled(self, payload: ExchangeSettled, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "UPDATE exchanges SET status = 'settled', settled_at = %(at)s,"
            " settlement = %(transfer)s, dispute_until = %(until)s WHERE exchange_id = %(id)s",
            {
                "at": stamp(payload.at),
                "transfer": str(payload.transfer_id),
                "until": self._dispute_until(db, envelope, payload.at),
                "id": str(envelope.stream_id),
            },
        )

    def _dispute_until(self, db: ReadDb, envelope: Envelope, settled_at: datetime) -> str:
        row = db.one(
            "SELECT dispute_within_hours FROM exchanges WHERE exchange_id = %(id)s",
            {"id": str(envelope.stream_id)},
        )
        assert row is not None, "HelpRecorded precedes every other step"
        return stamp(later_by(settled_at, hours=row["dispute_within_hours"]))

    @_on.register
    def _disputed(self, payload: ExchangeDisputed, db: ReadDb, envelope: Envelope) -> None:
        db.execute(
            "UPDATE exchanges SET status = 'disputed', dispute_reason = %(reason)s,"
            " hold = %(hold)s, dispute_until = NULL WHERE exchange_id = %(id)s",
            {
                "reason": payload.reason,
                "hold": str(payload.hold) if payload.hold else None,
                "id": str(envelope.stream_id),
            },
        )

    @_on.register
    def _resolved(self, payload: DisputeResolved, db: ReadDb, envelope: Envelope) -> None:
        exchange_id = str(envelope.stream_id)
        cancelled = payload.outcome == "cancel"
        db.execute(
            "UPDATE exchanges SET status = %(status)s, outcome = %(outcome)s,"
            " resolution_reason = %(reason)s, minutes = %(minutes)s, pairs = %(pairs)s,"
            " settlement = %(transfer)s, settled_at = %(at)s WHERE exchange_id = %(id)s",
            {
                "status": "cancelled" if cancelled else "settled",
                "outcome": payload.outcome,
                "reason": payload.reason,
                "minutes": 0 if cancelled else sum(pair.minutes for pair in payload.pairs),
                "pairs": msgspec.json.encode(payload.pairs).decode(),
                "transfer": str(payload.transfer_id) if payload.transfer_id else None,
                "at": None if cancelled else stamp(payload.at),
                "id": exchange_id,
            },
        )
        for account, _, minutes in _shares(payload.pairs):
            db.execute(
                "UPDATE exchange_parties SET minutes = %(minutes)s"
                " WHERE exchange_id = %(id)s AND account_id = %(account)s",
                {"minutes": 0 if cancelled else minutes, "id": exchange_id, "account": account},
            )

    @_on.register
    def _withdrawn(self, payload: ExchangeWithdrawn, db: ReadDb, envelope: Envelope) -> None:
        self._end(db, envelope, "withdrawn")

    @_on.register
    def _expired(self, payload: ExchangeExpired, db: ReadDb, envelope: Envelope) -> None:
        self._end(db, envelope, "expired")

    def _end(self, db: ReadDb, envelope: Envelope, status: str) -> None:
        db.execute(
            "UPDATE exchanges SET status = %(status)s WHERE exchange_id = %(id)s",
            {"status": status, "id": str(envelope.stream_id)},
        )


def _shares(pairs: list[PairData]) -> list[tuple[str, str, int]]:
    """(account, role, minutes) for each party: a group's single side sums its pairs."""
    shares: dict[tuple[str, str], int] = {}
    for pair in pairs:
        for account, role in ((pair.provider, "provider"), (pair.receiver, "receiver")):
            key = (str(account), role)
            shares[key] = shares.get(key, 0) + pair.minutes
    return [(account, role, minutes) for (account, role), minutes in shares.items()]


def exchange(db: ReadDb, exchange_id: str) -> Row | None:
    row = db.one("SELECT * FROM exchanges WHERE exchange_id = %(id)s", {"id": exchange_id})
    if row is None:
        return None
    params = {"id": exchange_id}
    row["parties"] = db.all(
        "SELECT account_id, role, minutes, confirmed, station_id FROM exchange_parties"
        " WHERE exchange_id = %(id)s ORDER BY role, account_id",
        params,
    )
    row["steps"] = db.all(
        "SELECT position, type, actor, channel, at, detail FROM exchange_steps"
        " WHERE exchange_id = %(id)s ORDER BY position",
        params,
    )
    return row


def listed(
    db: ReadDb,
    *,
    account: str | None,
    status: str | None,
    before: int | None,
    limit: int,
    stations: list[str] | None = None,
) -> list[Row]:
    """Newest first, optionally one party's, one status, and those with a party of one of
    ``stations``; ``before``: previous page's last ``position``."""
    clauses = ["e.position < %(before)s"]
    params: dict[str, Any] = {"before": before if before is not None else 2**62, "limit": limit}
    if stations is not None:
        clauses.append(
            "e.exchange_id IN (SELECT exchange_id FROM exchange_parties"
            f" WHERE {one_of('station_id', stations, params)})"
        )
    if status is not None:
        clauses.append("e.status = %(status)s")
        params["status"] = status
    if account is not None:
        clauses.append(
            "e.exchange_id IN (SELECT exchange_id FROM exchange_parties"
            " WHERE account_id = %(account)s)"
        )
        params["account"] = account
    return db.all(
        f"SELECT e.* FROM exchanges e WHERE {' AND '.join(clauses)}"
        " ORDER BY e.position DESC LIMIT %(limit)s",
        params,
    )


def due_for_expiry(db: ReadDb, now: datetime, limit: int = 500) -> list[str]:
    return overdue(
        db,
        "exchanges",
        "exchange_id",
        status="awaiting_confirmation",
        deadline="expires_at",
        now=now,
        limit=limit,
    )


def status_counts(db: ReadDb, stations: list[str] | None = None) -> dict[str, int]:
    """How many exchanges stand in each status (the console's "needs attention" figures),
    optionally only those with a party of one of ``stations``."""
    params: dict[str, Any] = {}
    where = ""
    if stations is not None:
        where = (
            " WHERE exchange_id IN (SELECT exchange_id FROM exchange_parties"
            f" WHERE {one_of('station_id', stations, params)})"
        )
    rows = db.all(
        f"SELECT status, COUNT(*) AS exchanges FROM exchanges{where} GROUP BY status", params
    )
    return {row["status"]: row["exchanges"] for row in rows}


def awaiting(db: ReadDb, *, account: str, role: str, limit: int) -> list[Row]:
    """Help awaiting confirmation in which ``account`` takes ``role`` (``provider`` or
    ``receiver``; a receiver's only while it has not confirmed), newest first, with that
    party's ``share`` of the minutes."""
    return db.all(
        "SELECT e.*, p.minutes AS share FROM exchanges e JOIN exchange_parties p"
        " ON p.exchange_id = e.exchange_id WHERE e.status = 'awaiting_confirmation'"
        " AND p.account_id = %(account)s AND p.role = %(role)s AND p.confirmed = 0"
        " ORDER BY e.position DESC LIMIT %(limit)s",
        {"account": account, "role": role, "limit": limit},
    )
