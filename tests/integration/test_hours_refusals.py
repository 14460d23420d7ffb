"""Bad input to volunteers, service hours, trainings, certificates and the monitoring report,
through HTTP: each is refused with a problem+json and a stable ``code``, and records nothing
(the store's last position does not move). ``Station.refuses`` checks both."""

from __future__ import annotations

import uuid
from uuid import UUID

import pytest

from domain.rules import RuleViolated
from services.bus import Caller
from services.hours.commands import ApproveEntries, VoidEntry
from tests.integration.support import BY, kiosk_sign_in, refused, register
from tests.integration.test_hours import (
    AMENDED,
    COLUMNS,
    HOURS,
    LEFT,
    MONITORING,
    VOLUNTEERS,
    key,
    service,
    station_running,
    upload,
    volunteer_body,
)

CERTIFICATES = "/api/v1/certificates"
TRAININGS = "/api/v1/trainings"


@pytest.fixture
def station(broker, stores, tmp_path):
    with station_running(broker, stores, tmp_path) as running:
        yield running


def entry(**change) -> dict:
    return {"idempotency_key": key(), **service(**change)}


def test_service_that_is_not_whole_positive_past_minutes_is_not_recorded(station):
    zhou, staff = station.volunteer("Zhou"), station.coordinator
    named = {"volunteer_id": zhou.id}
    for change, status, code in [
        ({"minutes": 0}, 400, "invalid-request"),
        ({"minutes": -30}, 400, "invalid-request"),
        ({"minutes": 1.5}, 400, "invalid-request"),
        ({"minutes": 24 * 60 + 1}, 400, "invalid-request"),  # the schema's cap: a day
        ({"minutes": 1000}, 422, "over-entry-maximum"),  # the rule's: 16 hours an entry
        ({"on": "2026-06-16"}, 422, "date-in-future"),
        ({"on": "2026-06-15", "at": "16:30"}, 422, "date-in-future"),  # ends at 17:30, after NOW
        ({"started_at": "2026-06-10T09:00:00"}, 422, "time-zone-required"),  # no UTC offset
        ({"activity": "修电脑 13800138000"}, 422, "contact-details-in-text"),
        ({"content": "call 138 0013 8000"}, 422, "contact-details-in-text"),
        ({"organiser": " "}, 422, "organiser-required"),
        ({"category": ""}, 400, "invalid-request"),
        ({"tip": 5}, 400, "invalid-request"),
    ]:
        station.refuses(zhou, "POST", HOURS, entry(**change), status, code)
        station.refuses(staff, "POST", HOURS, {**entry(**change), **named}, status, code)
    station.refuses(
        zhou, "POST", HOURS, {**entry(), "idempotency_key": "short"}, 400, "invalid-request"
    )


def test_service_is_recorded_only_under_a_category_of_the_list(station):
    zhou, staff = station.volunteer("Zhou"), station.coordinator
    named = {"volunteer_id": zhou.id}
    for category, code in [
        ("home_visit_nonexistent", "unknown-category"),
        ("上门探访", "unknown-category"),  # the name, not the code
        ("repairs", "category-retired"),
    ]:
        if category == "repairs":
            station.post(staff, "/api/v1/categories/repairs/retirement", reason="合并到代买代办")
        body = entry(category=category)
        for who, sent in [(zhou, body), (staff, {**body, **named})]:
            problem = station.refuses(who, "POST", HOURS, sent, 422, code)
            assert problem["field"] == "category"
    recorded = station.record(zhou, category="home-visits")  # a starting category
    amending = {**service(category="home_visit_nonexistent"), **AMENDED}
    path = f"{HOURS}/{recorded['id']}/amendments"
    problem = station.refuses(staff, "POST", path, amending, 422, "unknown-category")
    assert problem["field"] == "category"

    number = zhou.member["member_number"]
    listed = "2026-06-10,09:00,60,3号楼,陪伴,幸福社区社工站,coord.one"
    rows = [f"{number},探访,{listed},{category},north" for category in ("home-visits", "x_y")]
    answer = upload(station, "june-home-visits", ("\n".join([COLUMNS, *rows]) + "\n").encode())
    assert answer.status_code == 201, answer.text
    first, second = answer.json()["results"]
    assert (first["code"], first["field"]) == (None, None)
    assert (second["item"], second["code"], second["field"]) == (
        "line 3",
        "unknown-category",
        "category",
    )


def test_approved_service_changes_only_by_amendment_or_voiding_with_a_reason(station):
    zhou, staff = station.volunteer("Zhou"), station.coordinator
    waiting, done = station.record(zhou), station.record(zhou, on="2026-06-11")
    station.approve(done)

    def at(receipt: dict, step: str) -> str:
        return f"{HOURS}/{receipt['id']}/{step}"

    station.refuses(staff, "POST", at(done, "approval"), None, 422, "entry-approved")
    station.refuses(staff, "POST", at(done, "rejection"), {"reason": "无"}, 422, "entry-approved")
    voiding = {"reason": "未举行", "requested_by": "社工"}
    station.refuses(staff, "POST", at(waiting, "voiding"), voiding, 422, "entry-submitted")
    amending = {**service(on="2026-06-11", minutes=30), **AMENDED}
    for body, status, code in [
        ({k: v for k, v in amending.items() if k != "reason"}, 400, "invalid-request"),
        ({**amending, "requested_by": ""}, 400, "invalid-request"),
        ({**amending, "reason": "  "}, 422, "reason-required"),
        ({**amending, "requested_by": "  "}, 422, "requester-required"),
        ({**service(on="2026-06-11"), **AMENDED}, 422, "nothing-amended"),  # as it stands
        ({**amending, "minutes": 1000}, 422, "over-entry-maximum"),
        ({**amending, "started_at": "2026-07-01T09:00:00+08:00"}, 422, "date-in-future"),
    ]:
        station.refuses(staff, "POST", at(done, "amendments"), body, status, code)
    for body, status, code in [
        ({"reason": "未举行"}, 400, "invalid-request"),
        ({**voiding, "requested_by": " "}, 422, "requester-required"),
    ]:
        station.refuses(staff, "POST", at(done, "voiding"), body, status, code)

    station.void(done)
    station.refuses(staff, "POST", at(done, "voiding"), voiding, 422, "entry-voided")
    station.refuses(staff, "POST", at(done, "amendments"), amending, 422, "entry-voided")
    unknown = {"id": str(uuid.uuid4())}
    station.refuses(staff, "POST", at(unknown, "approval"), None, 404, "entry-not-found")
    station.refuses(staff, "POST", at(unknown, "amendments"), amending, 404, "entry-not-found")


def test_only_an_active_volunteers_service_is_recorded(station):
    staff = station.coordinator
    paused, gone = station.volunteer("Paused"), station.volunteer("Gone")
    station.post(staff, f"{VOLUNTEERS}/{paused.id}/status", status="paused", reason="生病")
    station.post(staff, f"{VOLUNTEERS}/{gone.id}/status", **LEFT)
    for who, code in [(paused, "volunteer-paused"), (gone, "volunteer-left")]:
        station.refuses(who, "POST", HOURS, entry(), 422, code)
        station.refuses(staff, "POST", HOURS, {**entry(), "volunteer_id": who.id}, 422, code)

    status = f"{VOLUNTEERS}/{paused.id}/status"
    station.refuses(
        staff, "POST", status, {"status": "paused", "reason": "再"}, 422, "status-unchanged"
    )
    station.refuses(
        staff, "POST", status, {"status": "active", "reason": " "}, 422, "reason-required"
    )
    station.refuses(
        staff, "POST", status, {"status": "retired", "reason": "x"}, 400, "invalid-request"
    )
    unknown = f"{VOLUNTEERS}/{uuid.uuid4()}/status"
    station.refuses(staff, "POST", unknown, LEFT, 404, "volunteer-not-found")

    # Refreshing the session, or signing in again, one who left is a resident only.
    refreshed = station.send(gone, "POST", "/api/v1/auth/refresh")
    assert (refreshed.status_code, refreshed.json()["roles"]) == (201, ["resident"])
    signed_in = kiosk_sign_in(station.client, station.kiosk, gone.member["member_number"])
    assert signed_in.json()["roles"] == ["resident"]


def test_no_service_is_recorded_for_a_member_who_was_deactivated(station):
    wang, staff = station.volunteer("Wang", sign_in=False), station.coordinator
    station.post(staff, f"/api/v1/members/{wang.member['id']}/deactivation", reason="搬走")
    before = station.bone.timebank.last_position()
    answer = station.send(staff, "POST", HOURS, {**entry(), "volunteer_id": wang.id})
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] in ("member-inactive", "volunteer-left")
    assert station.bone.timebank.last_position() == before


def test_volunteers_record_and_read_only_their_own_service(station):
    zhou, wang, staff = station.volunteer("Zhou"), station.volunteer("Wang"), station.coordinator
    theirs = station.record(wang)
    someone_elses = {**entry(), "volunteer_id": wang.id}
    station.refuses(zhou, "POST", HOURS, someone_elses, 422, "not-your-entry")
    station.refuses(staff, "POST", HOURS, entry(), 422, "volunteer-required")
    unknown = {**entry(), "volunteer_id": str(uuid.uuid4())}
    station.refuses(staff, "POST", HOURS, unknown, 404, "volunteer-not-found")
    resident = station.resident("Resident")  # signed in at the kiosk, not a volunteer
    station.refuses(resident, "POST", HOURS, entry(), 403, "forbidden")
    station.refuses(resident, "GET", HOURS, None, 403, "forbidden")

    position = station.settle()
    for path in (
        f"{HOURS}/{theirs['id']}",
        f"{HOURS}/{theirs['id']}/history",
        f"{VOLUNTEERS}/{wang.id}",
        f"{VOLUNTEERS}/{wang.id}/certificates",
    ):
        station.refuses(zhou, "GET", path, None, 403, "forbidden", after=position)
    period = {"first": "2026-06-01", "last": "2026-06-14"}
    station.refuses(zhou, "GET", f"{VOLUNTEERS}/{wang.id}/hours", None, 403, "forbidden", **period)
    station.refuses(zhou, "GET", HOURS, None, 422, "not-your-entry", volunteer_id=wang.id)
    for staff_only in (
        f"{HOURS}/{theirs['id']}/history.csv",
        f"{VOLUNTEERS}/{wang.id}/hours/export",
    ):
        station.refuses(wang, "GET", staff_only, None, 403, "forbidden", **period)
    station.refuses(wang, "GET", VOLUNTEERS, None, 403, "forbidden")
    station.refuses(wang, "POST", f"{HOURS}/{theirs['id']}/approval", None, 403, "forbidden")


def test_a_member_is_registered_as_a_volunteer_once_and_with_consent(station):
    zhou, staff = station.volunteer("Zhou"), station.coordinator
    again = volunteer_body(zhou.member["id"])
    station.refuses(staff, "POST", VOLUNTEERS, again, 422, "already-a-volunteer")
    nobody = volunteer_body(str(uuid.uuid4()))
    station.refuses(staff, "POST", VOLUNTEERS, nobody, 404, "member-not-found")
    member = register(station.client, staff, display_name="Li")["id"]
    for change, status, code in [
        ({"consent_version": " "}, 422, "consent-required"),
        ({"consent_version": None}, 400, "invalid-request"),
        ({"skills": ["理发|剪发"]}, 422, "invalid-skills"),
        ({"categories": [" "]}, 422, "invalid-categories"),
        ({"contact": "138"}, 400, "invalid-request"),
    ]:
        body = {k: v for k, v in volunteer_body(member, **change).items() if v is not None}
        station.refuses(staff, "POST", VOLUNTEERS, body, status, code)
    station.refuses(zhou, "POST", VOLUNTEERS, volunteer_body(member), 403, "forbidden")


def test_trainings_are_recorded_after_they_were_held_with_their_attendees(station):
    zhou, staff = station.volunteer("Zhou", sign_in=False), station.coordinator

    def training(**change) -> dict:
        held = {"name": "急救", "minutes": 90, "organiser": "红十字会", "held_on": "2026-06-10"}
        return {"idempotency_key": key(), **held, "attendees": [zhou.id], **change}

    for body, status, code in [
        (training(held_on="2026-06-16"), 422, "date-in-future"),
        (training(attendees=[zhou.id, zhou.id]), 422, "duplicate-attendee"),
        (training(attendees=[str(uuid.uuid4())]), 404, "volunteer-not-found"),
        (training(attendees=[]), 400, "invalid-request"),
        (training(name=" "), 422, "training-incomplete"),
        (training(minutes=0), 400, "invalid-request"),
    ]:
        station.refuses(staff, "POST", TRAININGS, body, status, code)


def test_a_certificate_covers_a_real_period_of_approved_service(station):
    zhou, staff = station.volunteer("Zhou", sign_in=False), station.coordinator
    station.approve(station.record(zhou, on="2026-06-10"))
    station.record(zhou, on="2026-05-10")  # awaiting approval: nothing to certify in May

    def certificate(first: str, last: str, **change) -> dict:
        period = {"period_from": first, "period_to": last, "recording_body": "幸福社区社工站"}
        return {"volunteer_id": zhou.id, **period, **change}

    june = ("2026-06-01", "2026-06-14")

    for body, status, code in [
        (certificate("2026-06-14", "2026-06-01"), 422, "invalid-period"),
        (certificate("2026-05-01", "2026-05-31"), 422, "nothing-to-certify"),
        (certificate("2026-06-16", "2026-06-30"), 422, "date-in-future"),
        (certificate(*june, recording_body=" "), 422, "recording-body-required"),
        (certificate(*june, volunteer_id=str(uuid.uuid4())), 404, "volunteer-not-found"),
    ]:
        station.refuses(staff, "POST", CERTIFICATES, body, status, code)

    refused(station.client.get(f"{CERTIFICATES}/ABCDEFGHJKMN"), 404, "certificate-not-found")


def test_reports_refuse_malformed_months_and_periods(station):
    zhou, staff = station.volunteer("Zhou", sign_in=False), station.coordinator
    for first, last in [("2026-13", "2026-12"), ("2026-6", "2026-07"), ("june", "2026-07")]:
        for path in (MONITORING, f"{MONITORING}/export"):
            station.refuses(
                staff, "GET", path, None, 400, "invalid-request", first=first, last=last
            )
    months = {"first": "2026-06", "last": "2026-01"}
    station.refuses(staff, "GET", MONITORING, None, 422, "invalid-period", **months)
    own = f"{VOLUNTEERS}/{zhou.id}/hours"
    station.refuses(
        staff, "GET", own, None, 422, "invalid-period", first="2026-06-14", last="2026-06-01"
    )
    station.refuses(
        staff, "GET", own, None, 400, "invalid-request", first="2026-06-31", last="2026-07-01"
    )
    station.refuses(staff, "GET", own, None, 400, "invalid-request")  # the period is required


def test_an_attendance_list_that_is_not_utf8_or_has_a_bad_key_is_refused(station):
    before = station.bone.timebank.last_position()
    refused(upload(station, "gbk-export", "姓名".encode("gbk")), 422, "not-utf8")
    refused(upload(station, "short", b"member_number\n"), 400, "invalid-request")
    refused(upload(station, "has spaces!", b"member_number\n"), 400, "invalid-request")
    assert station.bone.timebank.last_position() == before


def test_bulk_approval_approves_the_good_and_reports_each_of_the_rest(station):
    zhou, staff = station.volunteer("Zhou"), station.coordinator
    good = [station.record(zhou, on=f"2026-06-0{day}") for day in (1, 2, 3)]
    approved = station.record(zhou, on="2026-06-04")
    rejected = station.record(zhou, on="2026-06-05")
    station.approve(approved)
    station.post(staff, f"{HOURS}/{rejected['id']}/rejection", reason="重复")
    unknown = str(uuid.uuid4())
    ids = [good[0]["id"], unknown, good[1]["id"], approved["id"], rejected["id"], good[2]["id"]]
    answer = station.post(staff, f"{HOURS}/approvals", entry_ids=ids)
    assert (answer["recorded"], answer["refused"]) == (3, 3)
    assert [(result["item"], result["code"]) for result in answer["results"]] == [
        (good[0]["id"], None),
        (unknown, "entry-not-found"),
        (good[1]["id"], None),
        (approved["id"], "entry-approved"),
        (rejected["id"], "entry-rejected"),
        (good[2]["id"], None),
    ]
    positions = [result["position"] for result in answer["results"] if result["code"] is None]
    assert positions == sorted(positions) and positions[-1] <= answer["position"]
    assert station.balances(answer["position"], zhou) == (4 * 60,)
    listed = station.get(staff, HOURS, status="approved", after=answer["position"])["entries"]
    assert len(listed) == 4
    station.refuses(staff, "POST", f"{HOURS}/approvals", {"entry_ids": []}, 400, "invalid-request")
    rejecting = {"entry_ids": [good[0]["id"]], "reason": "无"}
    rejections = station.post(staff, f"{HOURS}/rejections", **rejecting)
    assert [result["code"] for result in rejections["results"]] == ["entry-approved"]


def test_a_recording_key_is_answered_as_before_or_refused_for_another_volunteer(station):
    zhou, wang = station.volunteer("Zhou"), station.volunteer("Wang")
    body = entry()
    first = station.post(zhou, HOURS, **body)
    before = station.bone.timebank.last_position()
    again = station.send(zhou, "POST", HOURS, body)
    assert again.status_code == 200, again.text
    assert again.json()["replayed"] is True and again.json()["id"] == first["id"]
    assert station.bone.timebank.last_position() == before
    station.refuses(wang, "POST", HOURS, body, 422, "idempotency-key-reused")


def test_a_recording_key_reused_for_different_service_is_refused(station):
    zhou = station.volunteer("Zhou")
    body = entry(minutes=60)
    station.post(zhou, HOURS, **body)
    station.refuses(zhou, "POST", HOURS, {**body, "minutes": 90}, 422, "idempotency-key-reused")


def test_a_bulk_rejection_without_a_reason_rejects_none(station):
    zhou, staff = station.volunteer("Zhou"), station.coordinator
    waiting = [station.record(zhou, on=f"2026-06-0{day}")["id"] for day in (1, 2)]
    body = {"entry_ids": waiting, "reason": "   "}
    station.refuses(staff, "POST", f"{HOURS}/rejections", body, 422, "reason-required")


def test_a_confirmation_asks_the_domain_what_each_command_would_do_and_records_nothing(station):
    """What the console's confirmation screens ask (``bus.check``): each entry's outcome, or
    the rule that refuses the command, with nothing recorded either way."""
    zhou, caller = station.volunteer("Zhou"), Caller(BY)
    waiting, approved = (UUID(station.record(zhou, on=f"2026-06-0{day}")["id"]) for day in (1, 2))
    station.approve({"id": str(approved)})
    before = station.bone.timebank.last_position()

    would = station.bone.bus.check(ApproveEntries(entry_ids=[waiting, approved]), caller)
    voiding = VoidEntry(entry_id=approved, reason="重复", requested_by=" ")
    with pytest.raises(RuleViolated) as refusal:
        station.bone.bus.check(voiding, caller)

    assert [outcome.code for outcome in would.results] == [None, "entry-approved"]
    assert refusal.value.code == "requester-required"
    assert station.bone.timebank.last_position() == before
