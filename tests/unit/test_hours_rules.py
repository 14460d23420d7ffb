"""Example tests of the volunteer, service-hour and certificate rules (domain/volunteer.py,
domain/hours.py, domain/certificate.py), one rule at a time.

Every refusal is checked the same way: the command raises the expected code and leaves every
balance, every aggregate's version and state as it was, with no pending events.
"""

import dataclasses
from datetime import UTC, date, datetime, timedelta
from uuid import NAMESPACE_URL, uuid5

import pytest

from domain.certificate import (
    CODE_LENGTH,
    Certificate,
    CoveredEntry,
    certificate_id_for,
    issue_certificate,
    new_code,
)
from domain.hours import (
    LATE_AFTER_WORKING_DAYS,
    MAX_MINUTES_AN_ENTRY,
    EntryStatus,
    HourEntry,
    Service,
    amend_hours,
    approve_hours,
    check_service,
    entry_id_for,
    reject_hours,
    submit_hours,
    void_hours,
    working_days_between,
)
from domain.ledger import (
    MEMBER_LIMITS,
    SYSTEM_LIMITS,
    AccountKind,
    Leg,
    Limits,
    TimeAccount,
    TransferKind,
    internal_key,
    post_transfer,
    system_account_id,
    transfer_id_for,
    two_party_legs,
)
from domain.listing import STARTING_CATEGORIES, Categories
from domain.provenance import Provenance
from domain.rules import RuleViolated
from domain.volunteer import (
    MAX_MINUTES_A_DAY,
    Flag,
    Rating,
    Training,
    Volunteer,
    VolunteerStatus,
    enrol,
    hold_training,
    training_id_for,
    volunteer_id_for,
)

BY = Provenance(actor="test", channel="test", correlation_id="c")
NOW = datetime(2024, 5, 15, 18, 0, tzinfo=UTC)  # a Wednesday evening
MORNING = datetime(2024, 5, 15, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
COMMUNITY = system_account_id(AccountKind.COMMUNITY)
UNAMBIGUOUS = set("23456789ABCDEFGHJKMNPQRSTUVWXYZ")


def service(started_at=MORNING, minutes=120, **fields):
    values = {
        "activity": "Reading to residents",
        "started_at": started_at,
        "minutes": minutes,
        "place": "Community room",
        "content": "read the newspaper aloud",
        "organiser": "Station volunteer team",
        "responsible": "coordinator.wang",
        "category": "companionship",
        "building": "B3",
    }
    values.update(fields)
    return Service(**values)


def member_id(name):
    return uuid5(NAMESPACE_URL, f"urn:test:member:{name}")


def enrol_args(**changes):
    values = {
        "member_id": member_id("someone"),
        "account_id": uuid5(NAMESPACE_URL, "urn:test:account"),
        "sealed_details": "sealed",
        "consent_version": "notice-2024-01",
        "skills": ("reading",),
        "categories": ("companionship",),
        "building": "B3",
        "registered_on": date(2024, 1, 2),
        "by": BY,
    }
    values.update(changes)
    return values


# --- helpers -------------------------------------------------------------------------------------


class World:
    """In-memory accounts, volunteers, entries and transfers, with helpers that run the domain
    commands the way services/hours/handlers.py does."""

    def __init__(self) -> None:
        kind = AccountKind.COMMUNITY
        self.community = TimeAccount(kind.value, kind, SYSTEM_LIMITS[kind], BY)
        self.shop = TimeAccount("shop", AccountKind.MEMBER, MEMBER_LIMITS, BY)
        self.accounts = {self.community.id: self.community, self.shop.id: self.shop}
        self.transfers = {}
        self.volunteers = {}
        self.entries = {}
        self.others = []  # trainings and certificates
        self.categories = Categories(BY)
        for code, name_zh, name_en in STARTING_CATEGORIES:
            self.categories.add(code, name_zh, name_en, BY)
        self._keys = 0

    def key(self):
        self._keys += 1
        return f"key-{self._keys}"

    def volunteer(self, name="v", balance=0, limits=MEMBER_LIMITS):
        account = TimeAccount(name, AccountKind.MEMBER, limits, BY)
        self.accounts[account.id] = account
        volunteer = enrol(**enrol_args(member_id=member_id(name), account_id=account.id))
        self.volunteers[volunteer.id] = volunteer
        if balance:
            self.fund(volunteer, balance)
        return volunteer

    def account(self, volunteer):
        return self.accounts[volunteer.account_id]

    def balance(self, volunteer):
        return self.account(volunteer).balance

    def keep(self, *transfers):
        for transfer in transfers:
            assert transfer.id not in self.transfers
            self.transfers[transfer.id] = transfer
        return transfers

    def _move(self, source, target, minutes):
        (transfer,) = self.keep(
            post_transfer(
                idempotency_key=self.key(),
                kind=TransferKind.TRANSFER,
                legs=two_party_legs(source.id, target.id, minutes),
                memo="moved",
                occurred_at=NOW,
                corrects=None,
                accounts=self.accounts,
                by=BY,
            )
        )
        return transfer

    def fund(self, volunteer, minutes):
        """Minutes from elsewhere (not from service hours)."""
        return self._move(self.community, self.account(volunteer), minutes)

    def spend(self, volunteer, minutes):
        """The volunteer pays ``minutes`` for help they received."""
        return self._move(self.account(volunteer), self.shop, minutes)

    def submit(self, volunteer, started_at=MORNING, minutes=120, now=NOW, key=None, **fields):
        entry = submit_hours(
            idempotency_key=key or self.key(),
            volunteer=volunteer,
            service=service(started_at, minutes, **fields),
            categories=self.categories,
            now=now,
            by=BY,
        )
        self.entries[entry.id] = entry
        return entry

    def approve(self, entry):
        account = self.accounts[entry.account_id]
        (credit,) = self.keep(
            approve_hours(entry, account=account, community=self.community, by=BY)
        )
        return credit

    def reject(self, entry, reason="was not at the session"):
        reject_hours(entry, self.volunteers[entry.volunteer_id], reason=reason, by=BY)

    def _ledger(self, entry):
        account = self.accounts[entry.account_id]
        return {
            "credits": {i: self.transfers[i] for i in entry.credits},
            "accounts": {account.id: account, self.community.id: self.community},
        }

    def amend(
        self,
        entry,
        reason="the sign-in sheet says otherwise",
        requested_by="resident Li",
        now=NOW,
        new=None,
        **changes,
    ):
        posted = amend_hours(
            entry,
            volunteer=self.volunteers[entry.volunteer_id],
            service=new or dataclasses.replace(entry.service, **changes),
            categories=self.categories,
            reason=reason,
            requested_by=requested_by,
            now=now,
            by=BY,
            **self._ledger(entry),
        )
        return list(self.keep(*posted))

    def void(self, entry, reason="entered twice", requested_by="coordinator.wang"):
        posted = void_hours(
            entry,
            volunteer=self.volunteers[entry.volunteer_id],
            reason=reason,
            requested_by=requested_by,
            by=BY,
            **self._ledger(entry),
        )
        return list(self.keep(*posted))

    def aggregates(self):
        return [
            *self.accounts.values(),
            *self.transfers.values(),
            *self.volunteers.values(),
            *self.entries.values(),
            *self.others,
        ]

    def balances(self):
        return {account_id: account.balance for account_id, account in self.accounts.items()}

    def snapshot(self):
        entries = {
            i: (e.status, e.service, e.flags, dict(e.credits), e.amendments)
            for i, e in self.entries.items()
        }
        volunteers = {
            i: (v.status, dict(v.spans), v.skills, v.categories, v.building)
            for i, v in self.volunteers.items()
        }
        reversed_ = {i: dict(t.reversed) for i, t in self.transfers.items()}
        versions = [(a.id, a.version) for a in self.aggregates()]
        return self.balances(), entries, volunteers, reversed_, versions, len(self.transfers)

    def flush(self):
        for aggregate in self.aggregates():
            aggregate.collect_events()

    def pending(self):
        return [event for a in self.aggregates() for event in a.collect_events()]


@pytest.fixture
def world():
    return World()


def assert_refused(world, code, command):
    """Run ``command``: it must raise ``code`` and change nothing at all."""
    world.flush()
    before = world.snapshot()
    with pytest.raises(RuleViolated) as info:
        command()
    assert info.value.code == code, info.value.message
    assert world.snapshot() == before
    assert world.pending() == []
    return info.value


def refused(code, command):
    """For commands that would create an aggregate: they raise ``code``."""
    with pytest.raises(RuleViolated) as info:
        command()
    assert info.value.code == code, info.value.message
    return info.value


def names(aggregate):
    return [type(event).__name__ for event in aggregate.collect_events()]


def assert_credit(transfer, world, volunteer, minutes, key):
    assert transfer.id == transfer_id_for(key)
    assert transfer.kind is TransferKind.HOURS
    assert transfer.legs == (Leg(COMMUNITY, -minutes), Leg(volunteer.account_id, minutes))
    assert transfer.corrects is None
    assert world.transfers[transfer.id] is transfer


def assert_correction(transfer, credit, volunteer, minutes):
    assert transfer.kind is TransferKind.CORRECTION
    assert transfer.corrects == credit.id
    assert transfer.legs == (Leg(volunteer.account_id, -minutes), Leg(COMMUNITY, minutes))


# --- enrolment -----------------------------------------------------------------------------------


def test_enrolling_registers_an_active_volunteer_with_no_spans():
    volunteer = enrol(**enrol_args(building="  B3 "))
    assert (
        volunteer.id
        == volunteer_id_for(member_id("someone"))
        == Volunteer.create_id(member_id("someone"))
    )
    assert volunteer.status is VolunteerStatus.ACTIVE
    assert volunteer.consent_version == "notice-2024-01"
    assert volunteer.skills == ("reading",)
    assert volunteer.categories == ("companionship",)
    assert volunteer.building == "B3"
    assert volunteer.spans == {}
    assert names(volunteer) == ["VolunteerRegistered"]


@pytest.mark.parametrize("consent", ["", "   "])
def test_enrolling_needs_the_consent_notice_version(consent):
    refused("consent-required", lambda: enrol(**enrol_args(consent_version=consent)))


BAD_LABELS = [("",), ("  ",), ("a|b",), ("x" * 41,), ("reading", "")]


@pytest.mark.parametrize("labels", BAD_LABELS)
def test_skills_are_1_to_40_characters_without_a_bar(labels):
    refused("invalid-skills", lambda: enrol(**enrol_args(skills=labels)))


@pytest.mark.parametrize("labels", BAD_LABELS)
def test_categories_are_1_to_40_characters_without_a_bar(labels):
    refused("invalid-categories", lambda: enrol(**enrol_args(categories=labels)))


def test_labels_of_exactly_40_characters_and_none_at_all_are_allowed():
    volunteer = enrol(**enrol_args(skills=("x" * 40,), categories=()))
    assert volunteer.skills == ("x" * 40,)
    assert volunteer.categories == ()


def test_consent_is_checked_before_the_labels():
    refused("consent-required", lambda: enrol(**enrol_args(consent_version="", skills=("|",))))


def test_updating_the_profile_checks_the_labels_too(world):
    volunteer = world.volunteer()
    assert_refused(
        world,
        "invalid-skills",
        lambda: volunteer.update_profile(("a|b",), ("companionship",), "B4", BY),
    )
    assert_refused(
        world,
        "invalid-categories",
        lambda: volunteer.update_profile(("reading",), ("y" * 41,), "B4", BY),
    )
    world.flush()
    volunteer.update_profile(("cooking",), ("meals",), "B4", BY)
    assert (volunteer.skills, volunteer.categories, volunteer.building) == (
        ("cooking",),
        ("meals",),
        "B4",
    )
    assert names(volunteer) == ["VolunteerProfileUpdated"]


# --- status --------------------------------------------------------------------------------------


def test_status_changes_between_active_paused_and_left_and_back(world):
    volunteer = world.volunteer()
    world.flush()
    for status in (
        VolunteerStatus.PAUSED,
        VolunteerStatus.ACTIVE,
        VolunteerStatus.LEFT,
        VolunteerStatus.ACTIVE,  # someone who left may come back
        VolunteerStatus.PAUSED,
        VolunteerStatus.LEFT,
    ):
        volunteer.change_status(status, "as agreed", BY)
        assert volunteer.status is status
    assert names(volunteer) == ["VolunteerStatusChanged"] * 6


def test_changing_to_the_same_status_is_refused(world):
    volunteer = world.volunteer()
    assert_refused(
        world,
        "status-unchanged",
        lambda: volunteer.change_status(VolunteerStatus.ACTIVE, "again", BY),
    )


@pytest.mark.parametrize("reason", ["", "  "])
def test_a_status_change_needs_a_reason(world, reason):
    volunteer = world.volunteer()
    assert_refused(
        world,
        "reason-required",
        lambda: volunteer.change_status(VolunteerStatus.PAUSED, reason, BY),
    )
    # The reason is checked first, even when the status would not change.
    assert_refused(
        world,
        "reason-required",
        lambda: volunteer.change_status(VolunteerStatus.ACTIVE, reason, BY),
    )


def test_only_an_active_volunteer_may_serve(world):
    volunteer = world.volunteer()
    volunteer.check_may_serve()
    volunteer.change_status(VolunteerStatus.PAUSED, "holiday", BY)
    refused("volunteer-paused", volunteer.check_may_serve)
    volunteer.change_status(VolunteerStatus.LEFT, "moved", BY)
    refused("volunteer-left", volunteer.check_may_serve)
    volunteer.change_status(VolunteerStatus.ACTIVE, "back", BY)
    volunteer.check_may_serve()


@pytest.mark.parametrize(
    ("status", "code"),
    [(VolunteerStatus.PAUSED, "volunteer-paused"), (VolunteerStatus.LEFT, "volunteer-left")],
)
def test_a_volunteer_who_is_not_active_cannot_submit_hours(world, status, code):
    volunteer = world.volunteer()
    volunteer.change_status(status, "as agreed", BY)
    assert_refused(world, code, lambda: world.submit(volunteer))
    # The volunteer's status is checked before the service itself.
    assert_refused(world, code, lambda: world.submit(volunteer, minutes=0))


# --- awards and evaluations ----------------------------------------------------------------------


def test_an_award_names_itself_and_who_gave_it(world):
    volunteer = world.volunteer()
    for name, awarded_by in [("", "Street office"), ("Star volunteer", "  "), (" ", "")]:
        assert_refused(
            world,
            "award-incomplete",
            lambda n=name, a=awarded_by: volunteer.give_award(n, date(2024, 5, 1), a, BY),
        )
    world.flush()
    volunteer.give_award("Star volunteer", date(2024, 5, 1), "Street office", BY)
    assert names(volunteer) == ["AwardGiven"]


@pytest.mark.parametrize("stars", [0, 6, -1])
def test_a_star_rating_is_1_to_5(world, stars):
    volunteer = world.volunteer()
    assert_refused(
        world,
        "invalid-stars",
        lambda: volunteer.evaluate(Rating.GOOD, stars, date(2024, 5, 1), "", BY),
    )


@pytest.mark.parametrize("stars", [None, 1, 5])
def test_evaluations_without_stars_or_with_1_to_5_are_recorded(world, stars):
    volunteer = world.volunteer()
    world.flush()
    volunteer.evaluate(Rating.EXCELLENT, stars, date(2024, 5, 1), "kind and punctual", BY)
    [evaluated] = volunteer.collect_events()
    assert type(evaluated).__name__ == "VolunteerEvaluated"
    assert (evaluated.rating, evaluated.stars) == (Rating.EXCELLENT, stars)


# --- trainings -----------------------------------------------------------------------------------


def training(attendees, **changes):
    values = {
        "idempotency_key": "training-1",
        "name": "First aid",
        "content": "CPR basics",
        "minutes": 90,
        "organiser": "Red Cross branch",
        "held_on": TODAY,
        "today": TODAY,
        "attendees": attendees,
        "by": BY,
    }
    values.update(changes)
    return hold_training(**values)


def test_a_training_records_who_attended(world):
    a, b = world.volunteer("a"), world.volunteer("b")
    session = training((a, b), held_on=TODAY - timedelta(days=3))
    assert session.id == training_id_for("training-1") == Training.create_id("training-1")
    assert session.attendees == (a.id, b.id)
    assert (session.name, session.minutes, session.held_on) == (
        "First aid",
        90,
        TODAY - timedelta(days=3),
    )
    assert names(session) == ["TrainingHeld"]


@pytest.mark.parametrize("changes", [{"name": " "}, {"organiser": ""}, {"name": "", "minutes": 0}])
def test_a_training_names_itself_and_its_organiser(world, changes):
    a = world.volunteer("a")
    refused("training-incomplete", lambda: training((a,), **changes))


@pytest.mark.parametrize("minutes", [0, -30, 1.5, 60.0, True])
def test_training_minutes_are_whole_numbers_above_zero(world, minutes):
    a = world.volunteer("a")
    refused("invalid-minutes", lambda: training((a,), minutes=minutes))


def test_a_training_is_recorded_after_it_was_held(world):
    a = world.volunteer("a")
    refused("date-in-future", lambda: training((a,), held_on=TODAY + timedelta(days=1)))
    assert training((a,), held_on=TODAY).held_on == TODAY


def test_a_training_has_attendees_each_once(world):
    a, b = world.volunteer("a"), world.volunteer("b")
    refused("no-attendees", lambda: training(()))
    refused("duplicate-attendee", lambda: training((a, b, a)))


# --- checking a service --------------------------------------------------------------------------


@pytest.mark.parametrize("minutes", [0, -60, 1.5, 60.0, True])
def test_service_minutes_are_whole_numbers_above_zero(world, minutes):
    volunteer = world.volunteer()
    refused("invalid-minutes", lambda: check_service(service(minutes=minutes), NOW))
    assert_refused(world, "invalid-minutes", lambda: world.submit(volunteer, minutes=minutes))


def test_one_entry_holds_at_most_16_hours(world):
    volunteer = world.volunteer()
    early = NOW - timedelta(days=2)
    error = assert_refused(
        world,
        "over-entry-maximum",
        lambda: world.submit(volunteer, started_at=early, minutes=MAX_MINUTES_AN_ENTRY + 1),
    )
    assert str(MAX_MINUTES_AN_ENTRY) in error.message
    entry = world.submit(volunteer, started_at=early, minutes=MAX_MINUTES_AN_ENTRY)
    assert entry.service.minutes == 960


def test_service_is_recorded_after_it_ended_give_or_take_five_minutes(world):
    volunteer = world.volunteer()
    # Ends six minutes from now: too early to record.
    assert_refused(
        world,
        "date-in-future",
        lambda: world.submit(volunteer, started_at=NOW - timedelta(minutes=54), minutes=60),
    )
    assert_refused(
        world,
        "date-in-future",
        lambda: world.submit(volunteer, started_at=NOW + timedelta(days=1), minutes=60),
    )
    # Ends in exactly five minutes: recorded.
    entry = world.submit(volunteer, started_at=NOW - timedelta(minutes=55), minutes=60)
    assert entry.status is EntryStatus.SUBMITTED


@pytest.mark.parametrize("field", ["activity", "organiser", "responsible", "category"])
@pytest.mark.parametrize("blank", ["", "   "])
def test_an_entry_needs_its_activity_organiser_responsible_and_category(world, field, blank):
    volunteer = world.volunteer()
    assert_refused(world, f"{field}-required", lambda: world.submit(volunteer, **{field: blank}))


@pytest.mark.parametrize("category", ["home_visit_nonexistent", "上门探访", "Home visits"])
def test_an_entry_names_a_category_of_the_list_by_its_code(world, category):
    volunteer = world.volunteer()
    refusal = assert_refused(
        world, "unknown-category", lambda: world.submit(volunteer, category=category)
    )
    assert refusal.field == "category"
    assert world.submit(volunteer, category="home-visits").service.category == "home-visits"


def test_an_entry_names_no_retired_category_but_keeps_its_own(world):
    volunteer = world.volunteer()
    entry = world.submit(volunteer, category="repairs")
    world.categories.retire("repairs", "merged into errands", BY)
    refusal = assert_refused(
        world, "category-retired", lambda: world.submit(volunteer, category="repairs")
    )
    assert refusal.field == "category"
    assert_refused(world, "unknown-category", lambda: world.amend(entry, category="gardening"))
    world.amend(entry, minutes=90)  # amended in what else it says, it stays under its category
    assert entry.service.category == "repairs"


def test_place_content_and_building_may_be_empty(world):
    volunteer = world.volunteer()
    entry = world.submit(volunteer, place="", content="", building="")
    assert entry.service.place == entry.service.content == ""


@pytest.mark.parametrize("field", ["activity", "place", "content"])
@pytest.mark.parametrize(
    "text", ["call 13800138000", "call 138 0013 8000", "ID 11010119900307432X"]
)
def test_contact_details_in_the_entry_are_refused(world, field, text):
    volunteer = world.volunteer()
    assert_refused(
        world, "contact-details-in-text", lambda: world.submit(volunteer, **{field: text})
    )


def test_dates_times_and_rooms_are_not_contact_details(world):
    volunteer = world.volunteer()
    entry = world.submit(volunteer, content="2024-05-15 9:00-11:00, room 1203, building 12")
    assert entry.status is EntryStatus.SUBMITTED


def test_service_rules_are_checked_in_order():
    # minutes, then the maximum, then the date, then the required fields, then contact details.
    future = NOW + timedelta(days=1)
    refused("invalid-minutes", lambda: check_service(service(future, 0, activity=""), NOW))
    refused("over-entry-maximum", lambda: check_service(service(future, 961, activity=""), NOW))
    refused("date-in-future", lambda: check_service(service(future, 60, activity=""), NOW))
    refused(
        "activity-required",
        lambda: check_service(service(activity="", category="", content="13800138000"), NOW),
    )
    refused(
        "category-required",
        lambda: check_service(service(category="", content="13800138000"), NOW),
    )


# --- submitting ----------------------------------------------------------------------------------


def test_submitting_records_the_entry_and_the_volunteer_keeps_its_span(world):
    volunteer = world.volunteer()
    world.flush()
    entry = world.submit(volunteer, started_at=MORNING, minutes=150, key="sheet-1")
    assert entry.id == entry_id_for("sheet-1") == HourEntry.create_id("sheet-1")
    assert entry.status is EntryStatus.SUBMITTED
    assert entry.volunteer_id == volunteer.id
    assert entry.account_id == volunteer.account_id
    assert entry.service == service(MORNING, 150)
    assert entry.service.ends_at == MORNING + timedelta(minutes=150)
    assert entry.flags == ()
    assert entry.credits == {}
    assert entry.credited == 0
    assert entry.amendments == 0
    assert volunteer.spans == {entry.id: (MORNING, 150)}
    assert names(entry) == ["HoursSubmitted"]
    assert names(volunteer) == ["ServiceSpanKept"]
    assert world.balance(volunteer) == 0  # nothing is credited before approval


# --- working days and the late flag --------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (date(2024, 5, 3), date(2024, 5, 3), 0),  # the same day
        (date(2024, 5, 3), date(2024, 5, 4), 0),  # Friday -> Saturday
        (date(2024, 5, 3), date(2024, 5, 5), 0),  # Friday -> Sunday
        (date(2024, 5, 3), date(2024, 5, 6), 1),  # Friday -> Monday
        (date(2024, 5, 4), date(2024, 5, 6), 1),  # Saturday -> Monday
        (date(2024, 5, 6), date(2024, 5, 7), 1),  # Monday -> Tuesday
        (date(2024, 5, 6), date(2024, 5, 13), 5),  # a whole week
        (date(2024, 5, 3), date(2024, 5, 17), 10),
        (date(2024, 5, 3), date(2024, 5, 20), 11),
        (date(2024, 5, 7), date(2024, 5, 3), 0),  # backwards counts nothing
    ],
)
def test_working_days_skip_weekends(start, end, days):
    assert working_days_between(start, end) == days


def test_an_entry_recorded_more_than_10_working_days_after_is_flagged_late(world):
    volunteer = world.volunteer()
    friday = datetime(2024, 5, 3, 9, 0, tzinfo=UTC)
    on_time = world.submit(
        volunteer, started_at=friday, minutes=60, now=datetime(2024, 5, 17, 23, 0, tzinfo=UTC)
    )
    late = world.submit(
        volunteer,
        started_at=friday + timedelta(hours=3),
        minutes=60,
        now=datetime(2024, 5, 20, 0, 30, tzinfo=UTC),
    )
    assert LATE_AFTER_WORKING_DAYS == 10
    assert on_time.flags == ()  # exactly 10 working days
    assert late.flags == (Flag.LATE.value,)  # 11 working days


def test_lateness_counts_from_the_day_the_service_ended(world):
    volunteer = world.volunteer()
    # Thursday 2 May 22:00 for three hours: it ends on Friday the 3rd.
    overnight = world.submit(
        volunteer,
        started_at=datetime(2024, 5, 2, 22, 0, tzinfo=UTC),
        minutes=180,
        now=datetime(2024, 5, 17, 12, 0, tzinfo=UTC),
    )
    assert overnight.flags == ()


# --- overlap and long days -----------------------------------------------------------------------


def test_touching_entries_do_not_overlap(world):
    volunteer = world.volunteer()
    world.submit(volunteer, started_at=MORNING, minutes=60)
    after = world.submit(volunteer, started_at=MORNING + timedelta(minutes=60), minutes=60)
    before = world.submit(volunteer, started_at=MORNING - timedelta(minutes=30), minutes=30)
    assert after.flags == before.flags == ()


@pytest.mark.parametrize(
    ("offset", "minutes"),
    [(59, 60), (-29, 30), (10, 10), (-30, 120), (0, 60)],
    ids=["starts-inside", "ends-inside", "inside", "around", "same"],
)
def test_overlapping_entries_are_flagged(world, offset, minutes):
    volunteer = world.volunteer()
    first = world.submit(volunteer, started_at=MORNING, minutes=60)
    second = world.submit(
        volunteer, started_at=MORNING + timedelta(minutes=offset), minutes=minutes
    )
    assert first.flags == ()
    assert second.flags == (Flag.OVERLAP.value,)
    assert second.status is EntryStatus.SUBMITTED  # flags inform, they do not refuse


def test_other_volunteers_entries_do_not_overlap(world):
    a, b = world.volunteer("a"), world.volunteer("b")
    world.submit(a, started_at=MORNING, minutes=60)
    assert world.submit(b, started_at=MORNING, minutes=60).flags == ()


def test_an_amended_entry_does_not_overlap_itself(world):
    volunteer = world.volunteer()
    entry = world.submit(volunteer, started_at=MORNING, minutes=60)
    world.amend(entry, started_at=MORNING + timedelta(minutes=30), minutes=90)
    assert entry.flags == ()
    assert volunteer.spans == {entry.id: (MORNING + timedelta(minutes=30), 90)}
    other = world.submit(volunteer, started_at=MORNING + timedelta(hours=3), minutes=60)
    assert other.flags == ()
    # Now moved onto the other entry: flagged.
    world.amend(entry, minutes=180)
    assert entry.flags == (Flag.OVERLAP.value,)


def test_a_day_of_more_than_16_hours_is_flagged_long(world):
    volunteer = world.volunteer()
    day = datetime(2024, 5, 14, 0, 0, tzinfo=UTC)
    world.submit(volunteer, started_at=day, minutes=480)
    exactly = world.submit(volunteer, started_at=day + timedelta(hours=8), minutes=480)
    assert MAX_MINUTES_A_DAY == 960
    assert exactly.flags == ()
    one_more = world.submit(volunteer, started_at=day + timedelta(hours=16), minutes=1)
    assert one_more.flags == (Flag.LONG_DAY.value,)
    # Another day is another day.
    assert world.submit(volunteer, started_at=day - timedelta(hours=2), minutes=60).flags == ()


def test_flags_combine(world):
    volunteer = world.volunteer()
    day = datetime(2024, 4, 1, 6, 0, tzinfo=UTC)
    world.submit(volunteer, started_at=day, minutes=600)
    entry = world.submit(volunteer, started_at=day + timedelta(hours=1), minutes=400)
    assert entry.flags == tuple(sorted(f.value for f in (Flag.LATE, Flag.OVERLAP, Flag.LONG_DAY)))


def test_flags_for_leaves_out_the_entry_itself(world):
    volunteer = world.volunteer()
    early = MORNING - timedelta(hours=2)
    entry = world.submit(volunteer, started_at=early, minutes=600)
    assert volunteer.flags_for(entry.id, early, 600) == set()
    assert volunteer.flags_for(uuid5(NAMESPACE_URL, "x"), early, 600) == {
        Flag.OVERLAP,
        Flag.LONG_DAY,
    }


def test_spans_are_kept_and_dropped(world):
    volunteer = world.volunteer()
    entry_id = uuid5(NAMESPACE_URL, "urn:test:entry")
    volunteer.keep_span(entry_id, MORNING, 60, BY)
    assert volunteer.spans == {entry_id: (MORNING, 60)}
    volunteer.keep_span(entry_id, NOW, 30, BY)
    assert volunteer.spans == {entry_id: (NOW, 30)}
    volunteer.drop_span(entry_id, BY)
    volunteer.drop_span(entry_id, BY)  # dropping what is not there is harmless
    assert volunteer.spans == {}


# --- approving -----------------------------------------------------------------------------------


def test_approving_credits_the_volunteer_from_community(world):
    volunteer = world.volunteer()
    entry = world.submit(volunteer, minutes=150)
    world.flush()
    credit = world.approve(entry)
    assert_credit(credit, world, volunteer, 150, internal_key("hours", entry.id))
    assert credit.memo == entry.service.activity
    assert credit.occurred_at == entry.service.started_at
    assert entry.status is EntryStatus.APPROVED
    assert entry.credits == {credit.id: 150}
    assert entry.credited == 150
    assert world.balance(volunteer) == 150
    assert world.community.balance == -150
    assert names(entry) == ["HoursApproved"]
    assert volunteer.spans == {entry.id: (MORNING, 150)}  # an approved entry keeps its span


def test_an_entry_is_approved_once(world):
    volunteer = world.volunteer()
    entry = world.submit(volunteer)
    world.approve(entry)
    assert_refused(world, "entry-approved", lambda: world.approve(entry))


def test_a_rejected_or_voided_entry_cannot_be_approved(world):
    volunteer = world.volunteer()
    rejected = world.submit(volunteer)
    world.reject(rejected)
    assert_refused(world, "entry-rejected", lambda: world.approve(rejected))
    voided = world.submit(volunteer, started_at=MORNING - timedelta(days=1))
    world.approve(voided)
    world.void(voided)
    assert_refused(world, "entry-voided", lambda: world.approve(voided))


def test_approving_over_the_cap_is_refused(world):
    volunteer = world.volunteer(limits=Limits(floor=-600, cap=100))
    entry = world.submit(volunteer, minutes=101)
    assert_refused(world, "above-cap", lambda: world.approve(entry))
    assert entry.status is EntryStatus.SUBMITTED


def test_approval_does_not_depend_on_the_volunteers_status(world):
    volunteer = world.volunteer()
    entry = world.submit(volunteer)
    volunteer.change_status(VolunteerStatus.LEFT, "moved", BY)
    world.approve(entry)
    assert world.balance(volunteer) == 120


# --- rejecting -----------------------------------------------------------------------------------


def test_rejecting_drops_the_span(world):
    volunteer = world.volunteer()
    entry = world.submit(volunteer, minutes=60)
    world.flush()
    world.reject(entry)
    assert entry.status is EntryStatus.REJECTED
    assert volunteer.spans == {}
    assert names(entry) == ["HoursRejected"]
    assert names(volunteer) == ["ServiceSpanDropped"]
    assert world.balance(volunteer) == 0
    # The same time again is not an overlap with the rejected entry.
    again = world.submit(volunteer, minutes=60)
    assert again.flags == ()


@pytest.mark.parametrize("reason", ["", "  "])
def test_rejecting_needs_a_reason(world, reason):
    volunteer = world.volunteer()
    entry = world.submit(volunteer)
    assert_refused(world, "reason-required", lambda: world.reject(entry, reason=reason))


def test_only_a_submitted_entry_can_be_rejected(world):
    volunteer = world.volunteer()
    approved = world.submit(volunteer)
    world.approve(approved)
    assert_refused(world, "entry-approved", lambda: world.reject(approved))
    # The status is checked before the reason.
    assert_refused(world, "entry-approved", lambda: world.reject(approved, reason=""))
    rejected = world.submit(volunteer, started_at=MORNING - timedelta(days=1))
    world.reject(rejected)
    assert_refused(world, "entry-rejected", lambda: world.reject(rejected))


# --- amending ------------------------------------------------------------------------------------


def test_amending_before_approval_moves_nothing(world):
    volunteer = world.volunteer()
    entry = world.submit(volunteer, minutes=60)
    world.flush()
    posted = world.amend(entry, minutes=90, category="errands")
    assert posted == []
    assert entry.service == service(MORNING, 90, category="errands")
    assert entry.status is EntryStatus.SUBMITTED
    assert entry.amendments == 1
    assert entry.credits == {}
    assert volunteer.spans == {entry.id: (MORNING, 90)}
    assert world.balance(volunteer) == 0
    [amended] = entry.collect_events()
    assert type(amended).__name__ == "HoursAmended"
    assert (amended.reason, amended.requested_by) == (
        "the sign-in sheet says otherwise",
        "resident Li",
    )
    assert amended.transfers == ()
    # Approval credits what the entry says now.
    credit = world.approve(entry)
    assert credit.legs[1].minutes == 90
    assert world.balance(volunteer) == 90


def test_amending_up_after_approval_credits_the_difference(world):
    volunteer = world.volunteer()
    entry = world.submit(volunteer, minutes=60)
    first = world.approve(entry)
    world.flush()
    [credit] = world.amend(entry, minutes=90, reason="stayed longer")
    assert_credit(credit, world, volunteer, 30, internal_key("hours-amendment-1", entry.id))
    assert credit.memo == "stayed longer"
    assert entry.credits == {first.id: 60, credit.id: 30}
    assert entry.credited == entry.service.minutes == 90
    assert entry.status is EntryStatus.APPROVED
    assert world.balance(volunteer) == 90
    assert world.community.balance == -90
    [amended] = entry.collect_events()
    assert amended.transfers == (credit.id,)
    assert amended.credits == ((credit.id, 30),)


def test_amending_down_corrects_the_latest_credit_first(world):
    volunteer = world.volunteer()
    entry = world.submit(volunteer, minutes=60)
    first = world.approve(entry)
    [second] = world.amend(entry, minutes=90)
    # Down by 10: only part of the latest credit.
    [partial] = world.amend(entry, minutes=80)
    assert_correction(partial, second, volunteer, 10)
    assert partial.id == transfer_id_for(internal_key("hours-correction-2-0", entry.id))
    assert entry.credits == {first.id: 60, second.id: 20}
    assert second.reversed == {volunteer.account_id: -10, COMMUNITY: 10}
    assert first.reversed == {}
    assert world.balance(volunteer) == 80
    # Down by 50 more: the rest of the latest credit, then part of the first.
    rest, older = world.amend(entry, minutes=30)
    assert_correction(rest, second, volunteer, 20)
    assert_correction(older, first, volunteer, 30)
    assert entry.credits == {first.id: 30, second.id: 0}
    assert entry.credited == entry.service.minutes == 30
    assert second.reversed == {volunteer.account_id: -30, COMMUNITY: 30}
    assert first.reversed == {volunteer.account_id: -30, COMMUNITY: 30}
    assert world.balance(volunteer) == 30
    assert world.community.balance == -30
    # Up again: a new credit, the corrected ones stay as they are.
    [third] = world.amend(entry, minutes=45)
    assert_credit(third, world, volunteer, 15, internal_key("hours-amendment-4", entry.id))
    assert entry.credits == {first.id: 30, second.id: 0, third.id: 15}
    assert world.balance(volunteer) == 45


def test_amending_other_fields_of_an_approved_entry_moves_nothing(world):
    volunteer = world.volunteer()
    entry = world.submit(volunteer, minutes=60)
    credit = world.approve(entry)
    later = MORNING + timedelta(hours=2)
    assert world.amend(entry, started_at=later, category="errands", place="Hall") == []
    assert entry.service == service(later, 60, category="errands", place="Hall")
    assert entry.credits == {credit.id: 60}
    assert volunteer.spans == {entry.id: (later, 60)}
    assert world.balance(volunteer) == 60


def test_amending_to_the_same_service_is_refused(world):
    volunteer = world.volunteer()
    entry = world.submit(volunteer)
    assert_refused(world, "nothing-amended", lambda: world.amend(entry))
    world.approve(entry)
    assert_refused(world, "nothing-amended", lambda: world.amend(entry, new=service()))


@pytest.mark.parametrize("reason", ["", " "])
def test_an_amendment_needs_a_reason(world, reason):
    volunteer = world.volunteer()
    entry = world.submit(volunteer)
    world.approve(entry)
    assert_refused(world, "reason-required", lambda: world.amend(entry, minutes=30, reason=reason))


@pytest.mark.parametrize("requested_by", ["", " "])
def test_an_amendment_says_who_asked_for_it(world, requested_by):
    volunteer = world.volunteer()
    entry = world.submit(volunteer)
    world.approve(entry)
    assert_refused(
        world,
        "requester-required",
        lambda: world.amend(entry, minutes=30, requested_by=requested_by),
    )


def test_an_amended_service_is_checked_like_a_new_one(world):
    volunteer = world.volunteer()
    entry = world.submit(volunteer)
    world.approve(entry)
    for code, changes in [
        ("invalid-minutes", {"minutes": 0}),
        ("over-entry-maximum", {"minutes": 961}),
        ("date-in-future", {"started_at": NOW + timedelta(hours=1)}),
        ("responsible-required", {"responsible": ""}),
        ("contact-details-in-text", {"content": "call 13800138000"}),
    ]:
        assert_refused(world, code, lambda c=changes: world.amend(entry, **c))


def test_a_rejected_or_voided_entry_cannot_be_amended(world):
    volunteer = world.volunteer()
    rejected = world.submit(volunteer)
    world.reject(rejected)
    assert_refused(world, "entry-rejected", lambda: world.amend(rejected, minutes=30))
    voided = world.submit(volunteer, started_at=MORNING - timedelta(days=1))
    world.approve(voided)
    world.void(voided)
    assert_refused(world, "entry-voided", lambda: world.amend(voided, minutes=30))
    # The status is checked before anything else.
    assert_refused(world, "entry-voided", lambda: world.amend(voided, reason=""))


def test_amending_up_over_the_cap_is_refused(world):
    volunteer = world.volunteer(limits=Limits(floor=-600, cap=100))
    entry = world.submit(volunteer, minutes=60)
    world.approve(entry)
    assert_refused(world, "above-cap", lambda: world.amend(entry, minutes=101))


def test_amending_down_below_the_floor_is_refused(world):
    volunteer = world.volunteer()
    entry = world.submit(volunteer, minutes=60)
    world.approve(entry)
    world.spend(volunteer, 630)  # balance -570
    # Down to 29 takes back 31 minutes: -601.
    assert_refused(world, "below-floor", lambda: world.amend(entry, minutes=29))
    world.amend(entry, minutes=30)  # -600: exactly the floor, allowed
    assert world.balance(volunteer) == -600


# --- voiding -------------------------------------------------------------------------------------


def test_voiding_reverses_the_credit_and_drops_the_span(world):
    volunteer = world.volunteer(balance=100)
    entry = world.submit(volunteer, minutes=60)
    credit = world.approve(entry)
    world.flush()
    [correction] = world.void(entry, reason="entered twice", requested_by="coordinator.wang")
    assert_correction(correction, credit, volunteer, 60)
    assert correction.id == transfer_id_for(internal_key("hours-correction-1-0", entry.id))
    assert correction.memo == "entered twice"
    assert entry.status is EntryStatus.VOIDED
    assert entry.credits == {}
    assert entry.credited == 0
    assert volunteer.spans == {}
    assert world.balance(volunteer) == 100
    assert world.community.balance == -100
    [voided] = entry.collect_events()
    assert type(voided).__name__ == "HoursVoided"
    assert (voided.reason, voided.requested_by, voided.transfers) == (
        "entered twice",
        "coordinator.wang",
        (correction.id,),
    )
    assert names(volunteer) == ["ServiceSpanDropped"]


def test_voiding_reverses_every_credit_still_standing(world):
    volunteer = world.volunteer(balance=100)
    entry = world.submit(volunteer, minutes=60)
    first = world.approve(entry)
    [second] = world.amend(entry, minutes=90)
    [third] = world.amend(entry, minutes=120)
    [partial] = world.amend(entry, minutes=100)  # 20 of the third taken back
    assert_correction(partial, third, volunteer, 20)
    assert world.balance(volunteer) == 200
    corrections = world.void(entry)
    assert [(c.corrects, c.legs[1].minutes) for c in corrections] == [
        (third.id, 10),
        (second.id, 30),
        (first.id, 60),
    ]
    for correction in corrections:
        assert correction.kind is TransferKind.CORRECTION
    for credit in (first, second, third):
        moved = credit.legs[1].minutes
        assert credit.reversed == {volunteer.account_id: -moved, COMMUNITY: moved}
    assert entry.credits == {}
    assert world.balance(volunteer) == 100  # what it was before approval
    assert world.community.balance == -100


def test_voiding_skips_credits_already_corrected(world):
    volunteer = world.volunteer()
    entry = world.submit(volunteer, minutes=60)
    first = world.approve(entry)
    world.amend(entry, minutes=90)
    world.amend(entry, minutes=40)  # the second credit wholly, 20 of the first
    [correction] = world.void(entry)
    assert_correction(correction, first, volunteer, 40)
    assert world.balance(volunteer) == 0


def test_only_an_approved_entry_can_be_voided(world):
    volunteer = world.volunteer()
    submitted = world.submit(volunteer)
    assert_refused(world, "entry-submitted", lambda: world.void(submitted))
    world.reject(submitted)
    assert_refused(world, "entry-rejected", lambda: world.void(submitted))
    voided = world.submit(volunteer, started_at=MORNING - timedelta(days=1))
    world.approve(voided)
    world.void(voided)
    assert_refused(world, "entry-voided", lambda: world.void(voided))


def test_voiding_needs_a_reason_and_who_asked(world):
    volunteer = world.volunteer()
    entry = world.submit(volunteer)
    world.approve(entry)
    assert_refused(world, "reason-required", lambda: world.void(entry, reason=" "))
    assert_refused(world, "requester-required", lambda: world.void(entry, requested_by=""))
    assert_refused(world, "reason-required", lambda: world.void(entry, reason="", requested_by=""))


def test_voiding_below_the_floor_is_refused(world):
    volunteer = world.volunteer()
    entry = world.submit(volunteer, minutes=120)
    world.approve(entry)
    world.spend(volunteer, 601)  # -481: voiding would leave -601
    assert_refused(world, "below-floor", lambda: world.void(entry))
    assert entry.status is EntryStatus.APPROVED


def test_a_refused_void_over_several_credits_reports_the_floor(world):
    volunteer = world.volunteer()
    entry = world.submit(volunteer, minutes=60)
    world.approve(entry)
    world.amend(entry, minutes=90)
    world.spend(volunteer, 630)  # -540: the latest credit (30) fits, both (90) do not
    with pytest.raises(RuleViolated) as info:
        world.void(entry)
    assert info.value.code == "below-floor"
    assert entry.status is EntryStatus.APPROVED


def test_a_void_refused_at_the_second_credit_changes_nothing(world):
    volunteer = world.volunteer()
    entry = world.submit(volunteer, minutes=60)
    world.approve(entry)
    world.amend(entry, minutes=90)
    world.spend(volunteer, 630)  # -540
    assert_refused(world, "below-floor", lambda: world.void(entry))


def test_an_amendment_refused_at_the_second_credit_changes_nothing(world):
    volunteer = world.volunteer()
    entry = world.submit(volunteer, minutes=60)
    world.approve(entry)
    world.amend(entry, minutes=90)
    world.spend(volunteer, 630)  # -540
    assert_refused(world, "below-floor", lambda: world.amend(entry, minutes=10))


# --- certificates --------------------------------------------------------------------------------


def certify(**changes):
    values = {
        "volunteer_id": volunteer_id_for(member_id("someone")),
        "period_from": date(2024, 1, 1),
        "period_to": date(2024, 3, 31),
        "entries": (
            CoveredEntry(uuid5(NAMESPACE_URL, "urn:test:e1"), 90),
            CoveredEntry(uuid5(NAMESPACE_URL, "urn:test:e2"), 45),
        ),
        "recording_body": "Sunshine community social-work station",
        "as_of": 42,
        "today": TODAY,
        "by": BY,
    }
    values.update(changes)
    return issue_certificate(**values)


def test_a_certificate_counts_its_entries_and_gets_a_code():
    certificate = certify()
    assert certificate.minutes == 135
    assert certificate.entries == certify().entries
    assert certificate.volunteer_id == volunteer_id_for(member_id("someone"))
    assert certificate.as_of == 42
    assert len(certificate.code) == CODE_LENGTH == 12
    assert set(certificate.code) <= UNAMBIGUOUS
    assert certificate.id == certificate_id_for(certificate.code)
    assert certificate.id == Certificate.create_id(certificate.code.lower())
    assert names(certificate) == ["CertificateIssued"]


def test_codes_use_only_the_unambiguous_alphabet():
    codes = {new_code() for _ in range(300)}
    assert len(codes) == 300
    for code in codes:
        assert len(code) == 12
        assert set(code) <= UNAMBIGUOUS
        assert not set(code) & set("01ILO")


def test_a_period_of_one_day_up_to_today_is_allowed():
    certificate = certify(period_from=TODAY, period_to=TODAY)
    assert certificate.minutes == 135


def test_the_period_starts_before_it_ends():
    refused("invalid-period", lambda: certify(period_from=date(2024, 4, 1)))
    # Checked before the date.
    refused(
        "invalid-period",
        lambda: certify(period_from=TODAY + timedelta(days=2), period_to=TODAY + timedelta(days=1)),
    )


def test_a_certificate_covers_service_already_given():
    refused(
        "date-in-future",
        lambda: certify(period_from=TODAY + timedelta(days=1), period_to=TODAY + timedelta(days=9)),
    )


def test_there_must_be_something_to_certify():
    refused("nothing-to-certify", lambda: certify(entries=()))


@pytest.mark.parametrize("body", ["", "   "])
def test_a_certificate_names_the_recording_body(body):
    refused("recording-body-required", lambda: certify(recording_body=body))
