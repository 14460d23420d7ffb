"""The station's settings a coordinator keeps: the exchange rules in force, changed with a
reason after a confirmation (exchanges already recorded keep the rules they were recorded
under), and the way to the help categories."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Template
from msgspec import Meta

from domain.exchange import ExchangeRules
from services.bus import Receipt
from services.composition.runtime import Backbone
from services.exchange.commands import ChangeExchangeRules, Rules
from services.exchange.handlers import rules_in_force
from services.pages.console.common import STAFF, confirm, show
from services.pages.forms import Sent, action
from services.pages.i18n import gettext, ngettext
from services.pages.i18n import hours as hours_of
from services.web.auth import allow

PAGE = "console/settings/settings.html"
PART = "console/settings/_exchange_rules.html"
RULES = "/console/settings/exchange-rules"


class RulesChange(Rules, kw_only=True):
    """The rules as they should read, checked as the API checks them, and why they change."""

    reason: Annotated[str, Meta(max_length=500)] = ""
    confirmed: bool = False

    def command(self) -> ChangeExchangeRules:
        return ChangeExchangeRules(
            max_minutes=self.max_minutes,
            confirm_within_hours=self.confirm_within_hours,
            dispute_within_hours=self.dispute_within_hours,
            reason=self.reason,
        )


def _in_force(bone: Backbone, done: str = "") -> dict[str, Any]:
    return {"rules": rules_in_force(bone.timebank), "done": done}


@get("/settings", opt=allow(*STAFF), sync_to_thread=True)
def settings(request: Request[Any, Any, Any], bone: NamedDependency[Backbone]) -> Template:
    return show(request, PAGE, _in_force(bone), PART)


def described(rules: ExchangeRules) -> list[str]:
    """The rules in plain words, one sentence each."""
    return [
        gettext("One exchange may record up to %(hours)s for each pair.")
        % {"hours": hours_of(rules.max_minutes)},
        ngettext(
            "Help not confirmed within %(num)s hour expires.",
            "Help not confirmed within %(num)s hours expires.",
            rules.confirm_within_hours,
        )
        % {"num": rules.confirm_within_hours},
        ngettext(
            "Either side may dispute settled help for %(num)s hour.",
            "Either side may dispute settled help for %(num)s hours.",
            rules.dispute_within_hours,
        )
        % {"num": rules.dispute_within_hours},
    ]


def _asking(sent: Sent) -> Template:
    """The rules as they would read, to confirm."""
    data = sent.form
    return confirm(
        sent.request,
        question=gettext("Change the exchange rules?"),
        sentences=[
            *described(data.rules),
            gettext("Exchanges already recorded keep the rules they were recorded under."),
            gettext("Why: %(reason)s") % {"reason": data.reason},
        ],
        action=RULES,
        fields=[
            ("max_minutes", data.max_minutes),
            ("confirm_within_hours", data.confirm_within_hours),
            ("dispute_within_hours", data.dispute_within_hours),
            ("reason", data.reason),
        ],
        target="#exchange-rules",
        back="/console/settings",
        yes=gettext("Yes, change the rules"),
    )


def _changed(sent: Sent, _: Receipt) -> Template:
    done = gettext("The exchange rules are changed.")
    return show(sent.request, PAGE, _in_force(sent.station, done), PART)


# Administrators set rules too, as the API lets them.
CHANGE_RULES = action(
    "/settings/exchange-rules",
    RulesChange,
    _changed,
    ask=_asking,
    opt=allow(*STAFF),
    status_code=200,
)
