"""What every kiosk page shares: who may open it, how a page is rendered (the idle countdown
goes with it and opening it renews the resident's session), how an action answers with the
page that shows its effect, and the parts of the kiosk's forms."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID, uuid4

import msgspec
import structlog
from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body
from litestar.response import Redirect, Template
from msgspec import Meta

from domain.identity import Role
from projections import marketplace
from projections.readstore import ReadDb
from services.bus import Receipt
from services.pages.forms import Answer, CommandForm, action
from services.pages.i18n import N_, gettext, language
from services.pages.labels import label
from services.pages.session import current, renew_resident_session
from services.web.auth import Principal, allow

log = structlog.get_logger(__name__)

RESIDENTS = allow(Role.RESIDENT, Role.VOLUNTEER)
# A form posted by a kiosk page (URL-encoded, as a browser sends it).
Form = Body(media_type=RequestEncodingType.URL_ENCODED)
# Key of one intended action, made when its confirmation screen is shown: a second tap on
# "confirm" (or a retry after a lost answer) records nothing new.
ActionKey = Annotated[str, Meta(pattern=r"^[0-9a-f]{32}$")]
# Whole minutes for one action at the kiosk: the services' rules say how many are allowed.
Minutes = Annotated[int, Meta(gt=0, le=24 * 60)]
Note = Annotated[str, Meta(max_length=300)]
# The usual lengths of help, offered as one-touch choices beside the number pad.
MINUTE_CHOICES = (30, 60, 90, 120)
POLL_SECONDS = 3  # how often a resident's balance refreshes itself on screen
# Titles residents often give help of each starting category: one touch instead of typing
# (what they tap is filled in and can still be changed).
COMMON_TITLES = {
    "companionship": (
        N_("Going to the doctor together"),
        N_("A chat and a walk"),
        N_("Reading the paper together"),
    ),
    "errands": (N_("Buying groceries"), N_("Collecting a parcel"), N_("Paying a bill")),
    "repairs": (N_("Fixing a small appliance"), N_("Changing a light bulb")),
    "escort": (N_("A ride to the hospital"), N_("Going to the activity centre together")),
    "tutoring": (N_("Homework help"), N_("Learning to use a smartphone")),
    "haircut": (N_("A haircut at home"),),
    "meals": (N_("Bringing a meal"), N_("Helping to cook")),
    "cleaning": (N_("Cleaning the home"), N_("Washing clothes")),
}
# What an action came to, said first on the page that shows its effect: every action ends on
# a clear "done" in words, not only on a changed list.
DONE_HERE = {
    "posted": N_("Posted. Everyone can see it on the board now."),
    "closed": N_("Taken off the board."),
    "logged": N_("Sent for approval. A coordinator will check it; then the time is yours."),
    "voted": N_("Your vote is recorded."),
    "proposed": N_("Proposed. Your motion is on the board and now needs residents' support."),
}


def me(request: Request[Any, Any, Any]) -> Principal:
    """The signed-in resident (the route's guard let only residents and volunteers in)."""
    principal = current(request)
    assert principal is not None and principal.is_member, "guarded: residents only"
    return principal


def account_of(request: Request[Any, Any, Any]) -> UUID:
    account = me(request).account_id
    assert account is not None, "residents sign in with their account"
    return account


def member_of(request: Request[Any, Any, Any]) -> UUID:
    member = me(request).member_id
    assert member is not None, "residents sign in as members"
    return member


def fragment(request: Request[Any, Any, Any], template: str, **context: Any) -> Template:
    """A kiosk template with what every kiosk page shows; the session is not renewed (a page
    part refreshing itself is no touch)."""
    settings = request.app.state.backbone.settings
    return Template(
        f"kiosk/{template}",
        context={
            "me": current(request),
            "idle_seconds": settings.kiosk_idle_seconds,
            "member_number_digits": settings.member_number_digits,
            "poll_seconds": POLL_SECONDS,
            "zone": settings.zone,
            "minute_choices": MINUTE_CHOICES,
            "common_titles": COMMON_TITLES,
            "label": label,
            "done_here": None,
            **context,
        },
    )


def screen(request: Request[Any, Any, Any], template: str, **context: Any) -> Template:
    """A kiosk page the resident opened: their touch restarts the idle clock, on screen and on
    the server (their session is renewed with the page). After an action (``?done=``) it
    starts by saying, in words, what the action came to."""
    done = DONE_HERE.get(request.query_params.get("done", ""))
    page = fragment(request, template, done_here=done, **context)
    renew_resident_session(request, page)
    return page


def confirmation(
    request: Request[Any, Any, Any],
    question: str,
    *,
    action: str,
    back: str,
    fields: dict[str, Any],
    detail: str | None = None,
    objection: str | None = None,
) -> Template:
    """The screen that says an action in plain words before anything is recorded: "yes"
    posts ``fields`` to ``action``, "no" goes ``back``; ``objection``, where there is one, is
    where to say instead that something is wrong."""
    return screen(
        request,
        "confirm.html",
        question=question,
        detail=detail,
        action=action,
        fields=fields,
        back=back,
        objection=objection,
    )


def form_confirmed(
    request: Request[Any, Any, Any], question: str, form: msgspec.Struct, *, path: str, detail: str
) -> Template:
    """The confirmation of a form the resident filled in at ``path``: "yes" posts the same
    fields back to ``path`` with the key of this one action, "no" starts the form again."""
    fields = {**msgspec.structs.asdict(form), "key": new_key()}
    return confirmation(request, question, action=path, back=path, fields=fields, detail=detail)


def showing(path: str, receipt: Receipt, done: str | None = None) -> Redirect:
    """After an action: the page at ``path``, read once it includes the action's effect;
    ``done`` (a key of :data:`DONE_HERE`): what the page says the action came to."""
    said = "" if done is None else f"&done={done}"
    return Redirect(f"{path}?after={receipt.position}{said}", status_code=303)


def to_done(said: str) -> Answer:
    """After a resident's action: the screen that says ``said`` (a key of the done
    screens), with the new balance."""
    return lambda _, receipt: showing(f"/kiosk/done/{said}", receipt)


def resident_action(
    path: str, form: type[CommandForm], answer: Answer | None, **asking: Any
) -> HTTPRouteHandler:
    """A resident's action at the kiosk (``forms.action``)."""
    return action(path, form, answer, opt=RESIDENTS, **asking)


def refused_again(
    request: Request[Any, Any, Any], code: str, page: Template, status: int
) -> Template:
    """The form again (``page``), saying why the command was refused, with ``status``; the
    refusal logged by its ``code``."""
    log.info("page.refused", path=request.url.path, code=code)
    page.status_code = status
    return page


def new_key() -> str:
    return uuid4().hex


def with_note(what: str, note: str) -> str:
    """What a resident picked, then what they wrote about it (if anything)."""
    note = note.strip()
    return gettext("%(what)s: %(more)s") % {"what": what, "more": note} if note else what


def category_names(db: ReadDb, *, include_retired: bool = False) -> dict[str, str]:
    """The help categories by code, named in the reader's language; ``include_retired``: for
    what was recorded under a category since retired."""
    column = "name_zh" if language() == "zh_CN" else "name_en"
    rows = marketplace.categories(db, include_retired=include_retired)
    return {row["code"]: row[column] for row in rows}
