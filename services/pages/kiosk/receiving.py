"""Confirm (or dispute) help I received. The list names who helped, masked (王*英); opening one
record says in plain words who helped and how much time will move, naming the helper (the opening is
logged), and the resident confirms it — the time moves at once and the new balance shows —
or raises an objection, with a reason, that holds it for a social worker."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from msgspec import Meta

from domain.provenance import Provenance
from domain.rules import NotFound
from projections import exchanges
from projections.readstore import Row
from services.composition.runtime import Backbone
from services.exchange.commands import ConfirmHelp, DisputeHelp
from services.identity import records as identity
from services.pages.i18n import N_, gettext, hours
from services.pages.kiosk import people
from services.pages.kiosk.frame import (
    RESIDENTS,
    ActionKey,
    account_of,
    confirmation,
    new_key,
    resident_action,
    screen,
    to_done,
    with_note,
)
from services.volunteers.handlers import masked
from services.web.context import After
from services.web.reads import Reads

# Recorded in English, as every purpose is; the access log shows it in the reader's language.
PURPOSE = N_("kiosk: name who gave the help a resident is asked to confirm")
WAITING = 20
# Reasons an elder can pick with one touch; what they write is added to the one picked.
OBJECTIONS = {
    "wrong-time": N_("The time is not right"),
    "not-received": N_("I did not receive this help"),
    "other": N_("Something else"),
}


class Confirmation(msgspec.Struct, kw_only=True):
    key: ActionKey

    def command(self, exchange_id: UUID) -> ConfirmHelp:
        return ConfirmHelp(idempotency_key=f"kiosk-confirm:{self.key}", exchange_id=exchange_id)


class Objection(msgspec.Struct, kw_only=True):
    key: ActionKey
    why: Annotated[str, Meta(pattern="^(" + "|".join(OBJECTIONS) + ")$")]
    words: Annotated[str, Meta(max_length=300)] = ""

    def reason(self) -> str:
        """The reason on record: the one picked, in the resident's language, and their words."""
        return with_note(gettext(OBJECTIONS[self.why]), self.words)

    def command(self, exchange_id: UUID) -> DisputeHelp:
        return DisputeHelp(
            idempotency_key=f"kiosk-dispute:{self.key}",
            exchange_id=exchange_id,
            reason=self.reason(),
        )


def _mine_to_confirm(reads: Reads, account: UUID, exchange_id: UUID) -> Row:
    """The exchange, if it waits for this resident's confirmation (anything else is, to
    them, not there at all)."""
    row = reads.query(("exchanges",), None, lambda db: exchanges.exchange(db, str(exchange_id)))
    mine = [
        party
        for party in (row["parties"] if row else [])
        if party["account_id"] == str(account) and party["role"] == "receiver"
    ]
    if row is None or row["status"] != "awaiting_confirmation" or not mine or mine[0]["confirmed"]:
        raise NotFound("exchange-not-found", f"There is no exchange {exchange_id}.")
    row["share"] = mine[0]["minutes"]
    return row


def _helpers(bone: Backbone, row: Row, by: Provenance) -> str:
    """Who gave the help, by name (each opening is logged)."""
    return ", ".join(
        people.name_of(bone, member, purpose=PURPOSE, by=by)
        for member in _providers(bone.read_side, row)
    )


def _providers(reads: Reads, row: Row) -> list[UUID]:
    """The members who gave the help of one exchange (with its parties)."""
    providers = [party["account_id"] for party in row["parties"] if party["role"] == "provider"]
    return reads.query(
        ("balances",),
        None,
        lambda db: [people.member_of_account(db, account) for account in providers],
    )


def _waiting_with_helpers(
    bone: Backbone, account: str, after: int | None, by: Provenance
) -> list[Row]:
    """The help waiting for this resident's confirmation, each with who gave it, masked: the
    list is on a shared screen. The helpers' names are opened as one list view in the log."""

    def query(db: Any) -> list[Row]:
        rows = exchanges.awaiting(db, account=account, role="receiver", limit=WAITING)
        return [
            {**row, "parties": exchanges.exchange(db, row["exchange_id"])["parties"]}
            for row in rows
        ]

    rows = bone.read_side.query(("exchanges",), after, query)
    helpers = {row["exchange_id"]: _providers(bone.read_side, row) for row in rows}
    shown = [member for members in helpers.values() for member in members]
    names = identity.open_names(bone.timebank, bone.vault, member_ids=shown, purpose=PURPOSE, by=by)
    for row in rows:
        row["helpers"] = ", ".join(
            masked(names[member]) if member in names else gettext(people.ERASED)
            for member in helpers[row["exchange_id"]]
        )
    return rows


HELP = "/kiosk/received/{exchange_id:uuid}"  # help the resident received


class Receiving(Controller):
    path = "/kiosk/received"

    @get("/", opt=RESIDENTS, sync_to_thread=True)
    def waiting(
        self,
        request: Request[Any, Any, Any],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
        after: After = None,
    ) -> Template:
        rows = _waiting_with_helpers(bone, str(account_of(request)), after, by)
        return screen(request, "received.html", rows=rows)

    @get("/{exchange_id:uuid}", opt=RESIDENTS, sync_to_thread=True)
    def check(
        self,
        request: Request[Any, Any, Any],
        exchange_id: FromPath[UUID],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Template:
        row = _mine_to_confirm(bone.read_side, account_of(request), exchange_id)
        question = gettext(
            "Do you confirm that %(name)s helped you for %(hours)s? "
            "%(hours)s will move out of your account."
        )
        return confirmation(
            request,
            question % {"name": _helpers(bone, row, by), "hours": hours(row["share"])},
            action=f"/kiosk/received/{exchange_id}/confirmation",
            back="/kiosk/received",
            fields={"key": new_key()},
            detail=row["description"],
            objection=f"/kiosk/received/{exchange_id}/objection",
        )

    @get("/{exchange_id:uuid}/objection", opt=RESIDENTS, sync_to_thread=True)
    def objection_form(
        self,
        request: Request[Any, Any, Any],
        exchange_id: FromPath[UUID],
        reads: NamedDependency[Reads],
    ) -> Template:
        row = _mine_to_confirm(reads, account_of(request), exchange_id)
        return screen(
            request,
            "objection.html",
            row=row,
            reasons=[(code, gettext(text)) for code, text in OBJECTIONS.items()],
            key=new_key(),
        )


ACTIONS = [
    resident_action(f"{HELP}/confirmation", Confirmation, to_done("confirmed")),
    resident_action(f"{HELP}/objection", Objection, to_done("disputed")),
]
