"""What a coordinator changes on a member's record, from the member's page: a consent given on
paper or withdrawn, a deactivation (their account closes into the pool) and the erasure of
their personal data — the last two after a confirmation in plain words."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from msgspec import Meta

from domain.identity import Role
from domain.ledger import AccountKind, TimeAccount, account_id_for
from services.bus import Caller
from services.composition.runtime import Backbone
from services.identity.commands import (
    DeactivateMember,
    ErasePersonalData,
    MoveMemberHome,
    RecordConsent,
)
from services.identity.records import member_of
from services.pages.console.common import Form, confirm_why, coordinating
from services.pages.forms import Answer, Sent, action
from services.pages.i18n import N_, gettext
from services.pages.i18n import hours as hours_of
from services.web.auth import allow

MEMBER = "/members/{member_id:uuid}"
# What the member's page says once it is back from each action (``?done=``).
DONE = {
    "consent-given": N_("The consent is recorded."),
    "consent-withdrawn": N_("The withdrawal of consent is recorded."),
    "deactivated": N_("Deactivated. They can no longer sign in, and their account is closed."),
    "erased": N_("Their personal data is erased."),
    "moved": N_("Their new home station is recorded."),
}


class Consent(msgspec.Struct, kw_only=True):
    """A consent given (by default to the station's current notice), or a withdrawal."""

    notice_version: Annotated[str, Meta(pattern=r"^([A-Za-z0-9._-]{1,32})?$")] = ""
    withdrawn: bool = False

    def command(self, member_id: UUID, current_notice: str) -> RecordConsent:
        notice = self.notice_version or current_notice
        return RecordConsent(member_id=member_id, notice_version=notice, withdrawn=self.withdrawn)


class NewHome(msgspec.Struct, kw_only=True):
    """The station the resident moved to, and why."""

    station: Annotated[UUID, Meta(description="the new home station")]
    reason: Annotated[str, Meta(max_length=500)] = ""

    def command(self, member_id: UUID) -> MoveMemberHome:
        return MoveMemberHome(member_id=member_id, station=self.station, reason=self.reason)


class Ending(msgspec.Struct, kw_only=True):
    """A deactivation or an erasure: why, and whether the coordinator has said yes."""

    reason: Annotated[str, Meta(max_length=500)] = ""
    confirmed: bool = False


class Deactivation(Ending, kw_only=True):
    def command(self, member_id: UUID) -> DeactivateMember:
        return DeactivateMember(member_id=member_id, reason=self.reason)


class Erasure(Ending, kw_only=True):
    def command(self, member_id: UUID) -> ErasePersonalData:
        return ErasePersonalData(member_id=member_id, reason=self.reason)


def _back(member_id: UUID, position: int, done: str) -> Redirect:
    """To the member's page as it stands once it shows what was just recorded."""
    path = f"/console/members/{member_id}?after={position}&done={done}"
    return Redirect(path, status_code=303)


@post(f"{MEMBER}/consents", opt=allow(Role.COORDINATOR), sync_to_thread=True)
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


def _deactivating(sent: Sent) -> Template:
    """What deactivating does, once the domain says it would (a dry run)."""
    bone, member_id = sent.station, sent.record_id
    number = member_of(bone.timebank, member_id).member_number
    return confirm_why(
        sent,
        f"/console/members/{member_id}",
        "deactivation",
        [
            _closing(bone, member_id),
            gettext(
                "They can no longer sign in at a kiosk, and a kiosk session they have open ends"
                " at once. This cannot be undone: if they come back, they register anew."
            ),
        ],
        question=gettext("Deactivate member %(number)s?") % {"number": number},
        yes=gettext("Yes, deactivate"),
    )


def _erasing(sent: Sent) -> Template:
    """What goes and what stays. No dry run: the erasure deletes the person's key outside the
    event store, so the command itself refuses (a member still active, a blank reason) when
    the coordinator says yes, before it deletes anything."""
    number = member_of(sent.station.timebank, sent.record_id).member_number
    return confirm_why(
        sent,
        f"/console/members/{sent.record_id}",
        "erasure",
        [
            gettext(
                "Their name, building, household, phone, ID card number and date of birth, and"
                " the personal details of any volunteer record, become unreadable for good."
                " This cannot be undone."
            ),
            gettext(
                "What stays: the member number, their time account and every transfer on it, and"
                " their volunteer hours. None of these names them."
            ),
        ],
        question=gettext("Erase the personal data of member %(number)s?") % {"number": number},
        yes=gettext("Yes, erase for good"),
    )


def _back_saying(done: str) -> Answer:
    """To the member's page, once it shows what was recorded, saying ``done``."""
    return lambda sent, receipt: _back(sent.record_id, receipt.position, done)


ACTIONS = [
    coordinating(
        f"{MEMBER}/deactivation", Deactivation, _back_saying("deactivated"), ask=_deactivating
    ),
    coordinating(f"{MEMBER}/erasure", Erasure, _back_saying("erased"), ask=_erasing),
]

# Street and district administrators move a resident between the stations of their reach.
MOVE_HOME = action(f"{MEMBER}/home", NewHome, _back_saying("moved"), opt=allow(Role.ADMIN))
