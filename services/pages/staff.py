"""Staff sign-in for the console and the council pages (username and password)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Redirect, Template

from domain.identity import Role
from services.composition.runtime import Backbone
from services.identity.staff import staff_sign_in
from services.pages.session import current, local_path, signed_in, signed_out
from services.web.auth import Principal, allow, public

Next = Annotated[str, QueryParameter(name="next", max_length=200)]


class StaffSignIn(msgspec.Struct, kw_only=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    next: Annotated[str, msgspec.Meta(max_length=200)] = ""


def landing(principal: Principal, wanted: str) -> str:
    """Where a signed-in staff member goes: where they were heading, else their own pages."""
    return local_path(wanted, "/council" if Role.COUNCIL in principal.roles else "/console")


class StaffSignInPage(Controller):
    path = "/console"

    @get("/sign-in", opt=public(), sync_to_thread=False)
    def form(self, request: Request[Any, Any, Any], next_: Next = "") -> Template:
        return Template(
            "staff/sign_in.html", context={"next": next_, "signed_in": current(request)}
        )

    @post("/sign-in", opt=public(), sync_to_thread=True)
    def sign_in(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[StaffSignIn, Body(media_type=RequestEncodingType.URL_ENCODED)],
        bone: NamedDependency[Backbone],
    ) -> Redirect:
        staff = staff_sign_in(bone.timebank, data.username, data.password)
        principal = Principal(
            subject=f"staff:{staff.id}", roles=frozenset({staff.role}), channel="console"
        )
        return signed_in(request.app.state.page_auth, principal, landing(principal, data.next))

    @post("/sign-out", opt=allow(*Role), sync_to_thread=False)
    def sign_out(self) -> Redirect:
        return signed_out("/console/sign-in")
