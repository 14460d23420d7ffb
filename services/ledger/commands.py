"""What staff and residents ask of the ledger, as they say it."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from msgspec import Meta

from services.bus import AccountRef, Command, IdempotencyKey, Minutes, Reason, RuledNumber
from services.windows import DoneAt


class OpenAccount(Command):
    owner: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=64,
            pattern=r"^[A-Za-z0-9_.:-]+$",
            description="The member's pseudonymous id; never a name or phone number.",
        ),
    ]


class PostTransfer(Command):
    idempotency_key: IdempotencyKey
    from_account: AccountRef
    to_account: AccountRef
    minutes: Minutes
    memo: Annotated[str, Meta(max_length=500)] = ""
    occurred_at: DoneAt | None = None  # when the help was given; None: now


class Correction(Command):
    idempotency_key: IdempotencyKey
    reason: Reason
    minutes: Minutes | None = None  # None: undo all that is still uncorrected


class CorrectTransfer(Correction, kw_only=True):
    transfer_id: UUID


class Closure(Command):
    reason: Reason


class CloseAccount(Closure, kw_only=True):
    account: AccountRef


class Limits(Command):
    floor: Annotated[
        RuledNumber | None,
        Meta(description="The lowest the balance may go, in minutes (≤ 0); null: no floor."),
    ]
    cap: Annotated[
        RuledNumber | None,
        Meta(description="The highest the balance may go, in minutes (≥ 0); null: no cap."),
    ]
    reason: Reason


class ChangeLimits(Limits, kw_only=True):
    account: AccountRef
