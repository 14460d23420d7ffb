"""A route that gives one command is data: its decorator (method, path, guard, words for the
OpenAPI document), the command's type and, when the path names the record, the body's type.
``command_route`` writes its handler: the path's parameters and the body make the command,
the bus handles it for the caller, and ``reply`` turns what the handler answered into the
response.

Litestar reads a handler's parameters and answer from its signature and type hints, so the
handler made here carries the concrete ones — the path's parameters with their types, the
body's type, ``bus`` and ``caller``, ``reply``'s answer — and documents exactly as a handler
written out by hand would. ``caller`` depends on ``bus`` (``services.web.context.caller``), so
Litestar resolves the two one after the other, not in a task group per request.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from inspect import Parameter, Signature
from typing import Any, get_type_hints

import msgspec
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, JSONBody
from litestar.routes.base import param_type_map

from services.api.schemas import answer
from services.bus import Bus, Caller, Command

PATH_PARAMETER = re.compile(r"{(\w+):(\w+)}")


def command_route(
    name: str,
    route: HTTPRouteHandler,
    command: type[Command],
    body: type[msgspec.Struct] | None = None,
    *,
    fields: Mapping[str, str] | None = None,
    reply: Callable[[Any], Any] = answer,
) -> HTTPRouteHandler:
    """The handler of ``route`` (``post(...)`` or ``put(...)``, not yet applied) that hands
    ``command`` to the bus.

    The body is ``command`` itself unless the path names parameters: then it is ``body`` (the
    command without the path's fields; none for a command the path gives whole), and each
    path parameter fills the command's field of its name, or the one ``fields`` names for it.
    A route that runs in a worker thread (``sync_to_thread=True``: its command hashes a secret
    or saves item by item) hands the command over from there. ``name`` is the handler's name,
    which the OpenAPI operation id ends in."""
    in_path = _path_parameters(route)
    renamed = fields or {}

    def command_of(given: dict[str, Any]) -> Command:
        data = given.pop("data", None)
        record = {renamed.get(parameter, parameter): value for parameter, value in given.items()}
        if data is None:
            return command(**record)
        return command.at(data, **record) if record else data

    async def handle(bus: Bus, caller: Caller, **given: Any) -> Any:
        return reply(await bus.handle(command_of(given), caller))

    def handle_in_thread(bus: Bus, caller: Caller, **given: Any) -> Any:
        return reply(bus.handle_from_thread(command_of(given), caller))

    handler = handle_in_thread if route.sync_to_thread else handle
    signature = _signature(in_path, body if in_path else command, get_type_hints(reply)["return"])
    handler.__name__ = handler.__qualname__ = name
    handler.__signature__ = signature  # type: ignore[attr-defined]
    handler.__annotations__ = {
        **{parameter.name: parameter.annotation for parameter in signature.parameters.values()},
        "return": signature.return_annotation,
    }
    return route(handler)


def _path_parameters(route: HTTPRouteHandler) -> dict[str, type]:
    (path,) = route.paths
    return {name: param_type_map[kind] for name, kind in PATH_PARAMETER.findall(path)}


def _signature(
    in_path: dict[str, type], body: type[msgspec.Struct] | None, answered: Any
) -> Signature:
    """What Litestar reads of the handler: as a handler written out would say it."""
    named = [
        *(
            Parameter(name, Parameter.KEYWORD_ONLY, annotation=FromPath[kind])
            for name, kind in in_path.items()
        ),
        *([Parameter("data", Parameter.KEYWORD_ONLY, annotation=JSONBody[body])] if body else []),
        Parameter("bus", Parameter.KEYWORD_ONLY, annotation=NamedDependency[Bus]),
        Parameter("caller", Parameter.KEYWORD_ONLY, annotation=NamedDependency[Caller]),
    ]
    return Signature(named, return_annotation=answered)
