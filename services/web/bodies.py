"""How every request is read, for every route at once: JSON only as JSON, each field as its
JSON type, text without control characters (in the path and the query too), and nesting too
deep to decode (msgspec stops at the interpreter's recursion limit) as the caller's error
rather than a server error.

Litestar decodes a JSON body whatever its Content-Type, and converts it to the route's Struct
leniently (``60.0``, ``6.0e1`` and ``"60"`` all become the integer 60), so the request class
checks the media type first and decodes the body strictly against the route's own type."""

from __future__ import annotations

import re
from functools import cache
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Request
from litestar.datastructures import FormMultiDict
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException, ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.params import ParameterKwarg
from litestar.types import ASGIApp, Receive, Scope, Send

from domain.rules import plain_text


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


@cache
def _strict(annotation: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(annotation, strict=True)


def _texts(value: Any) -> list[tuple[str, str]]:
    """Every string in a decoded body with where it is (``memo``, ``amendments[0]``); walked
    without recursion, since a body may nest deeply."""
    found, pending = [], [("", value)]
    while pending:
        where, item = pending.pop()
        if isinstance(item, str):
            found.append((where or "the body", item))
        elif isinstance(item, dict):
            pending += [
                (f"{where}.{key}" if where else str(key), inner) for key, inner in item.items()
            ]
        elif isinstance(item, list):
            pending += [(f"{where}[{index}]", inner) for index, inner in enumerate(item)]
    return found


class TimebankRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        body = await self.body()
        if body and not _is_json(self.content_type[0]):
            raise HTTPException(
                status_code=415,
                detail="Send the body as JSON, with the header Content-Type: application/json.",
            )
        try:
            value = await super().json()
        except RecursionError:
            raise ValidationException("The JSON body is nested too deeply.") from None
        for where, text in _texts(value):
            plain_text(where, text)
        self._refuse_lenient(body, value)
        return value

    def _refuse_lenient(self, body: bytes, value: Any) -> None:
        """Refuse what only the lenient conversion accepts (a whole number written as ``60.0``
        or ``"60"``); anything else wrong is left to Litestar, which names every field."""
        data = self.route_handler.parsed_fn_signature.parameters.get("data")
        if data is None or not body:
            return
        try:
            _strict(data.annotation).decode(body)
        except msgspec.ValidationError as strictly:
            try:
                msgspec.convert(value, data.annotation, strict=False)
            except msgspec.ValidationError:
                return
            raise ValidationException(
                f"{strictly}: write each field as its JSON type; a whole number without a "
                'fraction, an exponent or quotes (60, not 60.0, 6.0e1 or "60").'
            ) from None

    async def form(self) -> FormMultiDict:
        form = await super().form()
        for field, value in form.multi_items():
            if isinstance(value, str):
                plain_text(field, value)
        return form


_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


@cache
def _whole_numbers(handler: HTTPRouteHandler) -> frozenset[str]:
    """The query parameters ``handler`` takes as integers: Litestar converts them leniently,
    so ``?after=1e3`` would be read as 1000 where the OpenAPI document says integer."""
    names = set()
    for name, field in handler.parsed_fn_signature.parameters.items():
        if int in {field.annotation, *(inner.annotation for inner in field.inner_types)}:
            given = field.kwarg_definition
            names.add(given.query if isinstance(given, ParameterKwarg) and given.query else name)
    return frozenset(names)


def _whole_number(name: str, value: str) -> None:
    if not _WHOLE_NUMBER.fullmatch(value):
        raise ValidationException(
            f"Query parameter {name} must be a whole number, written in digits.",
            extra=[{"key": name, "source": "query", "message": "Expected `int`, got `str`"}],
        )


class PlainParameters(ASGIMiddleware):
    """Refuses a path or query parameter holding a control character before any guard or
    handler looks it up (PostgreSQL cannot even hold a NUL, and no id or filter has one), and
    an integer query parameter written other than in digits."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        plain_text("the path", scope["path"])
        query = scope["query_string"].decode("utf-8", errors="replace")
        integers = _whole_numbers(scope["route_handler"])
        for name, value in parse_qsl(query, keep_blank_values=True):
            plain_text(name, name + value)
            if name in integers:
                _whole_number(name, value)
        await next_app(scope, receive, send)
