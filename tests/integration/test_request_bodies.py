"""How every JSON route reads its body: only as JSON, each field as its JSON type, and text
without control characters (in forms and imported lists too). Each refusal is problem+json
with a stable code and records nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from domain.identity import staff_id_for
from tests.integration.support import COORDINATOR_PASSWORD
from tests.integration.test_csv_exports import sign_in_console
from tests.integration.test_exchanges import EXCHANGES, pair
from tests.integration.test_hours import (
    HOURS,
    Station,
    attendance,
    key,
    service,
    station_running,
    upload,
)

MOTIONS = "/api/v1/motions"
JSON = "application/json"
CSRF_COOKIE, CSRF_HEADER = "csrftoken", "x-csrftoken"  # Litestar's CSRFConfig defaults


@pytest.fixture
def station(broker, stores, tmp_path):
    with station_running(broker, stores, tmp_path, pages=True) as running:
        yield running


def _send(station: Station, who: Any, path: str, content: bytes, media_type: str | None = JSON):
    headers = dict(getattr(who, "headers", who))
    if media_type is not None:
        headers["content-type"] = media_type
    return station.client.post(path, content=content, headers=headers)


def _refused(
    station: Station,
    who: Any,
    path: str,
    content: bytes,
    status: int,
    code: str,
    media_type: str | None = JSON,
) -> str:
    """Assert the body is refused with ``status`` and ``code`` and records nothing; the
    problem's detail."""
    before = station.bone.timebank.last_position()
    answer = _send(station, who, path, content, media_type)
    assert station.bone.timebank.last_position() == before, answer.text
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["code"] == code and problem["detail"], problem
    return problem["detail"]


def _bodies(station: Station) -> list[tuple[Any, str, dict]]:
    """A body for a route of each kind of caller: anonymous, staff, a resident at a kiosk."""
    zhou = station.volunteer("Zhou", sign_in=False)
    return [
        ({}, "/api/v1/auth/staff", {"username": "coord.one", "password": COORDINATOR_PASSWORD}),
        (
            station.coordinator,
            HOURS,
            {"idempotency_key": key(), "volunteer_id": zhou.id, **service()},
        ),
        (
            station.wang,
            MOTIONS,
            {"idempotency_key": key(), "title": "修路灯", "text": "北门路灯坏了"},
        ),
        (
            station.wang,
            EXCHANGES,
            {"idempotency_key": key(), "pairs": [pair(station.wang, station.li, 30)]},
        ),
    ]


@pytest.mark.parametrize("media_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_json_body_under_another_media_type_is_refused(station, media_type):
    for who, path, body in _bodies(station):
        content = json.dumps(body).encode()
        detail = _refused(station, who, path, content, 415, "unsupported-media-type", media_type)
        assert "application/json" in detail
        assert _send(station, who, path, content).status_code in (200, 201)


@pytest.mark.parametrize("written", ["60.0", "6.0e1", "6e1", '"60"'])
def test_a_whole_number_must_be_written_as_a_json_integer(station, written):
    _, (staff, hours, entry), _, (wang, exchanges, exchange) = _bodies(station)
    for who, path, plain, where in [
        (staff, hours, json.dumps(entry).replace('"minutes": 60', "{}"), "$.minutes"),
        (
            wang,
            exchanges,
            json.dumps(exchange).replace('"minutes": 30', "{}"),
            "$.pairs[0].minutes",
        ),
    ]:
        bad = plain.replace("{}", f'"minutes": {written}').encode()
        detail = _refused(station, who, path, bad, 400, "invalid-request")
        assert where in detail and "whole number" in detail
    assert _send(station, staff, hours, json.dumps(entry).encode()).status_code == 201


@pytest.mark.parametrize("written", ["1e0", "1.0", "0x1", "1_0", " 1", "", "一"])
def test_a_whole_number_in_the_query_must_be_written_in_digits(station, written):
    staff = station.coordinator
    for path in ("/api/v1/hours?after=", "/api/v1/hours?limit=", "/api/v1/motions?before="):
        answer = station.client.get(path + written, headers=staff)
        assert answer.status_code == 400, (path, answer.text)
        assert answer.json()["code"] == "invalid-request", answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert station.client.get("/api/v1/hours?after=0&limit=10", headers=staff).status_code == 200


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b", "\x7f"])
def test_text_with_a_control_character_is_refused_naming_the_field(station, control):
    _, (staff, hours, entry), (wang, motions, motion), (_, exchanges, exchange) = _bodies(station)
    for who, path, body, field in [
        (staff, hours, {**entry, "content": f"读报{control}"}, "content"),
        (wang, motions, {**motion, "title": f"修{control}路灯"}, "title"),
        (wang, exchanges, {**exchange, "description": control}, "description"),
    ]:
        detail = _refused(station, who, path, json.dumps(body).encode(), 422, "control-character")
        assert detail.startswith(f"{field} holds a control character (U+00")

    number = station.volunteer("Wu", sign_in=False).member["member_number"]
    row = f"{number},清洁{control},2026-06-01,09:00,60,广场,捡垃圾,站,coord.one,cleaning,north"
    imported = upload(station, "controls", attendance([row])).json()
    assert [(r["code"], r["message"].split()[0]) for r in imported["results"]] == [
        ("control-character", "activity")
    ]


def test_a_form_with_a_control_character_is_refused_on_the_page(station):
    entry = station.record(station.volunteer("Zhou", sign_in=False))
    client = station.client
    csrf = client.get("/").cookies[CSRF_COOKIE]  # kept by the client, as a browser would
    sign_in_console(station)
    before = station.bone.timebank.last_position()
    answer = client.post(
        f"/console/hours/{entry['id']}/rejection",
        content="reason=%E9%87%8D%E5%A4%8D%00",  # "重复" and a NUL
        headers={CSRF_HEADER: csrf, "content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 422, answer.text
    assert "控制字符" in answer.text
    assert station.bone.timebank.last_position() == before


def test_tabs_and_line_breaks_are_text(station):
    _, _, (wang, motions, motion), _ = _bodies(station)
    body = {**motion, "text": "北门\n路灯\r\n坏了\t三盏"}
    assert _send(station, wang, motions, json.dumps(body).encode()).status_code == 201


@pytest.mark.parametrize("reason", ["   ", "\u3000", "\u200b\u200b"])
def test_an_erasure_and_a_staff_deactivation_need_a_reason_that_shows(station, reason):
    wu = station.volunteer("Wu", sign_in=False).member
    gone = station.post(
        station.coordinator, f"/api/v1/members/{wu['id']}/deactivation", reason="搬走了"
    )
    assert gone["position"]
    erasure = {"member_id": wu["id"], "reason": reason}
    _refused(
        station,
        station.coordinator,
        "/api/v1/erasures",
        json.dumps(erasure).encode(),
        422,
        "reason-required",
    )
    body = json.dumps({"reason": reason}).encode()
    path = f"/api/v1/staff/{staff_id_for('coord.one')}/deactivation"
    _refused(station, station.admin, path, body, 422, "reason-required")
