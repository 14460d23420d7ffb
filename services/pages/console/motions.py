"""A motion a resident handed in on paper, entered by a coordinator on their behalf: the
resident is its mover; the record shows the coordinator and the ``paper`` channel."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template
from msgspec import Meta

from domain.identity import Role
from services.bus import Bus, Caller
from services.composition.runtime import Backbone
from services.council.commands import MotionText, SubmitMotion, Title
from services.identity import records as identity
from services.pages.console.common import Form, show
from services.web.auth import allow

Key = Annotated[str, Meta(pattern=r"^[0-9a-f]{32}$")]


class PaperMotion(msgspec.Struct, kw_only=True):
    key: Key  # made with the form: sending it twice records the motion once
    title: Title
    text: MotionText

    def command(self, mover: UUID) -> SubmitMotion:
        """The resident's motion, entered by staff: the bus records it as on paper."""
        return SubmitMotion(
            idempotency_key=f"paper-motion:{self.key}",
            mover=mover,
            title=self.title,
            text=self.text,
        )


@get("/members/{member_id:uuid}/motion", opt=allow(Role.COORDINATOR), sync_to_thread=True)
def paper_motion_form(
    request: Request[Any, Any, Any],
    member_id: FromPath[UUID],
    bone: NamedDependency[Backbone],
    entered: Annotated[str, QueryParameter(max_length=120)] = "",
) -> Template:
    """The form, and after a motion was entered, a word that it was (with its title)."""
    member = identity.member_of(bone.timebank, member_id)
    context = {"member": member, "key": uuid.uuid4().hex, "entered": entered}
    return show(request, "console/members/motion.html", context)


@post("/members/{member_id:uuid}/motion", opt=allow(Role.COORDINATOR), sync_to_thread=True)
def enter_paper_motion(
    member_id: FromPath[UUID],
    data: Form[PaperMotion],
    bus: NamedDependency[Bus],
    caller: NamedDependency[Caller],
) -> Redirect:
    bus.handle_from_thread(data.command(member_id), caller)
    path = f"/console/members/{member_id}/motion"
    return Redirect(path, query_params={"entered": data.title.strip()}, status_code=303)
