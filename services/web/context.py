"""Per-request context: the correlation id and request log line, the shared backbone, who is
acting, and read-your-writes."""

from __future__ import annotations

import time
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qs
from uuid import UUID, uuid4

import structlog
from litestar import Request
from litestar.config.app import AppConfig
from litestar.datastructures import Headers, State
from litestar.di import NamedDependency
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.params import Parameter
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from domain.provenance import Provenance
from services.bus import Bus, Caller
from services.composition.runtime import Backbone
from services.store.eventstore import Timebank
from services.web.auth import Principal
from services.windows import station_clock

T = TypeVar("T")
CORRELATION_HEADER = "X-Correlation-ID"
log = structlog.get_logger("timebank.http")

# The largest position a store can hold (a signed 64-bit integer); a cursor beyond it is refused
# as it is read, before it reaches a store that could not compare with it.
MAX_POSITION = 2**63 - 1
After = Annotated[
    int | None,
    Parameter(
        ge=0,
        le=MAX_POSITION,
        description="Wait (briefly) until the read model has applied this position, which a "
        "command response returned, so the answer includes that command's effect.",
    ),
]
Before = Annotated[
    int | None,
    Parameter(ge=1, le=MAX_POSITION, description="`next_before` of the previous page"),
]
Limit = Annotated[int, Parameter(ge=1, le=200)]


def next_before(rows: list[Any], limit: int, key: str = "position") -> int | None:
    """Where the next page starts, when this one was full."""
    return rows[-1][key] if len(rows) == limit else None


class RequestContext(ASGIMiddleware):
    """Gives each request its correlation id (the caller's ``X-Correlation-ID``, or a new one),
    bound into every log line written while serving it and kept for its events' provenance,
    and logs one line for it when it is answered: method, path, query, status and duration.
    Bodies, headers and cookies stay out (they may carry personal data)."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        header = Headers.from_scope(scope).get(CORRELATION_HEADER)
        correlation_id = (header or uuid4().hex)[:64]
        scope.setdefault("state", {})["correlation_id"] = correlation_id
        status: int | None = None

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        # The dates a body carries are checked against this app's clock as it is decoded.
        clock = station_clock.set(scope["litestar_app"].state.backbone.local_now)
        with structlog.contextvars.bound_contextvars(correlation_id=correlation_id):
            try:
                await next_app(scope, receive, send_noting_status)
            except Exception as error:
                # Raised outside the route (a refused token): answered further out, as this.
                status = getattr(error, "status_code", 500)
                raise
            finally:
                _log_request(scope, status, time.perf_counter() - started)
                station_clock.reset(clock)


def _log_request(scope: Scope, status: int | None, seconds: float) -> None:
    query = scope["query_string"]
    log.info(
        "http.request",
        method=scope["method"],
        path=scope["path"],
        # parsed, so that the redaction processor sees each parameter's name
        query=parse_qs(query.decode("latin-1"), keep_blank_values=True) if query else {},
        status_code=status,
        ms=round(1000 * seconds, 1),
    )


def with_request_context(app_config: AppConfig) -> AppConfig:
    """``on_app_init`` hook, after authentication's: the outermost middleware, so that the
    correlation id is bound before anything logs and refused requests are logged too."""
    app_config.middleware.insert(0, RequestContext())
    return app_config


def backbone(state: State) -> Backbone:
    return state.backbone  # type: ignore[no-any-return]


def _caller_of(request: Request[Any, Any, Any]) -> Caller:
    """Who is acting (the signed-in principal, pseudonymously), through which channel, and
    as part of which request (the id RequestContext gave it); a resident's own account."""
    correlation_id = request.state.correlation_id
    principal = request.scope.get("user")
    if isinstance(principal, Principal):
        by = Provenance(principal.subject, principal.channel, correlation_id)
        return Caller(by, principal.member_id, principal.account_id)
    return Caller(Provenance(actor="anonymous", channel="api", correlation_id=correlation_id))


def provenance(request: Request[Any, Any, Any], bone: NamedDependency[Backbone]) -> Provenance:
    """The provenance of what this request records.

    ``bone`` is not used: depending on it makes Litestar resolve ``bone`` and then ``by``, where
    it resolves independent dependencies concurrently, in an anyio task group per request that
    costs more than the two of them (commands ask for both)."""
    return _caller_of(request).by


def caller(request: Request[Any, Any, Any], bus: NamedDependency[Bus]) -> Caller:
    """Who gives the commands of this request (``bus`` is not used, as in ``provenance``)."""
    return _caller_of(request)


def the_bus(state: State) -> Bus:
    return state.backbone.bus  # type: ignore[no-any-return]


def the_timebank(state: State) -> Timebank:
    """The write model, for what only it knows (the rules in force, who may sign in): never to
    record through (that is the bus's)."""
    return state.backbone.timebank  # type: ignore[no-any-return]


def check_owner(request: Request[Any, Any, Any], account: UUID) -> None:
    """Residents reach only their own account; staff roles allowed on the route reach any."""
    _caller_of(request).check_owns(account)
