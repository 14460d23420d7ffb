"""The council's voting rules: what is in force, and a change with its reason (a vote already
opened keeps the rules it opened under)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from domain.council import Base, Threshold
from services.bus import Bus, Caller
from services.composition.runtime import Backbone
from services.council import handlers
from services.council.commands import ChangeRules
from services.pages.council.common import COUNCIL, council_of, done, render
from services.web.reach import Reach

RULES = "/council/rules"


class RulesChange(ChangeRules, forbid_unknown_fields=False):
    """The API's body, from a form (which also carries its CSRF token)."""

    def command(self) -> ChangeRules:
        return ChangeRules(**msgspec.structs.asdict(self))


class RulesPages(Controller):
    path = RULES

    @get("/", opt=COUNCIL, sync_to_thread=True)
    def rules(self, bone: NamedDependency[Backbone], reach: NamedDependency[Reach]) -> Template:
        station = UUID(council_of(reach))
        return render(
            bone,
            "rules.html",
            "rules",
            rules=handlers.rules_in_force(bone.timebank, station),
            thresholds=list(Threshold),
            bases=list(Base),
        )

    @post("/", opt=COUNCIL, sync_to_thread=True)
    def change(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[RulesChange, Body(media_type=RequestEncodingType.URL_ENCODED)],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Response[Any]:
        receipt = bus.handle_from_thread(data.command(), caller)
        return done(request, RULES, receipt)
