"""What a coordinator does with help recorded between residents, besides resolving disputes:
confirm it for a receiver who cannot come to a kiosk, withdraw help recorded by mistake, and
correct a settlement with a compensating transfer. Each after a confirmation that the domain
was asked about first (a dry run): a refusal comes before any question."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar.response import Template
from msgspec import Meta

from domain.rules import RuleViolated
from services.exchange.commands import ConfirmHelp, WithdrawHelp
from services.ledger.commands import CorrectTransfer
from services.pages.console.common import confirm
from services.pages.console.disputes import EXCHANGE_PAGE, view
from services.pages.forms import Sent
from services.pages.i18n import N_, gettext
from services.pages.i18n import hours as hours_of

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


def _asked(sent: Sent, what: str, fields: list[tuple[str, Any]], **words: Any) -> Template:
    """The confirmation for ``what`` is done to the exchange; its "yes" posts ``fields``."""
    path = f"/console/exchanges/{sent.record_id}"
    return confirm(
        sent.request,
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


def _confirming(sent: Sent) -> Template:
    """Confirming, for the receiver named, help they received: whose help, how long."""
    shown = view(sent.station, sent.record_id, None)
    receiver = shown["unconfirmed"].get(str(sent.form.receiver), "—")
    received = [pair for pair in shown["pairs"] if pair["receiver"] == receiver]
    return _asked(
        sent,
        "confirmation",
        [("receiver", sent.form.receiver)],
        question=gettext("Confirm this help for the receiver?"),
        sentences=[
            *(_received(receiver, pair) for pair in received),
            gettext("Once everyone who received help has confirmed, the time credits move."),
        ],
        yes=gettext("Yes, confirm"),
    )


def _withdrawing(sent: Sent) -> Template:
    """Withdrawing, for the helper, help recorded by mistake, before anyone confirmed it."""
    return _asked(
        sent,
        "withdrawal",
        [("reason", sent.form.reason)],
        question=gettext("Withdraw this help?"),
        sentences=[
            gettext("It was recorded by mistake: no time credits move, and the record stays."),
            gettext("Why: %(reason)s") % {"reason": sent.form.reason},
        ],
        yes=gettext("Yes, withdraw"),
    )


def _correction(sent: Sent) -> CorrectTransfer:
    """The compensating transfer, against what settling the exchange moved."""
    settlement = view(sent.station, sent.record_id, None)["exchange"]["settlement"]
    if settlement is None:
        raise RuleViolated("transfer-not-found", "This exchange has moved no time credits.")
    return sent.form.command(UUID(settlement))


def _correcting(sent: Sent) -> Template:
    """Taking back (part of) what settling moved; the original stays on record."""
    data, taken = sent.form, sent.form.taken_back
    return _asked(
        sent,
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


ACTIONS = [
    EXCHANGE_PAGE.action("confirmation", Confirmation, N_("Confirmed."), ask=_confirming),
    EXCHANGE_PAGE.action("withdrawal", Withdrawal, N_("Withdrawn."), ask=_withdrawing),
    EXCHANGE_PAGE.action(
        "correction", Correction, N_("Corrected."), ask=_correcting, command=_correction
    ),
]
