"""Residents: registering one, a setup code to choose their PIN with, a PIN reset, and
deactivation."""

from __future__ import annotations

import secrets
from datetime import timedelta

from eventsourcing.persistence import RecordConflictError

from domain.identity import Member, member_id_for
from domain.ledger import (
    AccountKind,
    TimeAccount,
    account_id_for,
    settle_for_closure,
    system_account_id,
)
from domain.rules import RuleViolated
from services.bus import Acting
from services.identity.commands import (
    DeactivateMember,
    IssueSetupCode,
    MoveMemberHome,
    RegisterMember,
    ResetPin,
)
from services.identity.hashing import hashed, new_setup_code
from services.identity.records import Registered, member_in_reach
from services.ledger.handlers import account_of
from services.stations.handlers import station_for
from services.store.eventstore import retried_on_conflict
from services.store.vault import PersonalDetails

# Numbers are drawn at random until a free one turns up. While at most a tenth of them are
# taken (README, Configuration), a draw hits a taken one at most one time in ten, and all of
# these draws do about once in 10**20 registrations.
_NUMBER_ATTEMPTS = 20
# A setup code is handed over on paper at the station and used at a kiosk within days.
SETUP_CODE_LIFETIME = timedelta(days=7)


def _details(command: RegisterMember) -> PersonalDetails:
    return PersonalDetails(
        display_name=command.display_name,
        building=command.building,
        household=command.household,
        phone=command.phone,
        id_number=command.id_number,
        birth_date=command.birth_date,
    )


def register_member(command: RegisterMember, acting: Acting) -> Registered:
    """A member with a fresh printable number, their sealed details and their time account,
    saved together. Without a PIN the member gets a one-time setup code instead, with which
    they choose their PIN at a kiosk (until then no PIN signs them in)."""
    app, vault, by = acting.app, acting.vault, acting.by
    notice = command.notice_version or acting.settings.privacy_notice_version
    pin_hash = hashed(command.pin) if command.pin else ""
    code = "" if command.pin else new_setup_code()
    expires = acting.now + SETUP_CODE_LIFETIME
    station = station_for(acting, command.station)
    smallest = 10 ** (acting.settings.member_number_digits - 1)
    for _ in range(_NUMBER_ATTEMPTS):
        number = f"{smallest + secrets.randbelow(9 * smallest)}"
        member_id = member_id_for(number)
        if member_id in app.repository:
            continue
        sealed = vault.seal(member_id, _details(command))
        member = Member(
            member_number=number,
            sealed_details=sealed,
            pin_hash=pin_hash,
            by=by,
            station=station,
        )
        member.give_consent(notice, by)
        if code:
            member.issue_setup_code(hashed(code), expires, by)
        limits = acting.settings.member_limits
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


@retried_on_conflict
def issue_setup_code(command: IssueSetupCode, acting: Acting) -> Registered:
    """A new one-time code for a resident who forgot their PIN or never chose one."""
    member = member_in_reach(acting.app, acting.by, command.member_id)
    code = new_setup_code()
    expires = acting.now + SETUP_CODE_LIFETIME
    member.issue_setup_code(hashed(code), expires, acting.by)
    position = acting.app.record(member)
    return Registered(member.id, position, setup_code=code, setup_code_expires=expires)


@retried_on_conflict
def reset_pin(command: ResetPin, acting: Acting) -> Registered:
    member = member_in_reach(acting.app, acting.by, command.member_id)
    member.reset_pin(hashed(command.pin), acting.by)
    return Registered(member.id, acting.app.record(member))


@retried_on_conflict
def deactivate_member(command: DeactivateMember, acting: Acting) -> Registered:
    """Deactivate, and close the member's account into the pool, in one save."""
    app, by, reason = acting.app, acting.by, command.reason
    member = member_in_reach(app, acting.by, command.member_id)
    member.deactivate(reason, by)
    account = account_of(app, account_id_for(str(member.id), AccountKind.MEMBER))
    pool = account_of(app, system_account_id(AccountKind.POOL))
    community = account_of(app, system_account_id(AccountKind.COMMUNITY))
    settlement = None
    if not account.is_closed:  # a coordinator may have closed it already
        settlement = settle_for_closure(
            account, pool=pool, community=community, occurred_at=acting.now, reason=reason, by=by
        )
        account.close(reason, by)
    return Registered(member.id, app.record(member, settlement, account, pool, community))


@retried_on_conflict
def move_member_home(command: MoveMemberHome, acting: Acting) -> Registered:
    """The resident's new home station, which must be one the caller works at, as must the old
    one (a coordinator hands a resident over; the receiving station sees them arrive)."""
    member = member_in_reach(acting.app, acting.by, command.member_id)
    member.move_home(station_for(acting, command.station), command.reason, acting.by)
    return Registered(member.id, acting.app.record(member))
