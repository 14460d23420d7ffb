"""The identity rules (domain/identity.py) on their own: staff roles and titles, a member's
consent, deactivation and erasure, the PIN lockout to the second, kiosks and the access log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.identity import (
    PIN_ATTEMPTS,
    PIN_LOCKOUT,
    CouncilTitle,
    Kiosk,
    Member,
    PersonalDataAccess,
    PinLocked,
    Role,
    Staff,
    member_id_for,
    staff_id_for,
)
from domain.provenance import Provenance
from domain.rules import RuleViolated

BY = Provenance(actor="test", channel="test", correlation_id="c")
NOW = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
# Reasons that show nothing: spaces of several widths, zero-width and blank characters.
BLANK = ["", " ", "   ", "\u3000", "\u00a0", "\t\n", "\u200b", "\u200b \ufeff", "\u2800", "\u3164"]


def refused(code: str, action) -> None:
    with pytest.raises(RuleViolated) as caught:
        action()
    assert caught.value.code == code, caught.value.message


def staff(role: Role = Role.COORDINATOR, title: CouncilTitle | None = None) -> Staff:
    return Staff(username="Coord.One", role=role, password_hash="h", by=BY, title=title)


def member(active: bool = True) -> Member:
    resident = Member(member_number="100001", sealed_details="sealed", pin_hash="h", by=BY)
    if not active:
        resident.deactivate("moved away", BY)
    return resident


# Staff.


def test_usernames_are_one_whatever_their_case_and_member_ids_derive_from_numbers() -> None:
    assert staff_id_for("Coord.One") == staff_id_for("coord.one") == staff().id
    assert member_id_for("100001") == member().id != member_id_for("100002")


def test_only_staff_roles_make_staff_and_only_council_officers_have_titles() -> None:
    for role in (Role.RESIDENT, Role.VOLUNTEER):
        refused("not-a-staff-role", lambda role=role: staff(role))
    refused("council-title", lambda: staff(Role.COUNCIL))
    refused("council-title", lambda: staff(Role.ADMIN, CouncilTitle.CHAIR))
    chair = staff(Role.COUNCIL, CouncilTitle.CHAIR)
    assert (chair.role, chair.title, chair.is_active) == (Role.COUNCIL, CouncilTitle.CHAIR, True)


@pytest.mark.parametrize("reason", BLANK)
def test_a_staff_deactivation_needs_a_reason_that_shows(reason: str) -> None:
    coordinator = staff()
    refused("reason-required", lambda: coordinator.deactivate(reason, BY))
    assert coordinator.is_active


def test_a_deactivated_staff_account_changes_nothing_more() -> None:
    coordinator = staff()
    coordinator.change_password("h2", BY)
    coordinator.deactivate("term ended", BY)
    assert not coordinator.is_active and coordinator.password_hash == "h2"
    refused("staff-inactive", lambda: coordinator.change_password("h3", BY))
    refused("staff-inactive", lambda: coordinator.deactivate("again", BY))


# Members: consent, deactivation, erasure.


def test_consent_names_its_notice_and_only_a_consent_given_can_be_withdrawn() -> None:
    resident = member()
    refused("notice-version-required", lambda: resident.give_consent(" ", BY))
    refused("no-consent", lambda: resident.withdraw_consent("2024-06", BY))
    resident.give_consent("2024-06", BY)
    assert resident.consent == "2024-06"
    resident.withdraw_consent("2024-06", BY)
    assert resident.consent is None


@pytest.mark.parametrize("reason", BLANK)
def test_deactivation_and_erasure_need_a_reason_that_shows(reason: str) -> None:
    active = member()
    refused("reason-required", lambda: active.deactivate(reason, BY))
    assert active.is_active
    gone = member(active=False)
    refused("reason-required", lambda: gone.erase(reason, BY))
    assert not gone.is_erased


def test_only_a_deactivated_member_is_erased_and_once() -> None:
    resident = member()
    resident.give_consent("2024-06", BY)
    refused("still-active", lambda: resident.erase("the resident asked", BY))
    resident.deactivate("moved away", BY)
    refused("member-inactive", lambda: resident.deactivate("again", BY))
    resident.erase("the resident asked", BY)
    assert resident.is_erased and resident.consent is None
    refused("member-erased", lambda: resident.erase("again", BY))
    refused("member-erased", lambda: resident.give_consent("2024-06", BY))
    refused("member-erased", lambda: resident.withdraw_consent("2024-06", BY))


# The PIN lockout.


def failed(resident: Member, *minutes_ago: float) -> Member:
    for ago in minutes_ago:
        resident.reject_pin(NOW - timedelta(minutes=ago), BY)
    return resident


def test_five_wrong_pins_lock_for_exactly_fifteen_minutes_from_the_fifth_last() -> None:
    assert (5, timedelta(minutes=15)) == (PIN_ATTEMPTS, PIN_LOCKOUT)
    resident = failed(member(), 4, 3, 2, 1, 0)  # the fifth-last wrong PIN at NOW - 4 min
    start = NOW - timedelta(minutes=4)
    for locked in (
        timedelta(0),
        timedelta(minutes=14, seconds=59),
        PIN_LOCKOUT - timedelta.resolution,
    ):
        refused("pin-locked", lambda locked=locked: resident.check_may_try_pin(start + locked))
    resident.check_may_try_pin(start + PIN_LOCKOUT)  # 15:00 after it: unlocked


def test_the_lockout_says_how_many_minutes_are_left_rounded_up() -> None:
    resident = failed(member(), 0, 0, 0, 0, 0)
    with pytest.raises(RuleViolated) as caught:
        resident.check_may_try_pin(NOW + timedelta(minutes=14, seconds=59))
    assert "locked for 1 more minutes" in caught.value.message
    with pytest.raises(RuleViolated) as caught:
        resident.check_may_try_pin(NOW)
    assert "locked for 15 more minutes" in caught.value.message


def test_the_number_says_its_tries_left_and_until_when_it_is_locked() -> None:
    resident = member()
    assert (resident.pin_tries_left(NOW), resident.pin_locked_until(NOW)) == (PIN_ATTEMPTS, None)
    failed(resident, 20, 3, 2, 1)  # one wrong PIN long ago no longer counts
    assert (resident.pin_tries_left(NOW), resident.pin_locked_until(NOW)) == (2, None)
    failed(resident, 0)
    assert resident.pin_tries_left(NOW) == 1
    failed(resident, 0)
    until = NOW - timedelta(minutes=3) + PIN_LOCKOUT  # 15 minutes from the fifth-last
    assert (resident.pin_tries_left(NOW), resident.pin_locked_until(NOW)) == (0, until)
    with pytest.raises(PinLocked) as caught:
        resident.check_may_try_pin(NOW)
    assert (caught.value.until, caught.value.minutes_left) == (until, 12)
    assert resident.pin_locked_until(until) is None


def test_four_wrong_pins_lock_nothing_and_a_right_one_or_a_reset_clears_the_count() -> None:
    resident = failed(member(), 3, 2, 1, 0)
    resident.check_may_try_pin(NOW)
    resident.accept_pin(BY)
    assert resident.failed_pins == []
    failed(resident, 4, 3, 2, 1, 0)
    resident.reset_pin("h2", BY)
    resident.check_may_try_pin(NOW)
    assert resident.pin_hash == "h2"


def test_a_new_setup_code_ends_a_lockout_so_the_resident_chooses_a_pin_at_once() -> None:
    resident = failed(member(), 4, 3, 2, 1, 0)
    refused("pin-locked", lambda: resident.check_may_choose_pin(NOW))
    resident.issue_setup_code("code-hash", NOW + timedelta(days=7), BY)
    resident.check_may_choose_pin(NOW)
    assert resident.pin_tries_left(NOW) == PIN_ATTEMPTS
    cleared = [type(change).__name__ for change in resident.collect_events()]
    assert cleared[-2:] == ["PinSetupCodeIssued", "PinLockoutCleared"]
    resident.issue_setup_code("another", NOW + timedelta(days=7), BY)  # nothing to clear
    assert [type(change).__name__ for change in resident.collect_events()] == ["PinSetupCodeIssued"]


def test_a_deactivated_member_number_cannot_try_a_pin_or_have_it_reset() -> None:
    resident = member(active=False)
    refused("member-inactive", lambda: resident.check_may_try_pin(NOW))
    refused("member-inactive", lambda: resident.reset_pin("h2", BY))


@given(
    st.lists(st.integers(min_value=0, max_value=60 * 60), max_size=12),
    st.integers(min_value=0, max_value=60 * 60),
)
def test_locked_exactly_while_the_fifth_last_wrong_pin_is_under_fifteen_minutes_old(
    seconds_before: list[int], seconds_after: int
) -> None:
    """Wrong PINs at any times, in order; asked at any moment after the last of them."""
    times = sorted(NOW - timedelta(seconds=ago) for ago in seconds_before)
    resident = member()
    for at in times:
        resident.reject_pin(at, BY)
    now = NOW + timedelta(seconds=seconds_after)
    locked = len(times) >= PIN_ATTEMPTS and now - times[-PIN_ATTEMPTS] < PIN_LOCKOUT
    if locked:
        refused("pin-locked", lambda: resident.check_may_try_pin(now))
    else:
        resident.check_may_try_pin(now)


# Kiosks and the personal-data access log.


@pytest.mark.parametrize("reason", BLANK)
def test_retiring_a_kiosk_needs_a_reason_and_happens_once(reason: str) -> None:
    kiosk = Kiosk(token_digest="digest", name="Hall", by=BY)
    refused("reason-required", lambda: kiosk.retire(reason, BY))
    kiosk.retire("broken screen", BY)
    assert not kiosk.is_active
    refused("kiosk-retired", lambda: kiosk.retire("again", BY))


@pytest.mark.parametrize("purpose", BLANK)
def test_opening_personal_data_needs_a_purpose(purpose: str) -> None:
    refused(
        "purpose-required", lambda: PersonalDataAccess(member_id=uuid4(), purpose=purpose, by=BY)
    )
    opened = PersonalDataAccess(member_id=uuid4(), purpose="erasure check", by=BY)
    assert opened.purpose == "erasure check"
