"""The community pool: where it stands, every movement in and out, and grants to residents in
need — with a reason, after a confirmation that says who receives how much."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Template
from msgspec import Meta

from domain.identity import MEMBER_NUMBER_LONGEST, Role, member_id_for
from domain.ledger import AccountKind, account_id_for
from domain.provenance import Provenance
from projections import pool
from services.bus import Caller, Receipt
from services.composition.runtime import Backbone
from services.identity import records as identity
from services.identity.commands import MemberNumber
from services.pages import purposes
from services.pages.console.common import (
    LIST_LIMIT,
    STAFF,
    Form,
    People,
    confirm,
    people,
    show,
)
from services.pages.forms import asked_first
from services.pages.i18n import gettext
from services.pages.i18n import hours as hours_of
from services.pool.commands import GrantFromPool
from services.web.auth import allow
from services.web.reach import Reach

PAGE = "console/pool.html"
PART = "console/_pool.html"


class Grant(msgspec.Struct, kw_only=True):
    member_number: MemberNumber
    minutes: Annotated[int, Meta(gt=0, le=90_000)]
    reason: Annotated[str, Meta(max_length=500)] = ""
    idempotency_key: Annotated[str, Meta(max_length=100)] = ""
    confirmed: bool = False

    def command(self, recipient: UUID) -> GrantFromPool:
        return GrantFromPool(
            idempotency_key=self.idempotency_key or uuid.uuid4().hex,
            to_account=recipient,
            minutes=self.minutes,
            reason=self.reason,
        )


def _standing(
    bone: Backbone, after: int | None, by: Provenance, reach: Reach, done: str = ""
) -> dict[str, Any]:
    """The pool's figures and latest movements with residents of the caller's stations (or
    none), each resident in them named (one list view)."""

    def query(db: Any) -> dict[str, Any]:
        return {
            "summary": pool.summary(db),
            "movements": pool.movements(
                db, kind=None, before=None, limit=LIST_LIMIT, stations=reach.among
            ),
            "people": people(bone, db),
            "done": done,
            "member": "",
        }

    shown = bone.read_side.query(("pool", "balances", "stations"), after, query)
    who: People = shown["people"]
    counterparts = [row["counterpart"] for row in shown["movements"] if row["counterpart"]]
    members = [who.account_member(account) for account in counterparts]
    named = [member for member in members if member is not None]
    who.reveal(bone.vault, named, purpose=purposes.POOL, by=by)
    return shown


@get("/pool", opt=allow(*STAFF), sync_to_thread=True)
def standing(
    request: Request[Any, Any, Any],
    bone: NamedDependency[Backbone],
    by: NamedDependency[Provenance],
    reach: NamedDependency[Reach],
    member: Annotated[str, QueryParameter(max_length=MEMBER_NUMBER_LONGEST)] = "",
) -> Template:
    """``member``: the member number a grant is for, when coming from their page."""
    return show(request, PAGE, {**_standing(bone, None, by, reach), "member": member}, PART)


@post("/pool/grants", opt=allow(Role.COORDINATOR), sync_to_thread=True, status_code=200)
def grant(
    request: Request[Any, Any, Any],
    data: Form[Grant],
    bone: NamedDependency[Backbone],
    caller: NamedDependency[Caller],
    reach: NamedDependency[Reach],
) -> Template:
    """First who receives how much and why, to confirm; then the grant."""
    member = identity.member_of(bone.timebank, member_id_for(data.member_number))
    return asked_first(
        bone.bus,
        caller,
        data.command(account_id_for(str(member.id), AccountKind.MEMBER)),
        confirmed=data.confirmed,
        question=lambda: _question(request, data),
        then=lambda receipt: _granted(request, bone, data, receipt, caller.by, reach),
    )


def _question(request: Request[Any, Any, Any], data: Grant) -> Template:
    return confirm(
        request,
        question=gettext("Grant from the pool?"),
        sentences=[
            gettext("Member %(number)s will receive %(hours)s from the community pool.")
            % {"number": data.member_number, "hours": hours_of(data.minutes)},
            gettext("Why: %(reason)s") % {"reason": data.reason},
        ],
        action="/console/pool/grants",
        fields=[
            ("member_number", data.member_number),
            ("minutes", data.minutes),
            ("reason", data.reason),
            ("idempotency_key", uuid.uuid4().hex),
        ],
        target="#pool",
        back="/console/pool",
        yes=gettext("Yes, grant"),
    )


def _granted(
    request: Request[Any, Any, Any],
    bone: Backbone,
    data: Grant,
    receipt: Receipt,
    by: Provenance,
    reach: Reach,
) -> Template:
    done = gettext("Granted %(hours)s to member %(number)s.") % {
        "hours": hours_of(data.minutes),
        "number": data.member_number,
    }
    return show(request, PAGE, _standing(bone, receipt.position, by, reach, done), PART)
