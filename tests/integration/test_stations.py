"""Stations through the bus: every deployment starts with its first station, a district
administrator opens more, and people, staff and kiosks belong where the one who registers them
works — never further. The read model says where everyone belongs."""

from __future__ import annotations

import os
import subprocess
from typing import Any
from uuid import UUID

import pytest

from domain.identity import Role, staff_id_for
from domain.provenance import Provenance
from domain.rules import RuleViolated
from domain.station import DEFAULT_STATION, Level, Scope
from services.bus import Acting, Caller, Command, NotYours
from services.composition.config import Settings
from services.composition.runtime import HANDLERS, Backbone
from services.identity.commands import (
    ChangeStaffReach,
    CreateStaffAccount,
    MoveMemberHome,
    Reach,
    RegisterKiosk,
    RegisterMember,
)
from services.identity.records import open_personal_data
from services.stations.commands import CloseStation, OpenStation, Placing, RenameStation
from services.store.eventstore import Timebank
from services.web.auth import Principal
from services.web.reach import reach_of
from tests.integration.support import (
    ADMIN_PASSWORD,
    NOTICE,
    TIMEBANK,
    caught_up,
    make_backbone,
    run_workers,
    wait_until,
)

WEST = Placing(district="西湖区", street="北山街道")


@pytest.fixture
def bone(broker, stores, tmp_path) -> Backbone:
    return make_backbone(
        tmp_path,
        stores.new("events"),
        stores.new("reads"),
        broker.url,
        station_name="湖畔社区",
        district="西湖区",
        street="西溪街道",
    )


def given(bone: Backbone, command: Command, caller: Caller) -> Any:
    """``command`` through its handler in the runtime's table, as the bus runs it."""
    acting = Acting(bone.timebank, caller, bone.clock(), bone.settings, bone.vault)
    return HANDLERS[type(command)](command, acting)


def system() -> Caller:
    return Caller(Provenance(actor="system", channel="cli", correlation_id="stations"))


def staff(bone: Backbone, username: str, role: Role, reach: Reach | None, by: Caller) -> Caller:
    """A staff account created by ``by``; the caller it acts as."""
    command = CreateStaffAccount(username=username, role=role, password=ADMIN_PASSWORD, reach=reach)
    created = given(bone, command, by)
    return Caller(Provenance(actor=f"staff:{created.id}", channel="api", correlation_id=username))


def resident(bone: Backbone, by: Caller, station: UUID | None = None) -> UUID:
    command = RegisterMember(
        display_name="李明",
        building="3号楼",
        household="3-201",
        phone="13800000000",
        notice_version=NOTICE,
        station=station,
    )
    return given(bone, command, by).id


def district_with_two_stations(bone: Backbone) -> tuple[Caller, UUID]:
    """A district administrator (made from the command line) who opens a second station."""
    district = Reach(level=Level.DISTRICT, district="西湖区")
    admin = staff(bone, "district.admin", Role.ADMIN, district, system())
    second = given(bone, OpenStation(code="xh-02", name="北山社区", placing=WEST), admin)
    return admin, second.id


def test_a_deployment_starts_with_its_first_station_and_everyone_belongs_there(bone):
    coordinator = staff(bone, "coord", Role.COORDINATOR, None, system())
    member = resident(bone, coordinator)
    kiosk = given(bone, RegisterKiosk(name="Lobby"), coordinator)
    with run_workers(bone):
        wait_until(lambda: caught_up(bone))
    with bone.reads.transaction(commit=False) as db:
        (first,) = db.all("SELECT * FROM stations")
        homes = db.all("SELECT * FROM member_homes")
        reach = db.all("SELECT * FROM staff_reach")
        kiosks = db.all("SELECT * FROM kiosk_stations")
    assert (first["station_id"], first["code"], first["name"], first["is_open"]) == (
        str(DEFAULT_STATION),
        "main",
        "湖畔社区",
        1,
    )
    assert [(row["member_id"], row["station_id"]) for row in homes] == [
        (str(member), str(DEFAULT_STATION))
    ]
    assert [(row["level"], row["station_id"]) for row in reach] == [
        ("station", str(DEFAULT_STATION))
    ]
    assert [(row["kiosk_id"], row["station_id"]) for row in kiosks] == [
        (str(kiosk.id), str(DEFAULT_STATION))
    ]


def test_people_staff_and_kiosks_belong_where_their_registrar_works(bone):
    admin, second = district_with_two_stations(bone)
    with pytest.raises(RuleViolated, check=lambda error: error.code == "station-required"):
        resident(bone, admin)
    at_second = Reach(level=Level.STATION, station=second)
    coordinator = staff(bone, "coord.xh02", Role.COORDINATOR, at_second, admin)
    member = resident(bone, coordinator)
    assert bone.timebank.repository.get(member).station == second
    with pytest.raises(NotYours):
        resident(bone, coordinator, station=DEFAULT_STATION)
    with pytest.raises(NotYours):
        staff(
            bone,
            "wider",
            Role.COORDINATOR,
            Reach(level=Level.DISTRICT, district="西湖区"),
            coordinator,
        )
    kiosk = given(bone, RegisterKiosk(name="北山 lobby", station=second), admin)
    assert bone.timebank.repository.get(kiosk.id).station == second


def test_an_administrator_reaches_only_stations_within_their_own_reach(bone):
    admin, second = district_with_two_stations(bone)
    local_admin = staff(bone, "local.admin", Role.ADMIN, None, system())  # the first station
    refused = OpenStation(code="xh-09", name="远方社区", placing=WEST)
    with pytest.raises(NotYours):
        given(bone, refused, local_admin)
    with pytest.raises(NotYours):
        given(bone, CloseStation(station_id=second, reason="x"), local_admin)
    elsewhere = Placing(district="上城区", street="湖滨街道")
    moved_away = RenameStation(station_id=second, name="北山", placing=elsewhere, reason="redrawn")
    with pytest.raises(NotYours):
        given(bone, moved_away, admin)
    with pytest.raises(RuleViolated, check=lambda error: error.code == "station-code-taken"):
        given(bone, OpenStation(code="XH-02", name="重复", placing=WEST), admin)
    given(bone, CloseStation(station_id=second, reason="merged"), admin)
    with pytest.raises(RuleViolated, check=lambda error: error.code == "station-closed"):
        resident(bone, admin, station=second)


def test_a_member_moves_home_and_a_staff_account_changes_reach(bone):
    admin, second = district_with_two_stations(bone)
    member = resident(bone, admin, station=DEFAULT_STATION)
    given(bone, MoveMemberHome(member_id=member, station=second, reason="moved house"), admin)
    at_first = Reach(level=Level.STATION, station=DEFAULT_STATION)
    local = staff(bone, "coord.main", Role.COORDINATOR, at_first, admin)
    with pytest.raises(NotYours):  # the member is no longer theirs to move
        given(bone, MoveMemberHome(member_id=member, station=DEFAULT_STATION, reason="back"), local)
    street = Reach(level=Level.STREET, district="西湖区", street="北山街道")
    local_id = UUID(local.by.actor.removeprefix("staff:"))
    given(
        bone, ChangeStaffReach(staff_id=local_id, reach=street, reason="covers the street"), admin
    )
    with run_workers(bone):
        wait_until(lambda: caught_up(bone))
    with bone.reads.transaction(commit=False) as db:
        home = db.one(
            "SELECT station_id FROM member_homes WHERE member_id = %(id)s", {"id": str(member)}
        )
        reach = db.one("SELECT * FROM staff_reach WHERE staff_id = %(id)s", {"id": str(local_id)})
    assert home == {"station_id": str(second)}
    assert (reach["level"], reach["district"], reach["street"]) == ("street", "西湖区", "北山街道")


def test_the_command_line_creates_a_district_administrator_and_refuses_a_garbled_reach(tmp_path):
    env = {**os.environ, "TIMEBANK_STAFF_PASSWORD": ADMIN_PASSWORD, "TIMEBANK_DISTRICT": "西湖区"}
    create = [TIMEBANK, "admin", "create-staff", "--data", str(tmp_path), "--username"]
    done = subprocess.run(
        [*create, "district.admin", "--reach", "district:西湖区"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "created" in done.stdout
    garbled = subprocess.run(
        [*create, "street.admin", "--reach", "street:西湖区"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
    )
    assert garbled.returncode == 2 and "--reach" in garbled.stderr
    app = Timebank(Settings(data_dir=tmp_path).event_store_url)
    try:
        admin = app.repository.get(staff_id_for("district.admin"))
        assert admin.scope == Scope.of_district("西湖区")
        assert staff_id_for("street.admin") not in app.repository
        assert app.repository.get(DEFAULT_STATION).place.district == "西湖区"
    finally:
        app.close()


def test_each_caller_reads_the_stations_within_their_reach(bone):
    admin, second = district_with_two_stations(bone)
    elsewhere = given(
        bone,
        OpenStation(
            code="sc-01", name="湖滨社区", placing=Placing(district="上城区", street="湖滨街道")
        ),
        system(),
    )
    street = Reach(level=Level.STREET, district="西湖区", street="北山街道")
    street_reader = staff(bone, "street.reader", Role.COORDINATOR, street, admin)
    at_second = Reach(level=Level.STATION, station=second)
    coordinator = staff(bone, "coord.xh02", Role.COORDINATOR, at_second, admin)
    member = resident(bone, coordinator)
    with run_workers(bone):
        wait_until(lambda: caught_up(bone))

    def reach(caller: Caller) -> tuple[Level, set[UUID]]:
        principal = Principal(subject=caller.by.actor, roles=frozenset(), channel="api")
        found = reach_of(principal, bone.read_side)
        return found.level, {UUID(station) for station in found.stations}

    assert reach(admin) == (Level.DISTRICT, {DEFAULT_STATION, second})
    assert reach(street_reader) == (Level.STREET, {second})
    assert reach(coordinator) == (Level.STATION, {second})
    assert reach(Caller(Provenance(f"member:{member}", "kiosk", "m"))) == (
        Level.STATION,
        {second},
    )
    assert reach(system()) == (Level.STATION, set())
    assert elsewhere.id not in reach(admin)[1]


def test_only_the_residents_own_station_opens_their_personal_details(bone):
    admin, second = district_with_two_stations(bone)
    at_first = staff(bone, "coord.main", Role.COORDINATOR, None, system())
    at_second = Reach(level=Level.STATION, station=second)
    coordinator = staff(bone, "coord.xh02", Role.COORDINATOR, at_second, admin)
    member = resident(bone, coordinator)

    def opened(caller: Caller) -> bool:
        found, details, _ = open_personal_data(
            bone.timebank, bone.vault, member_id=member, purpose="care", by=caller.by
        )
        return found.id == member and details is not None

    assert opened(coordinator)
    for refused in (at_first, admin):
        before = bone.timebank.last_position()
        with pytest.raises(NotYours):
            opened(refused)
        assert bone.timebank.last_position() == before  # no access recorded either
