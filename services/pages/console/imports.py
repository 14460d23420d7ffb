"""An activity's attendance list (CSV), uploaded as the API takes it: each row is recorded on
its own and awaits approval, and the page says, line by line, what was recorded and what was
refused and why. The form carries a key of its own, so sending the same upload twice records
nothing new."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template
from msgspec import Meta

from domain.identity import Role
from domain.provenance import Provenance
from domain.rules import RuleViolated
from services import hours as entries
from services.api.auth import allow
from services.api.hours import MAX_IMPORT_BYTES
from services.pages import refusals
from services.pages.console.common import show
from services.pages.i18n import gettext, ngettext
from services.runtime import Backbone

PAGE = "console/hours/import.html"
PART = "console/hours/_import.html"


class Upload(msgspec.Struct, kw_only=True):
    """The upload form: the list (``data``, as the API names its part) and the form's key."""

    data: UploadFile
    key: Annotated[str, Meta(min_length=8, max_length=80, pattern=r"^[\w.:-]+$")]


def _form(results: list[dict[str, Any]] | None = None, summary: str = "") -> dict[str, Any]:
    return {
        "columns": entries.IMPORT_COLUMNS,
        "key": uuid.uuid4().hex,
        "results": results or [],
        "summary": summary,
    }


@get("/hours/imports", opt=allow(Role.COORDINATOR), sync_to_thread=True)
def upload_form(request: Request[Any, Any, Any]) -> Template:
    return show(request, PAGE, _form(), PART)


def _line(result: entries.Result) -> dict[str, Any]:
    """One row's outcome in words: recorded, or why not (and in which column)."""
    refused = result.code is not None
    return {
        "line": result.item.removeprefix("line "),
        "done": not refused,
        "why": refusals.explain(RuleViolated(result.code or "", result.message or ""))
        if refused
        else "",
        "column": result.field or "",
    }


@post(
    "/hours/imports",
    opt=allow(Role.COORDINATOR),
    sync_to_thread=True,
    status_code=200,
    request_max_body_size=MAX_IMPORT_BYTES,
)
def upload(
    request: Request[Any, Any, Any],
    data: Annotated[Upload, Body(media_type=RequestEncodingType.MULTI_PART)],
    bone: NamedDependency[Backbone],
    by: NamedDependency[Provenance],
) -> Template:
    try:
        text = data.data.file.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RuleViolated("not-utf8", "Save the list as CSV in UTF-8 and try again.") from None
    results = entries.import_attendance(
        bone.timebank, import_key=data.key, text=text, now=bone.local_now(), by=by
    )
    lines = [_line(result) for result in results]
    recorded = sum(1 for line in lines if line["done"])
    summary = ngettext(
        "%(num)s row recorded, awaiting approval;",
        "%(num)s rows recorded, awaiting approval;",
        recorded,
    ) % {"num": recorded}
    refused = len(lines) - recorded
    summary += " " + ngettext("%(num)s refused.", "%(num)s refused.", refused) % {"num": refused}
    if not lines:
        summary = gettext("The list has no rows below its first line.")
    return show(request, PAGE, _form(lines, summary), PART)
