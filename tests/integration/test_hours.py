"""Volunteers, service hours, certificates and the monitoring report through HTTP on the real
app, store, broker and read models: what each does when it works (the refusals are in
test_hours_refusals.py). The station's clock stands still at ``NOW``."""

from __future__ import annotations

import csv
import io
import random
import uuid
from collections import Counter, defaultdict
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.integration.support import (
    caught_up,
    live_dumps,
    make_backbone,
    rebuilt_dumps,
    refused,
    register,
    serving,
    wait_until,
)
from tests.integration.test_exchange_story import Resident
from tests.integration.test_exchanges import Town

NOW = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)  # a Monday, 17:00 at the station
STATION = "+08:00"
ZONE = ZoneInfo("Asia/Shanghai")
HOURS = "/api/v1/hours"
VOLUNTEERS = "/api/v1/volunteers"
MONITORING = "/api/v1/reports/monitoring"
COLUMNS = "member_number,activity,date,start,minutes,place,content,organiser,responsible,"
COLUMNS += "category,building"
LEFT = {"status": "left", "reason": "搬走了"}
AMENDED = {"reason": "记录有误", "requested_by": "本人"}


def key() -> str:
    return uuid.uuid4().hex


def service(on: str = "2026-06-10", at: str = "09:00", minutes: int = 60, **change: Any) -> dict:
    """A valid record of service (Art. 7), at the station's time."""
    return {
        "activity": "上门探访",
        "started_at": f"{on}T{at}:00{STATION}",
        "minutes": minutes,
        "place": "3号楼",
        "content": "陪伴聊天，读报",
        "organiser": "幸福社区社工站",
        "responsible": "coord.one",
        "category": "companionship",
        "building": "north",
        **change,
    }


class Volunteer(Resident):
    """A resident registered as a volunteer; signed in at the kiosk unless told not to."""

    def __init__(self, station: Station, name: str, sign_in: bool, **profile: Any) -> None:
        self.member = register(station.client, station.coordinator, display_name=name)
        body = volunteer_body(self.member["id"], **profile)
        self.id = station.post(station.coordinator, VOLUNTEERS, **body)["id"]
        self.account, self.headers = self.member["account_id"], {}
        if sign_in:
            super().__init__(station.client, station.kiosk, self.member)


class Station(Town):
    """A running station (a coordinator, a kiosk) whose clock stands still at NOW."""

    def volunteer(self, name: str, *, sign_in: bool = True, **profile: Any) -> Volunteer:
        return Volunteer(self, name, sign_in, **profile)

    def record(self, volunteer: Volunteer, **change: Any) -> dict:
        """Service of ``volunteer``, entered by the coordinator; the receipt."""
        body = {"idempotency_key": key(), "volunteer_id": volunteer.id, **service(**change)}
        return self.post(self.coordinator, HOURS, **body)

    def approve(self, *receipts: dict) -> dict:
        ids = [receipt["id"] for receipt in receipts]
        approved = self.post(self.coordinator, f"{HOURS}/approvals", entry_ids=ids)
        assert approved["refused"] == 0, approved
        return approved

    def amend(self, receipt: dict, **change: Any) -> dict:
        path = f"{HOURS}/{receipt['id']}/amendments"
        return self.post(self.coordinator, path, **service(**change), **AMENDED)

    def void(self, receipt: dict) -> dict:
        path = f"{HOURS}/{receipt['id']}/voiding"
        return self.post(self.coordinator, path, reason="活动未举行", requested_by="社工")

    def settle(self) -> int:
        """Wait for every read model to apply everything recorded; the position."""
        wait_until(lambda: caught_up(self.bone), what="read models")
        return self.bone.timebank.last_position()


def volunteer_body(member_id: str, **change: Any) -> dict:
    return {
        "member_id": member_id,
        "name": "周志愿",
        "gender": "女",
        "birth_date": "1960-03-08",
        "id_number": "110101196003080028",
        "area": "幸福社区",
        "contact": "13800138000",
        "skills": ["读报"],
        "categories": ["companionship"],
        "building": "north",
        "consent_version": "volunteer-2026-01",
        **change,
    }


@contextmanager
def station_running(broker, stores, tmp_path, **settings: Any):
    events, reads = stores.new("events"), stores.new("reads")
    bone = make_backbone(tmp_path, events, reads, broker.url, **settings)
    bone.clock = lambda: NOW
    with serving(bone) as served:
        yield Station(served)


@pytest.fixture
def station(broker, stores, tmp_path):
    with station_running(broker, stores, tmp_path) as running:
        yield running


def stored_events(bone) -> list[Any]:
    """Every domain event in the event store, in order (read straight from the store)."""
    notifications = bone.timebank.recorder.select_notifications(start=1, limit=1_000_000)
    return [bone.timebank.mapper.to_domain_event(notification) for notification in notifications]


def named(events: list[Any], *names: str) -> list[Any]:
    return [event for event in events if type(event).__name__ in names]


def read_csv(answer) -> list[list[str]]:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.text.startswith("\ufeff"), "the BOM makes spreadsheets read it as UTF-8"
    return list(csv.reader(io.StringIO(answer.text[1:])))


def all_entries(station: Station, **params: Any) -> list[dict]:
    """Every entry the coordinator's list shows, across its pages."""
    found, before = [], None
    while True:
        paging = {"before": before} if before else {}
        page = station.get(station.coordinator, HOURS, limit=200, **params, **paging)
        found += page["entries"]
        before = page["next_before"]
        if before is None:
            return found


# (a) Bulk import of an attendance list.


def attendance(rows: list[str]) -> bytes:
    return ("\n".join([COLUMNS, *rows]) + "\n").encode()


def upload(station: Station, import_key: str, data: bytes):
    return station.client.post(
        f"{HOURS}/imports",
        params={"key": import_key},
        files={"data": ("attendance.csv", data, "text/csv")},
        headers=station.coordinator,
    )


def test_an_attendance_list_records_its_good_rows_and_reports_each_bad_one(station):
    volunteers = [station.volunteer(f"V{i}", sign_in=False) for i in range(5)]
    gone = station.volunteer("Gone", sign_in=False)
    station.post(station.coordinator, f"{VOLUNTEERS}/{gone.id}/status", **LEFT)
    resident = register(station.client, station.coordinator, display_name="Not a volunteer")
    rng = random.Random(5)

    def row(number: str, **change: str) -> str:
        day = 1 + rng.randrange(28)
        fields = {
            "member_number": number,
            "activity": "社区清洁",
            "date": f"2026-05-{day:02d}",
            "start": f"{8 + rng.randrange(8):02d}:{rng.choice(['00', '30'])}",
            "minutes": str(rng.choice([30, 45, 60, 90, 120])),
            "place": "中心广场",
            "content": "捡垃圾",
            "organiser": "幸福社区社工站",
            "responsible": "coord.one",
            "category": rng.choice(["cleaning", "meals"]),
            "building": rng.choice(["north", "south"]),
            **change,
        }
        return ",".join(fields.values())

    bad = {  # a bad row's kind -> (what changes, the code it is reported with)
        "missing": ({"activity": "", "category": ""}, "malformed-row"),
        "date": ({"date": "2026-05-32"}, "malformed-row"),
        "zero": ({"minutes": "0"}, "invalid-minutes"),
        "unknown": ({"member_number": "99999999"}, "volunteer-not-found"),
        "resident": ({"member_number": resident["member_number"]}, "volunteer-not-found"),
        "left": ({"member_number": gone.member["member_number"]}, "volunteer-left"),
        "phone": ({"content": "有事打13800138000"}, "contact-details-in-text"),
    }
    rows, expected = [], []
    for index in range(500):
        kind = list(bad)[index % 40] if index % 40 < len(bad) else None
        change, code = bad[kind] if kind else ({}, None)
        rows.append(row(rng.choice(volunteers).member["member_number"], **change))
        expected.append((f"line {index + 2}", code))  # the header is line 1
    rows[7] = ",".join(rows[7].split(",")[:6])  # a short row: its last columns are missing
    expected[7] = ("line 9", "malformed-row")
    good = sum(1 for _, code in expected if code is None)

    answer = upload(station, "may-clean-up", attendance(rows))
    assert answer.status_code == 201, answer.text
    imported = answer.json()
    assert [(r["item"], r["code"]) for r in imported["results"]] == expected
    assert (imported["recorded"], imported["refused"]) == (good, 500 - good)
    station.settle()
    assert len(all_entries(station, status="submitted")) == good

    # Nothing half-recorded: every entry saved with its span on the volunteer, and only those.
    events = stored_events(station.bone)
    submitted = {event.originator_id for event in named(events, "HoursSubmitted")}
    spans = {event.entry_id for event in named(events, "ServiceSpanKept")}
    assert submitted == spans and len(submitted) == good

    # The same list again under the same key records nothing, and answers line for line.
    before = station.bone.timebank.last_position()
    again = upload(station, "may-clean-up", attendance(rows)).json()
    assert [(r["item"], r["code"]) for r in again["results"]] == expected
    assert station.bone.timebank.last_position() == before
    # Under another key it is another list: recorded again.
    other = upload(station, "may-clean-up-2", attendance(rows)).json()
    assert other["recorded"] == good
    station.settle()
    assert len(all_entries(station, status="submitted")) == 2 * good


def test_an_attendance_list_without_all_its_columns_is_refused_whole(station):
    zhou = station.volunteer("Zhou", sign_in=False)
    number = zhou.member["member_number"]
    header = COLUMNS.replace(",responsible", "")
    data = f"{header}\n{number},清洁,2026-05-01,09:00,60,广场,,站,cleaning,north\n".encode()
    before = station.bone.timebank.last_position()
    answer = upload(station, "no-responsible", data)
    refused(answer, 422, "import-columns-missing")
    assert station.bone.timebank.last_position() == before
    refused(upload(station, "empty-list", b""), 422, "import-columns-missing")


def test_a_quoted_cell_keeps_its_line_break(station):
    zhou = station.volunteer("Zhou", sign_in=False)
    number = zhou.member["member_number"]
    row = f'{number},清洁,2026-06-09,09:00,60,广场,"扫地\n拖地",站,coord.one,cleaning,y'
    imported = upload(station, "line-break", attendance([row])).json()
    assert imported["recorded"] == 1, imported
    shown = station.get(station.coordinator, HOURS, after=imported["position"])["entries"]
    assert shown[0]["content"] == "扫地\n拖地"


# (b) The monitoring report over a generated year, against figures derived from the events.

CATEGORIES = ("cleaning", "companionship", "meals")
BUILDINGS = ("north", "south", "west")
STATES = ("active", "paused", "left")


def expected_monitoring(events: list[Any], first: str, last: str) -> dict:
    """The monitoring report computed from the stored events alone: each entry as it stands
    (approved and not voided since counts, in the station's month of its latest service)."""
    entries: dict[Any, list] = {}  # entry -> [volunteer, service, counted]
    new, trainings, status = Counter(), defaultdict(Counter), {}
    for event in events:
        kind, stream = type(event).__name__, event.originator_id
        if kind == "HoursSubmitted":
            entries[stream] = [event.volunteer_id, event.service, False]
        elif kind == "HoursAmended":
            entries[stream][1] = event.service
        elif kind in ("HoursApproved", "HoursVoided"):
            entries[stream][2] = kind == "HoursApproved"
        elif kind == "VolunteerRegistered":
            new[event.registered_on.strftime("%Y-%m")] += 1
            status[stream] = "active"
        elif kind == "VolunteerStatusChanged":
            status[stream] = str(event.status)
        elif kind == "TrainingHeld":
            held = trainings[event.held_on.strftime("%Y-%m")]
            held.update(trainings=1, minutes=event.minutes)
            held.update(minutes_trained=event.minutes * len(event.attendees))
    service, active = defaultdict(Counter), defaultdict(set)
    for volunteer, done, counted in entries.values():
        if counted:
            month = done.started_at.astimezone(ZONE).strftime("%Y-%m")
            service[month, done.category, done.building].update(minutes=done.minutes, services=1)
            active[month].add(volunteer)
    months = sorted(month for month in set(active) | set(new) if first <= month <= last)
    return {
        "first": first,
        "last": last,
        "service": [
            {"month": month, "category": category, "building": building, **figure}
            for (month, category, building), figure in sorted(service.items())
            if first <= month <= last
        ],
        "volunteers": [
            {"month": month, "active": len(active[month]), "new": new[month]} for month in months
        ],
        "trainings": [
            {"month": month, **held}
            for month, held in sorted(trainings.items())
            if first <= month <= last
        ],
        "registry": {state: list(status.values()).count(state) for state in STATES},
    }


def a_busy_year(station: Station) -> None:
    """Eight volunteers registered over 2025, and 160 entries of theirs at any time of any day
    of it: approved, rejected or still waiting, amended (to another month, category, building
    or length) before or after approval, voided; trainings, an award, an evaluation, a new
    profile, a certificate, an attendance list; one volunteer paused, one left."""
    rng = random.Random(2025)
    staff = station.coordinator
    volunteers = []
    for number, month in enumerate((1, 1, 2, 4, 4, 6, 9, 11)):
        station.bone.clock = lambda month=month: datetime(2025, month, 10, 2, tzinfo=UTC)
        volunteers.append(station.volunteer(f"Year {number}", sign_in=False))
    station.bone.clock = lambda: NOW

    def anything() -> dict:
        # The small hours of the 1st belong to their month at the station, not in UTC.
        return {
            "on": f"2025-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
            "at": f"{rng.randrange(0, 22):02d}:{rng.choice(['00', '30'])}",
            "minutes": rng.choice([30, 45, 60, 90, 120, 180]),
            "category": rng.choice(CATEGORIES),
            "building": rng.choice(BUILDINGS),
        }

    entries = [station.record(rng.choice(volunteers), **anything()) for _ in range(160)]
    rng.shuffle(entries)
    for entry in entries[:15]:  # changed while waiting: it counts as amended once approved
        station.amend(entry, **anything())
    approved, rejected = entries[:130], entries[130:145]  # the rest still wait
    for start in range(0, len(approved), 50):
        station.approve(*approved[start : start + 50])
    rejecting = {"entry_ids": [entry["id"] for entry in rejected], "reason": "无人核实"}
    assert station.post(staff, f"{HOURS}/rejections", **rejecting)["refused"] == 0
    for entry in approved[10:40]:
        station.amend(entry, **anything())
    for entry in approved[30:45]:  # some of them amended first
        station.void(entry)
    for number in range(6):
        attendees = rng.sample([volunteer.id for volunteer in volunteers], rng.randrange(1, 8))
        held_on = f"2025-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        training = {"idempotency_key": key(), "name": f"培训{number}", "organiser": "社工站"}
        training.update(held_on=held_on, attendees=attendees, minutes=rng.choice([60, 90, 120]))
        station.post(staff, "/api/v1/trainings", **training)
    one, two = volunteers[2].id, volunteers[3].id
    award = {"name": "之星", "awarded_on": "2025-12-01", "awarded_by": "街道"}
    station.post(staff, f"{VOLUNTEERS}/{one}/awards", **award)
    station.post(staff, f"{VOLUNTEERS}/{two}/evaluations", rating="good", evaluated_on="2025-12-02")
    profile = {"skills": ["做饭"], "categories": ["meals"], "building": "west"}
    station.ok(staff, "PUT", f"{VOLUNTEERS}/{two}/profile", profile)
    period = {"period_from": "2025-01-01", "period_to": "2025-12-31"}
    station.post(staff, "/api/v1/certificates", volunteer_id=one, **period, recording_body="站")
    row = "清洁,2025-12-09,09:00,60,广场,捡垃圾,站,coord.one,cleaning,north"
    rows = [f"{volunteers[4].member['member_number']},{row}", f"99999999,{row}"]
    assert upload(station, "busy-year", attendance(rows)).json()["refused"] == 1
    station.post(staff, f"{VOLUNTEERS}/{volunteers[0].id}/status", **LEFT)
    station.post(staff, f"{VOLUNTEERS}/{volunteers[1].id}/status", status="paused", reason="病")


def test_monitoring_over_a_year_counts_every_entry_as_it_stands_now(station):
    a_busy_year(station)
    position, staff = station.settle(), station.coordinator
    expected = expected_monitoring(stored_events(station.bone), "2025-01", "2025-12")
    assert sum(figure["services"] for figure in expected["service"]) == 115  # approved, less voided
    report = station.get(staff, MONITORING, first="2025-01", last="2025-12", after=position)
    # One station: its part (the drill-down) is the whole.
    (part,) = report.pop("stations")
    assert report == expected
    assert {name: part[name] for name in ("service", "volunteers", "trainings", "registry")} == {
        name: expected[name] for name in ("service", "volunteers", "trainings", "registry")
    }
    quarter = station.get(staff, MONITORING, first="2025-04", last="2025-06", after=position)
    del quarter["stations"]
    assert quarter == expected_monitoring(stored_events(station.bone), "2025-04", "2025-06")

    export = station.client.get(
        f"{MONITORING}/export", params={"first": "2025-01", "last": "2025-12"}, headers=staff
    )
    rows = read_csv(export)
    assert ",".join(rows[0]) == "month,category,building,minutes,services"
    assert rows[1:] == [[str(value) for value in figure.values()] for figure in report["service"]]


def test_read_models_rebuilt_from_the_stream_equal_the_live_ones(broker, stores, tmp_path):
    """The rebuild re-points the projections' durable consumers, so the workers stop first."""
    with station_running(broker, stores, tmp_path) as station:
        a_busy_year(station)
        station.settle()

    assert rebuilt_dumps(stores.new("rebuilt"), broker.url) == live_dumps(station.bone)


# (c)-(g) One volunteer's service.


def test_late_and_long_days_are_flagged_for_a_second_look(station):
    zhou = station.volunteer("Zhou")

    def own(**change: Any) -> str:
        return station.post(zhou, HOURS, idempotency_key=key(), **service(**change))["id"]

    # NOW is Monday 15 June: Monday 1 June is 10 working days before it, Friday 29 May 11.
    in_time, late = own(on="2026-06-01"), own(on="2026-05-29")
    # Eight hours and eight more make a full day; half an hour on top is too long.
    night = own(on="2026-06-08", at="00:00", minutes=480)
    day = own(on="2026-06-08", at="08:00", minutes=480)
    evening = own(on="2026-06-08", at="16:00", minutes=30)
    listed = station.get(zhou, HOURS, after=station.settle())["entries"]
    flags = {row["entry_id"]: row["flags"] for row in listed}
    assert flags == {in_time: [], late: ["late"], night: [], day: [], evening: ["long-day"]}
    moved = station.amend({"id": evening}, on="2026-06-09", at="16:00", minutes=30)
    assert station.get(zhou, f"{HOURS}/{evening}", after=moved["position"])["flags"] == []


def test_correcting_an_entry_recorded_in_time_does_not_make_it_late(station):
    """Late is about the day the entry was first recorded, not the day it was corrected."""
    zhou = station.volunteer("Zhou", sign_in=False)
    entry = station.record(zhou, on="2026-06-01")  # 10 working days before NOW: in time
    station.approve(entry)
    station.bone.clock = lambda: NOW + timedelta(days=7)
    amended = station.amend(entry, on="2026-06-01", minutes=45)
    shown = station.get(station.coordinator, f"{HOURS}/{entry['id']}", after=amended["position"])
    assert shown["flags"] == []


def test_a_volunteers_report_totals_approved_service_by_month_and_category(station):
    zhou, wang = station.volunteer("Zhou"), station.volunteer("Wang", sign_in=False)
    first = station.record(zhou, on="2026-05-01", at="00:30", minutes=90)  # 30 April in UTC
    meals = station.record(zhou, on="2026-05-21", minutes=30, category="meals")
    june = station.record(zhou, on="2026-06-02", minutes=60)
    last = station.record(zhou, on="2026-06-14", at="23:00", minutes=45)
    waiting = station.record(zhou, on="2026-06-04", minutes=20)  # listed, not totalled
    rejected = station.record(zhou, on="2026-06-05", minutes=25)
    before = station.record(zhou, on="2026-04-30", at="23:30", minutes=120)  # out of the period
    after = station.record(zhou, on="2026-06-15", at="00:30", minutes=15)  # so is this
    station.approve(first, meals, june, last, before, after, station.record(wang))
    no = station.post(station.coordinator, f"{HOURS}/{rejected['id']}/rejection", reason="无")

    period = {"first": "2026-05-01", "last": "2026-06-14"}
    report = station.get(zhou, f"{VOLUNTEERS}/{zhou.id}/hours", after=no["position"], **period)
    assert report["totals"] == [
        {"month": "2026-05", "category": "companionship", "minutes": 90, "entries": 1},
        {"month": "2026-05", "category": "meals", "minutes": 30, "entries": 1},
        {"month": "2026-06", "category": "companionship", "minutes": 105, "entries": 2},
    ]
    assert report["minutes"] == 225
    listed = [first, meals, june, last, waiting, rejected]  # in the order they were recorded
    assert [row["entry_id"] for row in report["entries"]] == [entry["id"] for entry in listed]
    statuses = [row["status"] for row in report["entries"]]
    assert statuses == ["approved"] * 4 + ["submitted", "rejected"]

    path = f"{VOLUNTEERS}/{zhou.id}/hours/export"
    rows = read_csv(station.client.get(path, params=period, headers=station.coordinator))
    assert ",".join(rows[0]) == (
        "entry_id,status,started_at,activity,category,minutes,place,organiser,responsible,"
        "flags,recorded_by,channel"
    )
    assert [(row[0], row[1], row[5]) for row in rows[1:]] == [
        (row["entry_id"], row["status"], str(row["minutes"])) for row in report["entries"]
    ]


def test_an_entrys_audit_csv_has_one_row_per_changed_field(station):
    zhou = station.volunteer("Zhou")
    entry = station.post(zhou, HOURS, idempotency_key=key(), **service(minutes=60))
    station.approve(entry)
    station.amend(entry, minutes=90, category="meals")
    voided = station.void(entry)
    answer = station.client.get(
        f"{HOURS}/{entry['id']}/history.csv",
        params={"after": voided["position"]},
        headers=station.coordinator,
    )
    header, *rows = read_csv(answer)
    assert (
        ",".join(header) == "position,type,actor,channel,at,field,before,after,reason,requested_by"
    )
    submitted = [row for row in rows if row[1] == "HoursSubmitted"]
    assert {row[3] for row in submitted} == {f"kiosk:{station.kiosk.id}"}
    fields = {row[5]: row[6:8] for row in submitted}
    assert fields["minutes"] == ["", "60"] and fields["status"] == ["", "submitted"]
    assert len(fields) == len(submitted) == 11  # the ten fields of the service, and its status
    assert [row[1:2] + row[5:] for row in rows[len(submitted) :]] == [
        ["HoursApproved", "status", "submitted", "approved", "", ""],
        ["HoursAmended", "minutes", "60", "90", "记录有误", "本人"],
        ["HoursAmended", "category", "companionship", "meals", "记录有误", "本人"],
        ["HoursVoided", "status", "approved", "voided", "活动未举行", "社工"],
    ]
    assert all(row[2].startswith("staff:") for row in rows[len(submitted) :])


def test_a_volunteers_record_and_the_registry_search(station):
    staff = station.coordinator
    zhou = station.volunteer("Zhou", skills=["理发", "读报"], building="north")
    wang = station.volunteer("Wang", sign_in=False, skills=["电脑"], categories=["meals"])
    li = station.volunteer("Li", sign_in=False, skills=["理发"], categories=["cleaning"])
    award = {"name": "优秀志愿者", "awarded_on": "2026-05-01", "awarded_by": "街道办"}
    station.post(staff, f"{VOLUNTEERS}/{zhou.id}/awards", **award)
    rating = {"rating": "excellent", "stars": 5, "evaluated_on": "2026-06-01", "note": "认真"}
    station.post(staff, f"{VOLUNTEERS}/{zhou.id}/evaluations", **rating)
    training = {"name": "急救培训", "content": "心肺复苏", "minutes": 90, "organiser": "红十字会"}
    attendees = {"attendees": [zhou.id, wang.id], "held_on": "2026-06-10"}
    body = {"idempotency_key": key(), **training, **attendees}
    station.post(staff, "/api/v1/trainings", **body)
    station.post(staff, f"{VOLUNTEERS}/{li.id}/status", status="paused", reason="生病")
    profile = {"skills": ["电脑", "做饭"], "categories": ["meals"], "building": "south"}
    station.ok(staff, "PUT", f"{VOLUNTEERS}/{wang.id}/profile", profile)
    position = station.settle()

    record = station.get(zhou, f"{VOLUNTEERS}/{zhou.id}", after=position)
    shown = ("kind", "title", "detail", "on_date", "minutes")
    assert [tuple(row[field] for field in shown) for row in record["records"]] == [
        ("award", "优秀志愿者", "街道办", "2026-05-01", None),
        ("evaluation", "excellent (5★)", "认真", "2026-06-01", None),
        ("training", "急救培训", "红十字会: 心肺复苏", "2026-06-10", 90),
    ]
    assert record["status"] == "active" and record["skills"] == ["理发", "读报"]
    paused = station.get(staff, f"{VOLUNTEERS}/{li.id}")
    assert paused["status"] == "paused"
    assert [(r["kind"], r["title"], r["detail"]) for r in paused["records"]] == [
        ("status", "paused", "生病")
    ]
    assert station.get(staff, f"{VOLUNTEERS}/{wang.id}")["skills"] == ["电脑", "做饭"]

    def found(**query: str) -> list[str]:
        rows = station.get(staff, VOLUNTEERS, **query)["volunteers"]
        return [row["volunteer_id"] for row in rows]

    assert found(skill="理发") == [li.id, zhou.id]  # newest first
    assert found(skill="理") == [], "a whole skill, not part of one"
    assert found(category="companionship") == [zhou.id]
    assert found(category="meals") == [wang.id]
    assert found(building="south") == [wang.id]
    assert found(status="paused") == [li.id]
    assert found(skill="理发", status="active") == [zhou.id]
    assert found() == [li.id, wang.id, zhou.id]


def test_voiding_after_an_upward_amendment_undoes_every_credit(station):
    zhou = station.volunteer("Zhou")
    entry = station.record(zhou, minutes=60)
    assert station.balances(station.approve(entry)["position"], zhou) == (60,)
    period = {"period_from": "2026-06-01", "period_to": "2026-06-14"}
    certified = {"volunteer_id": zhou.id, **period, "recording_body": "幸福社区社工站"}
    issued = station.post(station.coordinator, "/api/v1/certificates", **certified)
    for minutes in (100, 80):  # a second credit of 40, then 20 of it corrected
        amended = station.amend(entry, minutes=minutes)
        assert station.balances(amended["position"], zhou) == (minutes,)
    voided = station.void(entry)
    assert station.balances(voided["position"], zhou) == (0,)

    # Anyone can check the certificate, typing its code in lower case: it still says what it
    # said, with its totals by category then and now, and how many changes were made since —
    # not what the entry says (a third person's name, a hospital visit).
    public = station.client.get(
        f"/api/v1/certificates/{issued['code'].lower()}", params={"after": voided["position"]}
    )
    assert public.status_code == 200, public.text
    verified = public.json()
    assert verified == {
        "code": issued["code"],
        "volunteer": "周*愿",  # the registered name, 周志愿, masked
        "period_from": "2026-06-01",
        "period_to": "2026-06-14",
        "minutes": 60,
        "minutes_now": 0,
        "by_category": [{"category": "companionship", "minutes": 60, "minutes_now": 0}],
        "recording_body": "幸福社区社工站",
        "issued_at": verified["issued_at"],
        "changes_since": 3,
        "still_accurate": False,
    }
    for private in ("上门探访", "陪伴聊天，读报", "3号楼", "记录有误", "活动未举行"):
        assert private not in public.text
    # Staff see each entry it covered and every correction since, in full.
    full = f"/api/v1/certificates/{issued['code']}/entries"
    refused(station.client.get(full), 401, "unauthenticated")
    refused(station.client.get(full, headers=zhou.headers), 403, "forbidden")
    verified = station.get(station.coordinator, full, after=voided["position"])
    assert (verified["minutes"], verified["still_accurate"]) == (60, False)
    assert verified["entries"] == [
        {"entry_id": entry["id"], "minutes": 60, "minutes_now": None, "status_now": "voided"}
    ]
    corrections = [step["type"] for step in verified["corrections"]]
    assert corrections == ["HoursAmended", "HoursAmended", "HoursVoided"]
    assert verified["corrections"][-1]["reason"] == "活动未举行"
    listed = station.get(zhou, f"{VOLUNTEERS}/{zhou.id}/certificates", after=voided["position"])
    assert [(row["code"], row["minutes"]) for row in listed] == [(issued["code"], 60)]


def test_service_written_in_utc_counts_on_the_stations_day(station):
    zhou, staff = station.volunteer("Zhou", sign_in=False), station.coordinator
    entry = station.record(zhou, started_at="2026-05-31T17:00:00Z")  # 1 June, 01:00 +08:00
    position = station.approve(entry)["position"]
    shown = station.get(staff, f"{HOURS}/{entry['id']}", after=position)
    # Monday 1 June is 10 working days before NOW: not late (as the same time in +08:00 is not).
    assert (shown["month"], shown["flags"]) == ("2026-06", [])
    report = station.get(staff, MONITORING, first="2026-05", last="2026-06", after=position)
    assert [figure["month"] for figure in report["service"]] == ["2026-06"]
    period = {"period_from": "2026-06-01", "period_to": "2026-06-14", "recording_body": "站"}
    issued = station.send(
        staff, "POST", "/api/v1/certificates", {"volunteer_id": zhou.id, **period}
    )
    assert issued.status_code == 201, issued.text
