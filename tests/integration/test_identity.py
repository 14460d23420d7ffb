"""Sign-in, staff, members, PIN lockout and tokens, on the real app, store, broker and reads."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import jwt
import msgspec
import pytest
from litestar.testing import TestClient

from domain.identity import PIN_ATTEMPTS, PIN_LOCKOUT, Role
from domain.rules import RuleViolated
from services.composition.app import create_app
from services.composition.runtime import utc_now
from services.identity import members
from services.identity.commands import RegisterMember
from services.store.vault import PersonalDetails
from services.web.auth import (
    KIOSK_IDLE_LIFETIME,
    KIOSK_TOKEN_HEADER,
    STAFF_TOKEN_LIFETIME,
    jwt_auth,
)
from tests.integration.support import (
    ADMIN_PASSWORD,
    COORDINATOR_PASSWORD,
    PIN,
    acting,
    bearer,
    caught_up,
    create_staff,
    grant_minutes,
    kiosk_sign_in,
    live_dumps,
    make_backbone,
    member_body,
    member_principal,
    raw_event_store,
    raw_stream,
    refused,
    register,
    register_kiosk,
    serving,
    sign_in_staff,
    staff_headers,
    stream_position,
    wait_until,
)

NAME = "王秀英 Wang Xiuying"
PHONE = "+86 138-0013-8000"


@pytest.fixture
def running(broker, stores, tmp_path):
    """The app with workers and a signed-in admin and coordinator (support.serving)."""
    bone = make_backbone(tmp_path, stores.new("events"), stores.new("reads"), broker.url)
    with serving(bone) as served:
        yield served


@pytest.fixture
def kiosk(running):
    """A registered kiosk, where residents sign in."""
    return register_kiosk(running[0])


def test_staff_sign_in(running):
    bone, client, _, _ = running
    before = bone.timebank.last_position()
    answer = client.post(
        "/api/v1/auth/staff", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert answer.status_code == 201, answer.text
    signed_in = answer.json()
    assert signed_in["roles"] == ["admin"]
    assert signed_in["subject"].startswith("staff:") and "admin" not in signed_in["subject"]
    assert signed_in["expires_in"] == STAFF_TOKEN_LIFETIME.total_seconds()
    assert signed_in["member_id"] is None and signed_in["account_id"] is None
    # Usernames are unique regardless of case, so signing in ignores case too.
    assert sign_in_staff(client, "ADMIN", ADMIN_PASSWORD)

    for username, password in [
        ("admin", "wrong password!"),
        ("admin", ADMIN_PASSWORD.upper()),
        ("nobody", ADMIN_PASSWORD),  # an unknown name answers exactly as a wrong password
    ]:
        answer = client.post(
            "/api/v1/auth/staff", json={"username": username, "password": password}
        )
        refused(answer, 401, "wrong-credentials")
    assert bone.timebank.last_position() == before  # staff sign-ins record nothing


def test_an_admin_creates_a_coordinator_once(running):
    bone, client, admin, coordinator = running
    assert client.post("/api/v1/auth/refresh", headers=coordinator).json()["roles"] == [
        "coordinator"
    ]
    before = bone.timebank.last_position()

    again = {"username": "coord.one", "role": "coordinator", "password": "another password"}
    refused(client.post("/api/v1/staff", json=again, headers=admin), 422, "username-taken")
    # The API takes lowercase usernames only, so a case variant is refused as malformed...
    shouted = {**again, "username": "Coord.One"}
    refused(client.post("/api/v1/staff", json=shouted, headers=admin), 400, "invalid-request")
    assert bone.timebank.last_position() == before
    # ...and the command itself treats it as the same name.
    for variant in ("COORD.ONE", "Coord.One"):
        with pytest.raises(RuleViolated) as taken:
            create_staff(bone.timebank, variant, Role.COORDINATOR, "a long enough password")
        assert taken.value.code == "username-taken"
    assert bone.timebank.last_position() == before
    # The first coordinator's password still works; the refused one never did.
    assert sign_in_staff(client, "coord.one", COORDINATOR_PASSWORD)
    wrong = {"username": "coord.one", "password": "another password"}
    refused(client.post("/api/v1/auth/staff", json=wrong), 401, "wrong-credentials")

    # Only an admin creates staff.
    other = {"username": "coord.two", "role": "coordinator", "password": "a long enough password"}
    refused(client.post("/api/v1/staff", json=other, headers=coordinator), 403, "forbidden")
    assert bone.timebank.last_position() == before


def test_a_resident_signs_in_at_a_kiosk_and_reaches_only_their_own_account(running, kiosk):
    bone, client, _, coordinator = running
    registered = register(client, coordinator)
    assert re.fullmatch(r"[1-9][0-9]{5}", registered["member_number"])
    neighbour = register(client, coordinator, display_name="Zhang Wei")
    position = grant_minutes(client, coordinator, registered["account_id"], 120)

    signed_in = kiosk_sign_in(client, kiosk, registered["member_number"])
    assert signed_in.status_code == 201, signed_in.text
    session = signed_in.json()
    assert session["roles"] == ["resident"]
    assert session["expires_in"] == KIOSK_IDLE_LIFETIME.total_seconds()
    assert (session["member_id"], session["account_id"]) == (
        registered["id"],
        registered["account_id"],
    )
    resident = bearer(session["token"], kiosk)
    # The resident's token works only together with the device token of its kiosk.
    own = f"/api/v1/accounts/{registered['account_id']}"
    refused(client.get(own, headers=bearer(session["token"])), 401, "unauthenticated")

    answer = client.get(own, params={"after": position}, headers=resident)
    assert answer.status_code == 200, answer.text
    assert answer.json()["balance"] == 120
    for path in (
        f"/api/v1/accounts/{neighbour['account_id']}",
        f"/api/v1/accounts/{neighbour['account_id']}/statement",
        "/api/v1/accounts/community",
    ):
        refused(client.get(path, headers=resident), 403, "forbidden")

    before = bone.timebank.last_position()
    theft = {
        "idempotency_key": uuid.uuid4().hex,
        "from_account": neighbour["account_id"],
        "to_account": registered["account_id"],
        "minutes": 30,
    }
    refused(client.post("/api/v1/transfers", json=theft, headers=resident), 403, "forbidden")
    assert bone.timebank.last_position() == before
    gift = {
        **theft,
        "from_account": registered["account_id"],
        "to_account": neighbour["account_id"],
    }
    assert client.post("/api/v1/transfers", json=gift, headers=resident).status_code == 201


def test_five_wrong_pins_lock_the_number_until_a_coordinator_resets_the_pin(running, kiosk):
    bone, client, _, coordinator = running
    member = register(client, coordinator)
    number = member["member_number"]

    # Each refusal says how many tries are left; the locking one, until when.
    tries = [
        refused(kiosk_sign_in(client, kiosk, number, "9999"), 401, "wrong-credentials")
        for _ in range(PIN_ATTEMPTS)
    ]
    # (only once few are left: from the first, it would tell which numbers are members')
    assert [problem.get("tries_left") for problem in tries] == [None, None, 2, 1, 0]
    assert ["locked_until" in problem for problem in tries] == [False] * 4 + [True]
    before = bone.timebank.last_position()
    # Even the right PIN:
    locked = refused(kiosk_sign_in(client, kiosk, number, PIN), 423, "pin-locked")
    assert "15 more minutes" in locked["detail"]
    assert locked["locked_until"] == tries[-1]["locked_until"]
    assert locked["tries_left"] == 0
    refused(kiosk_sign_in(client, kiosk, number, "9999"), 423, "pin-locked")
    assert bone.timebank.last_position() == before  # locked attempts are not even counted

    reset = client.post(
        f"/api/v1/members/{member['id']}/pin", json={"pin": "135790"}, headers=coordinator
    )
    assert reset.status_code == 200, reset.text
    # The old PIN is gone.
    refused(kiosk_sign_in(client, kiosk, number, PIN), 401, "wrong-credentials")
    assert kiosk_sign_in(client, kiosk, number, "135790").status_code == 201


def test_the_lock_lifts_once_the_lockout_window_has_passed(running, kiosk):
    bone, client, _, coordinator = running
    number = register(client, coordinator)["member_number"]
    for _ in range(PIN_ATTEMPTS):
        refused(kiosk_sign_in(client, kiosk, number, "0000"), 401, "wrong-credentials")
    refused(kiosk_sign_in(client, kiosk, number, PIN), 423, "pin-locked")

    bone.clock = lambda: utc_now() + PIN_LOCKOUT
    assert kiosk_sign_in(client, kiosk, number, PIN).status_code == 201
    # A successful sign-in cleared the count: one wrong PIN does not lock again.
    refused(kiosk_sign_in(client, kiosk, number, "0000"), 401, "wrong-credentials")
    assert kiosk_sign_in(client, kiosk, number, PIN).status_code == 201


def test_an_idle_kiosk_token_expires_and_refresh_renews_it(running, kiosk):
    bone, client, _, coordinator = running
    member = register(client, coordinator)
    principal = member_principal(uuid.UUID(member["id"]), uuid.UUID(member["account_id"]), kiosk)
    wait_until(lambda: caught_up(bone), what="read models")  # before the clock starts
    # Two seconds, not one: tokens carry whole seconds, so one could be over at once.
    short = bearer(
        jwt_auth(bone.settings.token_secret()).create_token(
            identifier=principal.subject,
            token_expiration=timedelta(seconds=2),
            token_extras=msgspec.to_builtins(principal),
        ),
        kiosk,
    )
    own = f"/api/v1/accounts/{member['account_id']}"
    assert client.get(own, headers=short).status_code == 200

    refreshed = client.post("/api/v1/auth/refresh", headers=short)
    assert refreshed.status_code == 201, refreshed.text
    fresh = refreshed.json()
    assert fresh["expires_in"] == KIOSK_IDLE_LIFETIME.total_seconds()
    assert (fresh["subject"], fresh["roles"], fresh["account_id"]) == (
        principal.subject,
        ["resident"],
        member["account_id"],
    )
    claims = jwt.decode(fresh["token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == KIOSK_IDLE_LIFETIME.total_seconds()

    wait_until(
        lambda: client.get(own, headers=short).status_code == 401,
        timeout=10,
        what="the idle kiosk token to expire",
    )
    refused(client.get(own, headers=short), 401, "unauthenticated")
    refused(client.post("/api/v1/auth/refresh", headers=short), 401, "unauthenticated")
    assert client.get(own, headers=bearer(fresh["token"], kiosk)).status_code == 200


def _flip(token: str) -> str:
    """The token with one character of its signature changed (a middle one: the last
    character's low bits are padding, so changing it may leave the signature as it was)."""
    head, payload, signature = token.split(".")
    middle = len(signature) // 2
    swapped = "A" if signature[middle] != "A" else "B"
    return f"{head}.{payload}.{signature[:middle]}{swapped}{signature[middle + 1 :]}"


def test_forged_tokens_are_refused(running):
    bone, client, admin, _ = running
    token = admin["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, options={"verify_signature": False})
    elsewhere = jwt_auth("the secret of some other installation, 48+ chars long")
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    not_a_principal = jwt_auth(bone.settings.token_secret()).create_token(
        identifier="staff:x", token_extras={"subject": "staff:x", "roles": ["root"]}
    )
    forged = {
        "tampered signature": _flip(token),
        "another secret": elsewhere.create_token(
            identifier=claims["sub"], token_extras=claims["extras"]
        ),
        "unsigned": unsigned,
        "not a principal": not_a_principal,
        "garbage": "not.a.token",
    }
    body = {"username": "forger", "role": "admin", "password": "a long enough password"}
    before = bone.timebank.last_position()
    for name, forgery in forged.items():
        answer = client.post("/api/v1/staff", json=body, headers=bearer(forgery))
        assert answer.status_code == 401, (name, answer.text)
        assert answer.json()["code"] == "unauthenticated", name
    assert bone.timebank.last_position() == before
    assert client.post("/api/v1/auth/refresh", headers=admin).status_code == 201


@pytest.fixture
def quiet(stores, tmp_path):
    """The app on real stores, without broker or workers: enough for refused input."""
    bone = make_backbone(tmp_path, stores.new("events"), stores.new("reads"), "nats://-:1")
    member = members.register_member(
        msgspec.convert(member_body(), RegisterMember),
        acting(bone.timebank, bone.clock(), settings=bone.settings, vault=bone.vault),
    )
    kiosk = register_kiosk(bone)
    with TestClient(create_app(bone)) as client:
        yield bone, client, member.member_number, kiosk


BAD_INPUT = [
    ("kiosk", {"member_number": "12345", "pin": PIN}),
    ("kiosk", {"member_number": "abcdef", "pin": PIN}),
    ("kiosk", {"member_number": "0123456", "pin": PIN}),
    ("kiosk", {"member_number": "012345", "pin": PIN}),
    ("kiosk", {"member_number": 123456, "pin": PIN}),
    ("kiosk", {"member_number": "MEMBER", "pin": "123"}),
    ("kiosk", {"member_number": "MEMBER", "pin": "1234567"}),
    ("kiosk", {"member_number": "MEMBER", "pin": "12a4"}),
    ("kiosk", {"member_number": "MEMBER"}),
    ("kiosk", {"member_number": "MEMBER", "pin": PIN, "remember_me": True}),
    ("staff sign-in", {"username": "admin"}),
    ("staff sign-in", {"username": "", "password": "x"}),
    ("members", member_body(display_name=None)),
    ("members", member_body(phone=None)),
    ("members", member_body(building="")),
    ("members", member_body(pin="123")),
    ("members", member_body(pin="12a4")),
    ("members", member_body(phone="call me")),
    ("members", member_body(id_number="12345")),
    ("members", member_body(birth_date="yesterday")),
    ("members", {**member_body(), "name": "Li Ming"}),
    ("members", member_body(notice_version="")),
    ("members", member_body(notice_version="June 2024")),
    ("members", member_body(notice_version="v" * 33)),
    ("staff", {"username": "coord.two", "role": "coordinator", "password": "too-short"}),
    ("staff", {"username": "coord.two", "role": "coordinator"}),
    ("staff", {"username": "x", "role": "coordinator", "password": "a long enough password"}),
    ("staff", {"username": "coord.two", "role": "root", "password": "a long enough password"}),
]
ROUTES = {
    "kiosk": ("/api/v1/auth/kiosk", None),
    "staff sign-in": ("/api/v1/auth/staff", None),
    "members": ("/api/v1/members", Role.COORDINATOR),
    "staff": ("/api/v1/staff", Role.ADMIN),
}


@pytest.mark.parametrize(("route", "body"), BAD_INPUT)
def test_bad_input_is_refused_and_records_nothing(quiet, route, body):
    bone, client, member_number, kiosk = quiet
    path, role = ROUTES[route]
    body = {key: member_number if value == "MEMBER" else value for key, value in body.items()}
    if role:
        headers = staff_headers(bone, role)
    else:  # at a kiosk, its device token comes along: only the body is wrong
        headers = {KIOSK_TOKEN_HEADER: kiosk.token} if route == "kiosk" else {}
    before = bone.timebank.last_position()
    problem = refused(client.post(path, json=body, headers=headers), 400, "invalid-request")
    assert problem["errors"], problem
    assert all(error["source"] == "body" for error in problem["errors"]), problem
    assert bone.timebank.last_position() == before


def test_rules_the_commands_keep_themselves(quiet):
    """What the request schema cannot express answers 422 with the rule's code."""
    bone, client, _, kiosk = quiet
    admin, coordinator = staff_headers(bone, Role.ADMIN), staff_headers(bone)
    before = bone.timebank.last_position()
    resident = {"username": "coord.two", "role": "resident", "password": "a long enough password"}
    answer = client.post("/api/v1/staff", json=resident, headers=admin)
    refused(answer, 422, "not-a-staff-role")
    with pytest.raises(RuleViolated) as weak:
        create_staff(bone.timebank, "coord.two", Role.COORDINATOR, "short")
    assert weak.value.code == "weak-password"
    unknown = uuid.uuid4()
    for action, body in (("pin", {"pin": PIN}), ("deactivation", {"reason": "moved"})):
        answer = client.post(f"/api/v1/members/{unknown}/{action}", json=body, headers=coordinator)
        refused(answer, 404, "member-not-found")
    refused(kiosk_sign_in(client, kiosk, "999999"), 401, "wrong-credentials")  # no such member
    assert bone.timebank.last_position() == before


def test_personal_details_reach_neither_the_event_store_nor_the_stream(running, kiosk):
    bone, client, _, coordinator = running
    member = register(client, coordinator, display_name=NAME, phone=PHONE)
    refused(kiosk_sign_in(client, kiosk, member["member_number"], "0000"), 401, "wrong-credentials")
    grant_minutes(client, coordinator, member["account_id"], 60)
    answer = client.post(
        f"/api/v1/members/{member['id']}/deactivation",
        json={"reason": "moved away"},
        headers=coordinator,
    )
    assert answer.status_code == 200, answer.text
    head = bone.timebank.last_position()
    wait_until(lambda: stream_position(bone.nats_url) >= head, what="the relay")
    wait_until(lambda: caught_up(bone), what="read models")

    # The details are kept, sealed: the vault opens them with the member's own key.
    sealed = bone.timebank.repository.get(uuid.UUID(member["id"])).sealed_details
    opened = bone.vault.open(uuid.UUID(member["id"]), sealed, PersonalDetails)
    assert opened is not None and (opened.display_name, opened.phone) == (NAME, PHONE)

    secrets = [NAME, "王秀英", "Wang Xiuying", PHONE, "138-0013-8000", "13800138000"]
    number = member["member_number"].encode()
    places = {
        "event store": raw_event_store(bone.settings.event_store_url),
        "stream": raw_stream(bone.nats_url),
        "read models": [repr(live_dumps(bone)).encode()],
    }
    for place, blobs in places.items():
        everything = b"\n".join(blobs)
        if place != "read models":  # the search would find plain text, were it there
            assert number in everything, place
        for secret in secrets:
            assert secret.encode() not in everything, (place, secret)
            assert secret.encode("unicode_escape") not in everything, (place, secret)


def test_deactivation_closes_the_account_into_the_pool_and_ends_kiosk_sign_in(running, kiosk):
    bone, client, _, coordinator = running
    member = register(client, coordinator)
    position = grant_minutes(client, coordinator, member["account_id"], 90)
    assert kiosk_sign_in(client, kiosk, member["member_number"]).status_code == 201
    pool = client.get("/api/v1/accounts/pool", params={"after": position}, headers=coordinator)
    pool_before = pool.json()["balance"]

    answer = client.post(
        f"/api/v1/members/{member['id']}/deactivation",
        json={"reason": "moved away"},
        headers=coordinator,
    )
    assert answer.status_code == 200, answer.text
    position = answer.json()["position"]
    pool = client.get("/api/v1/accounts/pool", params={"after": position}, headers=coordinator)
    assert pool.json()["balance"] == pool_before + 90
    account = client.get(
        f"/api/v1/accounts/{member['account_id']}", params={"after": position}, headers=coordinator
    ).json()
    assert (account["balance"], account["is_closed"]) == (0, True)

    before = bone.timebank.last_position()
    refused(kiosk_sign_in(client, kiosk, member["member_number"]), 423, "member-inactive")
    refused(kiosk_sign_in(client, kiosk, member["member_number"], "0000"), 401, "wrong-credentials")
    for action, body in (("pin", {"pin": PIN}), ("deactivation", {"reason": "again"})):
        answer = client.post(
            f"/api/v1/members/{member['id']}/{action}", json=body, headers=coordinator
        )
        refused(answer, 422, "member-inactive")
    assert bone.timebank.last_position() == before


def test_a_member_whose_account_was_closed_can_still_be_deactivated(running, kiosk):
    _, client, _, coordinator = running
    member = register(client, coordinator)
    closed = client.post(
        f"/api/v1/accounts/{member['account_id']}/closure",
        json={"reason": "closed first"},
        headers=coordinator,
    )
    assert closed.status_code == 201, closed.text
    answer = client.post(
        f"/api/v1/members/{member['id']}/deactivation",
        json={"reason": "moved away"},
        headers=coordinator,
    )
    assert answer.status_code == 200, answer.text
    refused(kiosk_sign_in(client, kiosk, member["member_number"]), 423, "member-inactive")


def test_a_deactivated_member_cannot_keep_a_kiosk_session_alive(running, kiosk):
    _, client, _, coordinator = running
    member = register(client, coordinator)
    signed_in = kiosk_sign_in(client, kiosk, member["member_number"])
    assert signed_in.status_code == 201
    session = bearer(signed_in.json()["token"], kiosk)
    assert client.post("/api/v1/auth/refresh", headers=session).status_code == 201
    answer = client.post(
        f"/api/v1/members/{member['id']}/deactivation", json={"reason": "left"}, headers=coordinator
    )
    assert answer.status_code == 200, answer.text
    refused(client.post("/api/v1/auth/refresh", headers=session), 401, "token-revoked")


def test_an_admin_manages_staff_through_the_api(running):
    bone, client, admin, coordinator = running
    chair = {
        "username": "chair.li",
        "role": "council",
        "title": "chair",
        "password": "a chair's password",
    }
    created = client.post("/api/v1/staff", json=chair, headers=admin)
    assert created.status_code == 201, created.text
    staff_id, position = created.json()["id"], created.json()["position"]
    before = bone.timebank.last_position()
    untitled = {**chair, "username": "council.wu", "title": None}
    refused(client.post("/api/v1/staff", json=untitled, headers=admin), 422, "council-title")
    titled = {**chair, "username": "coord.wu", "role": "coordinator"}
    refused(client.post("/api/v1/staff", json=titled, headers=admin), 422, "council-title")
    assert bone.timebank.last_position() == before

    listed = client.get("/api/v1/staff", params={"after": position}, headers=admin)
    assert listed.status_code == 200, listed.text
    by_name = {row["username"]: row for row in listed.json()}
    assert by_name["chair.li"] == {
        "staff_id": staff_id,
        "username": "chair.li",
        "role": "council",
        "title": "chair",
        "is_active": True,
        "registered_at": by_name["chair.li"]["registered_at"],
    }
    assert {"admin", "chair.li"} <= set(by_name)
    refused(client.get("/api/v1/staff", headers=coordinator), 403, "forbidden")

    session = sign_in_staff(client, "chair.li", chair["password"])
    new_password = {"password": "the chair's new password"}
    answer = client.post(f"/api/v1/staff/{staff_id}/password", json=new_password, headers=admin)
    assert answer.status_code == 200, answer.text
    old = {"username": "chair.li", "password": chair["password"]}
    refused(client.post("/api/v1/auth/staff", json=old), 401, "wrong-credentials")
    sign_in_staff(client, "chair.li", new_password["password"])

    answer = client.post(
        f"/api/v1/staff/{staff_id}/deactivation", json={"reason": "term ended"}, headers=admin
    )
    assert answer.status_code == 200, answer.text
    new = {"username": "chair.li", "password": new_password["password"]}
    refused(client.post("/api/v1/auth/staff", json=new), 401, "wrong-credentials")
    refused(client.post("/api/v1/auth/refresh", headers=session), 401, "token-revoked")
    listed = client.get(
        "/api/v1/staff", params={"after": answer.json()["position"]}, headers=admin
    ).json()
    assert {row["username"]: row["is_active"] for row in listed}["chair.li"] is False
    again = client.post(
        f"/api/v1/staff/{staff_id}/deactivation", json={"reason": "again"}, headers=admin
    )
    refused(again, 422, "staff-inactive")
    unknown = client.post(
        f"/api/v1/staff/{uuid.uuid4()}/password", json=new_password, headers=admin
    )
    refused(unknown, 404, "staff-not-found")
