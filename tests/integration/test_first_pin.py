"""Registration without a PIN: the resident chooses their own at a kiosk with a one-time
setup code, so no member of staff learns it; the privacy notice defaults to the station's."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from domain.identity import Member, Role, member_id_for
from services.composition.app import create_app
from services.composition.runtime import utc_now
from services.identity.members import SETUP_CODE_LIFETIME
from services.web.auth import KIOSK_TOKEN_HEADER
from tests.integration.support import (
    kiosk_sign_in,
    make_backbone,
    member_body,
    refused,
    register_kiosk,
    staff_headers,
)

STATION_NOTICE = "station-2026.1"
CHOSEN = "480913"


@pytest.fixture
def station(stores, tmp_path):
    """The API on real stores (no broker needed: these are commands and sign-ins), with the
    station's privacy notice configured."""
    bone = make_backbone(
        tmp_path,
        stores.new("events"),
        stores.new("reads"),
        "nats://-:1",
        privacy_notice_version=STATION_NOTICE,
    )
    kiosk = register_kiosk(bone)
    with TestClient(create_app(bone)) as client:
        yield bone, client, kiosk


def choose(client: TestClient, kiosk, number: str, code: str, pin: str = CHOSEN):
    return client.post(
        "/api/v1/auth/kiosk/pin",
        json={"member_number": number, "setup_code": code, "pin": pin},
        headers={KIOSK_TOKEN_HEADER: kiosk.token},
    )


def registered_without_pin(bone, client) -> dict:
    body = member_body(pin=None, notice_version=None)
    answer = client.post("/api/v1/members", json=body, headers=staff_headers(bone))
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_the_resident_chooses_their_pin_once_with_the_code(station):
    bone, client, kiosk = station
    member = registered_without_pin(bone, client)
    code = member["setup_code"]
    assert len(code) == 8 and code.isdigit()
    found = bone.timebank.find(member_id_for(member["member_number"]), Member)
    assert found.consent == STATION_NOTICE  # the station's current notice, by default
    assert code not in found.setup_code_hash  # only its hash is kept
    refused(kiosk_sign_in(client, kiosk, member["member_number"], CHOSEN), 401, "wrong-credentials")

    assert choose(client, kiosk, member["member_number"], code).status_code == 201
    assert kiosk_sign_in(client, kiosk, member["member_number"], CHOSEN).status_code == 201
    before = bone.timebank.last_position()
    again = choose(client, kiosk, member["member_number"], code, pin="1111")
    refused(again, 422, "setup-code-expired")
    assert bone.timebank.last_position() == before


def test_a_wrong_code_counts_as_a_wrong_pin_and_an_old_code_expires(station):
    bone, client, kiosk = station
    member = registered_without_pin(bone, client)
    number, code = member["member_number"], member["setup_code"]
    wrong = f"{(int(code) + 1) % 10**8:08d}"
    for _ in range(3):
        answer = choose(client, kiosk, number, wrong)
    assert refused(answer, 401, "wrong-credentials")["tries_left"] == 2
    bone.clock = lambda: utc_now() + SETUP_CODE_LIFETIME
    refused(choose(client, kiosk, number, code), 422, "setup-code-expired")


def test_a_coordinator_issues_a_new_code_and_the_old_one_stops(station):
    bone, client, kiosk = station
    member = registered_without_pin(bone, client)
    path = f"/api/v1/members/{member['id']}/setup-code"
    answer = client.post(path, headers=staff_headers(bone))
    assert answer.status_code == 201, answer.text
    fresh = answer.json()["setup_code"]
    if fresh != member["setup_code"]:
        refused(
            choose(client, kiosk, member["member_number"], member["setup_code"]),
            401,
            "wrong-credentials",
        )
    assert choose(client, kiosk, member["member_number"], fresh).status_code == 201
    resident = client.post(path, headers=staff_headers(bone, Role.COUNCIL))
    assert resident.status_code == 403


def test_without_a_station_notice_the_version_must_be_given(stores, tmp_path):
    bone = make_backbone(tmp_path, stores.new("events"), stores.new("reads"), "nats://-:1")
    with TestClient(create_app(bone)) as client:
        coordinator = staff_headers(bone)
        before = bone.timebank.last_position()
        body = member_body(pin=None, notice_version=None)
        answer = client.post("/api/v1/members", json=body, headers=coordinator)
        refused(answer, 422, "notice-version-required")
        assert bone.timebank.last_position() == before
