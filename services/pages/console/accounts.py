"""Staff accounts, the administrator's work: who may sign in to the console and the council
pages and as what, a new account, a new password, and deactivating one (after a confirmation
the domain is asked about; from then on it signs in no more, and its sessions end)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template
from msgspec import Meta

from domain.identity import CouncilTitle, Role
from domain.provenance import Provenance
from domain.rules import NotFound, RuleViolated
from projections import staff_directory, stations
from services.bus import Bus, Caller, NotYours
from services.identity.commands import (
    ChangeStaffReach,
    CreateStaffAccount,
    DeactivateStaff,
    SetStaffPassword,
    Username,
)
from services.identity.records import Registered, staff_of
from services.pages.console.common import Form, confirm_why, show
from services.pages.forms import Answer, Sent, action
from services.pages.i18n import N_, gettext
from services.pages.labels import label
from services.pages.station_choices import reach_asked, reach_choices
from services.web.auth import allow
from services.web.context import After
from services.web.reach import Reach, staff_overseen
from services.web.reads import Reads

ACCOUNT = "/staff/{staff_id:uuid}"
ADMINS = allow(Role.ADMIN)
STAFF_ROLES = ("coordinator", "council", "admin")  # in the order the form offers them
Password = Annotated[str, Meta(max_length=200)]  # how long at least: the command says
Reason = Annotated[str, Meta(max_length=500)]  # whether one is given: the command says
# What an action on an account came to, said first on the account's page.
DONE = {
    "created": N_("The account is ready. Tell its holder the username and password in person."),
    "password": N_("The password is changed. Tell its holder the new one in person."),
    "deactivated": N_("The account is deactivated: it can no longer sign in."),
    "reach": N_("The account's new reach is recorded."),
}
Done = Annotated[str, QueryParameter(max_length=20)]
Where = Annotated[str, Meta(max_length=250)]  # a reach as ``Reach.written`` reads it


class NewAccount(msgspec.Struct, kw_only=True):
    username: Username
    role: Role
    password: Password
    title: Literal["", "chair", "secretary"] = ""
    reach: Where = ""  # by default the creator's own station

    def command(self) -> CreateStaffAccount:
        title = CouncilTitle(self.title) if self.title else None
        return CreateStaffAccount(
            username=self.username,
            role=self.role,
            password=self.password,
            title=title,
            reach=reach_asked(self.reach),
        )


class NewReach(msgspec.Struct, kw_only=True):
    reach: Where
    reason: Reason = ""

    def command(self, staff_id: UUID) -> ChangeStaffReach:
        reach = reach_asked(self.reach)
        if reach is None:
            raise RuleViolated("scope-incomplete", "Choose how far the account reaches.")
        return ChangeStaffReach(staff_id=staff_id, reach=reach, reason=self.reason)


class NewPassword(msgspec.Struct, kw_only=True):
    password: Password

    def command(self, staff_id: UUID) -> SetStaffPassword:
        return SetStaffPassword(staff_id=staff_id, password=self.password)


class Deactivation(msgspec.Struct, kw_only=True):
    reason: Reason = ""
    confirmed: bool = False

    def command(self, staff_id: UUID) -> DeactivateStaff:
        return DeactivateStaff(staff_id=staff_id, reason=self.reason)


@get("/staff", opt=ADMINS, sync_to_thread=True)
def accounts(
    request: Request[Any, Any, Any],
    reads: NamedDependency[Reads],
    by: NamedDependency[Provenance],
    reach: NamedDependency[Reach],
    after: After = None,
) -> Template:
    """The staff accounts whose reach lies within the caller's, and the form for a new one."""
    rows = staff_overseen(reads, by, after)
    context = {
        "accounts": rows,
        "roles": [(role, label("role", role)) for role in STAFF_ROLES],
        "reaches": reach_choices(reads, reach),
    }
    return show(request, "console/staff/accounts.html", context)


@post("/staff", opt=ADMINS, sync_to_thread=True)
def create(
    data: Form[NewAccount], bus: NamedDependency[Bus], caller: NamedDependency[Caller]
) -> Redirect:
    return _to_account(bus.handle_from_thread(data.command(), caller), "created")


@get(ACCOUNT, opt=ADMINS, sync_to_thread=True)
def account(
    request: Request[Any, Any, Any],
    staff_id: FromPath[UUID],
    reads: NamedDependency[Reads],
    by: NamedDependency[Provenance],
    reach: NamedDependency[Reach],
    after: After = None,
    done: Done = "",
) -> Template:
    """One account within the caller's reach: what it is and how far it reaches, a new
    password, a new reach, and deactivating it."""

    def query(db: Any) -> tuple[Any, Any]:
        return staff_directory.account(db, staff_id), stations.reach_of(db, str(staff_id))

    found, reaching = reads.query(("staff_directory", "stations"), after, query)
    if found is None:
        raise NotFound("staff-not-found", f"There is no staff account {staff_id}.")
    if all(row["staff_id"] != str(staff_id) for row in staff_overseen(reads, by, None)):
        raise NotYours("That staff account works beyond your reach.")
    context = {
        "account": found,
        "reaching": reaching,
        "reaches": reach_choices(reads, reach),
        "done": gettext(DONE[done]) if done in DONE else "",
    }
    return show(request, "console/staff/account.html", context)


def _deactivating(sent: Sent) -> Template:
    """Whose account and why, to confirm (the domain is asked first whether it would
    refuse)."""
    username = staff_of(sent.station.timebank, sent.record_id).username
    signed_out = gettext(
        "%(username)s will no longer be able to sign in, and is signed out "
        "everywhere now. This cannot be undone: someone who comes back gets a new "
        "account."
    )
    return confirm_why(
        sent,
        f"/console/staff/{sent.record_id}",
        "deactivation",
        [signed_out % {"username": username}],
        question=gettext("Deactivate the account %(username)s?") % {"username": username},
        yes=gettext("Yes, deactivate"),
    )


def _saying(said: str) -> Answer:
    return lambda _, receipt: _to_account(receipt, said)


ACTIONS = [
    action(f"{ACCOUNT}/password", NewPassword, _saying("password"), opt=ADMINS),
    action(f"{ACCOUNT}/reach", NewReach, _saying("reach"), opt=ADMINS),
    action(
        f"{ACCOUNT}/deactivation",
        Deactivation,
        _saying("deactivated"),
        ask=_deactivating,
        opt=ADMINS,
    ),
]


def _to_account(done: Registered, said: str) -> Redirect:
    """To the account's page, once it shows what was done, saying so."""
    return Redirect(f"/console/staff/{done.id}?after={done.position}&done={said}", status_code=303)
