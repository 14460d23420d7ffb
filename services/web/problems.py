"""Every error answers as RFC 9457 problem+json with a stable machine-readable ``code``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from eventsourcing.persistence import PersistenceError
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)

from domain.rules import NotFound, RuleViolated
from projections.deadletter import Failure
from services.bus import NotYours
from services.identity.records import SignInRefused
from services.store.eventstore import ConcurrentUpdate
from services.web.auth import TokenRevoked
from services.windows import DateOutOfRange

log = structlog.get_logger(__name__)
RETRY_AFTER = "Retry-After"
RATE_LIMIT_RESET = "RateLimit-Reset"

_CODES_BY_STATUS = {
    400: "invalid-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    413: "body-too-large",
    415: "unsupported-media-type",
    429: "too-many-requests",
}


class ReadModelBehind(Exception):
    """The read model had not reached the requested position within the wait."""

    def __init__(self, position: int) -> None:
        super().__init__(position)
        self.position = position


class ReadModelFailing(Exception):
    """A read model stopped before the requested position, on an event it cannot apply."""

    def __init__(self, position: int, failure: Failure) -> None:
        super().__init__(position)
        self.position = position
        self.failure = failure


class PositionAheadOfStore(Exception):
    """The requested position lies beyond every event the store holds."""

    def __init__(self, position: int, head: int) -> None:
        super().__init__(position)
        self.position = position
        self.head = head


def problem(
    status: int, code: str, title: str, detail: str, **extra: Any
) -> ProblemDetailsException:
    return ProblemDetailsException(
        status_code=status,
        type_=f"https://timebank.example/problems/{code}",
        title=title,
        detail=detail,
        extra={"code": code, **extra},
    )


def _rule_violated(error: RuleViolated) -> ProblemDetailsException:
    named = {"field": error.field} if error.field is not None else {}
    return problem(
        422, error.code, "A rule was not met; nothing was recorded.", error.message, **named
    )


def _out_of_window(error: DateOutOfRange) -> ProblemDetailsException:
    return problem(
        422,
        error.code,
        "A date is outside its window; nothing was recorded.",
        error.message,
        field=error.field,
    )


def _not_found(error: NotFound) -> ProblemDetailsException:
    return problem(404, error.code, "Not found.", error.message)


def _refused(error: SignInRefused) -> ProblemDetailsException:
    extra: dict[str, Any] = {}
    if error.tries_left is not None:
        extra["tries_left"] = error.tries_left
    if error.locked_until is not None:
        extra["locked_until"] = error.locked_until.isoformat()
    return problem(error.status, error.code, "Not signed in.", error.message, **extra)


def _revoked(error: TokenRevoked) -> ProblemDetailsException:
    return problem(401, "token-revoked", "Not signed in.", str(error.detail))


def _not_yours(error: NotYours) -> ProblemDetailsException:
    return problem(403, _CODES_BY_STATUS[403], str(error), str(error))


def _conflict(_: ConcurrentUpdate) -> ProblemDetailsException:
    return problem(
        409,
        "concurrent-update",
        "Others changed the same accounts at the same moment.",
        "Nothing was recorded. Please try again.",
    )


def _behind(error: ReadModelBehind) -> ProblemDetailsException:
    failure = problem(
        503,
        "read-model-behind",
        "The latest changes are not visible yet.",
        f"Position {error.position} has not reached the read models yet; retry shortly.",
    )
    failure.headers = {RETRY_AFTER: "1"}
    return failure


def _failing(error: ReadModelFailing) -> ProblemDetailsException:
    failure = error.failure
    return problem(
        503,
        "read-model-failing",
        f"The {failure.model} read model is stopped.",
        f"The {failure.model} read model stopped before position {failure.position}, which it"
        f" cannot apply, so position {error.position} will not show until the station's operator"
        " fixes it (see /health).",
        model=failure.model,
        stopped_before=failure.position,
    )


def _ahead(error: PositionAheadOfStore) -> ProblemDetailsException:
    return problem(
        400,
        "position-ahead-of-store",
        "No change has been recorded at that position.",
        f"Position {error.position} is past the last recorded change ({error.head}); use the"
        " position a command answered.",
        head=error.head,
    )


def _store_down(error: PersistenceError) -> ProblemDetailsException:
    log.error("store.unavailable", error=str(error))
    failure = problem(503, "store-unavailable", "The event store is unavailable.", "Retry shortly.")
    failure.headers = {RETRY_AFTER: "1"}
    return failure


def _invalid(error: ValidationException) -> ProblemDetailsException:
    return problem(
        400,
        "invalid-request",
        "The request is not valid; nothing was recorded.",
        str(error.detail),
        errors=error.extra if isinstance(error.extra, list) else [],
    )


def http_problem(error: HTTPException) -> ProblemDetailsException:
    """Any other HTTP error (the pages answer routing failures on their paths themselves)."""
    code = _CODES_BY_STATUS.get(error.status_code, "http-error")
    failure = problem(error.status_code, code, str(error.detail), str(error.detail))
    failure.headers = dict(error.headers or {})
    if reset := failure.headers.get(RATE_LIMIT_RESET):
        # Litestar's rate limit says when in RateLimit-Reset, a draft header; Retry-After is
        # the one every HTTP client knows.
        failure.headers[RETRY_AFTER] = reset
    return failure


_MAP: dict[type[Exception], Callable[[Any], ProblemDetailsException]] = {
    DateOutOfRange: _out_of_window,  # before RuleViolated, which it is
    RuleViolated: _rule_violated,
    NotFound: _not_found,
    SignInRefused: _refused,
    TokenRevoked: _revoked,
    NotYours: _not_yours,
    ConcurrentUpdate: _conflict,
    ReadModelBehind: _behind,
    ReadModelFailing: _failing,
    PositionAheadOfStore: _ahead,
    PersistenceError: _store_down,
    ValidationException: _invalid,
    HTTPException: http_problem,
}


def _internal(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    log.exception("request.failed", path=request.url.path)
    return problem(
        500, "internal-error", "Something went wrong on our side.", "Please try again."
    ).to_response(request)


def problem_details_plugin() -> ProblemDetailsPlugin:
    return ProblemDetailsPlugin(ProblemDetailsConfig(exception_to_problem_detail_map=_MAP))


INTERNAL_ERROR_HANDLERS = {Exception: _internal}
