"""Accounts, transfers and corrections over HTTP. Thin: parse, call a handler, answer."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from domain.identity import Role
from domain.ledger import Limits
from domain.provenance import Provenance
from domain.rules import NotFound
from projections import balances, statements
from services import ledger
from services.api import schemas
from services.api.auth import allow
from services.api.context import After, Before, Limit, account_id, answer, check_owner, read
from services.runtime import Backbone

HOLDERS = (Role.RESIDENT, Role.VOLUNTEER)  # people who hold an account of their own
STAFF = (Role.COORDINATOR, Role.ADMIN)


class AccountController(Controller):
    path = "/api/v1/accounts"
    tags = ["ledger"]  # noqa: RUF012

    @post("/", opt=allow(*STAFF), summary="Open a time account")
    async def open_account(
        self,
        data: JSONBody[schemas.OpenAccount],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        return answer(
            await bone.commits.run(
                ledger.open_account, bone.timebank, data.owner, by, bone.settings.member_limits
            )
        )

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
        account = account_id(ref)
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
        account = account_id(ref)
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
        data: JSONBody[schemas.NewLimits],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        receipt = await bone.commits.run(
            ledger.change_limits,
            bone.timebank,
            account_id=account_id(ref),
            limits=Limits(floor=data.floor, cap=data.cap),
            reason=data.reason,
            by=by,
        )
        return answer(receipt)

    @post(
        "/{ref:str}/closure",
        opt=allow(Role.COORDINATOR),
        summary="Close; the balance moves to the pool",
    )
    async def close(
        self,
        ref: FromPath[str],
        data: JSONBody[schemas.Closure],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        receipt = await bone.commits.run(
            ledger.close_account,
            bone.timebank,
            account_id=account_id(ref),
            reason=data.reason,
            occurred_at=bone.clock(),
            by=by,
        )
        return answer(receipt)


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
        request: Request[Any, Any, Any],
        data: JSONBody[schemas.NewTransfer],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        now = bone.clock()
        source = account_id(data.from_account)
        check_owner(request, source)
        receipt = await bone.commits.run(
            ledger.transfer,
            bone.timebank,
            idempotency_key=data.idempotency_key,
            source=source,
            target=account_id(data.to_account),
            minutes=data.minutes,
            memo=data.memo,
            occurred_at=data.occurred_at or now,
            now=now,
            by=by,
        )
        return answer(receipt)

    @post(
        "/{transfer_id:uuid}/corrections",
        opt=allow(Role.COORDINATOR),
        summary="Post a compensating transfer",
    )
    async def correct(
        self,
        transfer_id: FromPath[UUID],
        data: JSONBody[schemas.NewCorrection],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[schemas.Receipt]:
        receipt = await bone.commits.run(
            ledger.correct,
            bone.timebank,
            idempotency_key=data.idempotency_key,
            transfer_id=transfer_id,
            minutes=data.minutes,
            reason=data.reason,
            occurred_at=bone.clock(),
            by=by,
        )
        return answer(receipt)
