"""Stations and how far a staff account reaches: codes, places, closing, scopes, a member's
home station and a staff account's reach."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.identity import Member, Role, Staff
from domain.provenance import Provenance
from domain.rules import RuleViolated
from domain.station import (
    DEFAULT_SCOPE,
    DEFAULT_STATION,
    DEFAULT_STATION_CODE,
    Level,
    Place,
    Scope,
    Station,
    station_id_for,
)

BY = Provenance(actor="staff:test", channel="console", correlation_id="stations")
WEST = Place(district="西湖区", street="北山街道")
EAST = Place(district="上城区", street="湖滨街道")


def refused(code: str):
    return pytest.raises(RuleViolated, check=lambda error: error.code == code)


def test_a_station_is_known_by_its_code_whatever_its_case():
    station = Station("XH-01", "湖畔社区", WEST, BY)
    assert station.id == station_id_for("xh-01") != DEFAULT_STATION
    assert (station.code, station.name, station.place, station.is_open) == (
        "XH-01",
        "湖畔社区",
        WEST,
        True,
    )


@pytest.mark.parametrize("code", ["", " ", "a b", "xh_01", "x" * 33, "湖畔"])
def test_a_station_code_is_letters_digits_and_hyphens(code):
    with refused("station-code"):
        Station(code, "湖畔社区", WEST, BY)


@pytest.mark.parametrize(
    ("name", "place"), [(" ", WEST), ("湖畔", Place("", "街道")), ("湖畔", Place("区", " "))]
)
def test_a_station_has_a_name_a_street_and_a_district(name, place):
    with refused("station-place"):
        Station("xh-01", name, place, BY)


def test_a_renamed_station_keeps_its_code_and_says_why():
    station = Station("xh-01", "湖畔社区", WEST, BY)
    with refused("reason-required"):
        station.rename("湖畔社区工作站", EAST, " ", BY)
    station.rename("湖畔社区工作站", EAST, "districts redrawn", BY)
    assert (station.code, station.name, station.place) == ("xh-01", "湖畔社区工作站", EAST)


def test_a_closed_station_takes_nothing_new_and_the_first_never_closes():
    station = Station("xh-01", "湖畔社区", WEST, BY)
    station.close("merged", BY)
    with refused("station-closed"):
        station.check_open()
    with refused("station-closed"):
        station.rename("x", WEST, "why", BY)
    first = Station(DEFAULT_STATION_CODE, "本站", WEST, BY)
    with refused("default-station"):
        first.close("no", BY)


def test_a_scope_covers_its_station_its_street_or_its_district():
    here, there = station_id_for("a"), station_id_for("b")
    assert Scope.of_station(here).covers(here, WEST)
    assert not Scope.of_station(here).covers(there, WEST)
    assert Scope.of_street(WEST.district, WEST.street).covers(there, WEST)
    assert not Scope.of_street(WEST.district, "西溪街道").covers(there, WEST)
    assert Scope.of_district(WEST.district).covers(there, WEST)
    assert not Scope.of_district(EAST.district).covers(there, WEST)


names = st.sampled_from(["西湖区", "上城区", "北山街道", "湖滨街道"])
scopes = st.one_of(st.builds(Scope.of_street, names, names), st.builds(Scope.of_district, names))


@given(outer=scopes, inner=scopes, station=st.builds(Place, names, names))
def test_a_scope_within_another_covers_no_station_the_other_does_not(outer, inner, station):
    if outer.includes(inner) and inner.covers(DEFAULT_STATION, station):
        assert outer.covers(DEFAULT_STATION, station)


@pytest.mark.parametrize(
    "scope",
    [Scope(Level.STATION), Scope(Level.STREET, district="区"), Scope(Level.DISTRICT, street="x")],
)
def test_a_scope_names_what_it_covers(scope):
    with refused("scope-incomplete"):
        scope.check_well_formed()


def test_a_staff_account_works_at_the_first_station_unless_told_and_its_reach_changes():
    staff = Staff("coord", Role.COORDINATOR, "hash", BY)
    assert staff.scope == DEFAULT_SCOPE
    wider = Scope.of_street(WEST.district, WEST.street)
    with refused("scope-unchanged"):
        staff.change_scope(DEFAULT_SCOPE, "same", BY)
    with refused("reason-required"):
        staff.change_scope(wider, "", BY)
    staff.change_scope(wider, "covers the street now", BY)
    assert staff.scope == wider
    with refused("scope-incomplete"):
        Staff("other", Role.COORDINATOR, "hash", BY, scope=Scope(Level.DISTRICT))


def test_a_member_moves_home_with_a_reason_while_active():
    member = Member("123456", "sealed", "hash", BY)
    assert member.station == DEFAULT_STATION
    elsewhere = station_id_for("xh-01")
    with refused("same-station"):
        member.move_home(DEFAULT_STATION, "why", BY)
    member.move_home(elsewhere, "moved house", BY)
    assert member.station == elsewhere
    member.deactivate("left", BY)
    with refused("member-inactive"):
        member.move_home(DEFAULT_STATION, "back", BY)
