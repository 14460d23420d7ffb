"""Request and response bodies (msgspec Structs). Unknown fields are refused, not ignored."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from projections.deadletter import Failure
from services.windows import DoneAt, Windowed

CSV = "text/csv"  # the media type of the downloads spreadsheet programs open

IdempotencyKey = Annotated[
    str,
    Meta(
        min_length=8,
        max_length=100,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Client-chosen, unique per intended action (a UUID is ideal); a retry "
        "with the same key returns the first result and records nothing new.",
    ),
]
AccountRef = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=64,
        description="An account id (UUID), or `community` / `pool` for the system accounts.",
    ),
]
Minutes = Annotated[int, Meta(gt=0, le=90_000, description="Whole minutes, more than zero.")]
Reason = Annotated[str, Meta(min_length=1, max_length=500)]
# A number the domain's rules judge (with codes of their own); the bounds only keep it within
# what the stores can hold and add up.
RuledNumber = Annotated[int, Meta(ge=-1_000_000_000, le=1_000_000_000)]


class Strict(Windowed, forbid_unknown_fields=True, kw_only=True):
    """A request body: unknown fields refused, dated fields checked against their windows."""


class OpenAccount(Strict):
    owner: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=64,
            pattern=r"^[A-Za-z0-9_.:-]+$",
            description="The member's pseudonymous id; never a name or phone number.",
        ),
    ]


class NewTransfer(Strict):
    idempotency_key: IdempotencyKey
    from_account: AccountRef
    to_account: AccountRef
    minutes: Minutes
    memo: Annotated[str, Meta(max_length=500)] = ""
    occurred_at: DoneAt | None = None  # when the help was given


class NewCorrection(Strict):
    idempotency_key: IdempotencyKey
    reason: Reason
    minutes: Minutes | None = None  # None: undo all that is still uncorrected


class Closure(Strict):
    reason: Reason


class NewLimits(Strict):
    floor: Annotated[
        RuledNumber | None,
        Meta(description="The lowest the balance may go, in minutes (≤ 0); null: no floor."),
    ]
    cap: Annotated[
        RuledNumber | None,
        Meta(description="The highest the balance may go, in minutes (≥ 0); null: no cap."),
    ]
    reason: Reason


class Receipt(msgspec.Struct, kw_only=True):
    id: str
    position: int
    replayed: bool = False


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
