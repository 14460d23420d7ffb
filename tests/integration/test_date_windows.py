"""Every date and instant a command or a query accepts lies in a window a station can mean
(README, "Date windows"): outside it the request is refused with a 422 problem naming the
field, and nothing is recorded. The station's clock stands still at 2026-06-15 17:00."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from litestar.testing import TestClient

from domain.identity import Role, staff_id_for
from services.composition.app import create_app
from services.pages.session import DEVICE_COOKIE, SESSION_COOKIE, session_cookie
from services.web.auth import Principal
from tests.integration.support import (
    make_backbone,
    member_body,
    member_principal,
    register,
    register_kiosk,
    staff_headers,
)
from tests.integration.test_exchanges import pair
from tests.integration.test_hours import (
    HOURS,
    MONITORING,
    NOW,
    VOLUNTEERS,
    Station,
    attendance,
    key,
    service,
    station_running,
    upload,
    volunteer_body,
)

FIRST_INSTANT = "0001-01-01T00:00:00+14:00"
LAST_INSTANT = "9999-12-31T23:59:59Z"
NAIVE = "2026-06-10T09:00:00"
# (value, code): each out of its window, or without an offset from UTC.
DONE_INSTANTS = [
    (FIRST_INSTANT, "date-out-of-range"),
    ("1999-12-31T23:59:00+08:00", "date-out-of-range"),
    (LAST_INSTANT, "date-in-future"),
    ("2026-06-16T09:00:00+08:00", "date-in-future"),
    (NAIVE, "time-zone-required"),
]
PLANNED_INSTANTS = [
    (FIRST_INSTANT, "date-out-of-range"),
    (LAST_INSTANT, "date-out-of-range"),
    ("2028-06-17T09:00:00+08:00", "date-out-of-range"),  # past today plus two years
    (NAIVE, "time-zone-required"),
]
DONE_DAYS = [
    ("0001-01-01", "date-out-of-range"),
    ("1999-12-31", "date-out-of-range"),
    ("9999-12-31", "date-in-future"),
    ("2026-06-16", "date-in-future"),
]
PLANNED_DAYS = [
    ("0001-01-01", "date-out-of-range"),
    ("9999-12-31", "date-out-of-range"),
    ("2028-06-16", "date-out-of-range"),
]
BIRTH_DAYS = [
    ("0001-01-01", "date-out-of-range"),
    ("1899-12-31", "date-out-of-range"),
    ("2026-06-16", "date-out-of-range"),
    ("9999-12-31", "date-out-of-range"),
]


@pytest.fixture
def station(broker, stores, tmp_path):
    with station_running(broker, stores, tmp_path) as running:
        yield running


def refuses_each(
    station: Station,
    who: dict[str, str],
    path: str,
    body: Callable[[str], dict],
    field: str,
    cases: list[tuple[str, str]],
) -> None:
    """``body(value)`` posted to ``path`` is refused, naming ``field``, for each case."""
    for value, code in cases:
        problem = station.refuses(who, "POST", path, body(value), 422, code)
        assert problem["field"] == field, problem
        assert field in problem["detail"], problem


def test_help_given_lies_between_2000_and_now(station):
    staff, wang, li = station.coordinator, station.wang, station.li

    def transfer(when: str) -> dict:
        return {
            "idempotency_key": key(),
            "from_account": "community",
            "to_account": wang.account,
            "minutes": 10,
            "occurred_at": when,
        }

    def exchange(when: str) -> dict:
        return {"idempotency_key": key(), "pairs": [pair(wang, li, 30)], "occurred_at": when}

    refuses_each(station, staff, "/api/v1/transfers", transfer, "occurred_at", DONE_INSTANTS)
    refuses_each(station, staff, "/api/v1/exchanges", exchange, "occurred_at", DONE_INSTANTS)
    station.post(staff, "/api/v1/transfers", **transfer("2026-06-15T17:04:00+08:00"))  # skew


def test_service_done_lies_between_2000_and_now(station):
    staff, zhou = station.coordinator, station.volunteer("Zhou", sign_in=False)
    done = station.record(zhou)

    def entry(when: str) -> dict:
        return {"idempotency_key": key(), "volunteer_id": zhou.id, **service(started_at=when)}

    def amendment(when: str) -> dict:
        return {**service(started_at=when), "reason": "记录有误", "requested_by": "本人"}

    refuses_each(station, staff, HOURS, entry, "started_at", DONE_INSTANTS)
    amendments = f"{HOURS}/{done['id']}/amendments"
    refuses_each(station, staff, amendments, amendment, "started_at", DONE_INSTANTS)

    def training(held_on: str) -> dict:
        held = {"name": "急救", "minutes": 90, "organiser": "红十字会", "held_on": held_on}
        return {"idempotency_key": key(), **held, "attendees": [zhou.id]}

    def award(on: str) -> dict:
        return {"name": "优秀志愿者", "awarded_on": on, "awarded_by": "街道"}

    def evaluation(on: str) -> dict:
        return {"rating": "good", "evaluated_on": on}

    refuses_each(station, staff, "/api/v1/trainings", training, "held_on", DONE_DAYS)
    awards, evaluations = f"{VOLUNTEERS}/{zhou.id}/awards", f"{VOLUNTEERS}/{zhou.id}/evaluations"
    refuses_each(station, staff, awards, award, "awarded_on", DONE_DAYS)
    refuses_each(station, staff, evaluations, evaluation, "evaluated_on", DONE_DAYS)


def test_a_certificate_covers_a_period_from_2000_on(station):
    staff, zhou = station.coordinator, station.volunteer("Zhou", sign_in=False)
    station.approve(station.record(zhou))

    def certificate(first: str, last: str) -> dict:
        period = {"period_from": first, "period_to": last, "recording_body": "幸福社区社工站"}
        return {"volunteer_id": zhou.id, **period}

    path = "/api/v1/certificates"
    refuses_each(
        station, staff, path, lambda day: certificate(day, "2026-06-14"), "period_from", DONE_DAYS
    )
    # A certificate of this month may be issued before the month is out.
    refuses_each(
        station, staff, path, lambda day: certificate("2026-06-01", day), "period_to", PLANNED_DAYS
    )
    station.post(staff, path, **certificate("2026-06-01", "2026-06-30"))


def test_birth_dates_lie_between_1900_and_today(station):
    staff = station.coordinator
    member = register(station.client, staff, display_name="Zhou")

    def resident(born: str) -> dict:
        return member_body(birth_date=born)

    def volunteer(born: str) -> dict:
        return volunteer_body(member["id"], birth_date=born)

    refuses_each(station, staff, "/api/v1/members", resident, "birth_date", BIRTH_DAYS)
    refuses_each(station, staff, VOLUNTEERS, volunteer, "birth_date", BIRTH_DAYS)


def test_what_is_planned_lies_between_2000_and_two_years_ahead(station):
    council = staff_headers(station.bone, Role.COUNCIL)
    wang, motion = station.wang, f"/api/v1/motions/{uuid.uuid4()}"

    def meeting(when: str) -> dict:
        return {
            "idempotency_key": key(),
            "title": "居民议事会",
            "starts_at": when,
            "place": "活动室",
            "entitled": [str(wang.account)],
        }

    refuses_each(station, council, "/api/v1/meetings", meeting, "starts_at", PLANNED_INSTANTS)
    owner = {"owner": str(staff_id_for("coord.one"))}
    refuses_each(
        station, council, f"{motion}/owner", lambda due: {**owner, "due": due}, "due", PLANNED_DAYS
    )
    milestone = {"name": "报价"}
    refuses_each(
        station,
        council,
        f"{motion}/milestones",
        lambda due: {**milestone, "due": due},
        "due",
        PLANNED_DAYS,
    )


# (first, last, the one out of its window): days of a volunteer's hours, a report's months.
PERIODS = {
    "hours": [
        ("0001-01-01", "2026-06-15", "first"),
        ("2026-06-01", "9999-12-31", "last"),
        ("1999-12-31", "2026-06-15", "first"),
        ("2026-06-01", "2029-01-01", "last"),
    ],
    "monitoring": [
        ("0000-01", "2026-06", "first"),
        ("1999-12", "2026-06", "first"),
        ("2026-01", "9999-12", "last"),
        ("2026-01", "2028-07", "last"),
    ],
}


@pytest.mark.parametrize("export", ["", "/export"])
@pytest.mark.parametrize("asked", sorted(PERIODS))
def test_periods_asked_about_lie_between_2000_and_two_years_ahead(station, asked, export):
    if asked == "hours":
        zhou = station.volunteer("Zhou", sign_in=False)
        path = f"{VOLUNTEERS}/{zhou.id}/hours{export}"
    else:
        path = f"{MONITORING}{export}"
    for first, last, field in PERIODS[asked]:
        problem = station.refuses(
            station.coordinator, "GET", path, None, 422, "date-out-of-range", first=first, last=last
        )
        assert problem["field"] == field, problem


def test_an_imported_row_outside_the_window_is_reported_and_not_recorded(station):
    zhou = station.volunteer("Zhou", sign_in=False)
    number = zhou.member["member_number"]
    rows = [
        f"{number},清洁,{day},09:00,60,广场,捡垃圾,社工站,coord.one,companionship,north"
        for day in ("0001-01-01", "1999-12-31", "9999-12-31", "2026-06-10")
    ]
    before = station.bone.timebank.last_position()
    answer = upload(station, key(), attendance(rows))
    assert answer.status_code == 201, answer.text
    results = answer.json()["results"]
    assert [result.get("code") for result in results] == [
        "date-out-of-range",
        "date-out-of-range",
        "date-in-future",
        None,
    ], results
    assert "date must be between 2000-01-01 and today" in results[0]["message"]
    assert station.bone.timebank.last_position() > before  # the good row only


# The pages' forms take days and times too: the same windows, a refusal said on a page.
PAGE_FORMS = [
    (
        "/console/members",
        Role.COORDINATOR,
        {
            "display_name": "Zhou",
            "building": "3",
            "household": "3-201",
            "phone": "13800000000",
            "pin": "2468",
            "notice_version": "2024-06",
        },
        "birth_date",
        ["0001-01-01", "1899-12-31", "2026-06-16", "2026-02-30"],
    ),
    (
        "/console/certificates",
        Role.COORDINATOR,
        {"volunteer_id": str(uuid.uuid4()), "period_to": "2026-06-14", "recording_body": "站"},
        "period_from",
        ["0001-01-01", "2026-06-16"],
    ),
    (
        f"/console/hours/{uuid.uuid4()}/amendment",
        Role.COORDINATOR,
        {
            "activity": "探访",
            "start": "09:00",
            "minutes": "60",
            "organiser": "社工站",
            "responsible": "coord.one",
            "category": "companionship",
        },
        "day",
        ["0001-01-01", "9999-12-31"],
    ),
    (
        "/council/meetings",
        Role.COUNCIL,
        {"idempotency_key": key(), "title": "议事会", "place": "活动室", "members": "123456"},
        "starts_at",
        ["0001-01-01T10:00", "2029-01-01T10:00"],
    ),
    (
        f"/council/motions/{uuid.uuid4()}/owner",
        Role.COUNCIL,
        {"owner": str(staff_id_for("coord.one"))},
        "due",
        ["0001-01-01", "9999-12-31", "2026-13-40"],
    ),
]


KIOSK_HOURS = {
    "key": key(),
    "activity": "探访",
    "start": "09:00",
    "minutes": "60",
    "category": "companionship",
    "organiser": "社工站",
    "responsible": "coord.one",
}


def test_the_pages_forms_keep_to_the_same_windows(broker, sqlite_stores, tmp_path):
    events, reads = sqlite_stores.new("events"), sqlite_stores.new("reads")
    bone = make_backbone(tmp_path, events, reads, broker.url, pages=True)
    bone.clock = lambda: NOW
    kiosk = register_kiosk(bone)
    volunteer = member_principal(uuid.uuid4(), uuid.uuid4(), kiosk, Role.VOLUNTEER)
    forms = [
        *((path, staff(role), None, *rest) for path, role, *rest in PAGE_FORMS),
        ("/kiosk/hours", volunteer, kiosk.token, KIOSK_HOURS, "day", ["0001-01-01", "2026-06-16"]),
    ]
    with TestClient(create_app(bone)) as client:
        csrf = client.get("/").cookies["csrftoken"]
        for path, principal, device, form, field, values in forms:
            session = session_cookie(client.app.state.page_auth, principal).value or ""
            client.cookies.update({"csrftoken": csrf, SESSION_COOKIE: session})
            if device is not None:
                client.cookies[DEVICE_COOKIE] = device
            for value in values:
                before = bone.timebank.last_position()
                answer = client.post(
                    path, data={**form, field: value}, headers={"x-csrftoken": csrf}
                )
                assert answer.status_code == 422, f"{path} {field}={value}: {answer.text[:500]}"
                assert "text/html" in answer.headers["content-type"]
                assert bone.timebank.last_position() == before
        # A time of day the clock has not is refused as the form is read, not as a failure.
        answer = client.post(
            "/kiosk/hours",
            data={**KIOSK_HOURS, "day": "2026-06-10", "start": "25:00"},
            headers={"x-csrftoken": csrf},
        )
        assert answer.status_code == 400, answer.text[:500]


def staff(role: Role) -> Principal:
    return Principal(subject=f"staff:{role}", roles=frozenset({role}), channel="console")
