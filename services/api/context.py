"""Per-request dependencies: the shared backbone, who is acting, and read-your-writes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar
from uuid import UUID, uuid4

import structlog
from litestar import Request, Response
from litestar.datastructures import State
from litestar.exceptions import PermissionDeniedException
from litestar.params import Parameter

from domain.ledger import AccountKind, system_account_id
from domain.provenance import Provenance
from domain.rules import NotFound
from projections.readstore import ReadDb
from services.api import schemas
from services.api.auth import Principal
from services.api.problems import ReadModelBehind
from services.ledger import Receipt
from services.runtime import Backbone

T = TypeVar("T")
CORRELATION_HEADER = "X-Correlation-ID"

After = Annotated[
    int | None,
    Parameter(
        ge=0,
        description="Wait (briefly) until the read model has applied this position, which a "
        "command response returned, so the answer includes that command's effect.",
    ),
]
Before = Annotated[int | None, Parameter(ge=1, description="`next_before` of the previous page")]
Limit = Annotated[int, Parameter(ge=1, le=200)]


def answer(receipt: Receipt) -> Response[schemas.Receipt]:
    """A command's answer: what it recorded (or, for a retry, had recorded) and where."""
    body = schemas.Receipt(id=str(receipt.id), position=receipt.position, replayed=receipt.replayed)
    return Response(body, status_code=200 if receipt.replayed else 201)


def next_before(rows: list[Any], limit: int, key: str = "position") -> int | None:
    """Where the next page starts, when this one was full."""
    return rows[-1][key] if len(rows) == limit else None


def backbone(state: State) -> Backbone:
    return state.backbone  # type: ignore[no-any-return]


def provenance(request: Request[Any, Any, Any]) -> Provenance:
    """Who is acting (the signed-in principal, pseudonymously), through which channel, and
    as part of which request."""
    correlation_id = (request.headers.get(CORRELATION_HEADER) or uuid4().hex)[:64]
    structlog.contextvars.bind_contextvars(correlation_id=correlation_id)
    principal = request.scope.get("user")
    if isinstance(principal, Principal):
        return Provenance(principal.subject, principal.channel, correlation_id)
    return Provenance(actor="anonymous", channel="api", correlation_id=correlation_id)


def check_owner(request: Request[Any, Any, Any], account: UUID) -> None:
    """Residents reach only their own account; staff roles allowed on the route reach any."""
    principal = request.user
    if isinstance(principal, Principal) and principal.is_member and not principal.owns(account):
        raise PermissionDeniedException("You can only see and use your own account.")


def account_id(ref: str) -> UUID:
    if ref in (AccountKind.COMMUNITY, AccountKind.POOL):
        return system_account_id(AccountKind(ref))
    try:
        return UUID(ref)
    except ValueError:
        raise NotFound("account-not-found", f"There is no time account {ref!r}.") from None


def read(
    bone: Backbone, models: tuple[str, ...], after: int | None, query: Callable[[ReadDb], T]
) -> T:
    """Run ``query`` once ``models`` have applied everything up to ``after`` (DESIGN.md 4)."""
    if after:
        for name in models:
            try:
                bone.reads.wait(name, after, timeout=bone.settings.read_wait_seconds)
            except TimeoutError:
                raise ReadModelBehind(after) from None
    with bone.reads.transaction(commit=False) as db:
        return query(db)
