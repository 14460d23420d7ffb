"""How every request body is read, for every route at once: JSON only as JSON, each field as
its JSON type, text without control characters, and nesting too deep to decode (msgspec stops
at the interpreter's recursion limit) as the caller's error rather than a server error.

Litestar decodes a JSON body whatever its Content-Type, and converts it to the route's Struct
leniently (``60.0``, ``6.0e1`` and ``"60"`` all become the integer 60), so the request class
checks the media type first and decodes the body strictly against the route's own type."""

from __future__ import annotations

from functools import cache
from typing import Any

import msgspec
from litestar import Request
from litestar.datastructures import FormMultiDict
from litestar.exceptions import HTTPException, ValidationException

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
