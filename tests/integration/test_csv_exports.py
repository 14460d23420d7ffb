"""Every CSV the service writes (the API's exports and the console's downloads) shows text a
person typed as text: a planted formula comes out with a leading quote (OWASP's CSV injection
guidance), numbers stay numbers, and the media type says its charset once."""

from __future__ import annotations

import csv
import io

import pytest

from domain.identity import Role
from services.pages.session import session_cookie
from services.web.auth import Principal
from services.web.downloads import FORMULA_STARTS
from tests.integration.support import create_staff, make_backbone, serving
from tests.integration.test_hours import HOURS, MONITORING, NOW, VOLUNTEERS, Station, service

PLANTED = {
    "activity": '=HYPERLINK("http://evil.example","看这里")',
    "place": "+1+cmd|' /C calc'!A0",
    "organiser": "-2+3",
    "responsible": "@SUM(1+1)*cmd|' /C calc'!A0",
    "building": "\t=1+1",
}
REQUESTED_BY = "\r=1+1"
CSV = "text/csv; charset=utf-8"


def _cells(answer) -> list[str]:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == CSV
    assert answer.text.startswith("\ufeff")
    return [cell for row in csv.reader(io.StringIO(answer.text[1:])) for cell in row]


def _is_number(cell: str) -> bool:
    try:
        int(cell)
    except ValueError:
        return False
    return True


@pytest.fixture
def planted(broker, stores, tmp_path):
    """A station (pages too) with an approved, amended entry whose text is all formulas."""
    bone = make_backbone(
        tmp_path, stores.new("events"), stores.new("reads"), broker.url, pages=True
    )
    bone.clock = lambda: NOW
    with serving(bone) as served:
        station = Station(served)
        zhou = station.volunteer("Zhou", sign_in=False)
        entry = station.record(zhou, **PLANTED)
        station.approve(entry)
        path = f"{HOURS}/{entry['id']}/amendments"
        station.post(
            station.coordinator,
            path,
            **service(**{**PLANTED, "minutes": 90}),
            reason="=1+1",
            requested_by=REQUESTED_BY,
        )
        station.settle()
        yield station, zhou, entry


def sign_in_console(station: Station) -> None:
    """The test client signs in to the console as a coordinator (a session cookie)."""
    staff = create_staff(station.bone.timebank, "csv.reader", Role.COORDINATOR)
    principal = Principal(
        subject=f"staff:{staff.id}", roles=frozenset({Role.COORDINATOR}), channel="console"
    )
    cookie = session_cookie(station.client.app.state.page_auth, principal)
    station.client.cookies.set(cookie.key, cookie.value or "")


def test_every_csv_route_writes_planted_formulas_as_text(planted):
    station, zhou, entry = planted
    month = {"first": "2026-06", "last": "2026-06"}
    days = {"first": "2026-06-01", "last": "2026-06-15"}
    api = {
        f"{HOURS}/{{entry_id:uuid}}/history.csv": (f"{HOURS}/{entry['id']}/history.csv", {}),
        f"{VOLUNTEERS}/{{volunteer_id:uuid}}/hours/export": (
            f"{VOLUNTEERS}/{zhou.id}/hours/export",
            days,
        ),
        f"{MONITORING}/export": (f"{MONITORING}/export", month),
    }
    pages = {
        "/console/hours/{entry_id:uuid}/history.csv": (
            f"/console/hours/{entry['id']}/history.csv",
            {},
        ),
        "/console/volunteers/{volunteer_id:uuid}/hours.csv": (
            f"/console/volunteers/{zhou.id}/hours.csv",
            days,
        ),
        "/console/report/export": ("/console/report/export", month),
    }
    routes = {route.path for route in station.client.app.routes}
    assert {path for path in routes if "csv" in path or "export" in path} == {*api, *pages}

    get = station.client.get
    answers = [get(path, params=query, headers=station.coordinator) for path, query in api.values()]
    sign_in_console(station)
    answers += [get(path, params=query) for path, query in pages.values()]
    for answer in answers:
        cells = _cells(answer)
        formulas = [
            cell for cell in cells if cell.startswith(FORMULA_STARTS) and not _is_number(cell)
        ]
        assert formulas == [], answer.url
        shown = {cell[1:] for cell in cells if cell.startswith("'")}
        assert shown & set(PLANTED.values()), answer.url  # a planted text, kept as text
    history = _cells(answers[0])
    for planted_text in [*PLANTED.values(), REQUESTED_BY, "=1+1"]:
        assert "'" + planted_text in history
    assert "90" in history  # minutes the service writes stay numbers
