"""Making a screen a kiosk with the device code the administrator registered it with in the
console (the code is shown there once): the screen keeps it, as it keeps the code of a kiosk
set up on the spot (``signing.KioskSetup``), and residents sign in on it from then on."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Template

from domain.identity import kiosk_id_for
from services.composition.runtime import Backbone
from services.identity.records import kiosk_active, token_digest
from services.pages.i18n import gettext
from services.pages.kiosk.frame import Form, screen
from services.pages.session import device_cookie, signed_out
from services.web.auth import public

ENROL = "/kiosk/enrol"


class Enrolment(msgspec.Struct, kw_only=True):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


@get(ENROL, opt=public(), sync_to_thread=False)
def enrol_form(request: Request[Any, Any, Any]) -> Template:
    return screen(request, "enrol.html", entered="", refusal=None)


@post(ENROL, opt=public(), sync_to_thread=True)
def enrol(
    request: Request[Any, Any, Any],
    data: Annotated[Enrolment, Form],
    bone: NamedDependency[Backbone],
) -> Response[Any]:
    """The screen keeps the code, if it names a kiosk in use, and shows the number pad."""
    code = data.code.strip()
    kiosk_id = kiosk_id_for(token_digest(code))
    if not kiosk_active(bone.timebank, kiosk_id):
        said = gettext(
            "This code names no kiosk in use. Please check it, or register the kiosk again in "
            "the console."
        )
        page = screen(request, "enrol.html", entered=code, refusal=said)
        page.status_code = 422
        return page
    response = signed_out("/kiosk/sign-in?ready=true")
    response.set_cookie(device_cookie(code))
    return response
