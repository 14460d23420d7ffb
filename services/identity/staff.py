"""Staff accounts: creating one, a new password, deactivating one, and signing in."""

from __future__ import annotations

from eventsourcing.persistence import RecordConflictError

from domain.identity import Staff, staff_id_for
from domain.rules import RuleViolated
from services.bus import Acting
from services.identity.commands import (
    ChangeStaffReach,
    CreateStaffAccount,
    DeactivateStaff,
    SetStaffPassword,
)
from services.identity.hashing import check_password, hashed, verified
from services.identity.records import Registered, SignInRefused, staff_of
from services.stations.handlers import check_oversees, reach_for
from services.store.eventstore import Timebank, retried_on_conflict


def register_staff(command: CreateStaffAccount, acting: Acting) -> Registered:
    check_password(command.password)
    staff = Staff(
        username=command.username,
        role=command.role,
        password_hash=hashed(command.password),
        by=acting.by,
        title=command.title,
        scope=reach_for(acting, command.reach and command.reach.scope),
    )
    try:
        return Registered(staff.id, acting.app.record(staff))
    except RecordConflictError:
        raise RuleViolated(
            "username-taken", f"The username {command.username!r} is taken."
        ) from None


@retried_on_conflict
def change_staff_password(command: SetStaffPassword, acting: Acting) -> Registered:
    check_password(command.password)
    staff = staff_of(acting.app, command.staff_id)
    check_oversees(acting.app, acting.by, staff.scope)
    staff.change_password(hashed(command.password), acting.by)
    return Registered(staff.id, acting.app.record(staff))


@retried_on_conflict
def deactivate_staff(command: DeactivateStaff, acting: Acting) -> Registered:
    staff = staff_of(acting.app, command.staff_id)
    check_oversees(acting.app, acting.by, staff.scope)
    staff.deactivate(command.reason, acting.by)
    return Registered(staff.id, acting.app.record(staff))


@retried_on_conflict
def change_staff_reach(command: ChangeStaffReach, acting: Acting) -> Registered:
    staff = staff_of(acting.app, command.staff_id)
    check_oversees(acting.app, acting.by, staff.scope)
    staff.change_scope(reach_for(acting, command.reach.scope), command.reason, acting.by)
    return Registered(staff.id, acting.app.record(staff))


def staff_sign_in(app: Timebank, username: str, password: str) -> Staff:
    """The staff member these credentials name. Not a command: it records nothing (the
    sign-in rate limit, not the record, slows down guessing)."""
    staff = app.find(staff_id_for(username), Staff)
    known = isinstance(staff, Staff) and staff.is_active
    if not known or not verified(staff.password_hash, password):  # type: ignore[union-attr]
        raise SignInRefused("wrong-credentials", "The username or password is wrong.")
    return staff
