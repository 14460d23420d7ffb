"""The help categories: every one the station has had, in use or retired; adding one, and
retiring one with a reason after a confirmation (what was recorded under it keeps it)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.response import Template
from msgspec import Meta

from domain.identity import Role
from projections import marketplace
from services.bus import Bus, Caller, Receipt
from services.composition.runtime import Backbone
from services.listings.commands import AddCategory, RetireCategory
from services.listings.handlers import categories_of
from services.pages.console.common import STAFF, Form, confirm, coordinating, show
from services.pages.forms import Sent
from services.pages.i18n import gettext, language
from services.web.auth import allow
from services.web.reads import Reads

PAGE = "console/settings/categories.html"
PART = "console/settings/_categories.html"
PATH = "/console/settings/categories"


class NewCategory(msgspec.Struct, kw_only=True):
    """As the API bounds it; the code's form is the domain's to judge."""

    code: Annotated[str, Meta(max_length=32)]
    name_zh: Annotated[str, Meta(max_length=40)]
    name_en: Annotated[str, Meta(max_length=60)]

    def command(self) -> AddCategory:
        return AddCategory(code=self.code.strip(), name_zh=self.name_zh, name_en=self.name_en)


class Retirement(msgspec.Struct, kw_only=True):
    code: Annotated[str, Meta(max_length=32)]
    reason: Annotated[str, Meta(max_length=500)] = ""
    confirmed: bool = False

    def command(self) -> RetireCategory:
        return RetireCategory(code=self.code, reason=self.reason)


def _listed(reads: Reads, after: int | None, done: str = "") -> dict[str, Any]:
    rows = reads.query(
        ("marketplace",), after, lambda db: marketplace.categories(db, include_retired=True)
    )
    return {"categories": rows, "done": done}


@get("/settings/categories", opt=allow(*STAFF), sync_to_thread=True)
def categories(request: Request[Any, Any, Any], reads: NamedDependency[Reads]) -> Template:
    return show(request, PAGE, _listed(reads, None), PART)


@post("/settings/categories", opt=allow(Role.COORDINATOR), sync_to_thread=True, status_code=200)
def add(
    request: Request[Any, Any, Any],
    data: Form[NewCategory],
    reads: NamedDependency[Reads],
    bus: NamedDependency[Bus],
    caller: NamedDependency[Caller],
) -> Template:
    receipt = bus.handle_from_thread(data.command(), caller)
    done = gettext("Added the category %(name)s.") % {"name": _name(data.name_zh, data.name_en)}
    return show(request, PAGE, _listed(reads, receipt.position, done), PART)


def _name(name_zh: str, name_en: str) -> str:
    return (name_zh if language() == "zh_CN" else name_en).strip()


def _named(bone: Backbone, code: str) -> str:
    """The category's name in the reader's language (its code, if there is none such: the
    command then says so)."""
    names = categories_of(bone.timebank).names.get(code)
    return _name(*names) if names else code


def _asking(sent: Sent) -> Template:
    """What retiring means, to confirm."""
    data = sent.form
    return confirm(
        sent.request,
        question=gettext("Retire the category %(name)s?")
        % {"name": _named(sent.station, data.code)},
        sentences=[
            gettext("It is no longer offered for new listings or service hours."),
            gettext("Listings and service hours already recorded under it keep it."),
            gettext("Why: %(reason)s") % {"reason": data.reason},
        ],
        action=f"{PATH}/retirement",
        fields=[("code", data.code), ("reason", data.reason)],
        target="#categories",
        back=PATH,
        yes=gettext("Yes, retire it"),
    )


def _retired(sent: Sent, receipt: Receipt) -> Template:
    bone = sent.station
    done = gettext("The category %(name)s is retired.") % {"name": _named(bone, sent.form.code)}
    return show(sent.request, PAGE, _listed(bone.read_side, receipt.position, done), PART)


RETIRE = coordinating("/settings/categories/retirement", Retirement, _retired, ask=_asking)
