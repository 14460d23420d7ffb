"""Family ties and gifts to family (亲属转赠) over HTTP: residents act for themselves at a
kiosk; coordinators record a member's consent from the signed paper form."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from domain.family import Relation
from domain.identity import Role
from domain.ledger import AccountKind, account_id_for
from domain.rules import NotFound
from projections import family
from services.api.command_routes import command_route
from services.family.commands import (
    ConfirmFamilyTie,
    EndFamilyTie,
    GiveToFamily,
    ProposeFamilyTie,
)
from services.family.handlers import allowance_of
from services.ledger.handlers import account_of
from services.web.auth import allow
from services.web.context import After, backbone, check_owner
from services.web.reads import Reads

MEMBERS = (Role.RESIDENT, Role.VOLUNTEER)


class Tie(msgspec.Struct, kw_only=True):
    """A tie as one of its two members sees it."""

    tie_id: str
    relative: str
    relation: Relation  # what the relative is to the member asked about
    status: str  # proposed, confirmed or ended
    awaiting_my_consent: bool
    proposed_at: str
    confirmed_at: str | None
    ended_at: str | None


class Allowance(msgspec.Struct, kw_only=True):
    """What a member may still give their family now, in minutes, and why."""

    account_id: str
    available: int
    earned_by_service: int
    given: int
    given_this_year: int
    yearly_limit: int
    balance: int


class Ties(msgspec.Struct, kw_only=True):
    member: str
    ties: list[Tie]


@get(
    "/ties",
    sync_to_thread=True,
    opt=allow(*MEMBERS, Role.COORDINATOR, Role.ADMIN, own_account_only=True),
    summary="A member's family ties, proposed, confirmed and ended (residents: their own)",
)
def ties(
    member: Annotated[UUID, QueryParameter(description="The member whose ties to list")],
    request: Request[Any, Any, Any],
    reads: NamedDependency[Reads],
    after: After = None,
) -> Ties:
    check_owner(request, account_id_for(str(member), AccountKind.MEMBER))
    rows = reads.query(("family",), after, lambda db: family.ties_of(db, member))
    return Ties(member=str(member), ties=[msgspec.convert(row, Tie) for row in rows])


@get(
    "/allowance/{ref:uuid}",
    sync_to_thread=True,
    opt=allow(*MEMBERS, Role.COORDINATOR, Role.ADMIN, own_account_only=True),
    summary="What a member may still give their family now (residents: themselves)",
)
def allowance(ref: FromPath[UUID], request: Request[Any, Any, Any]) -> Allowance:
    """Read from the record itself, as a gift is decided: no read model keeps what service
    earned."""
    account = ref
    check_owner(request, account)
    bone = backbone(request.app.state)
    found = account_of(bone.timebank, account)
    if found.kind is not AccountKind.MEMBER:
        raise NotFound("account-not-found", f"There is no member account {ref}.")
    now = allowance_of(bone.timebank, found, bone.settings, bone.clock())
    return Allowance(
        account_id=str(account),
        available=now.available,
        earned_by_service=now.earned_by_service,
        given=now.given,
        given_this_year=now.given_this_year,
        yearly_limit=now.yearly_limit,
        balance=now.balance,
    )


FAMILY = Router(
    "/api/v1/family",
    tags=["family"],
    route_handlers=[
        ties,
        allowance,
        command_route(
            "propose_tie",
            post(
                "/ties",
                opt=allow(*MEMBERS, Role.COORDINATOR, own_account_only=True),
                summary="Register a family member; staff give the signed paper form's reference",
            ),
            ProposeFamilyTie,
        ),
        command_route(
            "confirm_tie",
            post(
                "/ties/confirmation",
                opt=allow(*MEMBERS, Role.COORDINATOR, own_account_only=True),
                summary="Consent to a tie a family member proposed",
            ),
            ConfirmFamilyTie,
        ),
        command_route(
            "end_tie",
            post(
                "/ties/ending",
                opt=allow(*MEMBERS, Role.COORDINATOR, own_account_only=True),
                summary="End a family tie, saying why; gifts made stay",
            ),
            EndFamilyTie,
        ),
        command_route(
            "give",
            post(
                "/gifts",
                sync_to_thread=True,
                opt=allow(*MEMBERS, Role.COORDINATOR, own_account_only=True),
                summary="Give minutes earned by service to a family member",
            ),
            GiveToFamily,
        ),
    ],
)
