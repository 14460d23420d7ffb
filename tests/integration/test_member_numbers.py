"""Member numbers grow with a deployment (issue 17): a new resident's number has the length
the deployment is set to, and every number of 6 to 10 digits is taken where a member number is
typed, so residents registered before a district switched to 8 digits still sign in."""

from __future__ import annotations

import re

import msgspec
import pytest
from litestar.testing import TestClient

from services.composition.app import create_app
from services.identity import members
from services.identity.commands import RegisterMember
from services.pages.session import DEVICE_COOKIE
from tests.integration.support import (
    PIN,
    acting,
    kiosk_sign_in,
    make_backbone,
    member_body,
    refused,
    register_kiosk,
    staff_headers,
)
from tests.integration.test_page_access import CSRF_COOKIE, CSRF_HEADER, FORM


@pytest.fixture
def district(sqlite_stores, tmp_path):
    """A deployment set to 8 digits (its pages too, on real stores, without broker), a kiosk,
    and a resident registered while it still handed out 6 digits."""
    bone = make_backbone(
        tmp_path,
        sqlite_stores.new("events"),
        sqlite_stores.new("reads"),
        "nats://-:1",
        pages=True,
        member_number_digits=8,
    )
    before = msgspec.structs.replace(bone.settings, member_number_digits=6)
    earlier = members.register_member(
        msgspec.convert(member_body(), RegisterMember),
        acting(bone.timebank, bone.clock(), settings=before, vault=bone.vault),
    )
    kiosk = register_kiosk(bone)
    with TestClient(create_app(bone)) as client:
        yield bone, client, earlier.member_number, kiosk


@pytest.mark.parametrize("digits", [6, 8, 10])
def test_a_new_member_gets_a_number_of_the_configured_length(stores, tmp_path, digits):
    bone = make_backbone(
        tmp_path,
        stores.new("events"),
        stores.new("reads"),
        "nats://-:1",
        member_number_digits=digits,
    )
    with TestClient(create_app(bone)) as client:
        numbers = [
            client.post("/api/v1/members", json=member_body(), headers=staff_headers(bone))
            for _ in range(3)
        ]
    assert all(answer.status_code == 201 for answer in numbers), numbers[0].text
    for answer in numbers:
        assert re.fullmatch(rf"[1-9][0-9]{{{digits - 1}}}", answer.json()["member_number"])


def test_a_six_digit_resident_signs_in_at_a_kiosk_on_a_deployment_set_to_8(district):
    bone, client, number, kiosk = district
    assert re.fullmatch(r"[1-9][0-9]{5}", number)
    answer = client.post("/api/v1/members", json=member_body(), headers=staff_headers(bone))
    assert answer.status_code == 201, answer.text
    assert len(answer.json()["member_number"]) == 8

    assert kiosk_sign_in(client, kiosk, number).status_code == 201

    client.cookies[DEVICE_COOKIE] = kiosk.token
    form = client.get("/kiosk/sign-in")
    assert form.status_code == 200
    # The field takes numbers of every length in use, not only 6 digits.
    field = re.search(r'<input id="member_number"[^>]*>', form.text)
    assert field and 'maxlength="10"' in field[0] and 'pattern="[1-9][0-9]{5,9}"' in field[0]
    assert 'data-pad-advance="8"' in field[0]  # the pad moves on after a new number's length
    assert "会员号（见会员卡）" in form.text and "会员号（6 位数字）" not in form.text
    page = client.post(
        "/kiosk/sign-in",
        data={"member_number": number, "pin": PIN},
        headers={CSRF_HEADER: form.cookies[CSRF_COOKIE], **FORM},
        follow_redirects=False,
    )
    assert (page.status_code, page.headers["location"]) == (303, "/kiosk"), page.text


@pytest.mark.parametrize(
    ("number", "status", "code"),
    [
        ("1234567890", 401, "wrong-credentials"),  # 10 digits: well formed, just unknown
        ("12345678901", 400, "invalid-request"),
        ("0123456789", 400, "invalid-request"),
        ("12345", 400, "invalid-request"),
    ],
)
def test_a_member_number_has_6_to_10_digits_without_a_leading_zero(district, number, status, code):
    bone, client, _, kiosk = district
    before = bone.timebank.last_position()
    refused(kiosk_sign_in(client, kiosk, number), status, code)
    assert bone.timebank.last_position() == before
