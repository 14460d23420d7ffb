"""The member registry: residents by member number, registering one, and their sealed personal
details — opened only on purpose, each opening recorded in the access log (PIPL)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template
from msgspec import Meta

from domain.identity import Member, Role, member_id_for
from domain.ledger import AccountKind, account_id_for
from domain.provenance import Provenance
from domain.volunteer import volunteer_id_for
from projections import balances, volunteers
from services import windows
from services.bus import Bus, Caller, NotYours
from services.composition.runtime import Backbone
from services.identity import records
from services.identity.commands import IssueSetupCode, RegisterMember
from services.pages import purposes
from services.pages.console.common import (
    LIST_LIMIT,
    STAFF,
    Form,
    administers,
    people,
    show,
    shown_once,
)
from services.pages.console.membership import DONE
from services.pages.forms import BUTTON
from services.pages.i18n import gettext
from services.pages.station_choices import Chosen, chosen, station_choices, station_names
from services.web.auth import allow
from services.web.context import After
from services.web.reach import Reach

Name = Annotated[str, Meta(min_length=1, max_length=100)]
SETUP_CODE_COOKIE = "timebank_setup_code"


class NewMember(msgspec.Struct, kw_only=True):
    """The registration form, checked as the API checks it."""

    display_name: Name
    building: Name
    household: Name
    phone: Annotated[str, Meta(pattern=r"^\+?[0-9 -]{5,20}$")]
    id_number: Annotated[str, Meta(pattern=r"^([0-9]{17}[0-9Xx])?$")] = ""
    birth_date: Annotated[str, Meta(pattern=r"^(\d{4}-\d{2}-\d{2})?$")] = ""
    notice_version: Annotated[str, Meta(pattern=r"^([A-Za-z0-9._-]{1,32})?$")] = ""
    station: Chosen = ""

    def command(self) -> RegisterMember:
        """Registered with a setup code, with which the resident chooses their own PIN."""
        return RegisterMember(
            display_name=self.display_name,
            building=self.building,
            household=self.household,
            phone=self.phone,
            id_number=self.id_number or None,
            birth_date=self.born(),
            notice_version=self.notice_version or None,
            station=chosen(self.station),
        )

    def born(self) -> date | None:
        if not self.birth_date:
            return None
        now = windows.station_now()
        return windows.day_of("birth_date", self.birth_date, windows.Window.BORN, now)


class Opening(msgspec.Struct, kw_only=True):
    """Why personal details are opened: it goes on the access log."""

    purpose: Annotated[str, Meta(max_length=200)] = ""


def opened(
    request: Request[Any, Any, Any], page: str, purpose: str, position: int, **shown: Any
) -> Template:
    """Personal details just opened (recorded at ``position``), with the purpose given and a
    link to the access log as it stands once it shows this opening."""
    logged = f"/console/access-log?after={position}"
    return show(request, page, {**shown, "purpose": purpose, "logged": logged})


@get("/members", opt=allow(*STAFF), sync_to_thread=True)
def registry(
    request: Request[Any, Any, Any],
    bone: NamedDependency[Backbone],
    by: NamedDependency[Provenance],
    reach: NamedDependency[Reach],
    number: Annotated[str, QueryParameter(max_length=20)] = "",
    name: Annotated[str, QueryParameter(max_length=40)] = "",
) -> Template | Redirect:
    """Recently registered members of the caller's stations, the one with the number asked
    for, or those whose name holds what was typed; named, the list recorded once in the access
    log. Street and district staff see member numbers only, and find no one by name."""
    wanted, sought = number.strip(), name.strip()
    if sought and not reach.is_one_station:
        raise NotYours("A street or district account sees figures, not residents' details.")
    if wanted:
        found = bone.timebank.find(member_id_for(wanted), Member)
        if found is not None and reach.covers(found.station):
            return Redirect(f"/console/members/{found.id}", status_code=303)
    rows = bone.read_side.query(
        ("balances", "stations"),
        None,
        lambda db: balances.member_accounts(
            db, among=reach.among, limit=None if sought else LIST_LIMIT
        ),
    )
    members = _members(bone, rows)
    if sought:
        ids = [row["member"].id for row in members]
        named = set(records.members_named(bone.timebank, bone.vault, ids, sought))
        members = [row for row in members if row["member"].id in named][:LIST_LIMIT]
    names = records.open_names(
        bone.timebank,
        bone.vault,
        member_ids=[row["member"].id for row in members],
        purpose=purposes.MEMBERS_FOUND if sought else purposes.REGISTRY,
        by=by,
    )
    context = {
        "members": [{**row, "name": names.get(row["member"].id, "")} for row in members],
        "number": wanted,
        "name": sought,
        "message": gettext("No member has the number %(number)s.") % {"number": wanted}
        if wanted
        else "",
        # Staff of several stations see where each member belongs.
        "stations": {} if reach.is_one_station else station_names(bone.read_side, reach),
    }
    return show(request, "console/members/registry.html", context)


def _members(bone: Backbone, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    members = []
    for row in rows:
        try:
            member = bone.timebank.find(UUID(row["owner"]), Member)
        except ValueError:  # an account opened for an owner that is not a member
            member = None
        if member is not None:
            members.append({"member": member, "account": row})
    return members


@get("/members/new", opt=allow(Role.COORDINATOR), sync_to_thread=True)
def registration(
    request: Request[Any, Any, Any], bone: NamedDependency[Backbone], reach: NamedDependency[Reach]
) -> Template:
    """The form, with the station's current privacy notice as the one agreed to, and the
    stations to choose from for staff who work at several."""
    context = {
        "notice_version": bone.settings.privacy_notice_version,
        "stations": station_choices(bone.read_side, reach),
    }
    return show(request, "console/members/new.html", context)


@post("/members", opt=allow(Role.COORDINATOR), sync_to_thread=True)
def register(
    data: Form[NewMember], bus: NamedDependency[Bus], caller: NamedDependency[Caller]
) -> Redirect:
    """Registered: to the member's page, which shows the setup code this once."""
    done = bus.handle_from_thread(data.command(), caller)
    return _with_code(done, "&registered=true")


@post("/members/{member_id:uuid}/setup-code", opt=allow(Role.COORDINATOR), sync_to_thread=True)
def setup_code(
    member_id: FromPath[UUID], bus: NamedDependency[Bus], caller: NamedDependency[Caller]
) -> Redirect:
    """A new setup code, for a resident who forgot their PIN: shown this once."""
    done = bus.handle_from_thread(IssueSetupCode.at(BUTTON, member_id=member_id), caller)
    return _with_code(done)


def _with_code(done: records.Registered, query: str = "") -> Redirect:
    """To the member's page, the code in a cookie for that page alone, which it reads once and
    drops: in no URL, history or request log, and gone on reload."""
    path = f"/console/members/{done.id}"
    return shown_once(path, f"after={done.position}{query}", SETUP_CODE_COOKIE, done.setup_code)


@get("/members/{member_id:uuid}", opt=allow(*STAFF), sync_to_thread=True)
def member(
    request: Request[Any, Any, Any],
    member_id: FromPath[UUID],
    bone: NamedDependency[Backbone],
    reach: NamedDependency[Reach],
    after: After = None,
    registered: Annotated[bool, QueryParameter()] = False,
    done: Annotated[str, QueryParameter(max_length=40)] = "",
) -> Template:
    """What a coordinator may see without opening personal details: number, status, whether
    a lockout keeps them from signing in, consents, account and volunteer record; once after
    it was issued, the setup code; once back from an action, what it did."""
    found = records.member_of(bone.timebank, member_id)
    reach.check(found.station)

    def query(db: Any) -> dict[str, Any]:
        account = balances.account(db, account_id_for(str(member_id), AccountKind.MEMBER))
        volunteer = volunteers.volunteer(db, str(volunteer_id_for(member_id)))
        return {"account": account, "volunteer": volunteer, "people": people(bone, db)}

    context = bone.read_side.query(("balances", "volunteers"), after, query)
    code = request.cookies.get(SETUP_CODE_COOKIE, "") if found.setup_code_hash else ""
    shown = {
        "member": found,
        "registered": registered,
        "setup_code": code,
        "done": gettext(DONE[done]) if done in DONE else "",
        "locked_until": found.pin_locked_until(bone.clock()),
        "consents": records.consents_of(bone.timebank, member_id),
        "notice_version": bone.settings.privacy_notice_version,
        "homes": station_choices(bone.read_side, reach) if administers(request) else [],
    }
    page = show(request, "console/members/member.html", {**context, **shown})
    page.delete_cookie(SETUP_CODE_COOKIE, path=f"/console/members/{member_id}")
    return page


@post(
    "/members/{member_id:uuid}/details",
    opt=allow(Role.COORDINATOR),
    sync_to_thread=True,
    status_code=200,
)
def details(
    request: Request[Any, Any, Any],
    member_id: FromPath[UUID],
    data: Form[Opening],
    bone: NamedDependency[Backbone],
    by: NamedDependency[Provenance],
) -> Template:
    """The member's personal details, after recording who opened them and why."""
    found, seen, position = records.open_personal_data(
        bone.timebank, bone.vault, member_id=member_id, purpose=data.purpose, by=by
    )
    return opened(
        request, "console/members/details.html", data.purpose, position, member=found, details=seen
    )
