"""What a coordinator does with help recorded between residents, besides resolving disputes:
confirm it for a receiver who cannot come to a kiosk, withdraw help recorded by mistake, and
correct a settlement with a compensating transfer. Each after a confirmation that the domain
was asked about first (a dry run): a refusal comes before any question."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from msgspec import Meta

from domain.identity import Role
from domain.provenance import Provenance
from domain.rules import RuleViolated
from services.bus import Caller, Receipt
from services.composition.runtime import Backbone
from services.exchange.commands import ConfirmHelp, WithdrawHelp
from services.ledger.commands import CorrectTransfer
from services.pages.console.common import Form, confirm, show
from services.pages.console.disputes import PAGE, PART, view
from services.pages.forms import asked_first
from services.pages.i18n import gettext
from services.pages.i18n import hours as hours_of
from services.web.auth import allow

Key = Annotated[str, Meta(max_length=100)]
Reason = Annotated[str, Meta(max_length=500)]


class Confirmation(msgspec.Struct, kw_only=True):
    receiver: UUID  # the receiver's account
    idempotency_key: Key = ""
    confirmed: bool = False

    def command(self, exchange_id: UUID) -> ConfirmHelp:
        return ConfirmHelp(
            idempotency_key=self.idempotency_key or uuid.uuid4().hex,
            exchange_id=exchange_id,
            receiver=self.receiver,
        )


class Withdrawal(msgspec.Struct, kw_only=True):
    reason: Reason = ""
    idempotency_key: Key = ""
    confirmed: bool = False

    def command(self, exchange_id: UUID) -> WithdrawHelp:
        return WithdrawHelp(
            idempotency_key=self.idempotency_key or uuid.uuid4().hex,
            exchange_id=exchange_id,
            reason=self.reason,
        )


class Correction(msgspec.Struct, kw_only=True):
    minutes: Annotated[str, Meta(pattern=r"^\s*([0-9]{1,6})?\s*$")] = ""  # empty: all that is left
    reason: Reason = ""
    idempotency_key: Key = ""
    confirmed: bool = False

    @property
    def taken_back(self) -> int | None:
        return int(self.minutes) if self.minutes.strip() else None

    def command(self, transfer_id: UUID) -> CorrectTransfer:
        return CorrectTransfer(
            idempotency_key=self.idempotency_key or uuid.uuid4().hex,
            transfer_id=transfer_id,
            minutes=self.taken_back,
            reason=self.reason,
        )


def _done(
    request: Request[Any, Any, Any],
    bone: Backbone,
    exchange_id: UUID,
    receipt: Receipt,
    done: str,
    by: Provenance,
) -> Template:
    shown = view(bone, exchange_id, receipt.position, by)
    return show(request, PAGE, {**shown, "done": done}, PART)


def _asked(
    request: Request[Any, Any, Any],
    exchange_id: UUID,
    what: str,
    fields: list[tuple[str, Any]],
    **words: Any,
) -> Template:
    """The confirmation for ``what`` is done to the exchange; its "yes" posts ``fields``."""
    path = f"/console/exchanges/{exchange_id}"
    return confirm(
        request,
        action=f"{path}/{what}",
        fields=[*fields, ("idempotency_key", uuid.uuid4().hex)],
        target="#exchange",
        back=path,
        **words,
    )


def _received(receiver: str, pair: dict[str, Any]) -> str:
    return gettext(
        "On behalf of member %(receiver)s: member %(provider)s helped them for %(hours)s."
    ) % {"receiver": receiver, "provider": pair["provider"], "hours": hours_of(pair["minutes"])}


@post(
    "/exchanges/{exchange_id:uuid}/confirmation",
    opt=allow(Role.COORDINATOR),
    sync_to_thread=True,
    status_code=200,
)
def confirm_help(
    request: Request[Any, Any, Any],
    exchange_id: FromPath[UUID],
    data: Form[Confirmation],
    bone: NamedDependency[Backbone],
    caller: NamedDependency[Caller],
) -> Template:
    """Confirm, for the receiver named, help they received (the last confirmation settles)."""
    command = data.command(exchange_id)

    def question() -> Template:
        shown = view(bone, exchange_id, None)
        receiver = shown["unconfirmed"].get(str(data.receiver), "—")
        received = [pair for pair in shown["pairs"] if pair["receiver"] == receiver]
        return _asked(
            request,
            exchange_id,
            "confirmation",
            [("receiver", data.receiver)],
            question=gettext("Confirm this help for the receiver?"),
            sentences=[
                *(_received(receiver, pair) for pair in received),
                gettext("Once everyone who received help has confirmed, the time credits move."),
            ],
            yes=gettext("Yes, confirm"),
        )

    def then(receipt: Receipt) -> Template:
        return _done(request, bone, exchange_id, receipt, gettext("Confirmed."), caller.by)

    return asked_first(
        bone.bus, caller, command, confirmed=data.confirmed, question=question, then=then
    )


@post(
    "/exchanges/{exchange_id:uuid}/withdrawal",
    opt=allow(Role.COORDINATOR),
    sync_to_thread=True,
    status_code=200,
)
def withdraw_help(
    request: Request[Any, Any, Any],
    exchange_id: FromPath[UUID],
    data: Form[Withdrawal],
    bone: NamedDependency[Backbone],
    caller: NamedDependency[Caller],
) -> Template:
    """Withdraw, for the helper, help recorded by mistake, before anyone confirmed it."""
    command = data.command(exchange_id)

    def question() -> Template:
        return _asked(
            request,
            exchange_id,
            "withdrawal",
            [("reason", data.reason)],
            question=gettext("Withdraw this help?"),
            sentences=[
                gettext("It was recorded by mistake: no time credits move, and the record stays."),
                gettext("Why: %(reason)s") % {"reason": data.reason},
            ],
            yes=gettext("Yes, withdraw"),
        )

    def then(receipt: Receipt) -> Template:
        return _done(request, bone, exchange_id, receipt, gettext("Withdrawn."), caller.by)

    return asked_first(
        bone.bus, caller, command, confirmed=data.confirmed, question=question, then=then
    )


@post(
    "/exchanges/{exchange_id:uuid}/correction",
    opt=allow(Role.COORDINATOR),
    sync_to_thread=True,
    status_code=200,
)
def correct_settlement(
    request: Request[Any, Any, Any],
    exchange_id: FromPath[UUID],
    data: Form[Correction],
    bone: NamedDependency[Backbone],
    caller: NamedDependency[Caller],
) -> Template:
    """Take back (part of) what settling moved, by a compensating transfer; the original
    stays on record."""
    settlement = view(bone, exchange_id, None)["exchange"]["settlement"]
    if settlement is None:
        raise RuleViolated("transfer-not-found", "This exchange has moved no time credits.")
    command = data.command(UUID(settlement))

    def question() -> Template:
        taken = data.taken_back
        return _asked(
            request,
            exchange_id,
            "correction",
            [("minutes", data.minutes), ("reason", data.reason)],
            question=gettext("Correct what this exchange moved?"),
            sentences=[
                gettext("A compensating transfer takes back all that is still uncorrected.")
                if taken is None
                else gettext("A compensating transfer takes back %(hours)s.")
                % {"hours": hours_of(taken)},
                gettext("The original transfer stays on record."),
                gettext("Why: %(reason)s") % {"reason": data.reason},
            ],
            yes=gettext("Yes, correct it"),
        )

    def then(receipt: Receipt) -> Template:
        return _done(request, bone, exchange_id, receipt, gettext("Corrected."), caller.by)

    return asked_first(
        bone.bus, caller, command, confirmed=data.confirmed, question=question, then=then
    )
