"""Signing in and out at the kiosk, and making a screen a kiosk.

A resident signs in with their member number and PIN on the on-screen number pad; the
kiosk's device token (a long-lived cookie set when the administrator set the screen up) says
which kiosk it is, so the resident's session is good only on this screen. It slides: each
page they open renews it, and it ends after they stop touching the screen (the page counts
down and signs them out; the server's session runs out shortly after).
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from domain.identity import PIN_LOCKOUT, Role, minutes_until
from services.bus import Bus, Caller
from services.composition.runtime import Backbone
from services.identity.commands import (
    KioskName,
    MemberNumber,
    Pin,
    RegisterKiosk,
    SignInAtKiosk,
)
from services.identity.records import SignInRefused
from services.pages.i18n import clock, ngettext
from services.pages.kiosk.frame import RESIDENTS, Form, refused_again, screen
from services.pages.refusals import explain
from services.pages.session import (
    DEVICE_COOKIE,
    device_cookie,
    renew_resident_session,
    signed_in,
    signed_out,
)
from services.pages.station_choices import Chosen, chosen, station_choices
from services.web.auth import allow, principal_of, public
from services.web.reach import Reach
from services.web.reads import Reads

SIGN_IN = "/kiosk/sign-in"
SETUP = "/kiosk/setup"
LOCKOUT_MINUTES = int(PIN_LOCKOUT / timedelta(minutes=1))


class SignIn(msgspec.Struct, kw_only=True):
    member_number: MemberNumber
    pin: Pin

    def command(self, kiosk_token: str) -> SignInAtKiosk:
        return SignInAtKiosk(
            member_number=self.member_number, pin=self.pin, kiosk_token=kiosk_token
        )


class NewKiosk(msgspec.Struct, kw_only=True):
    """A kiosk registered here or in the console: its name, and its station if the
    administrator works at several."""

    name: KioskName
    station: Chosen = ""

    def command(self) -> RegisterKiosk:
        return RegisterKiosk(name=self.name, station=chosen(self.station))


class SignOut(msgspec.Struct, kw_only=True):
    idle: bool = False  # the idle countdown ran out, rather than the resident signing out


@get(SIGN_IN, opt=public(), sync_to_thread=False)
def sign_in_form(
    request: Request[Any, Any, Any],
    ready: Annotated[bool, QueryParameter()] = False,
    idle: Annotated[bool, QueryParameter()] = False,
    pin_chosen: Annotated[bool, QueryParameter()] = False,
) -> Template:
    """The number pad. A screen without a device token is not a kiosk yet: it says so. After
    an idle sign-out it says why the resident was signed out; after choosing a PIN, that it
    is set."""
    return _sign_in_page(request, ready=ready, idle=idle, pin_chosen=pin_chosen)


def _sign_in_page(request: Request[Any, Any, Any], **context: Any) -> Template:
    defaults = {
        "ready": False,
        "idle": False,
        "pin_chosen": False,
        "member_number": "",
        "refusal": None,
    }
    return screen(
        request,
        "sign_in.html",
        is_kiosk=bool(request.cookies.get(DEVICE_COOKIE)),
        **{**defaults, **context},
    )


@post(SIGN_IN, opt=public(), sync_to_thread=True)
def sign_in(
    request: Request[Any, Any, Any],
    data: Annotated[SignIn, Form],
    bone: NamedDependency[Backbone],
    caller: NamedDependency[Caller],
) -> Response[Any]:
    """Signed in, to the resident's home; refused, the number pad again with the member number
    kept and the PIN cleared (a pad typing on after a wrong PIN would burn the next try)."""
    command = data.command(request.cookies.get(DEVICE_COOKIE, ""))
    now = bone.clock()
    try:
        member, kiosk = bone.bus.handle_from_thread(command, caller)
    except SignInRefused as refused:
        refusal = sign_in_refusal(refused, now, bone.settings.zone)
        page = _sign_in_page(request, member_number=data.member_number, refusal=refusal)
        return refused_again(request, refused.code, page, refused.status)
    principal = principal_of(bone.timebank, member, kiosk)
    return signed_in(request.app.state.page_auth, principal, "/kiosk")


def sign_in_refusal(refused: SignInRefused, now: datetime, zone: tzinfo) -> str:
    """What a refused sign-in says: how long a locked number waits and who can help, or how
    many tries are left (the service says so once few are)."""
    if refused.locked_until is not None:
        minutes = minutes_until(refused.locked_until, now)
        said = ngettext(
            "Too many wrong PINs: this member number is locked until %(time)s. You can try again "
            "in %(minutes)s minute, or ask a social worker to reset your PIN.",
            "Too many wrong PINs: this member number is locked until %(time)s. You can try again "
            "in %(minutes)s minutes, or ask a social worker to reset your PIN.",
            minutes,
        )
        return said % {"time": clock(refused.locked_until, zone), "minutes": minutes}
    if refused.tries_left is not None:
        said = ngettext(
            "The PIN is wrong. You can try %(count)s more time; after that this member number "
            "is locked for %(minutes)s minutes.",
            "The PIN is wrong. You can try %(count)s more times; after that this member number "
            "is locked for %(minutes)s minutes.",
            refused.tries_left,
        )
        return said % {"count": refused.tries_left, "minutes": LOCKOUT_MINUTES}
    return explain(refused)


@post("/kiosk/sign-out", opt=RESIDENTS, sync_to_thread=False)
def sign_out(data: Annotated[SignOut, Form]) -> Redirect:
    return signed_out(f"{SIGN_IN}?idle=true" if data.idle else SIGN_IN)


@post("/kiosk/still-here", opt=RESIDENTS, sync_to_thread=False, status_code=204)
def still_here(request: Request[Any, Any, Any]) -> Response[None]:
    """The resident answered "still here?": their session is renewed with the idle clock."""
    response = Response(content=None, status_code=204)
    renew_resident_session(request, response)
    return response


def _staff_sign_in_first(request: Request[Any, Any, Any], _: Exception) -> Response[Any]:
    """Setting a kiosk up is the administrator's job (as registering one through the API is):
    they sign in on the staff sign-in first."""
    return Redirect(f"/console/sign-in?next={SETUP}", status_code=303)


class KioskSetup(Controller):
    """The administrator makes this screen a kiosk: it is registered, the screen keeps its
    device token, and the administrator is signed out so residents can start."""

    path = SETUP
    exception_handlers = {NotAuthorizedException: _staff_sign_in_first}  # noqa: RUF012

    @get("/", opt=allow(Role.ADMIN), sync_to_thread=True)
    def form(
        self,
        request: Request[Any, Any, Any],
        reads: NamedDependency[Reads],
        reach: NamedDependency[Reach],
    ) -> Template:
        """The kiosk's name, and its station for administrators who work at several."""
        return screen(request, "setup.html", stations=station_choices(reads, reach))

    @post("/", opt=allow(Role.ADMIN), sync_to_thread=True)
    def register(
        self,
        data: Annotated[NewKiosk, Form],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Redirect:
        done = bus.handle_from_thread(data.command(), caller)
        response = signed_out(f"{SIGN_IN}?ready=true")
        response.set_cookie(device_cookie(done.token))
        return response
