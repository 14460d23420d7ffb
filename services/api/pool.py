"""The community pool over HTTP: donations in, grants out, and where it stands."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter

from domain.identity import Role
from projections import pool
from services.api import schemas
from services.api.schemas import answer
from services.bus import Bus, Caller
from services.composition.runtime import Backbone
from services.pool.commands import DonateToPool, GrantFromPool
from services.web.auth import allow
from services.web.context import After, Before, Limit, next_before, read


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
        data: JSONBody[DonateToPool],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Response[schemas.Receipt]:
        return answer(await bus.handle(data, caller))

    @post(
        "/grants",
        opt=allow(Role.COORDINATOR),
        summary="Grant pool minutes to a resident in need, saying why",
    )
    async def grant(
        self,
        data: JSONBody[GrantFromPool],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Response[schemas.Receipt]:
        return answer(await bus.handle(data, caller))
