"""Help exchanges over HTTP: record, confirm, dispute, resolve, withdraw; and their rules."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Router, get, post, put
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, QueryParameter

from domain.exchange import ExchangeStatus
from domain.identity import Role
from domain.rules import NotFound
from projections import exchanges
from services.api.command_routes import command_route
from services.bus import NotYours
from services.exchange.commands import (
    ChangeExchangeRules,
    Confirmation,
    ConfirmHelp,
    Dispute,
    DisputeHelp,
    RecordHelp,
    Resolution,
    ResolveDispute,
    Rules,
    Withdrawal,
    WithdrawHelp,
)
from services.exchange.handlers import rules_in_force
from services.store.eventstore import Timebank
from services.web.auth import Principal, allow
from services.web.context import After, Before, Limit, next_before
from services.web.reach import Reach
from services.web.reads import Reads

PARTIES = (Role.RESIDENT, Role.VOLUNTEER)


class Party(msgspec.Struct, kw_only=True):
    account_id: str
    role: str
    minutes: int
    confirmed: bool
    station_id: str  # the party's home station when the help was recorded


class Step(msgspec.Struct, kw_only=True):
    position: int
    type: str
    actor: str
    channel: str
    at: str
    detail: dict[str, Any]


class ExchangeSummary(msgspec.Struct, kw_only=True):
    exchange_id: str
    status: str
    listing_id: str | None
    description: str
    minutes: int
    occurred_at: str
    recorded_at: str
    recorded_by: str
    expires_at: str
    settled_at: str | None
    dispute_until: str | None
    settlement: str | None
    dispute_reason: str | None
    hold: str | None
    outcome: str | None
    resolution_reason: str | None
    position: int


class ExchangeDetail(ExchangeSummary, kw_only=True):
    parties: list[Party]
    steps: list[Step]


class ExchangeList(msgspec.Struct, kw_only=True):
    exchanges: list[ExchangeSummary]
    next_before: int | None


def _member_account(principal: Principal) -> UUID | None:
    """The caller's own account when a resident or volunteer acts; None for staff."""
    return principal.account_id if principal.is_member else None


class ExchangeController(Controller):
    """The exchanges' reads (``EXCHANGES`` adds their commands)."""

    @get(
        "/",
        sync_to_thread=True,
        opt=allow(*PARTIES, Role.COORDINATOR),
        summary="Exchanges, newest first (residents: their own)",
    )
    def list_exchanges(
        self,
        request: Request[Principal, Any, Any],
        reads: NamedDependency[Reads],
        reach: NamedDependency[Reach],
        after: After = None,
        status: Annotated[ExchangeStatus | None, QueryParameter()] = None,
        account: Annotated[UUID | None, QueryParameter(description="Staff: one account's")] = None,
        before: Before = None,
        limit: Limit = 50,
    ) -> ExchangeList:
        me = _member_account(request.user)
        if me is not None and account not in (None, me):
            raise PermissionDeniedException("You can only see your own exchanges.")
        whose = me or account
        rows = reads.query(
            ("exchanges",),
            after,
            lambda db: exchanges.listed(
                db,
                account=str(whose) if whose else None,
                status=status,
                before=before,
                limit=limit,
                # Staff: help in which a resident of their stations took part.
                stations=None if me else reach.among,
            ),
        )
        return ExchangeList(
            exchanges=[msgspec.convert(row, ExchangeSummary, strict=False) for row in rows],
            next_before=next_before(rows, limit),
        )

    @get("/rules", sync_to_thread=True, opt=allow(*tuple(Role)), summary="The rules in force")
    def rules(self, timebank: NamedDependency[Timebank]) -> Rules:
        rules = rules_in_force(timebank)
        return Rules(
            max_minutes=rules.max_minutes,
            confirm_within_hours=rules.confirm_within_hours,
            dispute_within_hours=rules.dispute_within_hours,
        )

    @get(
        "/{exchange_id:uuid}",
        sync_to_thread=True,
        opt=allow(*PARTIES, Role.COORDINATOR),
        summary="One exchange: its parties and every step (who, when, through which channel)",
    )
    def show(
        self,
        exchange_id: FromPath[UUID],
        request: Request[Principal, Any, Any],
        reads: NamedDependency[Reads],
        reach: NamedDependency[Reach],
        after: After = None,
    ) -> ExchangeDetail:
        row = reads.query(
            ("exchanges",), after, lambda db: exchanges.exchange(db, str(exchange_id))
        )
        me = _member_account(request.user)
        if row is None or (
            me is not None and str(me) not in {party["account_id"] for party in row["parties"]}
        ):
            # Residents learn nothing about exchanges they are not part of, not even that
            # they exist.
            raise NotFound("exchange-not-found", f"There is no exchange {exchange_id}.")
        if me is None and not any(reach.covers(party["station_id"]) for party in row["parties"]):
            raise NotYours("That help was between residents of stations you do not work at.")
        for step in row["steps"]:
            step["detail"] = msgspec.json.decode(step["detail"])
        return msgspec.convert(row, ExchangeDetail, strict=False)


EXCHANGES = Router(
    "/api/v1/exchanges",
    tags=["exchanges"],
    route_handlers=[
        ExchangeController,
        command_route(
            "record",
            post(
                "/",
                opt=allow(*PARTIES, Role.COORDINATOR),
                summary="Record help given; nothing moves until the receiver confirms",
            ),
            RecordHelp,
        ),
        command_route(
            "change_rules",
            put(
                "/rules",
                opt=allow(Role.COORDINATOR, Role.ADMIN),
                summary="Change the rules, saying why (exchanges already recorded keep theirs)",
            ),
            ChangeExchangeRules,
        ),
        command_route(
            "confirm",
            post(
                "/{exchange_id:uuid}/confirmation",
                opt=allow(*PARTIES, Role.COORDINATOR),
                summary="Confirm help received (a coordinator: for the receiver named)",
            ),
            ConfirmHelp,
            Confirmation,
        ),
        command_route(
            "dispute",
            post(
                "/{exchange_id:uuid}/disputes",
                opt=allow(*PARTIES, Role.COORDINATOR),
                summary="Dispute help: it is held out of balances until a coordinator resolves it",
            ),
            DisputeHelp,
            Dispute,
        ),
        command_route(
            "resolve",
            post(
                "/{exchange_id:uuid}/resolution",
                opt=allow(Role.COORDINATOR),
                summary="Resolve a dispute: uphold, adjust the minutes, or cancel",
            ),
            ResolveDispute,
            Resolution,
        ),
        command_route(
            "withdraw",
            post(
                "/{exchange_id:uuid}/withdrawal",
                opt=allow(*PARTIES, Role.COORDINATOR),
                summary="Withdraw help recorded by mistake, before anyone confirmed it",
            ),
            WithdrawHelp,
            Withdrawal,
        ),
    ],
)
