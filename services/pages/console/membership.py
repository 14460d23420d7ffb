"""What a coordinator changes on a member's record, from the member's page: a consent given on
paper or withdrawn, a deactivation (their account closes into the pool) and the erasure of
their personal data — the last two after a confirmation in plain words."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from msgspec import Meta

from domain.identity import Role
from domain.ledger import AccountKind, TimeAccount, account_id_for
from services.bus import Caller, Receipt
from services.composition.runtime import Backbone
from services.identity.commands import DeactivateMember, ErasePersonalData, RecordConsent
from services.identity.records import member_of
from services.pages.console.common import Form, confirm
from services.pages.forms import asked_first
from services.pages.i18n import N_, gettext
from services.pages.i18n import hours as hours_of
from services.web.auth import allow

# What the member's page says once it is back from each action (``?done=``).
DONE = {
    "consent-given": N_("The consent is recorded."),
    "consent-withdrawn": N_("The withdrawal of consent is recorded."),
    "deactivated": N_("Deactivated. They can no longer sign in, and their account is closed."),
    "erased": N_("Their personal data is erased."),
}


class Consent(msgspec.Struct, kw_only=True):
    """A consent given (by default to the station's current notice), or a withdrawal."""

    notice_version: Annotated[str, Meta(pattern=r"^([A-Za-z0-9._-]{1,32})?$")] = ""
    withdrawn: bool = False

    def command(self, member_id: UUID, current_notice: str) -> RecordConsent:
        notice = self.notice_version or current_notice
        return RecordConsent(member_id=member_id, notice_version=notice, withdrawn=self.withdrawn)


class Ending(msgspec.Struct, kw_only=True):
    """A deactivation or an erasure: why, and whether the coordinator has said yes."""

    reason: Annotated[str, Meta(max_length=500)] = ""
    confirmed: bool = False

    def deactivation(self, member_id: UUID) -> DeactivateMember:
        return DeactivateMember(member_id=member_id, reason=self.reason)

    def erasure(self, member_id: UUID) -> ErasePersonalData:
        return ErasePersonalData(member_id=member_id, reason=self.reason)


def _back(member_id: UUID, position: int, done: str) -> Redirect:
    """To the member's page as it stands once it shows what was just recorded."""
    path = f"/console/members/{member_id}?after={position}&done={done}"
    return Redirect(path, status_code=303)


@post("/members/{member_id:uuid}/consents", opt=allow(Role.COORDINATOR), sync_to_thread=True)
def consent(
    member_id: FromPath[UUID],
    data: Form[Consent],
    bone: NamedDependency[Backbone],
    caller: NamedDependency[Caller],
) -> Redirect:
    """A consent the resident signed on paper, or their withdrawal of the one in force."""
    command = data.command(member_id, bone.settings.privacy_notice_version)
    done = bone.bus.handle_from_thread(command, caller)
    return _back(
        member_id, done.position, "consent-withdrawn" if data.withdrawn else "consent-given"
    )


def _closing(bone: Backbone, member_id: UUID) -> str:
    """What closing the member's time account does with the hours in it."""
    account_id = account_id_for(str(member_id), AccountKind.MEMBER)
    account = bone.timebank.find(account_id, TimeAccount)
    balance = 0 if account is None else account.balance
    if balance > 0:
        words = gettext(
            "Their time account closes: its balance of %(hours)s moves to the community pool."
        )
    elif balance < 0:
        words = gettext("Their time account closes: its debt of %(hours)s is written off.")
    else:
        words = gettext("Their time account closes; it holds no hours.")
    return words % {"hours": hours_of(abs(balance))}


@post(
    "/members/{member_id:uuid}/deactivation",
    opt=allow(Role.COORDINATOR),
    sync_to_thread=True,
    status_code=200,
)
def deactivate(
    request: Request[Any, Any, Any],
    member_id: FromPath[UUID],
    data: Form[Ending],
    bone: NamedDependency[Backbone],
    caller: NamedDependency[Caller],
) -> Template | Redirect:
    """First what deactivating does, once the domain says it would (a dry run); then the
    deactivation, after which the page shows the member as deactivated."""
    command = data.deactivation(member_id)

    def question() -> Template:
        number = member_of(bone.timebank, member_id).member_number
        return confirm(
            request,
            question=gettext("Deactivate member %(number)s?") % {"number": number},
            sentences=[
                _closing(bone, member_id),
                gettext(
                    "They can no longer sign in at a kiosk, and a kiosk session they have open ends"
                    " at once. This cannot be undone: if they come back, they register anew."
                ),
                gettext("Why: %(reason)s") % {"reason": data.reason},
            ],
            action=f"/console/members/{member_id}/deactivation",
            fields=[("reason", data.reason)],
            target="",
            back=f"/console/members/{member_id}",
            yes=gettext("Yes, deactivate"),
        )

    def then(receipt: Receipt) -> Redirect:
        return _back(member_id, receipt.position, "deactivated")

    return asked_first(
        bone.bus, caller, command, confirmed=data.confirmed, question=question, then=then
    )


@post(
    "/members/{member_id:uuid}/erasure",
    opt=allow(Role.COORDINATOR),
    sync_to_thread=True,
    status_code=200,
)
def erase(
    request: Request[Any, Any, Any],
    member_id: FromPath[UUID],
    data: Form[Ending],
    bone: NamedDependency[Backbone],
    caller: NamedDependency[Caller],
) -> Template | Redirect:
    """First what goes and what stays, to confirm; then the erasure. No dry run: it deletes
    the person's key outside the event store, so the command itself refuses (a member still
    active, a blank reason) when the coordinator says yes, before it deletes anything."""
    if data.confirmed:
        done = bone.bus.handle_from_thread(data.erasure(member_id), caller)
        return _back(member_id, done.position, "erased")
    number = member_of(bone.timebank, member_id).member_number
    return confirm(
        request,
        question=gettext("Erase the personal data of member %(number)s?") % {"number": number},
        sentences=[
            gettext(
                "Their name, building, household, phone, ID card number and date of birth, and"
                " the personal details of any volunteer record, become unreadable for good."
                " This cannot be undone."
            ),
            gettext(
                "What stays: the member number, their time account and every transfer on it, and"
                " their volunteer hours. None of these names them."
            ),
            gettext("Why: %(reason)s") % {"reason": data.reason},
        ],
        action=f"/console/members/{member_id}/erasure",
        fields=[("reason", data.reason)],
        target="",
        back=f"/console/members/{member_id}",
        yes=gettext("Yes, erase for good"),
    )
