"""Accounts, transfers and corrections over HTTP: each command route hands its body to the bus."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from domain.identity import Role
from domain.rules import NotFound
from projections import balances, statements
from services.api import schemas
from services.api.schemas import answer
from services.bus import Bus, Caller
from services.composition.runtime import Backbone
from services.ledger.commands import (
    ChangeLimits,
    CloseAccount,
    Closure,
    Correction,
    CorrectTransfer,
    Limits,
    OpenAccount,
    PostTransfer,
)
from services.ledger.handlers import account_named
from services.web.auth import allow
from services.web.context import After, Before, Limit, check_owner, read

HOLDERS = (Role.RESIDENT, Role.VOLUNTEER)  # people who hold an account of their own
STAFF = (Role.COORDINATOR, Role.ADMIN)


class AccountController(Controller):
    path = "/api/v1/accounts"
    tags = ["ledger"]  # noqa: RUF012

    @post("/", opt=allow(*STAFF), summary="Open a time account")
    async def open_account(
        self,
        data: JSONBody[OpenAccount],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Response[schemas.Receipt]:
        return answer(await bus.handle(data, caller))

    @get(
        "/{ref:str}",
        sync_to_thread=True,
        opt=allow(*HOLDERS, *STAFF, own_account_only=True),
        summary="An account's balance, limits and status",
    )
    def show(
        self,
        ref: FromPath[str],
        request: Request[Any, Any, Any],
        bone: NamedDependency[Backbone],
        after: After = None,
    ) -> schemas.Account:
        account = account_named(ref)
        check_owner(request, account)
        row = read(bone, ("balances",), after, lambda db: balances.account(db, account))
        if row is None:
            raise NotFound("account-not-found", f"There is no time account {ref!r}.")
        return schemas.Account(
            id=row.pop("account_id"), is_closed=bool(row.pop("is_closed")), **row
        )

    @get(
        "/{ref:str}/statement",
        sync_to_thread=True,
        opt=allow(*HOLDERS, *STAFF, own_account_only=True),
        summary="Entries, newest first",
    )
    def statement(
        self,
        ref: FromPath[str],
        request: Request[Any, Any, Any],
        bone: NamedDependency[Backbone],
        after: After = None,
        before: Before = None,
        limit: Limit = 50,
    ) -> schemas.Statement:
        account = account_named(ref)
        check_owner(request, account)
        rows = read(
            bone,
            ("statements",),
            after,
            lambda db: statements.entries(db, account, before=before, limit=limit),
        )
        entries = [
            msgspec.convert(row, schemas.Entry, from_attributes=False, strict=False) for row in rows
        ]
        return schemas.Statement(
            account_id=str(account),
            entries=entries,
            next_before=entries[-1].version if len(entries) == limit else None,
        )

    @put(
        "/{ref:str}/limits",
        opt=allow(Role.COORDINATOR),
        summary="Set an account's floor and cap, saying why",
    )
    async def change_limits(
        self,
        ref: FromPath[str],
        data: JSONBody[Limits],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Response[schemas.Receipt]:
        return answer(await bus.handle(ChangeLimits.at(data, account=ref), caller))

    @post(
        "/{ref:str}/closure",
        opt=allow(Role.COORDINATOR),
        summary="Close; the balance moves to the pool",
    )
    async def close(
        self,
        ref: FromPath[str],
        data: JSONBody[Closure],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Response[schemas.Receipt]:
        return answer(await bus.handle(CloseAccount.at(data, account=ref), caller))


class TransferController(Controller):
    path = "/api/v1/transfers"
    tags = ["ledger"]  # noqa: RUF012

    @post(
        "/",
        opt=allow(*HOLDERS, Role.COORDINATOR, own_account_only=True),
        summary="Move minutes from one account to another (residents: from their own)",
    )
    async def create(
        self,
        data: JSONBody[PostTransfer],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Response[schemas.Receipt]:
        return answer(await bus.handle(data, caller))

    @post(
        "/{transfer_id:uuid}/corrections",
        opt=allow(Role.COORDINATOR),
        summary="Post a compensating transfer",
    )
    async def correct(
        self,
        transfer_id: FromPath[UUID],
        data: JSONBody[Correction],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Response[schemas.Receipt]:
        return answer(await bus.handle(CorrectTransfer.at(data, transfer_id=transfer_id), caller))
