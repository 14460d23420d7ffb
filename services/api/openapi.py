"""The OpenAPI document says what each operation really answers.

Litestar documents a handler's own success status and, for any handler with parameters, a 400
in its plain-JSON error shape. The API answers more than that, all of it decided in one place
each: refusals of the guard (``role_guard``), of the kiosk binding and of expired or revoked
tokens, the problem+json mapping (``problems.py``), the rate limit on sign-ins, the body limit,
``answer()``'s 201-or-200, and read-your-writes' 503. This plugin derives each operation's
statuses from those same facts about its route (who may call it, its path, query and body
parameters, whether it records something, whether it takes ``?after=``), so a new route is
documented as truly as the old ones without anyone writing its responses by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar.config.app import AppConfig
from litestar.handlers import HTTPRouteHandler
from litestar.middleware.rate_limit import RateLimitMiddleware
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Components,
    OpenAPIHeader,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Schema,
    SecurityRequirement,
    SecurityScheme,
)
from litestar.plugins import InitPlugin, ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute
from litestar.types import Method
from msgspec import Meta

from domain.identity import Role
from services.api import schemas
from services.api.identity import NOT_A_SIGN_IN
from services.web.auth import KIOSK_TOKEN_HEADER
from services.web.problems import RATE_LIMIT_RESET, RETRY_AFTER

BEARER = "BearerToken"  # the scheme Litestar's JWTAuth registers
KIOSK = "KioskToken"
MEMBER_ROLES = frozenset({Role.RESIDENT, Role.VOLUNTEER})  # who signs in at a kiosk
PROBLEM_MEDIA_TYPE = "application/problem+json"


class ProblemDetails(msgspec.Struct, kw_only=True):
    """RFC 9457 problem details, with this API's stable ``code``."""

    type: Annotated[str, Meta(description="A URI naming the kind of problem")]
    title: str
    status: int
    detail: Annotated[str, Meta(description="What happened and what to do, for a person")]
    code: Annotated[str, Meta(description="Stable and machine-readable, e.g. `not-found`")]
    errors: Annotated[
        list[dict[str, Any]] | None,
        Meta(description="For 400: each parameter or field that was not valid, and why"),
    ] = None


ERRORS: dict[int, str] = {
    400: "A parameter or body field is missing or of the wrong type or shape; "
    "nothing was recorded.",
    401: "Not signed in: no token, an expired or revoked one, or a resident's token used away "
    "from the kiosk it was issued at (or, signing in, wrong credentials).",
    403: "Signed in, but this role may not do this, or a resident named another's account.",
    404: "There is no such record (named in the path, the body or the query's station).",
    409: "Others changed the same records at the same moment; nothing was recorded. Retry.",
    413: "The body is larger than the API accepts.",
    415: "The body is not of the media type this operation takes.",
    422: "A rule was not met (`code` says which); nothing was recorded.",
    423: "Signing in is locked for a while after repeated wrong attempts.",
    429: "Too many sign-ins from this address; `Retry-After` says when to try again.",
    503: "Not available right now (the read models have not reached `after`, or the event "
    "store is unavailable); `Retry-After` says when to retry.",
}
_SECONDS = Schema(type=OpenAPIType.INTEGER, minimum=0)
_RATE_LIMIT = {
    "RateLimit-Policy": OpenAPIHeader(
        schema=Schema(type=OpenAPIType.STRING), required=True, description="e.g. `3; w=60`"
    ),
    "RateLimit-Limit": OpenAPIHeader(
        schema=_SECONDS, required=True, description="Sign-ins allowed in the window"
    ),
    "RateLimit-Remaining": OpenAPIHeader(
        schema=_SECONDS, required=True, description="Sign-ins left in the window (0)"
    ),
    RATE_LIMIT_RESET: OpenAPIHeader(
        schema=_SECONDS, required=True, description="Seconds until the window resets"
    ),
}
# The headers an error answer carries, by status (problems.py sets them).
HEADERS: dict[int, dict[str, OpenAPIHeader]] = {
    429: {
        **_RATE_LIMIT,
        RETRY_AFTER: OpenAPIHeader(
            schema=_SECONDS, required=True, description="Seconds until a sign-in is let through"
        ),
    },
    503: {
        RETRY_AFTER: OpenAPIHeader(
            schema=_SECONDS,
            description="Seconds to wait before retrying; absent when only the station's "
            "operator can help (`read-model-failing`)",
        )
    },
}
RETRY = "A retry of a command already recorded: nothing new was recorded; the first answer."
RECORDED = "Recorded."


def _writes(methods: set[Method] | frozenset[str]) -> bool:
    return bool(set(methods) - {"GET", "HEAD", "OPTIONS"})


def _is_sign_in(handler: HTTPRouteHandler) -> bool:
    """Behind the rate limit Litestar keeps for sign-ins (``app._api``)."""
    limited = any(
        getattr(layer, "middleware", None) is RateLimitMiddleware
        for layer in handler.resolve_middleware()
    )
    return limited and not handler.opt.get(NOT_A_SIGN_IN)


def error_statuses(route: HTTPRoute, method: Method) -> set[int]:
    """Every error status the operation can answer, from what the app does with its route."""
    handler, kwargs = route.route_handler_map[method]
    statuses: set[int] = set()
    if not handler.opt.get("public"):
        statuses |= {401, 403}  # role_guard, and the bearer token's own checks
    if _is_sign_in(handler):
        statuses |= {401, 423, 429}  # SignInRefused, the lockout, the rate limit
    if kwargs.expected_path_params:
        statuses |= {404}
    if kwargs.expected_query_params or kwargs.expected_header_params:
        statuses |= {400, 422}  # malformed, or well-formed but refused (e.g. a period)
    queried = {param.field_name for param in kwargs.expected_query_params}
    if "after" in queried:
        statuses |= {503}  # read-your-writes gave up waiting
    if "station" in queried:
        statuses |= {404}  # a station there is not
    if "data" in kwargs.expected_reserved_kwargs or kwargs.expected_form_data:
        statuses |= {400, 413, 415, 422}
    if _writes(handler.http_methods):
        statuses |= {404, 409, 422, 503}  # a record the body names; a conflict; the store
    return statuses


def _answers_receipt(handler: HTTPRouteHandler) -> bool:
    """Answers through ``context.answer``: 201 when recorded, 200 for a retry."""
    returned = handler.parsed_fn_signature.return_type
    return bool(returned.inner_types) and returned.inner_types[0].annotation is schemas.Receipt


def responses_of(route: HTTPRoute, method: Method) -> dict[int, ResponseSpec]:
    handler, _ = route.route_handler_map[method]
    found = {
        status: ResponseSpec(
            ProblemDetails,
            description=ERRORS[status],
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
        )
        for status in sorted(error_statuses(route, method))
    }
    if _answers_receipt(handler):
        for status, description in ((201, RECORDED), (200, RETRY)):
            found[status] = ResponseSpec(
                schemas.Receipt, description=description, generate_examples=False
            )
    return found


def security_of(handler: HTTPRouteHandler) -> list[SecurityRequirement]:
    """None for a public operation; else a bearer token naming the roles that may call it (as
    OpenAPI 3.1 allows for any scheme), and for residents and volunteers their kiosk's token."""
    if handler.opt.get("public"):
        return []
    roles = handler.opt.get("roles") or frozenset()
    staff = sorted(role.value for role in roles - MEMBER_ROLES)
    members = sorted(role.value for role in roles & MEMBER_ROLES)
    return [
        *([{BEARER: staff}] if staff else []),
        *([{BEARER: members, KIOSK: []}] if members else []),
    ]


@dataclass
class ProblemOperation(Operation):
    """An operation whose errors are only the problems ``responses_of`` lists: Litestar adds a
    400 in its plain-JSON shape to any route with a parameter, which this API never answers
    (a malformed path value is a 404 here, and every error is problem+json)."""

    def __post_init__(self) -> None:
        self.responses = {
            status: response
            for status, response in (self.responses or {}).items()
            if int(status) < 400 or _is_problem(response)
        }
        for status, response in self.responses.items():
            if isinstance(response, OpenAPIResponse) and int(status) in HEADERS:
                response.headers = HEADERS[int(status)]


def _is_problem(response: OpenAPIResponse | Any) -> bool:
    return isinstance(response, OpenAPIResponse) and PROBLEM_MEDIA_TYPE in (response.content or {})


class DescribedResponses(InitPlugin, ReceiveRoutePlugin):
    """Gives each API operation its true responses and security (see the module's doc)."""

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        # The bearer requirement goes on each operation that needs it, not on the document:
        # a global one would claim that signing in needs a sign-in.
        if app_config.openapi_config is not None:
            app_config.openapi_config.security = None
            kiosk = SecurityScheme(
                type="apiKey",
                name=KIOSK_TOKEN_HEADER,
                security_scheme_in="header",
                description="The device token of the kiosk a resident signed in at.",
            )
            components = app_config.openapi_config.components
            app_config.openapi_config.components = [
                *(components if isinstance(components, list) else [components]),
                Components(security_schemes={KIOSK: kiosk}),
            ]
        return app_config

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute):
            return
        for method, (handler, _) in route.route_handler_map.items():
            if not handler.resolve_include_in_schema():
                continue
            handler.responses = {**responses_of(route, method), **(handler.responses or {})}
            handler.security = security_of(handler)
            handler.operation_class = ProblemOperation
