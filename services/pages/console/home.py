"""The console's first page: what needs a coordinator's attention now."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from projections import exchanges, hours, pool
from services.pages.console.common import STAFF, show
from services.web.auth import allow
from services.web.reach import Reach
from services.web.reads import Reads


@get("/", opt=allow(*STAFF), sync_to_thread=True)
def overview(
    request: Request[Any, Any, Any], reads: NamedDependency[Reads], reach: NamedDependency[Reach]
) -> Template:
    def query(db: Any) -> dict[str, Any]:
        entries = hours.status_counts(db)
        trades = exchanges.status_counts(db, reach.among)
        return {
            "submitted": entries.get("submitted", 0),
            "disputed": trades.get("disputed", 0),
            "awaiting": trades.get("awaiting_confirmation", 0),
            "pool": pool.summary(db),
        }

    return show(request, "console/home.html", reads.query((), None, query))
