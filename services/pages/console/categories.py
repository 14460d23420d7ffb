"""The help categories: every one the station has had, in use or retired; adding one, and
retiring one with a reason after a confirmation (what was recorded under it keeps it)."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.response import Template
from msgspec import Meta

from domain.identity import Role
from domain.provenance import Provenance
from projections import marketplace
from services import listings
from services.api.auth import allow
from services.api.context import read
from services.pages.console.common import STAFF, Form, confirm, show
from services.pages.i18n import gettext, language
from services.runtime import Backbone
from services.staging import dry_run

PAGE = "console/settings/categories.html"
PART = "console/settings/_categories.html"
PATH = "/console/settings/categories"


class NewCategory(msgspec.Struct, kw_only=True):
    """As the API bounds it; the code's form is the domain's to judge."""

    code: Annotated[str, Meta(max_length=32)]
    name_zh: Annotated[str, Meta(max_length=40)]
    name_en: Annotated[str, Meta(max_length=60)]


class Retirement(msgspec.Struct, kw_only=True):
    code: Annotated[str, Meta(max_length=32)]
    reason: Annotated[str, Meta(max_length=500)] = ""
    confirmed: bool = False


def _listed(bone: Backbone, after: int | None, done: str = "") -> dict[str, Any]:
    rows = read(
        bone, ("marketplace",), after, lambda db: marketplace.categories(db, include_retired=True)
    )
    return {"categories": rows, "done": done}


@get("/settings/categories", opt=allow(*STAFF), sync_to_thread=True)
def categories(request: Request[Any, Any, Any], bone: NamedDependency[Backbone]) -> Template:
    return show(request, PAGE, _listed(bone, None), PART)


@post("/settings/categories", opt=allow(Role.COORDINATOR), sync_to_thread=True, status_code=200)
def add(
    request: Request[Any, Any, Any],
    data: Form[NewCategory],
    bone: NamedDependency[Backbone],
    by: NamedDependency[Provenance],
) -> Template:
    receipt = bone.commits.run_from_thread(
        listings.add_category,
        bone.timebank,
        code=data.code.strip(),
        name_zh=data.name_zh,
        name_en=data.name_en,
        by=by,
    )
    done = gettext("Added the category %(name)s.") % {"name": _name(data.name_zh, data.name_en)}
    return show(request, PAGE, _listed(bone, receipt.position, done), PART)


def _name(name_zh: str, name_en: str) -> str:
    return (name_zh if language() == "zh_CN" else name_en).strip()


def _named(bone: Backbone, code: str) -> str:
    """The category's name in the reader's language (its code, if there is none such: the
    command then says so)."""
    names = listings.categories_of(bone.timebank).names.get(code)
    return _name(*names) if names else code


@post(
    "/settings/categories/retirement",
    opt=allow(Role.COORDINATOR),
    sync_to_thread=True,
    status_code=200,
)
def retire(
    request: Request[Any, Any, Any],
    data: Form[Retirement],
    bone: NamedDependency[Backbone],
    by: NamedDependency[Provenance],
) -> Template:
    """First what retiring means, to confirm; then the retirement."""
    command = partial(
        listings.retire_category, bone.timebank, code=data.code, reason=data.reason, by=by
    )
    name = _named(bone, data.code)
    if not data.confirmed:
        dry_run(command)
        return confirm(
            request,
            question=gettext("Retire the category %(name)s?") % {"name": name},
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
    receipt = bone.commits.run_from_thread(command)
    done = gettext("The category %(name)s is retired.") % {"name": name}
    return show(request, PAGE, _listed(bone, receipt.position, done), PART)
