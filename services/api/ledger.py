"""Accounts, transfers and corrections over HTTP: each command route hands its command to the
bus."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Router, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath

from domain.identity import Role
from domain.rules import NotFound
from projections import balances, statements
from services.api import schemas
from services.api.command_routes import command_route
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
from services.web.context import After, Before, Limit, check_owner
from services.web.reach import Reach
from services.web.reads import Reads

HOLDERS = (Role.RESIDENT, Role.VOLUNTEER)  # people who hold an account of their own
STAFF = (Role.COORDINATOR, Role.ADMIN)


def _check_reach(reads: Reads, reach: Reach, account: UUID, after: int | None) -> None:
    """A resident's account (minutes and memos, no personal details) is read by the staff of
    their station, street or district; the community and pool accounts by any staff."""
    station = reads.query(
        ("balances", "stations"), after, lambda db: balances.home_station(db, account)
    )
    if station is None:
        return
    reach.check(station)


class AccountController(Controller):
    """The accounts' reads (``ACCOUNTS`` adds their commands)."""

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
        reads: NamedDependency[Reads],
        reach: NamedDependency[Reach],
        after: After = None,
    ) -> schemas.Account:
        account = account_named(ref)
        check_owner(request, account)
        if not request.user.is_member:  # residents: check_owner
            _check_reach(reads, reach, account, after)
        row = reads.query(("balances",), after, lambda db: balances.account(db, account))
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
        reads: NamedDependency[Reads],
        reach: NamedDependency[Reach],
        after: After = None,
        before: Before = None,
        limit: Limit = 50,
    ) -> schemas.Statement:
        account = account_named(ref)
        check_owner(request, account)
        if not request.user.is_member:  # residents: check_owner
            _check_reach(reads, reach, account, after)
        rows = reads.query(
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


# An account's path names it ``ref`` (an id, or `community` / `pool`); its commands, ``account``.
ACCOUNT = {"ref": "account"}
ACCOUNTS = Router(
    "/api/v1/accounts",
    tags=["ledger"],
    route_handlers=[
        AccountController,
        command_route(
            "open_account", post("/", opt=allow(*STAFF), summary="Open a time account"), OpenAccount
        ),
        command_route(
            "change_limits",
            put(
                "/{ref:str}/limits",
                opt=allow(Role.COORDINATOR),
                summary="Set an account's floor and cap, saying why",
            ),
            ChangeLimits,
            Limits,
            fields=ACCOUNT,
        ),
        command_route(
            "close",
            post(
                "/{ref:str}/closure",
                opt=allow(Role.COORDINATOR),
                summary="Close; the balance moves to the pool",
            ),
            CloseAccount,
            Closure,
            fields=ACCOUNT,
        ),
    ],
)
TRANSFERS = Router(
    "/api/v1/transfers",
    tags=["ledger"],
    route_handlers=[
        command_route(
            "create",
            post(
                "/",
                opt=allow(*HOLDERS, Role.COORDINATOR, own_account_only=True),
                summary="Move minutes from one account to another (residents: from their own)",
            ),
            PostTransfer,
        ),
        command_route(
            "correct",
            post(
                "/{transfer_id:uuid}/corrections",
                opt=allow(Role.COORDINATOR),
                summary="Post a compensating transfer",
            ),
            CorrectTransfer,
            Correction,
        ),
    ],
)
