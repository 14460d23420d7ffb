"""Faults on real parts: a relay or a projection process SIGKILLed mid-stream, and the broker
going away while commands keep coming. Nothing may be lost, repeated or reordered, and the
read models must end exactly as a rebuild from scratch would make them.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from uuid import UUID

import nats
import pytest
from litestar.testing import TestClient
from nats.errors import Error as NatsError

from domain.ledger import Transfer
from projections.catalog import READ_MODELS
from projections.runner import durable_name
from services.composition.app import create_app
from services.messaging.envelope import STREAM
from tests.integration.support import (
    COMMUNITY,
    POOL,
    Background,
    Part,
    Poster,
    caught_up,
    live_dumps,
    make_backbone,
    open_member,
    rebuilt_dumps,
    ring_transfer,
    run_workers,
    staff_headers,
    store_positions,
    stream_position,
    stream_positions,
    transfer,
    wait_until,
)

TRANSFERS = 5_000
EVENTS_PER_TRANSFER = 3  # TransferPosted and one EntryPosted per leg
RING = 4
GRANT = 600  # ring transfers move at most 5 minutes, far from the -600 floor and the cap
KILL_AFTER = 600  # events of the run that must be through before the kill


@pytest.fixture
def bone(broker, stores, tmp_path):
    """The command side and read store in this process."""
    return make_backbone(tmp_path, stores.new("events"), stores.new("reads"), broker.url)


def _members(bone) -> list:
    return [open_member(bone, f"member-{i}", grant=GRANT).id for i in range(RING)]


def _posted_legs(bone) -> Counter:
    """(account, transfer) for every leg of every transfer in the event store."""
    legs: Counter = Counter()
    for notification in bone.timebank.recorder.select_notifications(start=1, limit=1_000_000):
        event = bone.timebank.mapper.to_domain_event(notification)
        if isinstance(event, Transfer.TransferPosted):
            legs.update((str(leg.account_id), str(event.originator_id)) for leg in event.legs)
    return legs


def _assert_read_models_match_the_store(bone, accounts) -> None:
    """Balances equal the aggregates', and every posted leg is in the statements exactly once."""
    legs = _posted_legs(bone)
    entries_per_account = Counter(account for account, _ in legs.elements())
    with bone.reads.transaction(commit=False) as db:
        rows = {row["account_id"]: row for row in db.all("SELECT * FROM balances")}
        statement = Counter(
            (row["account_id"], row["transfer_id"])
            for row in db.all("SELECT account_id, transfer_id FROM statement_entries")
        )
    for account_id in (*accounts, COMMUNITY, POOL):
        row = rows[str(account_id)]
        assert row["balance"] == bone.timebank.repository.get(account_id).balance, account_id
        assert row["entries"] == entries_per_account[str(account_id)], account_id
    assert statement == legs, "every leg exactly once in the statements"
    assert sum(row["balance"] for row in rows.values()) == 0


def test_a_relay_killed_mid_stream_loses_and_repeats_nothing(bone, broker, stores, tmp_path):
    members = _members(bone)
    with (
        run_workers(bone, relay=False),
        Part(bone, "relay", log_dir=tmp_path) as relay,
        Poster(bone, members, TRANSFERS) as poster,
    ):
        relay.start()
        wait_until(
            lambda: stream_position(broker.url) == bone.timebank.last_position(),
            timeout=60,
            what="the relay process to publish the opened accounts",
        )
        before = bone.timebank.last_position()
        final = before + EVENTS_PER_TRANSFER * TRANSFERS
        poster.start()
        wait_until(
            lambda: stream_position(broker.url) >= before + KILL_AFTER,
            timeout=120,
            what="the relay to publish part of the transfers",
        )
        assert poster.is_alive(), "the kill must come while transfers are still being posted"
        relay.kill()
        published = stream_position(broker.url)
        assert before < published < final, "killed with some, not all, of them published"

        relay.start()
        poster.join(timeout=240)
        assert bone.timebank.last_position() == final
        wait_until(lambda: caught_up(bone), timeout=240, what="relay and read models")

    assert stream_positions(broker.url) == store_positions(bone), "once each, in order"
    _assert_read_models_match_the_store(bone, members)
    assert rebuilt_dumps(stores.new("rebuilt"), broker.url) == live_dumps(bone)


def test_a_projection_killed_mid_stream_applies_everything_once(bone, broker, stores, tmp_path):
    members = _members(bone)
    with (
        run_workers(bone, models=()),
        Part(bone, "project", log_dir=tmp_path) as projector,
        Poster(bone, members, TRANSFERS) as poster,
    ):
        projector.start()
        wait_until(
            lambda: caught_up(bone), timeout=60, what="the projection process to start applying"
        )
        before = bone.timebank.last_position()
        final = before + EVENTS_PER_TRANSFER * TRANSFERS
        poster.start()
        wait_until(
            lambda: all(bone.reads.position(name) >= before + KILL_AFTER for name in READ_MODELS),
            timeout=120,
            what="the read models to apply part of the transfers",
        )
        assert poster.is_alive(), "the kill must come while transfers are still being posted"
        projector.kill()
        reached = {name: bone.reads.position(name) for name in READ_MODELS}
        assert all(before < position < final for position in reached.values()), reached

        projector.start()
        poster.join(timeout=240)
        assert bone.timebank.last_position() == final
        wait_until(lambda: caught_up(bone), timeout=240, what="the restarted projection process")
        projector.stop()

        _assert_read_models_match_the_store(bone, members)
    assert stream_positions(broker.url) == store_positions(bone)
    assert rebuilt_dumps(stores.new("rebuilt"), broker.url) == live_dumps(bone)


def test_commands_keep_working_while_the_broker_is_down(bone, broker, stores):
    accounts = _members(bone)
    members = [str(account) for account in accounts]
    sent: Counter = Counter()

    def post(i: int) -> int:
        source, target, minutes = ring_transfer(members, i)
        response = client.post(
            "/api/v1/transfers",
            json={
                "idempotency_key": f"http-transfer-{i:05d}",
                "from_account": source,
                "to_account": target,
                "minutes": minutes,
            },
        )
        assert response.status_code == 201, (i, response.status_code, response.text)
        sent[source] -= minutes
        sent[target] += minutes
        return response.json()["position"]

    with run_workers(bone), TestClient(create_app(bone)) as client:
        client.headers.update(staff_headers(bone))
        positions = [post(i) for i in range(200)]
        healthy = client.get("/health").json()
        assert healthy["status"] == "ok" and healthy["broker_connected"] is True
        wait_until(
            lambda: all(bone.reads.position(name) >= positions[99] for name in READ_MODELS),
            timeout=60,
            what="transfers reaching the read models before the outage",
        )

        broker.stop()  # while the relay and the projections are still busy with the rest
        positions += [post(i) for i in range(200, 400)]
        assert positions == sorted(positions) and positions[-1] == bone.timebank.last_position()
        health = client.get("/health")
        assert health.status_code == 503
        assert health.json()["status"] == "degraded"
        assert health.json()["broker_connected"] is False
        assert health.json()["stream_position"] is None
        assert health.json()["store_position"] == positions[-1]
        assert all(bone.reads.position(name) < positions[-1] for name in READ_MODELS), (
            "nothing can reach the read models while the broker is down"
        )

        broker.start()
        positions += [post(i) for i in range(400, 500)]
        wait_until(lambda: caught_up(bone), timeout=120, what="read models after the outage")
        recovered = client.get("/health").json()
        assert recovered["status"] == "ok" and recovered["broker_connected"] is True
        assert recovered["stream_position"] == positions[-1]
        assert recovered["relay_lag"] == 0
        assert {p["lag"] for p in recovered["projections"].values()} == {0}

        _assert_read_models_match_the_store(bone, accounts)
        for member in members:
            shown = client.get(f"/api/v1/accounts/{member}", params={"after": positions[-1]})
            assert shown.status_code == 200, shown.text
            assert shown.json()["balance"] == GRANT + sent[member]
            assert shown.json()["balance"] == bone.timebank.repository.get(UUID(member)).balance

    assert stream_positions(broker.url) == store_positions(bone)
    assert rebuilt_dumps(stores.new("rebuilt"), broker.url) == live_dumps(bone)


def test_a_delivery_lost_on_the_way_is_fetched_again_not_skipped(bone, broker, stores):
    """A message the broker delivered that never reached the projection (a connection dropped
    mid-delivery; two projectors on one consumer during a rolling deploy) must not be skipped:
    applying what came after it first would make its redelivery look applied already.
    """
    members = _members(bone)
    stolen: list[int] = []

    async def take_and_drop(stop: asyncio.Event) -> None:
        """Pull from the projections' durable consumer beside them, and never acknowledge."""
        nc = await nats.connect(broker.url)
        js = nc.jetstream()
        pull = await js.pull_subscribe_bind(durable=durable_name(list(READ_MODELS)), stream=STREAM)
        while not stop.is_set():
            try:
                messages = await pull.fetch(3, timeout=0.2)
            except (TimeoutError, NatsError):
                continue  # nothing there, or the projections were just re-pointing it
            stolen.extend(message.metadata.sequence.stream for message in messages)
        await nc.close()

    with run_workers(bone):
        wait_until(lambda: caught_up(bone), timeout=60, what="the projections to start")
        posted = 0
        with Background(take_and_drop):
            while len(stolen) < 3:  # a hole or more, each found and fetched again
                transfer(bone, f"lost-{posted}", *ring_transfer(members, posted))
                posted += 1
                assert posted < 3_000, f"nothing was taken from a projection: {stolen}"
        for i in range(posted, posted + 20):  # more after the holes, whatever was taken last
            transfer(bone, f"lost-{i}", *ring_transfer(members, i))
        wait_until(lambda: caught_up(bone), timeout=120, what="the read models")
        _assert_read_models_match_the_store(bone, members)
    assert rebuilt_dumps(stores.new("rebuilt"), broker.url) == live_dumps(bone)
