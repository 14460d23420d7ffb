"""A member's time-account limits: the lowest and highest its balance may go, set with a
reason after a confirmation. Both are checked when something is posted to the account."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from msgspec import Meta

from domain.identity import Member, Role
from domain.ledger import AccountKind, Limits, account_id_for
from projections import balances
from services.bus import Caller
from services.composition.runtime import Backbone
from services.identity import records as identity
from services.ledger.commands import ChangeLimits
from services.pages.console.common import Form, confirm, show
from services.pages.forms import asked_first
from services.pages.i18n import gettext
from services.pages.i18n import hours as hours_of
from services.web.auth import allow
from services.web.reach import Reach
from services.web.reads import Reads

PAGE = "console/members/limits.html"
PART = "console/members/_limits.html"
# Whole minutes, or nothing for no limit; the bounds keep it within what the stores hold, and
# what lies between is the domain's to judge.
Bound = Annotated[str, Meta(pattern=r"^\s*(-?[0-9]{1,9})?\s*$")]


class LimitsChange(msgspec.Struct, kw_only=True):
    floor: Bound = ""
    cap: Bound = ""
    reason: Annotated[str, Meta(max_length=500)] = ""
    confirmed: bool = False

    @property
    def limits(self) -> Limits:
        return Limits(floor=_minutes(self.floor), cap=_minutes(self.cap))

    def command(self, account: UUID) -> ChangeLimits:
        limits = self.limits
        return ChangeLimits(
            account=str(account), floor=limits.floor, cap=limits.cap, reason=self.reason
        )


def _minutes(bound: str) -> int | None:
    return int(bound) if bound.strip() else None


def _standing(reads: Reads, member: Member, after: int | None, done: str = "") -> dict[str, Any]:
    account_id = account_id_for(str(member.id), AccountKind.MEMBER)
    account = reads.query(("balances",), after, lambda db: balances.account(db, account_id))
    return {"member": member, "account": account, "done": done}


@get("/members/{member_id:uuid}/limits", opt=allow(Role.COORDINATOR), sync_to_thread=True)
def limits_form(
    request: Request[Any, Any, Any],
    member_id: FromPath[UUID],
    bone: NamedDependency[Backbone],
    reach: NamedDependency[Reach],
) -> Template:
    member = identity.member_of(bone.timebank, member_id)
    reach.check(member.station)
    return show(request, PAGE, _standing(bone.read_side, member, None), PART)


def _bound(minutes: int | None, unbounded: str) -> str:
    return unbounded if minutes is None else hours_of(minutes)


def _sentences(number: str, limits: Limits, reason: str) -> list[str]:
    return [
        gettext("Member %(number)s's balance may go as low as %(floor)s.")
        % {"number": number, "floor": _bound(limits.floor, gettext("any amount"))},
        gettext("Member %(number)s's balance may go as high as %(cap)s.")
        % {"number": number, "cap": _bound(limits.cap, gettext("any amount"))},
        gettext("Why: %(reason)s") % {"reason": reason},
    ]


@post(
    "/members/{member_id:uuid}/limits",
    opt=allow(Role.COORDINATOR),
    sync_to_thread=True,
    status_code=200,
)
def change_limits(
    request: Request[Any, Any, Any],
    member_id: FromPath[UUID],
    data: Form[LimitsChange],
    bone: NamedDependency[Backbone],
    caller: NamedDependency[Caller],
) -> Template:
    """First the limits as they would be, to confirm; then the change."""
    member = identity.member_of(bone.timebank, member_id)
    path = f"/console/members/{member_id}/limits"
    return asked_first(
        bone.bus,
        caller,
        data.command(account_id_for(str(member.id), AccountKind.MEMBER)),
        confirmed=data.confirmed,
        question=lambda: confirm(
            request,
            question=gettext("Change this account's limits?"),
            sentences=_sentences(member.member_number, data.limits, data.reason),
            action=path,
            fields=[("floor", data.floor), ("cap", data.cap), ("reason", data.reason)],
            target="#limits",
            back=path,
            yes=gettext("Yes, change the limits"),
        ),
        then=lambda receipt: show(
            request,
            PAGE,
            _standing(bone.read_side, member, receipt.position, gettext("The limits are changed.")),
            PART,
        ),
    )
