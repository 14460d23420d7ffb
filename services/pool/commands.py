"""What residents and coordinators ask of the community pool, as they say it."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from msgspec import Meta

from services.bus import Command, IdempotencyKey, Minutes, Reason


class DonateToPool(Command):
    idempotency_key: IdempotencyKey
    from_account: UUID
    minutes: Minutes
    memo: Annotated[str, Meta(max_length=500)] = ""


class GrantFromPool(Command):
    idempotency_key: IdempotencyKey
    to_account: UUID
    minutes: Minutes
    reason: Reason
