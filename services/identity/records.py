"""Identity as the rest of the station reads it: members, staff and kiosks by id, whether a
sign-in still holds, a member's consents, and residents' names and details opened on purpose.

Opening names or details records the opening in the access log, but is no command: it is a
read that leaves its trace, kept whatever the page that reads goes on to do, and it answers
with the names, not with what it recorded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.identity import Kiosk, Member, PersonalDataAccess, PersonalDataListView, Staff
from domain.provenance import Provenance
from domain.rules import NotFound
from services.stations.handlers import check_sees_people, check_works_at, sees_people_at
from services.store.eventstore import Timebank
from services.store.vault import PersonalDetails, Vault


class SignInRefused(Exception):
    """Wrong credentials, or a locked member number; ``status`` is the HTTP answer.
    ``tries_left``: wrong PINs a known member number takes before it locks, once few remain
    (PIN_TRIES_SAID); ``locked_until``: when a locked one may try again (both None where they
    would say nothing)."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 401,
        *,
        tries_left: int | None = None,
        locked_until: datetime | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.tries_left = tries_left
        self.locked_until = locked_until


@dataclass(frozen=True)
class Registered:
    """What an identity command recorded, and what it shows this once."""

    id: UUID
    position: int
    member_number: str = ""
    account_id: UUID | None = None
    setup_code: str = ""  # shown once to the coordinator who hands it to the resident
    setup_code_expires: datetime | None = None
    token: str = ""  # a new kiosk's device token: shown once, never stored


def member_of(app: Timebank, member_id: UUID) -> Member:
    member = app.find(member_id, Member)
    if member is None:
        raise NotFound("member-not-found", f"There is no member {member_id}.")
    return member


def member_in_reach(app: Timebank, by: Provenance, member_id: UUID) -> Member:
    """The member, refused to staff who do not work at their home station."""
    member = member_of(app, member_id)
    check_works_at(app, by, member.station)
    return member


def staff_of(app: Timebank, staff_id: UUID) -> Staff:
    staff = app.find(staff_id, Staff)
    if staff is None:
        raise NotFound("staff-not-found", f"There is no staff account {staff_id}.")
    return staff


def still_active(app: Timebank, subject: str) -> bool:
    """Whether the staff account or member a token was issued to may still be signed in."""
    kind, _, raw_id = subject.partition(":")
    try:
        aggregate_id = UUID(raw_id)
    except ValueError:
        return False
    found = app.find(aggregate_id, Staff if kind == "staff" else Member)
    return found is not None and found.is_active


def kiosk_active(app: Timebank, kiosk_id: UUID) -> bool:
    """Whether residents may still be signed in at this kiosk (it is registered, not retired)."""
    kiosk = app.find(kiosk_id, Kiosk)
    return kiosk is not None and kiosk.is_active


def token_digest(token: str) -> str:
    """Device tokens are long random strings: a plain digest is enough to keep them out of
    the store (a slow hash protects guessable secrets such as PINs, not these)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class ConsentRecorded:
    """A consent to a privacy notice given, or withdrawn, and who recorded it when."""

    notice_version: str
    withdrawn: bool
    at: datetime
    actor: str


def consents_of(app: Timebank, member_id: UUID) -> list[ConsentRecorded]:
    """The member's consents given and withdrawn, newest first. Read from their own events (a
    few per member): the aggregate keeps only the one in force, and no read model keeps them."""
    withdrawn = {Member.ConsentGiven: False, Member.ConsentWithdrawn: True}
    return [
        ConsentRecorded(
            change.notice_version, withdrawn[type(change)], change.timestamp, change.by.actor
        )
        for change in app.events.get(member_id, desc=True)
        if type(change) in withdrawn
    ]


def open_names(
    app: Timebank, vault: Vault, *, member_ids: list[UUID], purpose: str, by: Provenance
) -> dict[UUID, str]:
    """The display names of the members a list shows, after recording one list view (its
    purpose and every member in it) in the access log. Erased members have no name, nor do
    those of a station whose people the member of staff may not see (they stay numbers)."""
    members = {member_id: app.find(member_id, Member) for member_id in dict.fromkeys(member_ids)}
    seen = sees_people_at(app, by)
    known = {
        member_id: member
        for member_id, member in members.items()
        if member is not None and seen(member.station)
    }
    if not known:
        return {}
    app.record(PersonalDataListView(member_ids=tuple(known), purpose=purpose, by=by))
    names = {
        member_id: vault.open(member_id, member.sealed_details, PersonalDetails)
        for member_id, member in known.items()
    }
    return {member_id: found.display_name for member_id, found in names.items() if found}


def members_named(app: Timebank, vault: Vault, member_ids: list[UUID], text: str) -> list[UUID]:
    """The members among ``member_ids`` whose display name contains ``text``. Names are
    compared here, in memory, and none leaves: what staff then see of the members found is
    opened (and logged) by ``open_names``."""
    found = []
    for member_id in member_ids:
        member = app.find(member_id, Member)
        details = (
            None
            if member is None
            else vault.open(member_id, member.sealed_details, PersonalDetails)
        )
        if details is not None and text in details.display_name:
            found.append(member_id)
    return found


def open_personal_data(
    app: Timebank, vault: Vault, *, member_id: UUID, purpose: str, by: Provenance
) -> tuple[Member, PersonalDetails | None, int]:
    """The member's details (None once erased), after recording who opened them and why."""
    member = member_of(app, member_id)
    check_sees_people(app, by, member.station)
    access = PersonalDataAccess(member_id=member_id, purpose=purpose, by=by)
    position = app.record(access)
    return member, vault.open(member_id, member.sealed_details, PersonalDetails), position
