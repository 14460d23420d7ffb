"""The community pool over HTTP: donations in, grants out, and where it stands."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Router, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from domain.identity import Role
from projections import pool
from services.api.command_routes import command_route
from services.pool.commands import DonateToPool, GrantFromPool
from services.web.auth import allow
from services.web.context import After, Before, Limit, next_before
from services.web.reach import Reach
from services.web.reads import Reads


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
    """The pool's reads (``POOL`` adds its commands)."""

    @get("/", sync_to_thread=True, opt=allow(*tuple(Role)), summary="The pool's balance and totals")
    def standing(self, reads: NamedDependency[Reads], after: After = None) -> PoolStanding:
        row = reads.query(("pool",), after, pool.summary)
        return msgspec.convert(row, PoolStanding, strict=False)

    @get(
        "/movements",
        sync_to_thread=True,
        opt=allow(Role.COORDINATOR, Role.ADMIN),
        summary="Every donation, grant and other movement, newest first",
    )
    def movements(
        self,
        reads: NamedDependency[Reads],
        reach: NamedDependency[Reach],
        after: After = None,
        kind: Annotated[str | None, QueryParameter(max_length=20)] = None,
        before: Before = None,
        limit: Limit = 50,
    ) -> Movements:
        rows = reads.query(
            ("pool", "balances", "stations"),
            after,
            lambda db: pool.movements(
                db, kind=kind, before=before, limit=limit, stations=reach.among
            ),
        )
        return Movements(
            movements=[msgspec.convert(row, Movement, strict=False) for row in rows],
            next_before=next_before(rows, limit),
        )


POOL = Router(
    "/api/v1/pool",
    tags=["pool"],
    route_handlers=[
        PoolController,
        command_route(
            "donate",
            post(
                "/donations",
                opt=allow(Role.RESIDENT, Role.VOLUNTEER, own_account_only=True),
                summary="Give minutes you earned to the pool",
            ),
            DonateToPool,
        ),
        command_route(
            "grant",
            post(
                "/grants",
                opt=allow(Role.COORDINATOR),
                summary="Grant pool minutes to a resident in need, saying why",
            ),
            GrantFromPool,
        ),
    ],
)
