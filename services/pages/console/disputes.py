"""Exchanges a coordinator looks after: the disputed ones (held out of balances until
resolved) and those awaiting confirmation. A dispute is resolved — uphold, adjust the minutes
of each pair, or cancel — with a reason, after a confirmation that says what will move."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Template
from msgspec import Meta

from domain.exchange import ExchangeStatus, Outcome
from domain.provenance import Provenance
from domain.rules import NotFound
from projections import exchanges
from services.bus import NotYours
from services.composition.runtime import Backbone
from services.exchange.commands import ResolveDispute
from services.pages import purposes
from services.pages.console.common import (
    LIST_LIMIT,
    STAFF,
    People,
    RecordPage,
    confirm,
    people,
    show,
)
from services.pages.forms import Sent
from services.pages.i18n import N_, gettext, moment
from services.pages.i18n import hours as hours_of
from services.web.auth import allow
from services.web.context import After
from services.web.reach import Reach

EXCHANGE = "/exchanges/{exchange_id:uuid}"
PAGE = "console/exchanges/exchange.html"
PART = "console/exchanges/_exchange.html"


class Resolution(msgspec.Struct, kw_only=True):
    outcome: Outcome
    reason: Annotated[str, Meta(max_length=500)] = ""
    # To adjust: the minutes that stand, one per pair in order (one pair arrives as a number).
    minutes: list[int] | int = msgspec.field(default_factory=list)
    idempotency_key: Annotated[str, Meta(max_length=100)] = ""
    confirmed: bool = False

    @property
    def adjusted(self) -> tuple[int, ...] | None:
        if self.outcome is not Outcome.ADJUST:
            return None
        return tuple(self.minutes) if isinstance(self.minutes, list) else (self.minutes,)

    def command(self, exchange_id: UUID) -> ResolveDispute:
        adjusted = self.adjusted
        return ResolveDispute(
            idempotency_key=self.idempotency_key or uuid.uuid4().hex,
            exchange_id=exchange_id,
            outcome=self.outcome,
            reason=self.reason,
            minutes=list(adjusted) if adjusted is not None else None,
        )


def _reveal(
    bone: Backbone, who: People, rows: list[dict[str, Any]], *, purpose: str, by: Provenance
) -> None:
    """Name the residents in these exchanges' pairs on the page about to be drawn: one
    access-log record for the page."""
    accounts = {
        pair[side]
        for row in rows
        for pair in msgspec.json.decode(row["pairs"])
        for side in ("provider", "receiver")
    }
    members = [member for member in map(who.account_member, accounts) if member is not None]
    who.reveal(bone.vault, members, purpose=purpose, by=by)


def _pairs(row: dict[str, Any], who: People) -> list[dict[str, Any]]:
    """Each pair of the exchange: who gave help, who received it, and how long."""
    return [
        {
            "provider": who.account_number(pair["provider"]),
            "receiver": who.account_number(pair["receiver"]),
            "minutes": pair["minutes"],
        }
        for pair in msgspec.json.decode(row["pairs"])
    ]


def _step(step: dict[str, Any], who: People, bone: Backbone) -> dict[str, Any]:
    detail = msgspec.json.decode(step["detail"])
    return {
        "type": step["type"],
        "who": who.who(step["actor"]),
        "channel": who.channel(step["channel"]),
        "at": moment(step["at"], bone.settings.zone),
        "reason": detail.get("reason") if isinstance(detail, dict) else None,
    }


@get("/exchanges", opt=allow(*STAFF), sync_to_thread=True)
def listed(
    request: Request[Any, Any, Any],
    bone: NamedDependency[Backbone],
    by: NamedDependency[Provenance],
    reach: NamedDependency[Reach],
    status: Annotated[ExchangeStatus, QueryParameter()] = ExchangeStatus.DISPUTED,
) -> Template:
    """The exchanges of one status with a resident of the caller's stations among their
    parties, naming who helped whom."""

    def query(db: Any) -> tuple[list[dict[str, Any]], People]:
        rows = exchanges.listed(
            db, account=None, status=status, before=None, limit=LIST_LIMIT, stations=reach.among
        )
        return rows, people(bone, db)

    rows, who = bone.read_side.query(("exchanges",), None, query)
    _reveal(bone, who, rows, purpose=purposes.EXCHANGES, by=by)
    listed = [{**row, "pairs": _pairs(row, who)} for row in rows]
    return show(
        request, "console/exchanges/list.html", {"exchanges": listed, "status": status.value}
    )


def _unconfirmed(row: dict[str, Any], who: People) -> dict[str, str]:
    """Who received help and has not confirmed it yet: account id → member number."""
    return {
        party["account_id"]: who.account_number(party["account_id"])
        for party in row["parties"]
        if party["role"] == "receiver" and not party["confirmed"]
    }


def view(
    bone: Backbone,
    exchange_id: UUID,
    after: int | None,
    named_for: Provenance | None = None,
    reach: Reach | None = None,
) -> dict[str, Any]:
    """The exchange, its pairs and its steps; the pairs named when ``named_for`` someone (the
    page's one access-log record), by member number otherwise."""

    def query(db: Any) -> tuple[dict[str, Any], People]:
        row = exchanges.exchange(db, str(exchange_id))
        if row is None:
            raise NotFound("exchange-not-found", f"There is no exchange {exchange_id}.")
        return row, people(bone, db)

    row, who = bone.read_side.query(("exchanges",), after, query)
    if reach is not None and not any(reach.covers(p["station_id"]) for p in row["parties"]):
        raise NotYours("That help was between residents of stations you do not work at.")
    if named_for is not None:
        _reveal(bone, who, [row], purpose=purposes.EXCHANGE, by=named_for)
    return {
        "exchange": row,
        "pairs": _pairs(row, who),
        "steps": [_step(step, who, bone) for step in row["steps"]],
        "unconfirmed": _unconfirmed(row, who),
        "done": "",
    }


@get(EXCHANGE, opt=allow(*STAFF), sync_to_thread=True)
def detail(
    request: Request[Any, Any, Any],
    exchange_id: FromPath[UUID],
    bone: NamedDependency[Backbone],
    by: NamedDependency[Provenance],
    reach: NamedDependency[Reach],
    after: After = None,
) -> Template:
    return show(request, PAGE, view(bone, exchange_id, after, by, reach), PART)


def _what_moves(data: Resolution, pairs: list[dict[str, Any]]) -> list[str]:
    """In plain words, what resolving this way moves between whom."""
    if data.outcome is Outcome.CANCEL:
        return [gettext("Nothing is owed: no time credits move.")]
    standing = data.adjusted or tuple(pair["minutes"] for pair in pairs)
    return [
        gettext("Member %(receiver)s gives member %(provider)s %(hours)s.")
        % {
            "receiver": pair["receiver"],
            "provider": pair["provider"],
            "hours": hours_of(minutes),
        }
        for pair, minutes in zip(pairs, standing, strict=True)
    ]


def _resolving(sent: Sent) -> Template:
    """First what resolving this way moves, to confirm (once the domain would accept it)."""
    data, exchange_id = sent.form, sent.record_id
    shown = view(sent.station, exchange_id, None)
    return confirm(
        sent.request,
        question=gettext("Resolve this dispute?"),
        sentences=[
            *_what_moves(data, shown["pairs"]),
            gettext("Why: %(reason)s") % {"reason": data.reason},
        ],
        action=f"/console/exchanges/{exchange_id}/resolution",
        fields=[
            ("outcome", data.outcome.value),
            ("reason", data.reason),
            ("idempotency_key", uuid.uuid4().hex),
            *(("minutes", minutes) for minutes in data.adjusted or ()),
        ],
        target="#exchange",
        back=f"/console/exchanges/{exchange_id}",
        yes=gettext("Yes, resolve"),
    )


# The exchange's page after a command, its pairs named for who gave it (one access-log record).
EXCHANGE_PAGE = RecordPage(
    EXCHANGE,
    PAGE,
    PART,
    lambda sent, position: view(sent.station, sent.record_id, position, sent.caller.by),
)
ACTIONS = [
    EXCHANGE_PAGE.action("resolution", Resolution, N_("The dispute is resolved."), ask=_resolving)
]
