"""Kiosk devices, consent, erasure, the personal-data access log and sign-in rate limits, on
the real app, store, broker and read models."""

from __future__ import annotations

import uuid
from datetime import datetime
from uuid import UUID

import msgspec
import pytest
from litestar.testing import TestClient

from domain.identity import Role, staff_id_for
from services.composition.app import create_app
from services.identity.records import token_digest
from services.web.auth import KIOSK_TOKEN_HEADER
from tests.integration.support import (
    ADMIN_PASSWORD,
    COORDINATOR_PASSWORD,
    NOTICE,
    PIN,
    KioskDevice,
    bearer,
    caught_up,
    create_staff,
    grant_minutes,
    kiosk_sign_in,
    live_dumps,
    make_backbone,
    raw_event_store,
    raw_key_store,
    raw_stream,
    refused,
    register,
    register_kiosk,
    register_resident,
    run_workers,
    serving,
    sign_in_staff,
    staff_headers,
    stream_position,
    wait_until,
)

# A person distinctive enough that any trace of them is unmistakable.
NAME = "诸葛秀琴 Zhuge Xiuqin"
PHONE = "+86 139-8765-4321"
ID_NUMBER = "11010519491231002X"
BIRTH_DATE = "1949-12-31"
TRACES = [
    NAME,
    "诸葛秀琴",
    "Zhuge Xiuqin",
    PHONE,
    "139-8765-4321",
    "13987654321",
    ID_NUMBER,
    ID_NUMBER.lower(),
    BIRTH_DATE,
]


@pytest.fixture
def running(broker, stores, tmp_path):
    """The app with workers and a signed-in admin and coordinator (support.serving)."""
    bone = make_backbone(tmp_path, stores.new("events"), stores.new("reads"), broker.url)
    with serving(bone) as served:
        yield served


def _open(client: TestClient, headers: dict[str, str], member_id: str, purpose: str | None):
    """A coordinator's look at a member's personal data (recorded with its purpose)."""
    params = {} if purpose is None else {"purpose": purpose}
    return client.get(f"/api/v1/members/{member_id}", params=params, headers=headers)


def _opened(client: TestClient, headers: dict[str, str], member_id: str, purpose: str) -> dict:
    answer = _open(client, headers, member_id, purpose)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _transfer(client, headers, source: str, target: str, minutes: int, memo: str = "") -> int:
    answer = client.post(
        "/api/v1/transfers",
        json={
            "idempotency_key": uuid.uuid4().hex,
            "from_account": source,
            "to_account": target,
            "minutes": minutes,
            "memo": memo,
        },
        headers=headers,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["position"]


def _deactivate(client, coordinator, member_id: str) -> int:
    answer = client.post(
        f"/api/v1/members/{member_id}/deactivation",
        json={"reason": "moved away"},
        headers=coordinator,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["position"]


def _erase(client, coordinator, member_id: str):
    return client.post(
        "/api/v1/erasures",
        json={"member_id": member_id, "reason": "the resident asked (PIPL Art. 47)"},
        headers=coordinator,
    )


def _channels_of(bone, aggregate_id: UUID) -> set[tuple[str, str]]:
    """(actor, channel) of every stored event of one aggregate."""
    events = bone.timebank.repository.event_store.get(aggregate_id)
    return {(event.by.actor, event.by.channel) for event in events}


# Kiosks


def test_only_registered_kiosks_sign_residents_in(running):
    bone, client, admin, coordinator = running
    member = register(client, coordinator)
    number = member["member_number"]

    # Only an admin registers a kiosk; the device token is in the answer, this once.
    refused(
        client.post("/api/v1/kiosks", json={"name": "Lobby"}, headers=coordinator), 403, "forbidden"
    )
    refused(client.post("/api/v1/kiosks", json={"name": ""}, headers=admin), 400, "invalid-request")
    answers = [
        client.post("/api/v1/kiosks", json={"name": name}, headers=admin)
        for name in ("Lobby", "Library")
    ]
    assert [answer.status_code for answer in answers] == [201, 201], [a.text for a in answers]
    issued = [answer.json() for answer in answers]
    assert all(set(kiosk) == {"id", "position", "token"} for kiosk in issued), issued
    lobby, library = (KioskDevice(UUID(kiosk["id"]), kiosk["token"]) for kiosk in issued)
    assert lobby.id != library.id and lobby.token != library.token
    assert len(lobby.token) >= 40

    # The token itself is kept nowhere: the event store holds only its digest.
    head = bone.timebank.last_position()
    wait_until(lambda: stream_position(bone.nats_url) >= head, what="the relay")
    stored = b"\n".join(raw_event_store(bone.settings.event_store_url))
    published = b"\n".join(raw_stream(bone.nats_url))
    assert token_digest(lobby.token).encode() in stored
    assert str(lobby.id).encode() in published
    for place, everything in (("event store", stored), ("stream", published)):
        for kiosk in (lobby, library):
            assert kiosk.token.encode() not in everything, place

    # Without a registered kiosk's token, nobody signs in, and no PIN try is counted.
    before = bone.timebank.last_position()
    bare = client.post("/api/v1/auth/kiosk", json={"member_number": number, "pin": PIN})
    problem = refused(bare, 400, "invalid-request")
    assert KIOSK_TOKEN_HEADER in problem["detail"]
    for stranger in ("", "a-device-nobody-registered", library.token.upper()):
        refused(
            kiosk_sign_in(client, KioskDevice(uuid.uuid4(), stranger), number), 401, "unknown-kiosk"
        )
        refused(
            kiosk_sign_in(client, KioskDevice(uuid.uuid4(), stranger), number, "0000"),
            401,
            "unknown-kiosk",
        )
    assert bone.timebank.last_position() == before

    # At a registered kiosk, the resident's token works only beside that kiosk's token.
    signed_in = kiosk_sign_in(client, lobby, number)
    assert signed_in.status_code == 201, signed_in.text
    token = signed_in.json()["token"]
    own = f"/api/v1/accounts/{member['account_id']}?after={member['position']}"
    assert client.get(own, headers=bearer(token, lobby)).status_code == 200
    elsewhere = KioskDevice(uuid.uuid4(), "a-device-nobody-registered")
    for headers in (bearer(token), bearer(token, library), bearer(token, elsewhere)):
        refused(client.get(own, headers=headers), 401, "unauthenticated")
        refused(client.post("/api/v1/auth/refresh", headers=headers), 401, "unauthenticated")
    assert client.post("/api/v1/auth/refresh", headers=bearer(token, lobby)).status_code == 201

    # Retiring a kiosk (admins only, once) ends sign-in there and its sessions' renewal.
    retirement = f"/api/v1/kiosks/{library.id}/retirement"
    reason = {"reason": "stolen"}
    refused(client.post(retirement, json=reason, headers=coordinator), 403, "forbidden")
    at_library = kiosk_sign_in(client, library, number)
    assert at_library.status_code == 201, at_library.text
    session = bearer(at_library.json()["token"], library)
    assert client.post(retirement, json=reason, headers=admin).status_code == 200
    refused(client.post(retirement, json=reason, headers=admin), 422, "kiosk-retired")
    missing = f"/api/v1/kiosks/{uuid.uuid4()}/retirement"
    refused(client.post(missing, json=reason, headers=admin), 404, "kiosk-not-found")
    before = bone.timebank.last_position()
    refused(kiosk_sign_in(client, library, number), 401, "unknown-kiosk")
    refused(client.post("/api/v1/auth/refresh", headers=session), 401, "token-revoked")
    assert bone.timebank.last_position() == before
    assert kiosk_sign_in(client, lobby, number).status_code == 201  # the lobby is unaffected


def test_what_a_resident_does_at_a_kiosk_carries_that_kiosk_as_its_channel(running):
    bone, client, _, coordinator = running
    kiosk = register_kiosk(bone)
    member = register(client, coordinator)
    neighbour = register(client, coordinator, display_name="Zhang Wei")
    grant_minutes(client, coordinator, member["account_id"], 100)

    # A wrong PIN and then the right one: both are recorded, from this kiosk.
    refused(kiosk_sign_in(client, kiosk, member["member_number"], "0000"), 401, "wrong-credentials")
    signed_in = kiosk_sign_in(client, kiosk, member["member_number"])
    assert signed_in.status_code == 201, signed_in.text
    resident = bearer(signed_in.json()["token"], kiosk)
    actor = f"member:{member['id']}"
    member_events = bone.timebank.repository.event_store.get(UUID(member["id"]))
    pin_events = [event for event in member_events if type(event).__name__.startswith("Pin")]
    assert [type(event).__name__ for event in pin_events] == ["PinRejected", "PinAccepted"]
    assert {event.by.channel for event in pin_events} == {kiosk.channel}

    answer = client.post(
        "/api/v1/transfers",
        json={
            "idempotency_key": uuid.uuid4().hex,
            "from_account": member["account_id"],
            "to_account": neighbour["account_id"],
            "minutes": 25,
            "memo": "garden help",
        },
        headers=resident,
    )
    assert answer.status_code == 201, answer.text
    receipt = answer.json()
    assert _channels_of(bone, UUID(receipt["id"])) == {(actor, kiosk.channel)}

    # The statement (projected from the stream's envelopes) shows who and from where.
    for account in (member["account_id"], neighbour["account_id"]):
        statement = client.get(
            f"/api/v1/accounts/{account}/statement",
            params={"after": receipt["position"]},
            headers=coordinator,
        )
        assert statement.status_code == 200, statement.text
        newest = statement.json()["entries"][0]
        assert newest["transfer_id"] == receipt["id"]
        assert (newest["actor"], newest["channel"]) == (actor, kiosk.channel)

    # And so do the envelopes on the stream: the transfer's and its two entries'.
    wait_until(lambda: stream_position(bone.nats_url) >= receipt["position"], what="the relay")
    envelopes = [raw for raw in raw_stream(bone.nats_url) if receipt["id"].encode() in raw]
    assert len(envelopes) == 3, envelopes
    for raw in envelopes:
        assert f'"channel":"{kiosk.channel}"'.encode() in raw
        assert f'"actor":"{actor}"'.encode() in raw


# Consent


def test_consent_is_recorded_at_registration_and_can_be_withdrawn(running):
    bone, client, _, coordinator = running
    others = {role: staff_headers(bone, role) for role in (Role.ADMIN, Role.COUNCIL)}
    member = register(client, coordinator, notice_version="2024-06")
    shown = _opened(client, coordinator, member["id"], "checking consent")
    assert (shown["consent"], shown["is_active"], shown["is_erased"]) == ("2024-06", True, False)
    assert shown["member_number"] == member["member_number"]
    assert shown["details"]["display_name"] == "Li Ming"

    withdrawal = {"member_id": member["id"], "notice_version": "2024-06", "withdrawn": True}
    answer = client.post("/api/v1/consents", json=withdrawal, headers=coordinator)
    assert answer.status_code == 201, answer.text
    assert _opened(client, coordinator, member["id"], "checking consent")["consent"] is None

    before = bone.timebank.last_position()
    refused(
        client.post("/api/v1/consents", json=withdrawal, headers=coordinator), 422, "no-consent"
    )
    bad = [
        {**withdrawal, "notice_version": ""},
        {**withdrawal, "notice_version": "June 2024"},
        {**withdrawal, "notice_version": "2024/06"},
        {**withdrawal, "notice_version": "v" * 33},
        {**withdrawal, "notice_version": 202406},
        {"member_id": member["id"], "withdrawn": False},
        {**withdrawal, "member_id": "not-a-member-id"},
        {**withdrawal, "remark": "unknown fields are refused"},
    ]
    for body in bad:
        answer = client.post("/api/v1/consents", json=body, headers=coordinator)
        refused(answer, 400, "invalid-request")
    nobody = {**withdrawal, "member_id": str(uuid.uuid4()), "withdrawn": False}
    refused(
        client.post("/api/v1/consents", json=nobody, headers=coordinator), 404, "member-not-found"
    )
    for role in (Role.ADMIN, Role.COUNCIL):
        answer = client.post("/api/v1/consents", json=withdrawal, headers=others[role])
        refused(answer, 403, "forbidden")
    assert bone.timebank.last_position() == before

    # Consent to a newer notice.
    renewal = {"member_id": member["id"], "notice_version": "2025-01"}
    answer = client.post("/api/v1/consents", json=renewal, headers=coordinator)
    assert answer.status_code == 201, answer.text
    assert _opened(client, coordinator, member["id"], "checking consent")["consent"] == "2025-01"


# Erasure


def _holdings(client, coordinator, accounts: list[str], after: int) -> dict[str, dict]:
    """Balance and full statement of each account, as a coordinator sees them."""
    seen = {}
    for account in accounts:
        shown = client.get(
            f"/api/v1/accounts/{account}", params={"after": after}, headers=coordinator
        )
        statement = client.get(
            f"/api/v1/accounts/{account}/statement",
            params={"after": after, "limit": 200},
            headers=coordinator,
        )
        assert shown.status_code == statement.status_code == 200, (shown.text, statement.text)
        seen[account] = {"account": shown.json(), "statement": statement.json()}
    return seen


def test_erasure_leaves_no_trace_of_the_person_and_their_hours_intact(capfd, running):
    """``capfd`` comes first so it captures the logs of everything, the app's start included."""
    bone, client, _, coordinator = running
    kiosk = register_kiosk(bone)
    member = register(
        client,
        coordinator,
        display_name=NAME,
        phone=PHONE,
        id_number=ID_NUMBER,
        birth_date=BIRTH_DATE,
    )
    neighbour = register(client, coordinator, display_name="Zhang Wei")
    shown = _opened(client, coordinator, member["id"], "registration check")
    assert (shown["details"]["display_name"], shown["details"]["id_number"]) == (NAME, ID_NUMBER)

    # An active member cannot be erased: their account must be closed first.
    before = bone.timebank.last_position()
    refused(_erase(client, coordinator, member["id"]), 422, "still-active")
    refused(_erase(client, coordinator, str(uuid.uuid4())), 404, "member-not-found")
    assert bone.timebank.last_position() == before

    # A life in the time bank: minutes granted, given at the kiosk, received, corrected.
    grant_minutes(client, coordinator, member["account_id"], 300)
    grant_minutes(client, coordinator, neighbour["account_id"], 60)
    signed_in = kiosk_sign_in(client, kiosk, member["member_number"])
    assert signed_in.status_code == 201, signed_in.text
    resident = bearer(signed_in.json()["token"], kiosk)
    _transfer(client, resident, member["account_id"], neighbour["account_id"], 45, "shopping")
    _transfer(client, resident, member["account_id"], neighbour["account_id"], 30, "garden")
    _transfer(client, coordinator, neighbour["account_id"], member["account_id"], 20, "repairs")
    _deactivate(client, coordinator, member["id"])
    accounts = [member["account_id"], neighbour["account_id"], "pool", "community"]
    head = bone.timebank.last_position()
    held = _holdings(client, coordinator, accounts, after=head)
    assert held[member["account_id"]]["account"]["is_closed"] is True
    assert len(held[member["account_id"]]["statement"]["entries"]) == 5  # closure included

    answer = _erase(client, coordinator, member["id"])
    assert answer.status_code == 201, answer.text
    erased_at = answer.json()["position"]
    before = bone.timebank.last_position()
    refused(_erase(client, coordinator, member["id"]), 422, "member-erased")
    consent = {"member_id": member["id"], "notice_version": NOTICE}
    refused(
        client.post("/api/v1/consents", json=consent, headers=coordinator), 422, "member-erased"
    )
    assert bone.timebank.last_position() == before

    shown = _opened(client, coordinator, member["id"], "erasure check")
    assert (shown["is_erased"], shown["details"], shown["consent"]) == (True, None, None)
    assert (shown["is_active"], shown["member_number"]) == (False, member["member_number"])
    assert _opened(client, coordinator, neighbour["id"], "neighbour check")["details"] is not None

    # The hours are untouched: balances and statements read exactly as before.
    assert _holdings(client, coordinator, accounts, after=erased_at) == held

    head = bone.timebank.last_position()
    wait_until(lambda: stream_position(bone.nats_url) >= head, what="the relay")
    wait_until(lambda: caught_up(bone), what="read models")
    keys = raw_key_store(bone.settings.key_store_url)
    assert member["id"] not in {person for person, _ in keys}
    assert neighbour["id"] in {person for person, _ in keys}
    out, err = capfd.readouterr()
    logs = (out + err).encode()
    # The logs were captured all along: the app's request lines and the store's own lines.
    assert f"/api/v1/members/{member['id']}".encode() in logs
    assert b"/api/v1/erasures" in logs
    assert b"events.recorded" in logs
    places = {
        "event store": b"\n".join(raw_event_store(bone.settings.event_store_url)),
        "stream": b"\n".join(raw_stream(bone.nats_url)),
        "read models": repr(live_dumps(bone)).encode(),
        "key store": repr(keys).encode(),
        "logs": logs,
    }
    for place, everything in places.items():
        # The search would find what is there: the member's id (or, in the key store, the
        # neighbour's) is, in plain text.
        present = neighbour["id"] if place == "key store" else member["id"]
        assert present.encode() in everything, place
        for trace in TRACES:
            for form in (
                trace.encode(),
                trace.encode("unicode_escape"),
                msgspec.json.encode(trace),
            ):
                assert form not in everything, (place, trace, form)


# The access log


def test_every_opening_of_personal_data_is_in_the_access_log(running):
    bone, client, admin, coordinator = running
    created = client.post(
        "/api/v1/staff",
        json={"username": "coord.two", "role": "coordinator", "password": COORDINATOR_PASSWORD},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    second = sign_in_staff(client, "coord.two", COORDINATOR_PASSWORD)
    one, two = (f"staff:{staff_id_for(name)}" for name in ("coord.one", "coord.two"))
    member = register(client, coordinator)
    other = register(client, coordinator, display_name="Zhang Wei")

    first = _opened(client, coordinator, member["id"], "Home visit planning")["position"]
    elsewhere = _opened(client, second, other["id"], "Checking a neighbour's address")["position"]
    latest = _opened(client, second, member["id"], "Benefit application")["position"]
    assert first < elsewhere < latest

    answer = client.get(
        "/api/v1/access-log", params={"member_id": member["id"], "after": latest}, headers=second
    )
    assert answer.status_code == 200, answer.text
    log = answer.json()
    assert [(e["position"], e["actor"], e["channel"], e["purpose"]) for e in log] == [
        (latest, two, "console", "Benefit application"),
        (first, one, "console", "Home visit planning"),
    ]
    assert {e["member_id"] for e in log} == {member["id"]}
    newest, oldest = (datetime.fromisoformat(e["opened_at"]) for e in log)
    assert newest >= oldest
    everyone = client.get("/api/v1/access-log", params={"after": latest}, headers=coordinator)
    assert [e["position"] for e in everyone.json()] == [latest, elsewhere, first]
    limited = client.get("/api/v1/access-log", params={"limit": 1}, headers=coordinator)
    assert [e["position"] for e in limited.json()] == [latest]

    # Refused openings record nothing; only coordinators open data or read the log.
    before = bone.timebank.last_position()
    for purpose in (None, "", "ab", "x" * 201):
        refused(_open(client, coordinator, member["id"], purpose), 400, "invalid-request")
    refused(_open(client, coordinator, member["id"], "   "), 422, "purpose-required")
    refused(_open(client, coordinator, str(uuid.uuid4()), "looking"), 404, "member-not-found")
    for params in ({"after": -1}, {"member_id": "not-an-id"}, {"limit": 0}, {"limit": 501}):
        answer = client.get("/api/v1/access-log", params=params, headers=coordinator)
        refused(answer, 400, "invalid-request")
    kiosk = register_kiosk(bone)
    signed_in = kiosk_sign_in(client, kiosk, member["member_number"])
    assert signed_in.status_code == 201, signed_in.text
    council = staff_headers(bone, Role.COUNCIL)
    before = bone.timebank.last_position()
    resident = bearer(signed_in.json()["token"], kiosk)
    for caller in (resident, admin, council):
        refused(_open(client, caller, member["id"], "just curious"), 403, "forbidden")
        refused(client.get("/api/v1/access-log", headers=caller), 403, "forbidden")
    refused(client.get("/api/v1/access-log"), 401, "unauthenticated")
    assert bone.timebank.last_position() == before


# Rate limits


def test_sign_ins_are_rate_limited_per_client_address(broker, stores, tmp_path):
    bone = make_backbone(tmp_path, stores.new("events"), stores.new("reads"), broker.url)
    bone.settings = msgspec.structs.replace(bone.settings, sign_ins_per_minute=3)
    create_staff(bone.timebank, "admin", Role.ADMIN)
    member = register_resident(bone, "Li Ming")
    kiosk = register_kiosk(bone)
    with run_workers(bone), TestClient(create_app(bone)) as client:
        # Three sign-ins a minute from one address, right or wrong, staff or resident...
        signed_in = kiosk_sign_in(client, kiosk, member.member_number)
        assert signed_in.status_code == 201, signed_in.text
        refused(
            kiosk_sign_in(client, kiosk, member.member_number, "0000"), 401, "wrong-credentials"
        )
        assert sign_in_staff(client, "admin", ADMIN_PASSWORD)
        # ...while a signed-in kiosk renews its resident's token on every touch, unlimited.
        session = bearer(signed_in.json()["token"], kiosk)
        for _ in range(5):
            answer = client.post("/api/v1/auth/refresh", headers=session)
            assert answer.status_code == 201, answer.text

        before = bone.timebank.last_position()
        throttled = kiosk_sign_in(client, kiosk, member.member_number)
        fourth = refused(throttled, 429, "too-many-requests")
        assert fourth["title"]
        assert throttled.headers["RateLimit-Remaining"] == "0", "a client learns it is throttled"
        assert "RateLimit-Reset" in throttled.headers, "and when it may try again"
        assert throttled.headers["Retry-After"] == throttled.headers["RateLimit-Reset"]
        refused(
            kiosk_sign_in(client, kiosk, member.member_number, "0000"), 429, "too-many-requests"
        )
        staff = {"username": "admin", "password": ADMIN_PASSWORD}
        refused(client.post("/api/v1/auth/staff", json=staff), 429, "too-many-requests")
        # A throttled PIN try is not even counted towards the lockout.
        assert bone.timebank.last_position() == before
        # Other routes are not limited.
        health = client.get("/health")
        assert health.status_code == 200, health.text
