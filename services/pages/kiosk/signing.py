"""Signing in and out at the kiosk, and making a screen a kiosk.

A resident signs in with their member number and PIN on the on-screen number pad; the
kiosk's device token (a long-lived cookie set when the administrator set the screen up) says
which kiosk it is, so the resident's session is good only on this screen. It slides: each
page they open renews it, and it ends after they stop touching the screen (the page counts
down and signs them out; the server's session runs out shortly after).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from domain.identity import Role
from domain.provenance import Provenance
from services import identity
from services.api.auth import allow, public
from services.api.identity import MemberNumber, Pin, principal_of
from services.pages.kiosk.frame import RESIDENTS, Form, screen
from services.pages.session import DEVICE_COOKIE, device_cookie, signed_in, signed_out
from services.runtime import Backbone

SIGN_IN = "/kiosk/sign-in"
SETUP = "/kiosk/setup"
KioskName = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class SignIn(msgspec.Struct, kw_only=True):
    member_number: MemberNumber
    pin: Pin


class NewKiosk(msgspec.Struct, kw_only=True):
    name: KioskName


@get(SIGN_IN, opt=public(), sync_to_thread=False)
def sign_in_form(
    request: Request[Any, Any, Any], ready: Annotated[bool, QueryParameter()] = False
) -> Template:
    """The number pad. A screen without a device token is not a kiosk yet: it says so."""
    return screen(
        request, "sign_in.html", is_kiosk=bool(request.cookies.get(DEVICE_COOKIE)), ready=ready
    )


@post(SIGN_IN, opt=public(), sync_to_thread=True)
def sign_in(
    request: Request[Any, Any, Any],
    data: Annotated[SignIn, Form],
    bone: NamedDependency[Backbone],
    by: NamedDependency[Provenance],
) -> Redirect:
    member, kiosk = identity.kiosk_sign_in(
        bone.timebank,
        kiosk_token=request.cookies.get(DEVICE_COOKIE, ""),
        member_number=data.member_number,
        pin=data.pin,
        now=bone.clock(),
        by=by,
    )
    principal = principal_of(bone.timebank, member, kiosk)
    return signed_in(request.app.state.page_auth, principal, "/kiosk")


@post("/kiosk/sign-out", opt=RESIDENTS, sync_to_thread=False)
def sign_out() -> Redirect:
    return signed_out(SIGN_IN)


def _staff_sign_in_first(request: Request[Any, Any, Any], _: Exception) -> Response[Any]:
    """Setting a kiosk up is the administrator's job (as registering one through the API is):
    they sign in on the staff sign-in first."""
    return Redirect(f"/console/sign-in?next={SETUP}", status_code=303)


class KioskSetup(Controller):
    """The administrator makes this screen a kiosk: it is registered, the screen keeps its
    device token, and the administrator is signed out so residents can start."""

    path = SETUP
    exception_handlers = {NotAuthorizedException: _staff_sign_in_first}  # noqa: RUF012

    @get("/", opt=allow(Role.ADMIN), sync_to_thread=False)
    def form(self, request: Request[Any, Any, Any]) -> Template:
        return screen(request, "setup.html")

    @post("/", opt=allow(Role.ADMIN), sync_to_thread=True)
    def register(
        self,
        data: Annotated[NewKiosk, Form],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Redirect:
        _, token = identity.register_kiosk(bone.timebank, name=data.name, by=by)
        response = signed_out(f"{SIGN_IN}?ready=true")
        response.set_cookie(device_cookie(token))
        return response
