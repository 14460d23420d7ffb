"""What every console page shares: who may open it, what every template is given, and how a
page answers htmx (a fragment in place) and a plain request (the whole page)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from uuid import UUID

from litestar import Request
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from domain.identity import Member, Role
from domain.ledger import TimeAccount
from domain.provenance import SYSTEM_ACTOR, Provenance
from domain.volunteer import Volunteer
from projections import marketplace, staff_directory
from projections.readstore import ReadDb
from services.bus import Receipt
from services.composition.runtime import Backbone
from services.identity import records as identity
from services.pages.forms import Answer, CommandForm, Sent, action
from services.pages.i18n import gettext, language
from services.pages.labels import choices, label
from services.pages.session import current
from services.store.eventstore import Timebank
from services.store.vault import Vault
from services.web.auth import allow

STAFF = (Role.COORDINATOR, Role.ADMIN)  # read the console, as the API lets them
LIST_LIMIT = 50  # rows on one page of a list
CODE_SHOWN_FOR = 120  # seconds a code shown once waits in its cookie: its page reads it at once
T = TypeVar("T")
Form = Annotated[T, Body(media_type=RequestEncodingType.URL_ENCODED)]  # a page's form


class People:
    """Pseudonymous ids as a coordinator reads them: staff by username, residents by the member
    number printed on their card, and — in a work list that called ``reveal`` — by name too.
    A name is opened only through ``reveal``: one access-log record for the whole list."""

    def __init__(self, app: Timebank, staff: list[dict[str, Any]]) -> None:
        self._app = app
        self._staff = {f"staff:{row['staff_id']}": row["username"] for row in staff}
        self._numbers: dict[str, str] = {}
        self._names: dict[UUID, str] = {}

    def reveal(self, vault: Vault, member_ids: list[UUID], *, purpose: str, by: Provenance) -> None:
        """Name these members in the list about to be shown, recorded as one list view."""
        self._names.update(
            identity.open_names(self._app, vault, member_ids=member_ids, purpose=purpose, by=by)
        )

    def named(self, member_id: UUID | str) -> str:
        """王秀英 (000123) once revealed, else the member number alone."""
        number = self.member_number(member_id)
        name = self._names.get(UUID(str(member_id)))
        return (
            gettext("%(name)s (%(number)s)") % {"name": name, "number": number} if name else number
        )

    def volunteer_named(self, volunteer_id: UUID | str) -> str:
        member = volunteer_member(self._app, volunteer_id)
        return self.named(member) if member is not None else "—"

    def member_number(self, member_id: UUID | str) -> str:
        key = str(member_id)
        if key not in self._numbers:
            member = self._app.find(UUID(key), Member)
            self._numbers[key] = member.member_number if member is not None else "—"
        return self._numbers[key]

    def volunteer_number(self, volunteer_id: UUID | str) -> str:
        volunteer = self._app.find(UUID(str(volunteer_id)), Volunteer)
        return self.member_number(volunteer.member_id) if volunteer is not None else "—"

    def account_number(self, account_id: UUID | str) -> str:
        """Whoever holds the account: by member number, and name once revealed."""
        account = self._app.find(UUID(str(account_id)), TimeAccount)
        if account is None:
            return "—"
        member = self.account_member(account_id)
        return account.owner if member is None else self.named(member)

    def account_member(self, account_id: UUID | str) -> UUID | None:
        """The member who holds the account (None for a system account, or an owner that is
        not a member)."""
        account = self._app.find(UUID(str(account_id)), TimeAccount)
        try:
            return None if account is None else UUID(account.owner)
        except ValueError:
            return None

    def who(self, actor: str) -> str:
        if actor in self._staff:
            return self._staff[actor]
        kind, _, raw_id = actor.partition(":")
        if kind == "member":
            return gettext("Member %(number)s") % {"number": self.member_number(raw_id)}
        if actor == SYSTEM_ACTOR:
            return gettext("System")
        return actor

    @staticmethod
    def channel(channel: str) -> str:
        return gettext("Kiosk") if channel.startswith("kiosk:") else label("channel", channel)


def volunteer_member(app: Timebank, volunteer_id: UUID | str) -> UUID | None:
    volunteer = app.find(UUID(str(volunteer_id)), Volunteer)
    return volunteer.member_id if volunteer is not None else None


def people(bone: Backbone, db: ReadDb) -> People:
    return People(bone.timebank, staff_directory.everyone(db))


def category_names(db: ReadDb, *, include_retired: bool = True) -> dict[str, str]:
    """Each help category's name in the reader's language (by default retired ones too:
    records keep them)."""
    column = "name_zh" if language() == "zh_CN" else "name_en"
    rows = marketplace.categories(db, include_retired=include_retired)
    return {row["code"]: row[column] for row in rows}


@dataclass(frozen=True)
class RecordPage:
    """A record's console page (an entry, an exchange, a volunteer): its path, its template,
    the part htmx swaps, and what it shows of the record once the read models have applied a
    position."""

    path: str
    template: str
    part: str
    view: Callable[[Sent, int], dict[str, Any]]

    def saying(self, done: str) -> Answer:
        """After a command about the record: this page, saying ``done`` (marked by ``N_``)."""

        def answer(sent: Sent, receipt: Receipt) -> Template:
            context = {**self.view(sent, receipt.position), "done": gettext(done)}
            return show(sent.request, self.template, context, self.part)

        return answer

    def action(
        self, what: str, form: type[CommandForm], done: str, **asking: Any
    ) -> HTTPRouteHandler:
        """A coordinator's ``what`` to the record (``path/what``), after which this page says
        ``done``; ``asking``: ``ask`` and ``command`` of ``forms.action``."""
        return coordinating(f"{self.path}/{what}", form, self.saying(done), **asking)


def coordinating(
    path: str, form: type[CommandForm], answer: Answer, **asking: Any
) -> HTTPRouteHandler:
    """A coordinator's action on the record ``path`` names (``forms.action``): its answer
    is a page, shown in place."""
    return action(path, form, answer, opt=allow(Role.COORDINATOR), status_code=200, **asking)


def shown_once(path: str, query: str, cookie: str, code: str) -> Redirect:
    """To the page at ``path`` (``query``: what it reads at once), ``code`` in a cookie for
    that page alone, which it reads once and drops: in no URL, history or request log, and
    gone on reload."""
    once = Cookie(cookie, path, code, CODE_SHOWN_FOR, httponly=True, samesite="strict")
    return Redirect(f"{path}?{query}", status_code=303, cookies=[once])


def confirm_why(sent: Sent, back: str, what: str, sentences: list[str], **words: str) -> Template:
    """The confirmation of ``what`` is done to the record whose page is at ``back`` (it
    reloads whole): ``sentences``, then why; its "yes" posts the reason to ``back/what``."""
    reason = sent.form.reason
    return confirm(
        sent.request,
        sentences=[*sentences, gettext("Why: %(reason)s") % {"reason": reason}],
        action=f"{back}/{what}",
        fields=[("reason", reason)],
        target="",
        back=back,
        **words,
    )


def acts(request: Request[Any, Any, Any]) -> bool:
    """Whether the signed-in staff member may change records (coordinators) or only read."""
    principal = current(request)
    return principal is not None and Role.COORDINATOR in principal.roles


def administers(request: Request[Any, Any, Any]) -> bool:
    """Whether the signed-in staff member manages staff accounts and kiosks (admins)."""
    principal = current(request)
    return principal is not None and Role.ADMIN in principal.roles


def show(
    request: Request[Any, Any, Any],
    page: str,
    context: dict[str, Any],
    fragment: str | None = None,
    status_code: int = 200,
) -> Template:
    """The page, or only ``fragment`` of it when htmx asked (it swaps the fragment in place).
    Every console template is given the reader, whether they may act, the station's zone and
    the words for codes."""
    bone: Backbone = request.app.state.backbone
    wanted = fragment if fragment is not None and HTMXRequest(request.scope).htmx else page
    return Template(
        wanted,
        context={
            "signed_in": current(request),
            "acts": acts(request),
            "administers": administers(request),
            "zone": bone.settings.zone,
            "station_name": bone.settings.station_name,
            "printed": bone.clock(),
            "public_url": bone.settings.public_url.rstrip("/"),
            "label": label,
            "choices": choices,
            **context,
        },
        status_code=status_code,
    )


def confirm(
    request: Request[Any, Any, Any],
    *,
    question: str,
    sentences: list[str],
    action: str,
    fields: list[tuple[str, Any]],
    target: str,
    back: str,
    yes: str,
    items: list[str] | None = None,
) -> Template:
    """The confirmation, in plain words, that comes before anything that moves time credits:
    ``fields`` go back with the "yes", which then posts to ``action`` and fills ``target``."""
    context = {
        "question": question,
        "sentences": sentences,
        "items": items or [],
        "action": action,
        "fields": fields,
        "target": target,
        "back": back,
        "yes": yes,
    }
    return show(request, "console/confirm.html", context, "console/_confirm.html")
