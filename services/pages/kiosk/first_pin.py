"""A resident chooses their own PIN at the kiosk, the first time (or after forgetting it),
with the one-time setup code the station gave them on paper: staff never learn the PIN."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from domain.rules import RuleViolated
from services.bus import Caller
from services.composition.runtime import Backbone
from services.identity.commands import ChoosePin, MemberNumber, Pin, SetupCode
from services.identity.records import SignInRefused
from services.pages.i18n import gettext, ngettext
from services.pages.kiosk.frame import Form, refused_again, screen
from services.pages.kiosk.signing import SIGN_IN, sign_in_refusal
from services.pages.refusals import explain
from services.pages.session import DEVICE_COOKIE
from services.web.auth import public

FIRST_PIN = "/kiosk/first-pin"


class PinChoice(msgspec.Struct, kw_only=True):
    member_number: MemberNumber
    setup_code: SetupCode
    pin: Pin
    pin_again: Pin

    def command(self, kiosk_token: str) -> ChoosePin:
        return ChoosePin(
            member_number=self.member_number,
            setup_code=self.setup_code,
            pin=self.pin,
            kiosk_token=kiosk_token,
        )


@get(FIRST_PIN, opt=public(), sync_to_thread=False)
def first_pin_form(request: Request[Any, Any, Any]) -> Template:
    return _page(request)


def _page(request: Request[Any, Any, Any], **context: Any) -> Template:
    defaults = {"member_number": "", "refusal": None}
    return screen(request, "first_pin.html", **{**defaults, **context})


@post(FIRST_PIN, opt=public(), sync_to_thread=True)
def choose_pin(
    request: Request[Any, Any, Any],
    data: Annotated[PinChoice, Form],
    bone: NamedDependency[Backbone],
    caller: NamedDependency[Caller],
) -> Response[Any]:
    """Chosen, to the sign-in with a word that it worked; refused, the form again with the
    member number kept and the code and PINs cleared."""
    if data.pin != data.pin_again:
        page = _page(
            request,
            member_number=data.member_number,
            refusal=gettext("The two PINs are not the same. Please enter your new PIN twice."),
        )
        page.status_code = 400
        return page
    command = data.command(request.cookies.get(DEVICE_COOKIE, ""))
    now = bone.clock()
    try:
        bone.bus.handle_from_thread(command, caller)
    except SignInRefused as refused:
        refusal = _refusal(refused, now, bone.settings.zone)
        page = _page(request, member_number=data.member_number, refusal=refusal)
        return refused_again(request, refused.code, page, refused.status)
    except RuleViolated as refused:
        page = _page(request, member_number=data.member_number, refusal=explain(refused))
        page.status_code = 409
        return page
    return Redirect(f"{SIGN_IN}?pin_chosen=true", status_code=303)


def _refusal(refused: SignInRefused, now: datetime, zone: tzinfo) -> str:
    """A wrong code says so, and how many tries are left once few are; a lock as at sign-in."""
    if refused.locked_until is not None or refused.code != "wrong-credentials":
        return sign_in_refusal(refused, now, zone)
    said = gettext("The member number or setup code is wrong. Please check the slip.")
    if refused.tries_left is None:
        return said
    left = ngettext(
        "You can try %(count)s more time.", "You can try %(count)s more times.", refused.tries_left
    )
    return f"{said} {left % {'count': refused.tries_left}}"
