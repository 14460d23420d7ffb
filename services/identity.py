"""Identity command handlers: staff and members, sign-in checks, PIN resets, deactivation."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventsourcing.persistence import RecordConflictError

from domain.identity import (
    PIN_TRIES_SAID,
    CouncilTitle,
    Kiosk,
    Member,
    PersonalDataAccess,
    PersonalDataListView,
    PinLocked,
    Role,
    Staff,
    kiosk_id_for,
    member_id_for,
    staff_id_for,
)
from domain.ledger import (
    MEMBER_LIMITS,
    AccountKind,
    Limits,
    TimeAccount,
    account_id_for,
    settle_for_closure,
    system_account_id,
)
from domain.provenance import Provenance
from domain.rules import NotFound, RuleViolated
from domain.volunteer import Volunteer, VolunteerStatus, volunteer_id_for
from services.config import PASSWORD_HASHING
from services.eventstore import Timebank, retried_on_conflict
from services.vault import PersonalDetails, Vault

_hasher = PasswordHasher.from_parameters(PASSWORD_HASHING)
_NUMBER_ATTEMPTS = 20
MIN_PASSWORD_LENGTH = 10
# A setup code is handed over on paper at the station and used at a kiosk within days.
SETUP_CODE_LIFETIME = timedelta(days=7)
SETUP_CODE_DIGITS = 8  # typed on the kiosk's number pad; five wrong tries lock the number
ERASED = "The person's personal data was erased."  # why their volunteer record reads left


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
    id: UUID
    position: int
    member_number: str = ""
    account_id: UUID | None = None
    setup_code: str = ""  # shown once to the coordinator who hands it to the resident
    setup_code_expires: datetime | None = None


def _verified(password_hash: str, secret: str) -> bool:
    try:
        return _hasher.verify(password_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def member_of(app: Timebank, member_id: UUID) -> Member:
    member = app.find(member_id, Member)
    if member is None:
        raise NotFound("member-not-found", f"There is no member {member_id}.")
    return member


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


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise RuleViolated(
            "weak-password", f"A password needs at least {MIN_PASSWORD_LENGTH} characters."
        )


def register_staff(
    app: Timebank,
    *,
    username: str,
    role: Role,
    password: str,
    by: Provenance,
    title: CouncilTitle | None = None,
) -> Registered:
    _check_password(password)
    staff = Staff(
        username=username, role=role, password_hash=_hasher.hash(password), by=by, title=title
    )
    try:
        return Registered(staff.id, app.record(staff))
    except RecordConflictError:
        raise RuleViolated("username-taken", f"The username {username!r} is taken.") from None


def staff_of(app: Timebank, staff_id: UUID) -> Staff:
    staff = app.find(staff_id, Staff)
    if staff is None:
        raise NotFound("staff-not-found", f"There is no staff account {staff_id}.")
    return staff


@retried_on_conflict
def change_staff_password(
    app: Timebank, *, staff_id: UUID, password: str, by: Provenance
) -> Registered:
    _check_password(password)
    staff = staff_of(app, staff_id)
    staff.change_password(_hasher.hash(password), by)
    return Registered(staff.id, app.record(staff))


@retried_on_conflict
def deactivate_staff(app: Timebank, *, staff_id: UUID, reason: str, by: Provenance) -> Registered:
    staff = staff_of(app, staff_id)
    staff.deactivate(reason, by)
    return Registered(staff.id, app.record(staff))


def staff_sign_in(app: Timebank, username: str, password: str) -> Staff:
    staff = app.find(staff_id_for(username), Staff)
    known = isinstance(staff, Staff) and staff.is_active
    if not known or not _verified(staff.password_hash, password):  # type: ignore[union-attr]
        raise SignInRefused("wrong-credentials", "The username or password is wrong.")
    return staff


def register_member(
    app: Timebank,
    vault: Vault,
    *,
    details: PersonalDetails,
    pin: str | None,
    notice_version: str,
    now: datetime,
    by: Provenance,
    limits: Limits = MEMBER_LIMITS,
) -> Registered:
    """A member with a fresh printable number, their sealed details and their time account,
    saved together. Without a PIN the member gets a one-time setup code instead, with which
    they choose their PIN at a kiosk (until then no PIN signs them in)."""
    pin_hash = _hasher.hash(pin) if pin else ""
    code = "" if pin else _setup_code()
    expires = now + SETUP_CODE_LIFETIME
    for _ in range(_NUMBER_ATTEMPTS):
        number = f"{secrets.randbelow(900_000) + 100_000}"
        member_id = member_id_for(number)
        if member_id in app.repository:
            continue
        member = Member(
            member_number=number,
            sealed_details=vault.seal(member_id, details),
            pin_hash=pin_hash,
            by=by,
        )
        member.give_consent(notice_version, by)
        if code:
            member.issue_setup_code(_hasher.hash(code), expires, by)
        account = TimeAccount(owner=str(member.id), kind=AccountKind.MEMBER, limits=limits, by=by)
        try:
            position = app.record(member, account)
        except RecordConflictError:
            vault.erase(member_id)
            continue
        return Registered(
            member.id,
            position,
            member_number=number,
            account_id=account.id,
            setup_code=code,
            setup_code_expires=expires if code else None,
        )
    raise RuleViolated("no-member-number", "No free member number was found; try again.")


def _setup_code() -> str:
    return f"{secrets.randbelow(10**SETUP_CODE_DIGITS):0{SETUP_CODE_DIGITS}d}"


def _at_kiosk(
    app: Timebank, kiosk_token: str, member_number: str, by: Provenance
) -> tuple[Kiosk, Member, Provenance]:
    """The kiosk a resident stands at and the member their number names; tries are recorded
    as from that kiosk."""
    kiosk = app.find(kiosk_id_for(token_digest(kiosk_token)), Kiosk)
    if kiosk is None or not kiosk.is_active:
        raise SignInRefused("unknown-kiosk", "Residents sign in at a registered kiosk.")
    member = app.find(member_id_for(member_number), Member)
    if member is None:
        raise SignInRefused("wrong-credentials", "The member number or PIN is wrong.")
    return kiosk, member, replace(by, channel=f"kiosk:{kiosk.id}")


def _refused_try(member: Member, now: datetime, message: str) -> SignInRefused:
    left = member.pin_tries_left(now)
    return SignInRefused(
        "wrong-credentials",
        message,
        tries_left=left if left <= PIN_TRIES_SAID else None,
        locked_until=member.pin_locked_until(now),
    )


def _check_may_try(member: Member, now: datetime) -> None:
    try:
        member.check_may_try_pin(now)
    except PinLocked as locked:
        raise SignInRefused(
            locked.code, locked.message, status=423, tries_left=0, locked_until=locked.until
        ) from None


@retried_on_conflict
def kiosk_sign_in(
    app: Timebank, *, kiosk_token: str, member_number: str, pin: str, now: datetime, by: Provenance
) -> tuple[Member, Kiosk]:
    kiosk, member, by = _at_kiosk(app, kiosk_token, member_number, by)
    if not member.is_active and not _verified(member.pin_hash, pin):
        # Without the right PIN, an inactive number looks like any unknown one.
        raise SignInRefused("wrong-credentials", "The member number or PIN is wrong.")
    try:
        _check_may_try(member, now)
    except RuleViolated as refused:
        raise SignInRefused(refused.code, refused.message, status=423) from None
    if not _verified(member.pin_hash, pin):
        member.reject_pin(at=now, by=by)
        app.record(member)
        raise _refused_try(member, now, "The member number or PIN is wrong.")
    member.accept_pin(by=by)
    app.record(member)
    return member, kiosk


@retried_on_conflict
def choose_pin(
    app: Timebank,
    *,
    kiosk_token: str,
    member_number: str,
    setup_code: str,
    pin: str,
    now: datetime,
    by: Provenance,
) -> Registered:
    """The resident's own PIN, chosen at a kiosk with the one-time code the station gave
    them. A wrong code counts as a wrong PIN; a used or expired one is refused."""
    _, member, by = _at_kiosk(app, kiosk_token, member_number, by)
    if not member.is_active:
        raise SignInRefused("wrong-credentials", "The member number or PIN is wrong.")
    _check_may_try(member, now)
    member.check_may_choose_pin(now)
    if not _verified(member.setup_code_hash or "", setup_code):
        member.reject_pin(at=now, by=by)
        app.record(member)
        raise _refused_try(member, now, "The member number or setup code is wrong.")
    member.choose_pin(_hasher.hash(pin), by=by)
    return Registered(member.id, app.record(member))


@retried_on_conflict
def issue_setup_code(
    app: Timebank, *, member_id: UUID, now: datetime, by: Provenance
) -> Registered:
    """A new one-time code for a resident who forgot their PIN or never chose one."""
    member = member_of(app, member_id)
    code = _setup_code()
    expires = now + SETUP_CODE_LIFETIME
    member.issue_setup_code(_hasher.hash(code), expires, by)
    position = app.record(member)
    return Registered(member.id, position, setup_code=code, setup_code_expires=expires)


@retried_on_conflict
def reset_pin(app: Timebank, *, member_id: UUID, pin: str, by: Provenance) -> Registered:
    member = member_of(app, member_id)
    member.reset_pin(_hasher.hash(pin), by)
    return Registered(member.id, app.record(member))


@retried_on_conflict
def deactivate_member(
    app: Timebank, *, member_id: UUID, reason: str, now: datetime, by: Provenance
) -> Registered:
    """Deactivate, and close the member's account into the pool, in one save."""
    member = member_of(app, member_id)
    member.deactivate(reason, by)
    account = app.repository.get(account_id_for(str(member_id), AccountKind.MEMBER))
    pool = app.repository.get(system_account_id(AccountKind.POOL))
    community = app.repository.get(system_account_id(AccountKind.COMMUNITY))
    settlement = None
    if not account.is_closed:  # a coordinator may have closed it already
        settlement = settle_for_closure(
            account, pool=pool, community=community, occurred_at=now, reason=reason, by=by
        )
        account.close(reason, by)
    return Registered(member.id, app.record(member, settlement, account, pool, community))


def token_digest(token: str) -> str:
    """Device tokens are long random strings: a plain digest is enough to keep them out of
    the store (a slow hash protects guessable secrets such as PINs, not these)."""
    return hashlib.sha256(token.encode()).hexdigest()


def register_kiosk(app: Timebank, *, name: str, by: Provenance) -> tuple[Registered, str]:
    """A kiosk and its device token, which is shown this once and never stored."""
    token = secrets.token_urlsafe(32)
    kiosk = Kiosk(token_digest=token_digest(token), name=name, by=by)
    return Registered(kiosk.id, app.record(kiosk)), token


@retried_on_conflict
def retire_kiosk(app: Timebank, *, kiosk_id: UUID, reason: str, by: Provenance) -> Registered:
    kiosk = app.find(kiosk_id, Kiosk)
    if kiosk is None:
        raise NotFound("kiosk-not-found", f"There is no kiosk {kiosk_id}.")
    kiosk.retire(reason, by)
    return Registered(kiosk.id, app.record(kiosk))


@retried_on_conflict
def record_consent(
    app: Timebank, *, member_id: UUID, notice_version: str, withdrawn: bool, by: Provenance
) -> Registered:
    member = member_of(app, member_id)
    if withdrawn:
        member.withdraw_consent(notice_version, by)
    else:
        member.give_consent(notice_version, by)
    return Registered(member.id, app.record(member))


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


@retried_on_conflict
def erase_member(
    app: Timebank, vault: Vault, *, member_id: UUID, reason: str, by: Provenance
) -> Registered:
    """Delete the person's key, then record the erasure: a failure between the two leaves the
    data erased and the request retryable, never an erasure on record with the key still there.
    """
    member = member_of(app, member_id)
    member.erase(reason, by)
    volunteer = app.find(volunteer_id_for(member_id), Volunteer)
    if volunteer is not None and volunteer.status is not VolunteerStatus.LEFT:
        # An erased person volunteers no more: their record says so, in the same save.
        volunteer.change_status(VolunteerStatus.LEFT, ERASED, by)
    vault.erase(member_id)
    return Registered(member.id, app.record(member, volunteer))


def open_names(
    app: Timebank, vault: Vault, *, member_ids: list[UUID], purpose: str, by: Provenance
) -> dict[UUID, str]:
    """The display names of the members a list shows, after recording one list view (its
    purpose and every member in it) in the access log. Erased members have no name."""
    members = {member_id: app.find(member_id, Member) for member_id in dict.fromkeys(member_ids)}
    known = {member_id: member for member_id, member in members.items() if member is not None}
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
    access = PersonalDataAccess(member_id=member_id, purpose=purpose, by=by)
    position = app.record(access)
    return member, vault.open(member_id, member.sealed_details, PersonalDetails), position
