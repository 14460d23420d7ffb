"""The personal-data access log: who opened whose personal details, when, through which
channel and why — newest first, for the people of the reader's stations or for one of them."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Template

from domain.identity import Role, member_id_for
from projections import access_log
from services.composition.runtime import Backbone
from services.pages.console.common import people, show
from services.web.auth import allow
from services.web.context import After
from services.web.reach import Reach

SHOWN = 200  # openings on one page


@get("/access-log", opt=allow(Role.COORDINATOR), sync_to_thread=True)
def openings(
    request: Request[Any, Any, Any],
    bone: NamedDependency[Backbone],
    reach: NamedDependency[Reach],
    number: Annotated[str, QueryParameter(max_length=20)] = "",
    after: After = None,
) -> Template:
    wanted = number.strip()
    whose = member_id_for(wanted) if wanted else None

    def query(db: Any) -> dict[str, Any]:
        return {
            "openings": access_log.entries(db, whose, limit=SHOWN, among=reach.among),
            "people": people(bone, db),
        }

    context = bone.read_side.query(("access_log", "stations"), after, query)
    shown = {**context, "number": wanted}
    return show(request, "console/access_log.html", shown)
