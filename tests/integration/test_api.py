"""The HTTP API on the real app, store, broker and read models."""

from __future__ import annotations

import uuid

import pytest
from litestar.testing import TestClient

from projections.catalog import READ_MODELS
from services.composition.app import create_app
from tests.integration.support import (
    caught_up,
    make_backbone,
    run_workers,
    wait_until,
    working_staff_headers,
)

PROBLEM = "application/problem+json"


@pytest.fixture
def running(broker, stores, tmp_path):
    bone = make_backbone(tmp_path, stores.new("events"), stores.new("reads"), broker.url)
    with run_workers(bone), TestClient(create_app(bone)) as client:
        client.headers.update(working_staff_headers(bone, "api.coordinator"))
        yield bone, client


def _open(client, owner: str) -> str:
    response = client.post("/api/v1/accounts", json={"owner": owner})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _transfer(client, source: str, target: str, minutes, **extra):
    body = {"idempotency_key": uuid.uuid4().hex, "from_account": source, "to_account": target}
    body["minutes"] = minutes
    return client.post("/api/v1/transfers", json={**body, **extra})


def test_a_transfer_is_visible_at_once_with_after(running):
    _, client = running
    giver, taker = _open(client, "giver"), _open(client, "taker")
    assert _transfer(client, "community", giver, 120).status_code == 201
    posted = _transfer(client, giver, taker, 90, memo="陪伴聊天")
    assert posted.status_code == 201
    position = posted.json()["position"]

    account = client.get(f"/api/v1/accounts/{taker}", params={"after": position})
    assert account.status_code == 200
    assert account.json()["balance"] == 90
    assert account.json()["position"] >= position
    statement = client.get(f"/api/v1/accounts/{giver}/statement", params={"after": position}).json()
    assert [(e["minutes"], e["balance"], e["memo"]) for e in statement["entries"]] == [
        (-90, 30, "陪伴聊天"),
        (120, 120, ""),
    ]
    assert statement["entries"][0]["counterpart"] == taker


def test_a_retried_transfer_posts_once(running):
    bone, client = running
    giver, taker = _open(client, "giver"), _open(client, "taker")
    body = {"idempotency_key": "retry-0001", "from_account": "community", "to_account": giver}
    first = client.post("/api/v1/transfers", json={**body, "minutes": 30})
    position = bone.timebank.last_position()
    again = client.post("/api/v1/transfers", json={**body, "minutes": 30})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["replayed"] is True and again.json()["id"] == first.json()["id"]
    assert bone.timebank.last_position() == position
    reused = client.post("/api/v1/transfers", json={**body, "to_account": taker, "minutes": 30})
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency-key-reused"
    balance = client.get(f"/api/v1/accounts/{giver}", params={"after": position}).json()["balance"]
    assert balance == 30


def test_a_retry_answers_as_the_first_time_even_after_the_balance_moved_on(running):
    bone, client = running
    giver, taker = _open(client, "giver"), _open(client, "taker")
    body = {"idempotency_key": "retry-later-1", "from_account": giver, "to_account": taker}
    first = client.post("/api/v1/transfers", json={**body, "minutes": 500})
    assert first.status_code == 201
    assert _transfer(client, giver, taker, 100).status_code == 201  # now at the floor
    position = bone.timebank.last_position()
    again = client.post("/api/v1/transfers", json={**body, "minutes": 500})
    assert again.status_code == 200, again.text
    assert again.json() == {**first.json(), "position": position, "replayed": True}
    assert bone.timebank.last_position() == position


def test_statement_pages_newest_first(running):
    _, client = running
    member = _open(client, "busy")
    for minutes in range(1, 8):
        last = _transfer(client, "community", member, minutes).json()["position"]
    first = client.get(f"/api/v1/accounts/{member}/statement", params={"after": last, "limit": 5})
    page = first.json()
    assert [e["minutes"] for e in page["entries"]] == [7, 6, 5, 4, 3]
    rest = client.get(
        f"/api/v1/accounts/{member}/statement", params={"limit": 5, "before": page["next_before"]}
    ).json()
    assert [e["minutes"] for e in rest["entries"]] == [2, 1]
    assert rest["next_before"] is None


def test_corrections_and_closure(running):
    _, client = running
    giver, taker = _open(client, "giver"), _open(client, "taker")
    _transfer(client, "community", giver, 100)
    posted = _transfer(client, giver, taker, 60).json()
    fix = client.post(
        f"/api/v1/transfers/{posted['id']}/corrections",
        json={"idempotency_key": "fix-00001", "minutes": 20, "reason": "it was 40 minutes"},
    )
    assert fix.status_code == 201, fix.text
    over = client.post(
        f"/api/v1/transfers/{posted['id']}/corrections",
        json={"idempotency_key": "fix-00002", "minutes": 41, "reason": "again"},
    )
    assert over.status_code == 422 and over.json()["code"] == "over-correction"
    closed = client.post(f"/api/v1/accounts/{taker}/closure", json={"reason": "moved away"})
    assert closed.status_code == 201
    position = closed.json()["position"]
    pool = client.get("/api/v1/accounts/pool", params={"after": position}).json()
    assert pool["balance"] == 40
    assert client.get(f"/api/v1/accounts/{taker}").json()["is_closed"] is True


BAD_TRANSFERS = [
    ({"minutes": 0}, 400, "invalid-request"),
    ({"minutes": -5}, 400, "invalid-request"),
    ({"minutes": 1.5}, 400, "invalid-request"),
    ({"minutes": "sixty"}, 400, "invalid-request"),
    ({"minutes": [60]}, 400, "invalid-request"),
    ({"minutes": None}, 400, "invalid-request"),
    ({"minutes": True}, 400, "invalid-request"),
    ({"minutes": 10, "surprise": 1}, 400, "invalid-request"),
    ({"minutes": 10, "occurred_at": "2026-01-01T10:00:00"}, 422, "time-zone-required"),
    ({"minutes": 10, "occurred_at": "2999-01-01T10:00:00Z"}, 422, "date-in-future"),
    ({"minutes": 10, "to_account": str(uuid.uuid4())}, 404, "account-not-found"),
    ({"minutes": 10, "to_account": "not-an-account"}, 404, "account-not-found"),
    ({"minutes": 10, "to_account": "SELF"}, 422, "same-account"),
    ({"minutes": 10, "to_account": "CLOSED"}, 422, "account-closed"),
    ({"minutes": 5000}, 422, "below-floor"),
    ({"minutes": 10, "idempotency_key": "short"}, 400, "invalid-request"),
]


@pytest.mark.parametrize(("change", "status", "code"), BAD_TRANSFERS)
def test_bad_transfers_are_refused_and_record_nothing(running, change, status, code):
    bone, client = running
    member, closed = _open(client, "member"), _open(client, "leaver")
    client.post(f"/api/v1/accounts/{closed}/closure", json={"reason": "left"})
    body = {"idempotency_key": uuid.uuid4().hex, "from_account": member, "to_account": "pool"}
    body.update(change)
    body["to_account"] = {"SELF": member, "CLOSED": closed}.get(
        body["to_account"], body["to_account"]
    )
    before = bone.timebank.last_position()

    response = client.post("/api/v1/transfers", json=body)

    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["code"] == code
    assert problem["status"] == status and problem["detail"]
    assert bone.timebank.last_position() == before


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"{not json", 400, "invalid-request"),
        (b'{"idempotency_key": "missing-the-rest"}', 400, "invalid-request"),
        (b"[]", 400, "invalid-request"),
        (b'{"memo": "' + b"x" * 70_000 + b'"}', 413, "body-too-large"),
    ],
)
def test_malformed_bodies_are_refused_and_record_nothing(running, content, status, code):
    bone, client = running
    before = bone.timebank.last_position()
    response = client.post(
        "/api/v1/transfers", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["code"] == code
    assert bone.timebank.last_position() == before


def test_health_reports_positions_and_lag(running):
    bone, client = running
    _open(client, "someone")
    wait_until(lambda: caught_up(bone), what="read models")
    wait_until(lambda: client.get("/health").json()["relay_lag"] == 0, what="relay")
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["broker_connected"] is True
    assert health["stream_position"] == health["store_position"] == bone.timebank.last_position()
    assert {name: p["lag"] for name, p in health["projections"].items()} == dict.fromkeys(
        READ_MODELS, 0
    )


def test_openapi_describes_the_api(running):
    _, client = running
    schema = client.get("/schema/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/accounts", "/api/v1/transfers", "/api/v1/accounts/{ref}/statement"} <= set(
        paths
    )
