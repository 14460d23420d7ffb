"""Who people are to the system: staff with roles, and members (residents) who sign in at a
kiosk with their member number and PIN.

Events hold pseudonymous ids and hashes only. A member's personal details travel as a sealed
blob, encrypted with that person's own key outside the event store (DESIGN.md, Privacy).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from math import ceil
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.provenance import Provenance
from domain.rules import RuleViolated, is_blank, require_reason
from domain.station import DEFAULT_SCOPE, DEFAULT_STATION, NamesItsStation, Scope

_STAFF_NAMESPACE = uuid5(NAMESPACE_URL, "urn:timebank:staff")
_MEMBER_NAMESPACE = uuid5(NAMESPACE_URL, "urn:timebank:member")
_KIOSK_NAMESPACE = uuid5(NAMESPACE_URL, "urn:timebank:kiosk")

PIN_ATTEMPTS = 5
PIN_LOCKOUT = timedelta(minutes=15)
# Tries left are said only once this few remain: saying them from the first wrong PIN would
# tell anyone trying numbers which ones belong to a member, at the cost of one try each.
PIN_TRIES_SAID = 2


class PinLocked(RuleViolated):
    """Too many wrong PINs: the member number may try again ``until`` then."""

    def __init__(self, until: datetime, now: datetime) -> None:
        self.until = until
        self.minutes_left = minutes_until(until, now)
        super().__init__(
            "pin-locked",
            "Too many wrong PINs. This member number is locked for "
            f"{self.minutes_left} more minutes.",
        )


def minutes_until(until: datetime, now: datetime) -> int:
    """Whole minutes from ``now`` to ``until``, rounded up (a person waits at least that)."""
    return ceil((until - now) / timedelta(minutes=1))


class Role(StrEnum):
    RESIDENT = "resident"
    VOLUNTEER = "volunteer"
    COORDINATOR = "coordinator"
    COUNCIL = "council"
    ADMIN = "admin"


STAFF_ROLES = frozenset({Role.COORDINATOR, Role.COUNCIL, Role.ADMIN})


class CouncilTitle(StrEnum):
    CHAIR = "chair"
    SECRETARY = "secretary"


def staff_id_for(username: str) -> UUID:
    """Usernames are unique regardless of case, so the id derives from the folded name."""
    return uuid5(_STAFF_NAMESPACE, username.casefold())


# How many digits a member number may have. A deployment chooses the length of the numbers it
# hands out (a district needs more than a station); numbers of every length in here stay
# valid, so residents keep the number on their card when their deployment grows.
MEMBER_NUMBER_SHORTEST = 6
MEMBER_NUMBER_LONGEST = 10


def member_id_for(member_number: str) -> UUID:
    return uuid5(_MEMBER_NAMESPACE, member_number)


class Staff(Aggregate):
    """A social worker, council officer or administrator who signs in with a password."""

    @staticmethod
    def create_id(username: str) -> UUID:
        return staff_id_for(username)

    class StaffRegistered(Aggregate.Created):
        """Version 2 says how far the account's work reaches; accounts made before stations
        existed work at the first station."""

        username: str
        role: Role
        password_hash: str
        by: Provenance
        title: CouncilTitle | None
        scope: Scope
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["scope"] = DEFAULT_SCOPE

    @event(StaffRegistered)
    def __init__(
        self,
        username: str,
        role: Role,
        password_hash: str,
        by: Provenance,
        title: CouncilTitle | None = None,
        scope: Scope = DEFAULT_SCOPE,
    ) -> None:
        if Role(role) not in STAFF_ROLES:
            raise RuleViolated("not-a-staff-role", f"{role!r} is not a staff role.")
        if (title is not None) != (Role(role) is Role.COUNCIL):
            raise RuleViolated(
                "council-title", "Council officers, and only they, are chair or secretary."
            )
        self.username = username
        self.role = Role(role)
        scope.check_well_formed()
        self.title = None if title is None else CouncilTitle(title)
        self.password_hash = password_hash
        self.scope = scope
        self.is_active = True

    def change_password(self, password_hash: str, by: Provenance) -> None:
        self._check_active()
        self._change_password(password_hash=password_hash, by=by)

    @event("StaffPasswordChanged")
    def _change_password(self, password_hash: str, by: Provenance) -> None:
        self.password_hash = password_hash

    def deactivate(self, reason: str, by: Provenance) -> None:
        self._check_active()
        require_reason(reason, "Deactivating a staff account needs a reason.")
        self._deactivate(reason=reason, by=by)

    @event("StaffDeactivated")
    def _deactivate(self, reason: str, by: Provenance) -> None:
        self.is_active = False

    def change_scope(self, scope: Scope, reason: str, by: Provenance) -> None:
        """The account now works at another station, or across a street or district."""
        self._check_active()
        scope.check_well_formed()
        require_reason(reason, "Changing where a staff account works needs a reason.")
        if scope == self.scope:
            raise RuleViolated("scope-unchanged", "The account already works there.")
        self._change_scope(scope=scope, reason=reason, by=by)

    @event("StaffScopeChanged")
    def _change_scope(self, scope: Scope, reason: str, by: Provenance) -> None:
        self.scope = scope

    def _check_active(self) -> None:
        if not self.is_active:
            raise RuleViolated("staff-inactive", f"Staff account {self.username!r} is inactive.")


class Member(Aggregate):
    """A resident of the community, known to events only by id and member number."""

    @staticmethod
    def create_id(member_number: str) -> UUID:
        return member_id_for(member_number)

    class MemberRegistered(NamesItsStation, Aggregate.Created):
        """Names the member's home station."""

        member_number: str
        sealed_details: str
        pin_hash: str
        by: Provenance
        station: UUID

    @event(MemberRegistered)
    def __init__(
        self,
        member_number: str,
        sealed_details: str,
        pin_hash: str,
        by: Provenance,
        station: UUID = DEFAULT_STATION,
    ) -> None:
        self.member_number = member_number
        self.station = station
        self.sealed_details = sealed_details
        self.pin_hash = pin_hash
        self.is_active = True
        self.is_erased = False
        self.consent: str | None = None  # the notice version consented to, while consented
        self.failed_pins: list[datetime] = []
        # A one-time code with which the resident chooses their own PIN at a kiosk, so no
        # member of staff ever learns it; its hash and when it stops working.
        self.setup_code_hash: str | None = None
        self.setup_code_expires: datetime | None = None

    def give_consent(self, notice_version: str, by: Provenance) -> None:
        """The person agreed to the privacy notice of ``notice_version`` (PIPL Art. 14)."""
        self._check_not_erased()
        if not notice_version.strip():
            raise RuleViolated("notice-version-required", "Name the notice version consented to.")
        self._give_consent(notice_version=notice_version, by=by)

    @event("ConsentGiven")
    def _give_consent(self, notice_version: str, by: Provenance) -> None:
        self.consent = notice_version

    def withdraw_consent(self, notice_version: str, by: Provenance) -> None:
        self._check_not_erased()
        if self.consent is None:
            raise RuleViolated("no-consent", "There is no consent to withdraw.")
        self._withdraw_consent(notice_version=notice_version, by=by)

    @event("ConsentWithdrawn")
    def _withdraw_consent(self, notice_version: str, by: Provenance) -> None:
        self.consent = None

    def erase(self, reason: str, by: Provenance) -> None:
        """Record that the person's key was deleted: their details are unreadable from now on."""
        self._check_not_erased()
        if self.is_active:
            raise RuleViolated(
                "still-active", "Deactivate the member (closing their account) before erasing."
            )
        require_reason(reason, "An erasure needs a reason.")
        self._erase(reason=reason, by=by)

    @event("MemberErased")
    def _erase(self, reason: str, by: Provenance) -> None:
        self.is_erased = True
        self.consent = None

    def _check_not_erased(self) -> None:
        if self.is_erased:
            raise RuleViolated("member-erased", "This member's personal data has been erased.")

    def check_may_try_pin(self, now: datetime) -> None:
        """Five wrong PINs within the lockout window lock the member number for its length."""
        if not self.is_active:
            raise RuleViolated("member-inactive", "This member number is no longer active.")
        until = self.pin_locked_until(now)
        if until is not None:
            raise PinLocked(until, now)

    def pin_tries_left(self, now: datetime) -> int:
        """How many more wrong PINs the member number takes before it locks."""
        return max(0, PIN_ATTEMPTS - len(self._recent_failures(now)))

    def pin_locked_until(self, now: datetime) -> datetime | None:
        """When a locked member number may try again; None while it is not locked."""
        recent = self._recent_failures(now)
        if len(recent) < PIN_ATTEMPTS:
            return None
        return recent[-PIN_ATTEMPTS] + PIN_LOCKOUT

    def _recent_failures(self, now: datetime) -> list[datetime]:
        return [at for at in self.failed_pins if now - at < PIN_LOCKOUT]

    @event("PinRejected")
    def reject_pin(self, at: datetime, by: Provenance) -> None:
        self.failed_pins = [*self.failed_pins, at][-PIN_ATTEMPTS:]

    def accept_pin(self, by: Provenance) -> None:
        # Only a sign-in that follows failures is worth an event: it clears the count.
        if self.failed_pins:
            self._accept_pin(by=by)

    @event("PinAccepted")
    def _accept_pin(self, by: Provenance) -> None:
        self.failed_pins = []

    def reset_pin(self, pin_hash: str, by: Provenance) -> None:
        if not self.is_active:
            raise RuleViolated("member-inactive", "This member number is no longer active.")
        self._reset_pin(pin_hash=pin_hash, by=by)

    @event("PinReset")
    def _reset_pin(self, pin_hash: str, by: Provenance) -> None:
        self.pin_hash = pin_hash
        self.failed_pins = []

    def issue_setup_code(self, code_hash: str, expires_at: datetime, by: Provenance) -> None:
        """A fresh one-time code for choosing a PIN; any earlier code stops working. The code
        is handed over at the station, so it also forgets the wrong PINs counted so far: a
        resident locked out chooses their new PIN at once, and no one ever learns it."""
        if not self.is_active:
            raise RuleViolated("member-inactive", "This member number is no longer active.")
        self._issue_setup_code(code_hash=code_hash, expires_at=expires_at, by=by)
        if self.failed_pins:
            self._clear_lockout(by=by)

    @event("PinSetupCodeIssued")
    def _issue_setup_code(self, code_hash: str, expires_at: datetime, by: Provenance) -> None:
        self.setup_code_hash = code_hash
        self.setup_code_expires = expires_at

    @event("PinLockoutCleared")
    def _clear_lockout(self, by: Provenance) -> None:
        self.failed_pins = []

    def check_may_choose_pin(self, now: datetime) -> None:
        """A PIN is chosen with a setup code that is unused and unexpired, while the member
        number is not locked (wrong codes count as wrong PINs)."""
        self.check_may_try_pin(now)
        expires = self.setup_code_expires
        if self.setup_code_hash is None or expires is None or now >= expires:
            raise RuleViolated(
                "setup-code-expired",
                "This setup code was used or has expired; ask the station for a new one.",
            )

    @event("PinChosen")
    def choose_pin(self, pin_hash: str, by: Provenance) -> None:
        self.pin_hash = pin_hash
        self.failed_pins = []
        self.setup_code_hash = None
        self.setup_code_expires = None

    def deactivate(self, reason: str, by: Provenance) -> None:
        if not self.is_active:
            raise RuleViolated("member-inactive", "This member is already deactivated.")
        require_reason(reason, "Deactivating a member needs a reason.")
        self._deactivate(reason=reason, by=by)

    @event("MemberDeactivated")
    def _deactivate(self, reason: str, by: Provenance) -> None:
        self.is_active = False

    def move_home(self, station: UUID, reason: str, by: Provenance) -> None:
        """The resident now belongs to another station (they moved); their account, hours and
        records stay theirs, and what they did stays where it happened."""
        if not self.is_active:
            raise RuleViolated("member-inactive", "This member number is no longer active.")
        require_reason(reason, "Moving a member to another station needs a reason.")
        if station == self.station:
            raise RuleViolated("same-station", "The member already belongs to that station.")
        self._move_home(station=station, reason=reason, by=by)

    @event("MemberMovedHome")
    def _move_home(self, station: UUID, reason: str, by: Provenance) -> None:
        self.station = station


def acting_member(by: Provenance) -> UUID | None:
    """The member who does what ``by`` records, when a member does: a signed-in member's
    pseudonymous subject, ``member:<id>``, is the actor of everything they do."""
    return _actor_id(by, "member")


def acting_staff(by: Provenance) -> UUID | None:
    """The staff account that does what ``by`` records, when one does (``staff:<id>``)."""
    return _actor_id(by, "staff")


def _actor_id(by: Provenance, kind: str) -> UUID | None:
    actor_kind, _, raw_id = by.actor.partition(":")
    if actor_kind != kind:
        return None
    try:
        return UUID(raw_id)
    except ValueError:
        return None


def members_acting_in(aggregates: Iterable[Aggregate]) -> set[UUID]:
    """Every member who is the actor of one of the aggregates' pending (unsaved) events."""
    return {
        member_id
        for aggregate in aggregates
        for pending in aggregate.pending_events
        if isinstance(by := getattr(pending, "by", None), Provenance)
        and (member_id := acting_member(by)) is not None
    }


def check_may_act(member: Member | None) -> None:
    """Only an active member does anything: no help given or confirmed, transfer, donation,
    listing, motion, support, ballot or hours once deactivated (or unknown). What others do
    to them (a coordinator closing their listing, say) is not theirs to refuse."""
    if member is None or not member.is_active:
        raise RuleViolated(
            "member-inactive", "This member is no longer active and cannot do this any more."
        )


class PersonalDataAccess(Aggregate):
    """One opening of a person's personal data by staff: who, whose, when (the event's
    timestamp) and why. Kept as its own record so the access log can never be edited."""

    @event("PersonalDataOpened")
    def __init__(self, member_id: UUID, purpose: str, by: Provenance) -> None:
        if is_blank(purpose):
            raise RuleViolated("purpose-required", "Say why you are opening this person's data.")
        self.member_id = member_id
        self.purpose = purpose


class PersonalDataListView(Aggregate):
    """One list of people shown to staff with their names (the approval queue, a search by
    name): one record for the whole list, naming its purpose and every member it showed, so
    the access log says who saw whose name without a record per row."""

    @event("PersonalDataListed")
    def __init__(self, member_ids: tuple[UUID, ...], purpose: str, by: Provenance) -> None:
        if is_blank(purpose):
            raise RuleViolated("purpose-required", "Say why you are opening this person's data.")
        self.member_ids = tuple(member_ids)  # a store written untyped gives back a list
        self.purpose = purpose


class Kiosk(Aggregate):
    """A shared touch-screen device. Its id derives from a digest of its device token, so a
    request's token names its kiosk without a lookup."""

    @staticmethod
    def create_id(token_digest: str) -> UUID:
        return kiosk_id_for(token_digest)

    class KioskRegistered(NamesItsStation, Aggregate.Created):
        """Names the station the kiosk stands in."""

        token_digest: str
        name: str
        by: Provenance
        station: UUID

    @event(KioskRegistered)
    def __init__(
        self, token_digest: str, name: str, by: Provenance, station: UUID = DEFAULT_STATION
    ) -> None:
        self.name = name
        self.station = station
        self.is_active = True

    def retire(self, reason: str, by: Provenance) -> None:
        if not self.is_active:
            raise RuleViolated("kiosk-retired", "This kiosk is already retired.")
        require_reason(reason, "Retiring a kiosk needs a reason.")
        self._retire(reason=reason, by=by)

    @event("KioskRetired")
    def _retire(self, reason: str, by: Provenance) -> None:
        self.is_active = False


def kiosk_id_for(token_digest: str) -> UUID:
    return uuid5(_KIOSK_NAMESPACE, token_digest)
