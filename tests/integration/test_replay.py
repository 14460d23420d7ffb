"""Read models replay from the event store, then follow the stream; and the stream is bounded.

A runner with the event store's log replays what is new to it from the store (a rebuild, a new
read model, a projector that was down or fell behind), then joins the stream at the position it
reached: every event reaches every read model exactly once, whatever the stream still holds.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import ClassVar, NamedTuple

import nats
import pytest
from nats.js.errors import NotFoundError

from projections import deadletter
from projections.balances import Balances
from projections.catalog import READ_MODELS
from projections.readstore import ReadDb, ReadStore, open_read_store
from projections.runner import ProjectionRunner, durable_name
from projections.statements import Statements
from services.composition.rebuild import rebuild
from services.messaging.broker import ensure_stream, stream_size
from services.messaging.envelope import STREAM, Envelope
from services.messaging.eventlog import EventLog
from tests.integration.support import (
    Background,
    make_backbone,
    open_member,
    ring_transfer,
    run_apart,
    run_workers,
    store_positions,
    stored_envelopes,
    stream_position,
    stream_positions,
    transfer,
    wait_until,
)

TINY_STREAM_MB = 0.02  # about 35 messages


class Recording:
    """Records the position of every event it is given, in a table without a key: an event
    applied twice shows twice, one skipped is missing. ``gate``, when set on it, holds every
    event past ``held_after`` until it opens (a projector busy for a while)."""

    name = "recording"
    tables: ClassVar[dict[str, str]] = {
        "recording": "CREATE TABLE IF NOT EXISTS recording (position BIGINT NOT NULL)"
    }

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.gate.set()
        self.held_after = 0
        self.poison: int | None = None  # the position it cannot apply, until fixed

    def apply(self, db: ReadDb, envelope: Envelope) -> None:
        if envelope.position == self.poison:
            raise RuntimeError("a bug in the recording read model")
        if envelope.position > self.held_after:
            self.gate.wait(60)
        db.execute("INSERT INTO recording VALUES (%(position)s)", {"position": envelope.position})


def recorded(store: ReadStore) -> list[int]:
    with store.transaction(commit=False) as db:
        rows = db.all("SELECT position FROM recording ORDER BY position")
    return [row["position"] for row in rows]


class CountingLog(EventLog):
    """The event log, counting the events a runner took from it."""

    def __init__(self, bone) -> None:
        super().__init__(bone.timebank.recorder, bone.timebank.mapper)
        self.given: list[int] = []

    def after(self, position: int, limit: int) -> list[Envelope]:
        found = super().after(position, limit)
        self.given += [envelope.position for envelope in found]
        return found


GROUP = (Balances(), Statements())


@pytest.fixture
def bone(broker, stores, tmp_path):
    return make_backbone(
        tmp_path,
        stores.new("events"),
        stores.new("reads"),
        broker.url,
        stream_max_mb=TINY_STREAM_MB,
    )


def _members(bone, prefix: str) -> list:
    return [open_member(bone, f"{prefix}-member-{i}", grant=600).id for i in range(3)]


def _post(bone, members: list, count: int, prefix: str) -> int:
    for i in range(count):
        transfer(bone, f"{prefix}-{i}", *ring_transfer(members, i))
    return bone.timebank.last_position()


def _relayed(bone) -> bool:
    return stream_position(bone.nats_url) == bone.timebank.last_position()


def _runner(models, store: ReadStore, bone, events: EventLog, **options) -> ProjectionRunner:
    return ProjectionRunner(models, store, bone.nats_url, events=events, **options)


def _assert_equal_to_a_rebuild(bone, stores, store: ReadStore, models) -> None:
    """``models`` in ``store`` equal the same models applied afresh from every stored event."""
    fresh = open_read_store(stores.new("reads-rebuilt"), list(models))
    try:
        fresh.apply(list(models), stored_envelopes(bone))
        assert {model.name: store.dump(model) for model in models} == {
            model.name: fresh.dump(model) for model in models
        }
    finally:
        fresh.datastore.close()


class Replaying(NamedTuple):
    members: list
    head: int  # the last position of the backlog
    recording: Recording
    models: list
    store: ReadStore


@contextmanager
def replaying(bone, stores, name: str, backlog: int) -> Iterator[Replaying]:
    """The relay running; ``backlog`` transfers relayed to the bounded stream; a fresh read
    store for the group and a ``Recording`` model."""
    members = _members(bone, name)
    with run_workers(bone, models=()):
        head = _post(bone, members, backlog, "backlog") if backlog else 0
        wait_until(lambda: _relayed(bone), what="the relay")
        recording = Recording()
        models = [*GROUP, recording]
        store = open_read_store(stores.new(f"reads-{name}"), models)
        try:
            yield Replaying(members, head, recording, models, store)
        finally:
            store.datastore.close()


def _following(bone, models) -> bool:
    """Whether the group's runner has left the store for the stream (its durable consumer is
    made only then)."""

    async def consumer_exists() -> bool:
        nc = await nats.connect(bone.nats_url)
        try:
            await nc.jetstream().consumer_info(STREAM, durable_name([m.name for m in models]))
            return True
        except NotFoundError:
            return False
        finally:
            await nc.close()

    return run_apart(consumer_exists())


def test_a_runner_replays_from_the_store_then_follows_the_stream_with_no_gap_or_duplicate(
    bone, stores
):
    with replaying(bone, stores, "replay", 60) as (members, backlog, _, models, store):
        assert stream_positions(bone.nats_url)[0] > 1, "the bounded stream dropped the oldest"
        events = CountingLog(bone)
        with Background(_runner(models, store, bone, events, replay_batch_size=50).run):
            wait_until(lambda: store.position("recording") >= backlog, what="the replay")
            wait_until(lambda: _following(bone, models), what="the runner on the stream")
            live = _post(bone, members, 20, "live")
            wait_until(lambda: store.position("recording") >= live, what="live events")
        assert recorded(store) == store_positions(bone), "every event, each once"
        assert events.given == store_positions(bone)[: len(events.given)]
        assert max(events.given) == backlog, "the backlog from the store, the rest streamed"
        _assert_equal_to_a_rebuild(bone, stores, store, GROUP)


def test_a_replay_stopped_halfway_resumes_where_it_stopped(bone, stores):
    with replaying(bone, stores, "halfway", 80) as (_, head, recording, models, store):
        events = EventLog(bone.timebank.recorder, bone.timebank.mapper)
        recording.held_after = head // 2
        recording.gate.clear()  # the replay holds halfway, then is stopped there
        halfway = Background(_runner(models, store, bone, events, replay_batch_size=20).run)
        with halfway:
            wait_until(lambda: store.position("recording") >= head // 3, what="half of it")
            halfway.stop_soon()
            recording.gate.set()  # the batch in hand is applied, and the replay stops
        stopped_at = store.position("recording")
        assert 0 < stopped_at < head, "stopped in the middle of the replay"
        with Background(_runner(models, store, bone, events, replay_batch_size=20).run):
            wait_until(lambda: store.position("recording") >= head, what="the rest")
        assert recorded(store) == store_positions(bone)
        _assert_equal_to_a_rebuild(bone, stores, store, GROUP)


def test_a_poison_event_in_a_store_replay_halts_its_model_as_on_the_stream(bone, stores):
    with replaying(bone, stores, "poison", 40) as (_, head, recording, models, store):
        recording.poison = head // 2  # long gone from the bounded stream
        assert stream_positions(bone.nats_url)[0] > recording.poison
        events = EventLog(bone.timebank.recorder, bone.timebank.mapper)
        with Background(_runner(models, store, bone, events).run):
            wait_until(lambda: "recording" in deadletter.failing(store), what="the dead letter")
            failure = deadletter.failing(store)["recording"]
            assert failure.position == recording.poison
            assert "a bug in the recording read model" in failure.error
            assert store.position("recording") == recording.poison - 1, "halted before it"
            wait_until(
                lambda: (
                    store.positions(["balances", "statements"])
                    == {"balances": head, "statements": head}
                ),
                what="the rest of the group to go on",
            )
            recording.poison = None  # the fix
            wait_until(lambda: store.position("recording") >= head, timeout=90, what="heal")
        assert deadletter.failing(store) == {}
        assert recorded(store) == store_positions(bone)


def test_a_projector_that_falls_behind_the_stream_replays_from_the_store(bone, stores):
    """While it follows the stream live, the stream drops what it has not taken yet."""
    with replaying(bone, stores, "behind", 0) as (members, _, recording, models, store):
        start = _post(bone, members, 5, "start")
        events = CountingLog(bone)
        with Background(_runner(models, store, bone, events, batch_size=10).run):
            wait_until(lambda: store.position("recording") >= start, what="the start")
            recording.held_after = start
            recording.gate.clear()  # busy: the stream moves on without it
            dropped = _post(bone, members, 60, "meanwhile")
            wait_until(lambda: _relayed(bone), what="the relay")
            assert stream_positions(bone.nats_url)[0] > start + 10
            recording.gate.set()
            wait_until(lambda: store.position("recording") >= dropped, what="the catch-up")
        assert recorded(store) == store_positions(bone)
        assert any(start < given <= dropped for given in events.given), "from the store"
        _assert_equal_to_a_rebuild(bone, stores, store, GROUP)


def test_with_a_tiny_stream_bound_every_reader_gets_every_event_once(bone, stores):
    """A new read store, a restarted projector and a rebuild, all past what the stream holds."""
    members = _members(bone, "bounded")
    with run_workers(bone):  # the relay and every read model, live
        first = _post(bone, members, 30, "first")
        wait_until(lambda: bone.reads.position("balances") >= first, what="the live models")
    # The projector is down while the stream moves on far past it.
    with run_workers(bone, models=()):
        second = _post(bone, members, 60, "second")
        wait_until(lambda: _relayed(bone), what="the relay")
    held = stream_positions(bone.nats_url)
    assert held[0] > first, "what the projector needs next is gone from the stream"
    assert len(held) < len(store_positions(bone)) / 4
    with run_workers(bone):  # the projector restarted
        wait_until(
            lambda: all(bone.reads.position(name) >= second for name in READ_MODELS),
            what="the restarted projector",
        )
    _assert_equal_to_a_rebuild(bone, stores, bone.reads, list(READ_MODELS.values()))

    statements = READ_MODELS["statements"]
    events = EventLog(bone.timebank.recorder, bone.timebank.mapper)
    before = bone.reads.dump(statements)
    position, done = asyncio.run(
        rebuild(statements, bone.reads, bone.nats_url, events, asyncio.Event(), lambda *_: None)
    )
    assert done and position == second
    assert bone.reads.dump(statements) == before


def _stream_bytes(nats_url: str) -> tuple[int, int]:
    """What the stream holds, in bytes, and its bound."""

    async def sizes() -> tuple[int, int]:
        async with await nats.connect(nats_url) as nc:
            return await stream_size(nc.jetstream())

    return run_apart(sizes())


def _applied_everywhere(bone, position: int) -> bool:
    return all(bone.reads.position(name) >= position for name in READ_MODELS)


def test_the_stream_stays_within_its_bound_while_the_projectors_keep_up(bone, stores):
    """Many times its bound goes through the stream while every read model follows it live:
    at every step the stream holds no more than its bound, and the read models miss nothing
    it dropped (what they had not taken, they read from the store)."""
    bound = int(TINY_STREAM_MB * 1024 * 1024)
    members = _members(bone, "within")
    sizes = []
    with run_workers(bone):
        wait_until(lambda: _relayed(bone), what="the stream")
        for i in range(60):
            last = _post(bone, members, 1, f"within-{i}")
            sizes.append(_stream_bytes(bone.nats_url))
            if i % 10 == 9:
                wait_until(partial(_applied_everywhere, bone, last), what="the live models")
        wait_until(lambda: _relayed(bone), what="the relay")
        sizes.append(_stream_bytes(bone.nats_url))
    assert {limit for _, limit in sizes} == {bound}
    assert all(held <= bound for held, _ in sizes), max(held for held, _ in sizes)
    assert max(held for held, _ in sizes) > bound / 2, "the stream was filled to its bound"
    held = stream_positions(bone.nats_url)
    assert len(held) < len(store_positions(bone)) / 4, "most events were dropped"
    _assert_equal_to_a_rebuild(bone, stores, bone.reads, list(READ_MODELS.values()))


def test_the_relay_bounds_a_stream_made_without_a_bound(broker):
    async def bounds() -> list[int]:
        nc = await nats.connect(broker.url)
        try:
            js = nc.jetstream()
            found = []
            for max_mb in (0, 0.5, 0):  # made unbounded, bounded, then unbounded again
                await ensure_stream(js, 1, max_mb)
                found.append((await js.stream_info(STREAM)).config.max_bytes)
            return found
        finally:
            await nc.close()

    assert asyncio.run(bounds()) == [-1, 512 * 1024, -1]
