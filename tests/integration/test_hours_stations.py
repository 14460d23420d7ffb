"""Volunteers, service hours, trainings, certificates and the monitoring report by station
(issue 17): a coordinator reaches only their own station's volunteers, entries and queue; a
district's staff read the report's figures, not people; the report of a street or district is
the sum of its stations'."""

from __future__ import annotations

from typing import Any

import pytest

from domain.identity import Role
from domain.station import DEFAULT_STATION, Level
from services.identity.commands import Reach
from tests.integration.support import ADMIN_PASSWORD, create_staff, register, sign_in_staff
from tests.integration.test_hours import (
    HOURS,
    MONITORING,
    VOLUNTEERS,
    Station,
    expected_monitoring,
    key,
    service,
    station_running,
    stored_events,
    volunteer_body,
)

FIGURES = ("service", "volunteers", "trainings", "registry")
YEAR = {"first": "2026-01", "last": "2026-12"}


class District:
    """The first station (its coordinator the fixture's), and two more opened by a district
    administrator, in two streets, each with a coordinator of its own."""

    def __init__(self, town: Station) -> None:
        self.town, bone = town, town.bone
        self.name = bone.settings.district
        where = Reach(level=Level.DISTRICT, district=self.name)
        create_staff(bone.timebank, "district.admin", Role.ADMIN, ADMIN_PASSWORD, reach=where)
        self.admin = sign_in_staff(town.client, "district.admin", ADMIN_PASSWORD)
        self.east = self.open("east-01", "东街")
        self.west = self.open("west-01", "西街")
        self.coordinators = {
            str(DEFAULT_STATION): town.coordinator,
            self.east: self.coordinator(self.east, "coord.east"),
            self.west: self.coordinator(self.west, "coord.west"),
        }

    def open(self, code: str, street: str) -> str:
        placing = {"district": self.name, "street": street}
        return self.town.post(
            self.admin, "/api/v1/stations", code=code, name=code, placing=placing
        )["id"]

    def coordinator(self, station: str, username: str) -> dict[str, str]:
        reach = {"level": "station", "station": station}
        account = {"username": username, "role": "coordinator", "password": ADMIN_PASSWORD}
        self.town.post(self.admin, "/api/v1/staff", **account, reach=reach)
        return sign_in_staff(self.town.client, username, ADMIN_PASSWORD)

    def volunteer(self, station: str) -> str:
        """A resident of ``station`` registered as a volunteer there; their volunteer id."""
        staff = self.coordinators[station]
        member = register(self.town.client, staff, display_name="站点志愿者")
        return self.town.post(staff, VOLUNTEERS, **volunteer_body(member["id"]))["id"]

    def record(self, station: str, volunteer: str, **change: Any) -> str:
        body = {"idempotency_key": key(), "volunteer_id": volunteer, **service(**change)}
        return self.town.post(self.coordinators[station], HOURS, **body)["id"]


@pytest.fixture
def district(broker, sqlite_stores, tmp_path):
    with station_running(broker, sqlite_stores, tmp_path) as town:
        yield District(town)


def test_a_coordinator_reaches_only_their_own_stations_volunteers_and_entries(district):
    town, east = district.town, district.east
    ours, theirs = district.coordinators[str(DEFAULT_STATION)], district.coordinators[east]
    volunteer = district.volunteer(east)
    entry = district.record(east, volunteer)
    other = district.record(east, volunteer, on="2026-06-11")
    training = {"idempotency_key": key(), "name": "急救培训", "organiser": "东街站"}
    training.update(held_on="2026-06-01", attendees=[volunteer], minutes=90)
    town.post(theirs, "/api/v1/trainings", **training)
    period = {"period_from": "2026-01-01", "period_to": "2026-12-31", "recording_body": "站"}
    after = town.settle()

    # East's coordinator sees their queue, entry, volunteer; the first station's sees none.
    queue = town.get(theirs, HOURS, status="submitted", after=after)["entries"]
    assert {row["entry_id"] for row in queue} == {entry, other}
    assert town.get(ours, HOURS, status="submitted", after=after)["entries"] == []
    assert town.get(ours, HOURS, after=after)["entries"] == []
    assert town.get(ours, VOLUNTEERS, after=after)["volunteers"] == []
    registry = town.get(theirs, VOLUNTEERS, after=after)["volunteers"]
    assert [(row["volunteer_id"], row["station_id"]) for row in registry] == [(volunteer, east)]
    days = {"first": "2026-01-01", "last": "2026-12-31"}
    for path, params in (
        (f"{HOURS}/{entry}", {}),
        (f"{HOURS}/{entry}/history", {}),
        (f"{HOURS}/{entry}/history.csv", {}),
        (f"{VOLUNTEERS}/{volunteer}", {}),
        (f"{VOLUNTEERS}/{volunteer}/certificates", {}),
        (f"{VOLUNTEERS}/{volunteer}/hours", days),
        (f"{VOLUNTEERS}/{volunteer}/hours/export", days),
    ):
        town.refuses(ours, "GET", path, None, 403, "forbidden", **params)
        assert town.send(theirs, "GET", path, **params).status_code == 200, path
        # The district reads figures, not people: refused too, whatever the station.
        town.refuses(district.admin, "GET", path, None, 403, "forbidden", **params)
    queue_path = f"{HOURS}?status=submitted"
    town.refuses(district.admin, "GET", queue_path, None, 403, "forbidden")

    # Acting on them is refused on the command side: nothing is recorded.
    decided = {"reason": "不是本站的"}
    town.refuses(ours, "POST", f"{HOURS}/{entry}/approval", {}, 403, "forbidden")
    town.refuses(ours, "POST", f"{HOURS}/{entry}/rejection", decided, 403, "forbidden")
    amended = {**service(minutes=30), "reason": "记录有误", "requested_by": "本人"}
    town.refuses(ours, "POST", f"{HOURS}/{entry}/amendments", amended, 403, "forbidden")
    status = {"status": "paused", "reason": "外地"}
    town.refuses(ours, "POST", f"{VOLUNTEERS}/{volunteer}/status", status, 403, "forbidden")
    certificate = {"volunteer_id": volunteer, **period}
    town.refuses(ours, "POST", "/api/v1/certificates", certificate, 403, "forbidden")
    several = town.post(ours, f"{HOURS}/approvals", entry_ids=[entry, other])
    assert (several["recorded"], {result["code"] for result in several["results"]}) == (
        0,
        {"forbidden"},
    )

    # East's coordinator decides; the entry is east's, and counts in east's report only.
    town.post(theirs, f"{HOURS}/{entry}/approval")
    town.post(theirs, f"{HOURS}/{other}/rejection", **decided)
    town.post(theirs, "/api/v1/certificates", **certificate)
    after = town.settle()
    assert town.get(theirs, f"{HOURS}/{entry}", after=after)["status"] == "approved"
    mine = town.get(ours, MONITORING, **YEAR, after=after)
    assert [part["station_id"] for part in mine["stations"]] == [str(DEFAULT_STATION)]
    assert mine["service"] == [] and mine["trainings"] == []
    town.refuses(ours, "GET", MONITORING, None, 403, "forbidden", **YEAR, station=east)
    theirs_report = town.get(theirs, MONITORING, **YEAR, after=after)
    assert [figure["minutes"] for figure in theirs_report["service"]] == [60]
    assert [figure["trainings"] for figure in theirs_report["trainings"]] == [1]


def test_a_volunteers_own_service_counts_at_their_home_station(district):
    """Recorded by the volunteer at a kiosk: at their home; by a coordinator: at theirs."""
    town, west = district.town, district.west
    volunteer = district.volunteer(west)
    at_west = district.record(west, volunteer)
    helped_here = district.record(str(DEFAULT_STATION), volunteer, on="2026-06-12")
    after = town.settle()
    with town.bone.read_side.store.transaction(commit=False) as db:
        rows = db.all("SELECT entry_id, station_id FROM hour_entries")
    assert {row["entry_id"]: row["station_id"] for row in rows} == {
        at_west: west,
        helped_here: str(DEFAULT_STATION),
    }
    # The first station's coordinator sees the entry given there, not the volunteer's others.
    ours = district.coordinators[str(DEFAULT_STATION)]
    listed = town.get(ours, HOURS, after=after)["entries"]
    assert [row["entry_id"] for row in listed] == [helped_here]


def test_the_parts_of_a_street_or_district_report_add_up_to_the_whole(district):
    """Volunteers, service and trainings at three stations in three streets: the district's
    figures are those of every event recorded, each station's part is what the station's own
    report says, and the parts add up to the whole for every indicator."""
    town = district.town
    stations = list(district.coordinators)
    for number, station in enumerate(stations):
        volunteers = [district.volunteer(station) for _ in range(number + 2)]
        entries = [
            district.record(
                station,
                volunteers[index % len(volunteers)],
                on=f"2026-0{1 + index % 5}-1{index % 9}",
                minutes=30 * (1 + index % 4),
                category=("companionship", "errands")[index % 2],
            )
            for index in range(3 + 2 * number)
        ]
        staff = district.coordinators[station]
        town.post(staff, f"{HOURS}/approvals", entry_ids=entries[: len(entries) - 1])
        training = {"idempotency_key": key(), "name": "培训", "organiser": station[:8]}
        training.update(held_on=f"2026-0{2 + number}-03", attendees=volunteers, minutes=60)
        town.post(staff, "/api/v1/trainings", **training)
        town.post(staff, f"{VOLUNTEERS}/{volunteers[0]}/status", status="paused", reason="病")
    after = town.settle()

    whole = town.get(district.admin, MONITORING, **YEAR, after=after)
    expected = expected_monitoring(stored_events(town.bone), YEAR["first"], YEAR["last"])
    assert {name: whole[name] for name in FIGURES} == {name: expected[name] for name in FIGURES}
    assert sorted(part["station_id"] for part in whole["stations"]) == sorted(stations)
    assert whole == town.get(district.admin, MONITORING, **YEAR, district=district.name)
    assert_adds_up(whole)
    for part in whole["stations"]:
        alone = town.get(district.coordinators[part["station_id"]], MONITORING, **YEAR)
        assert alone["stations"] == [part]
        assert {name: alone[name] for name in FIGURES} == {name: part[name] for name in FIGURES}
        asked = town.get(district.admin, MONITORING, **YEAR, station=part["station_id"])
        assert asked == alone
    street = town.get(district.admin, MONITORING, **YEAR, street="东街")
    assert [part["station_id"] for part in street["stations"]] == [district.east]
    assert_adds_up(street)
    town.refuses(district.admin, "GET", MONITORING, None, 403, "forbidden", **YEAR, street="无")


def assert_adds_up(report: dict) -> None:
    """Every figure of the whole is the sum of the stations' figures with the same key."""
    keys = {
        "service": ("month", "category", "building"),
        "volunteers": ("month",),
        "trainings": ("month",),
    }
    for indicator, key_names in keys.items():
        summed: dict[tuple, dict[str, int]] = {}
        for part in report["stations"]:
            for figure in part[indicator]:
                found = summed.setdefault(tuple(figure[name] for name in key_names), {})
                for name, value in figure.items():
                    if name not in key_names:
                        found[name] = found.get(name, 0) + value
        whole = {
            tuple(figure[name] for name in key_names): {
                name: value for name, value in figure.items() if name not in key_names
            }
            for figure in report[indicator]
        }
        assert whole == summed, indicator
    for count in ("active", "paused", "left"):
        parts = sum(part["registry"][count] for part in report["stations"])
        assert report["registry"][count] == parts, count
