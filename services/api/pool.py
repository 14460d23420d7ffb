"""The community pool over HTTP: donations in, grants out, and where it stands."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter
from msgspec import Meta

from domain.identity import Role
from domain.provenance import Provenance
from projections import pool
from services import pool as pool_commands
from services.api import schemas
from services.api.auth import Principal, allow
from services.api.context import After, Before, Limit, answer, check_owner, next_before, read
from services.bus import IdempotencyKey, Minutes, Reason
from services.runtime import Backbone


class Donation(schemas.Strict):
    idempotency_key: IdempotencyKey
    from_account: UUID
    minutes: Minutes
    memo: Annotated[str, Meta(max_length=500)] = ""


class Grant(schemas.Strict):
    idempotency_key: IdempotencyKey
    to_account: UUID
    minutes: Minutes
    reason: Reason


class PoolStanding(msgspec.Struct, kw_only=True):
    balance: int
    donated: int
    granted: int
    grants: int


class Movement(msgspec.Struct, kw_only=True):
    transfer_id: str
    kind: str
    counterpart: str | None
    minutes: int
    memo: str
    actor: str
    channel: str
    occurred_at: str
    position: int


class Movements(msgspec.Struct, kw_only=True):
    movements: list[Movement]
    next_before: int | None


class PoolController(Controller):
    path = "/api/v1/pool"
    tags = ["pool"]  # noqa: RUF012

    @get("/", sync_to_thread=True, opt=allow(*tuple(Role)), summary="The pool's balance and totals")
    def standing(self, bone: NamedDependency[Backbone], after: After = None) -> PoolStanding:
        row = read(bone, ("pool",), after, pool.summary)
        return msgspec.convert(row, PoolStanding, strict=False)

    @get(
        "/movements",
        sync_to_thread=True,
        opt=allow(Role.COORDINATOR, Role.ADMIN),
        summary="Every donation, grant and other movement, newest first",
    )
    def movements(
        self,
        bone: NamedDependency[Backbone],
        after: After = None,
        kind: Annotated[str | None, QueryParameter(max_length=20)] = None,
        before: Before = None,
        limit: Limit = 50,
    ) -> Movements:
        rows = read(
            bone,
            ("pool",),
            after,
            lambda db: pool.movements(db, kind=kind, before=before, limit=limit),
        )
        return Movements(
            movements=[msgspec.convert(row, Movement, strict=False) for row in rows],
            next_before=next_before(rows, limit),
        )

    @post(
        "/donations",
        opt=allow(Role.RESIDENT, Role.VOLUNTEER, own_account_only=True),
        summary="Give minutes you earned to the pool",
    )
    async def donate(
        self,
        request: Request[Principal, Any, Any],
        data: JSONBody[Donation],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        check_owner(request, data.from_account)
        receipt = await bone.commits.run(
            pool_commands.donation,
            bone.timebank,
            idempotency_key=data.idempotency_key,
            donor=data.from_account,
            minutes=data.minutes,
            memo=data.memo,
            now=bone.clock(),
            by=by,
        )
        return answer(receipt)

    @post(
        "/grants",
        opt=allow(Role.COORDINATOR),
        summary="Grant pool minutes to a resident in need, saying why",
    )
    async def grant(
        self,
        data: JSONBody[Grant],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        receipt = await bone.commits.run(
            pool_commands.grant_from_pool,
            bone.timebank,
            idempotency_key=data.idempotency_key,
            recipient=data.to_account,
            minutes=data.minutes,
            reason=data.reason,
            now=bone.clock(),
            by=by,
        )
        return answer(receipt)
