"""The kiosks, the administrator's work: every shared screen, a new one (its device code shown
this once, with how to set the screen up), and retiring one (after a confirmation the domain
is asked about; from then on its code signs nobody in, and its residents' sessions end)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template
from msgspec import Meta

from domain.identity import Role
from domain.rules import NotFound
from projections import kiosks
from services.bus import Bus, Caller, Receipt
from services.composition.runtime import Backbone
from services.identity.commands import RetireKiosk
from services.pages.console.common import Form, confirm_why, show, shown_once
from services.pages.forms import Sent, action
from services.pages.i18n import N_, gettext
from services.pages.kiosk.enrolment import ENROL
from services.pages.kiosk.signing import NewKiosk
from services.pages.station_choices import station_choices
from services.web.auth import allow
from services.web.context import After
from services.web.reach import Reach
from services.web.reads import Reads

ADMINS = allow(Role.ADMIN)
DEVICE_CODE_COOKIE = "timebank_device_code"
DONE = {
    "registered": N_("The kiosk is registered. Set its screen up with the code below."),
    "retired": N_("The kiosk is retired: its code signs nobody in any more."),
}
Done = Annotated[str, QueryParameter(max_length=20)]


class Retirement(msgspec.Struct, kw_only=True):
    reason: Annotated[str, Meta(max_length=500)] = ""  # whether one is given: the command says
    confirmed: bool = False

    def command(self, kiosk_id: UUID) -> RetireKiosk:
        return RetireKiosk(kiosk_id=kiosk_id, reason=self.reason)


@get("/kiosks", opt=ADMINS, sync_to_thread=True)
def listed(
    request: Request[Any, Any, Any],
    reads: NamedDependency[Reads],
    reach: NamedDependency[Reach],
    after: After = None,
) -> Template:
    """The kiosks of the caller's stations, and the form for a new one."""
    rows = reads.query(("kiosks",), after, lambda db: kiosks.everyone(db, reach.among))
    context = {"kiosks": rows, "stations": station_choices(reads, reach)}
    return show(request, "console/kiosks/kiosks.html", context)


@post("/kiosks", opt=ADMINS, sync_to_thread=True)
def register(
    data: Form[NewKiosk], bus: NamedDependency[Bus], caller: NamedDependency[Caller]
) -> Redirect:
    """Registered: to the kiosk's page, the device code in a cookie for that page alone,
    which it reads once and drops: in no URL, history or request log, and gone on reload."""
    done = bus.handle_from_thread(data.command(), caller)
    query = f"after={done.position}&done=registered"
    return shown_once(f"/console/kiosks/{done.id}", query, DEVICE_CODE_COOKIE, done.token)


@get("/kiosks/{kiosk_id:uuid}", opt=ADMINS, sync_to_thread=True)
def kiosk(
    request: Request[Any, Any, Any],
    kiosk_id: FromPath[UUID],
    bone: NamedDependency[Backbone],
    reach: NamedDependency[Reach],
    after: After = None,
    done: Done = "",
) -> Template:
    """One kiosk: where it stands, whether it is in use; once after it was registered, its
    device code and how to set the screen up with it."""
    found = bone.read_side.query(("kiosks",), after, lambda db: kiosks.kiosk(db, str(kiosk_id)))
    if found is None:
        raise NotFound("kiosk-not-found", f"There is no kiosk {kiosk_id}.")
    reach.check(found["station_id"])
    code = request.cookies.get(DEVICE_CODE_COOKIE, "") if found["is_active"] else ""
    context = {
        "kiosk": found,
        "device_code": code,
        "enrol": ENROL,
        # Where the screen reaches the service: the public address, else this one.
        "site": (bone.settings.public_url or str(request.base_url)).rstrip("/"),
        "done": gettext(DONE[done]) if done in DONE else "",
    }
    page = show(request, "console/kiosks/kiosk.html", context)
    page.delete_cookie(DEVICE_CODE_COOKIE, path=f"/console/kiosks/{kiosk_id}")
    return page


def _retiring(sent: Sent) -> Template:
    """Which kiosk and why, to confirm (the domain is asked first whether it would refuse)."""
    kiosk_id = sent.record_id
    name = sent.station.read_side.query(
        ("kiosks",), None, lambda db: kiosks.kiosk(db, str(kiosk_id))
    )
    where = name["name"] if name is not None else str(kiosk_id)
    return confirm_why(
        sent,
        f"/console/kiosks/{kiosk_id}",
        "retirement",
        [
            gettext(
                "Nobody can sign in at this screen any more, and whoever is signed in there "
                "now is signed out. This cannot be undone: to use the screen again, register "
                "it as a new kiosk."
            )
        ],
        question=gettext("Retire the kiosk %(name)s?") % {"name": where},
        yes=gettext("Yes, retire"),
    )


def _retired(sent: Sent, receipt: Receipt) -> Redirect:
    back = f"/console/kiosks/{sent.record_id}"
    return Redirect(f"{back}?after={receipt.position}&done=retired", status_code=303)


RETIRE = action(
    "/kiosks/{kiosk_id:uuid}/retirement", Retirement, _retired, ask=_retiring, opt=ADMINS
)
