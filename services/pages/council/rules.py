"""The council's voting rules: what is in force, and a change with its reason (a vote already
opened keeps the rules it opened under)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from domain.council import Base, Threshold, VotingRules
from domain.provenance import Provenance
from services import council as commands
from services.api.council import Rules
from services.bus import Reason
from services.pages.council.common import COUNCIL, done, render
from services.runtime import Backbone

RULES = "/council/rules"


class RulesChange(Rules, kw_only=True):
    reason: Reason


class RulesPages(Controller):
    path = RULES

    @get("/", opt=COUNCIL, sync_to_thread=True)
    def rules(self, bone: NamedDependency[Backbone]) -> Template:
        return render(
            bone,
            "rules.html",
            "rules",
            rules=commands.rules_in_force(bone.timebank),
            thresholds=list(Threshold),
            bases=list(Base),
        )

    @post("/", opt=COUNCIL, sync_to_thread=True)
    def change(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[RulesChange, Body(media_type=RequestEncodingType.URL_ENCODED)],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[Any]:
        values = msgspec.structs.asdict(data)
        reason = values.pop("reason")
        receipt = bone.commits.run_from_thread(
            commands.change_rules, bone.timebank, rules=VotingRules(**values), reason=reason, by=by
        )
        return done(request, RULES, receipt)
