"""Request and response bodies (msgspec Structs). Unknown fields are refused, not ignored."""

from __future__ import annotations

import msgspec
from litestar import Response

from projections.deadletter import Failure
from services import bus
from services.windows import Windowed

CSV = "text/csv"  # the media type of the downloads spreadsheet programs open


class Strict(Windowed, forbid_unknown_fields=True, kw_only=True):
    """A request body: unknown fields refused, dated fields checked against their windows."""


class Receipt(msgspec.Struct, kw_only=True):
    id: str
    position: int
    replayed: bool = False


def answer(receipt: bus.Receipt) -> Response[Receipt]:
    """A command's answer: what it recorded (or, for a retry, had recorded) and where."""
    body = Receipt(id=str(receipt.id), position=receipt.position, replayed=receipt.replayed)
    return Response(body, status_code=200 if receipt.replayed else 201)


class Account(msgspec.Struct, kw_only=True):
    id: str
    owner: str
    kind: str
    balance: int
    floor: int | None
    cap: int | None
    is_closed: bool
    entries: int
    opened_at: str
    position: int


class Entry(msgspec.Struct, kw_only=True):
    version: int
    position: int
    transfer_id: str
    kind: str
    counterpart: str | None
    minutes: int
    balance: int
    memo: str
    corrects: str | None
    occurred_at: str
    recorded_at: str
    actor: str
    channel: str


class Statement(msgspec.Struct, kw_only=True):
    account_id: str
    entries: list[Entry]
    next_before: int | None


class ProjectionHealth(msgspec.Struct, kw_only=True):
    position: int
    lag: int
    # "live"; "failing": stopped before an event it cannot apply; "stuck": behind and not
    # moving with no failure recorded (its projector is not running, say)
    status: str
    failure: Failure | None = None  # where and why it stopped, while failing


class EmbeddedBrokerHealth(msgspec.Struct, kw_only=True):
    state: str  # running | restarting
    failures: int  # failed starts since `timebank up` began
    last_error: str | None


class Health(msgspec.Struct, kw_only=True):
    status: str  # "ok", or "degraded" (answered with 503) when ``problems`` is not empty
    problems: list[str]  # what needs an operator, in words
    store_position: int | None
    broker_connected: bool
    stream_position: int | None
    relay_lag: int | None
    relay_stuck: bool
    projections: dict[str, ProjectionHealth]
    # Only under `timebank up` with its own broker: what its watchdog knows.
    embedded_broker: EmbeddedBrokerHealth | None = None
