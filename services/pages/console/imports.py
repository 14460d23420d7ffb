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

from domain.identity import Role
from domain.rules import RuleViolated
from services.bus import Bus, Caller
from services.hours.commands import MAX_IMPORT_BYTES, ImportAttendance, ImportKey
from services.hours.handlers import IMPORT_COLUMNS, Result
from services.pages import refusals
from services.pages.console.common import show
from services.pages.i18n import gettext, ngettext
from services.web.auth import allow

PAGE = "console/hours/import.html"
PART = "console/hours/_import.html"


class Upload(msgspec.Struct, kw_only=True):
    """The upload form: the list (``data``, as the API names its part) and the form's key."""

    data: UploadFile
    key: ImportKey

    def command(self) -> ImportAttendance:
        return ImportAttendance.uploaded(self.key, self.data.file.read())


def _form(results: list[dict[str, Any]] | None = None, summary: str = "") -> dict[str, Any]:
    return {
        "columns": IMPORT_COLUMNS,
        "key": uuid.uuid4().hex,
        "results": results or [],
        "summary": summary,
    }


@get("/hours/imports", opt=allow(Role.COORDINATOR), sync_to_thread=True)
def upload_form(request: Request[Any, Any, Any]) -> Template:
    return show(request, PAGE, _form(), PART)


def _line(result: Result) -> dict[str, Any]:
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
    bus: NamedDependency[Bus],
    caller: NamedDependency[Caller],
) -> Template:
    outcomes = bus.handle_from_thread(data.command(), caller)
    lines = [_line(result) for result in outcomes.results]
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
