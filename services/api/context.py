"""Per-request dependencies: the shared backbone, who is acting, and read-your-writes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID, uuid4

import structlog
from litestar import Request
from litestar.datastructures import State

from domain.ledger import AccountKind, system_account_id
from domain.provenance import Provenance
from domain.rules import NotFound
from projections.readstore import ReadDb
from services.api.problems import ReadModelBehind
from services.runtime import Backbone

T = TypeVar("T")
CORRELATION_HEADER = "X-Correlation-ID"


def backbone(state: State) -> Backbone:
    return state.backbone  # type: ignore[no-any-return]


def provenance(request: Request[Any, Any, Any]) -> Provenance:
    """Who is acting. Until sign-in exists every caller is anonymous on the `api` channel."""
    correlation_id = request.headers.get(CORRELATION_HEADER) or uuid4().hex
    structlog.contextvars.bind_contextvars(correlation_id=correlation_id)
    return Provenance(actor="anonymous", channel="api", correlation_id=correlation_id[:64])


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
