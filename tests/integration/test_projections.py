"""Read models run as a group: one consumer, one read-store transaction per batch for all of
them, each tracked under its own name and skipping what it has applied already."""

from __future__ import annotations

import asyncio
import threading
from typing import ClassVar

import nats
import pytest

from projections.balances import Balances
from projections.readstore import ReadDb, ReadStore, open_read_store
from projections.runner import ProjectionRunner
from projections.statements import Statements
from services.messaging.envelope import STREAM, Envelope
from tests.integration.support import (
    Background,
    make_backbone,
    open_member,
    ring_transfer,
    run_workers,
    stored_envelopes,
    stream_position,
    transfer,
    wait_until,
)

GROUP = (Balances(), Statements())


class Exploding:
    """A read model with a bug: it fails on the event at position ``fatal``."""

    name = "exploding"
    tables: ClassVar[dict[str, str]] = {
        "exploding": "CREATE TABLE IF NOT EXISTS exploding (position BIGINT PRIMARY KEY)"
    }

    def __init__(self, fatal: int) -> None:
        self.fatal = fatal

    def apply(self, db: ReadDb, envelope: Envelope) -> None:
        if envelope.position == self.fatal:
            raise RuntimeError("a bug in this read model")
        db.execute("INSERT INTO exploding VALUES (%(position)s)", {"position": envelope.position})


@pytest.fixture
def bone(broker, stores, tmp_path):
    return make_backbone(tmp_path, stores.new("events"), stores.new("reads"), broker.url)


def _post_ring(bone, count: int, prefix: str) -> None:
    members = [open_member(bone, f"{prefix}-member-{i}", grant=300).id for i in range(3)]
    for i in range(count):
        transfer(bone, f"{prefix}-{i}", *ring_transfer(members, i))


def _fresh(stores, name: str, models) -> ReadStore:
    return open_read_store(stores.new(name), list(models))


def _dumps(store: ReadStore, models) -> dict:
    return {model.name: store.dump(model) for model in models}


def _assert_equal_to_a_rebuild(bone, stores) -> None:
    """The group's live read models equal ones applied afresh from every stored event."""
    rebuilt = _fresh(stores, "reads-rebuilt", GROUP)
    try:
        rebuilt.apply(GROUP, stored_envelopes(bone))
        assert _dumps(bone.reads, GROUP) == _dumps(rebuilt, GROUP)
    finally:
        rebuilt.datastore.close()


def test_a_group_applies_a_batch_to_all_its_models_in_one_transaction(bone, stores):
    _post_ring(bone, 10, "one-transaction")
    envelopes = stored_envelopes(bone)
    exploding = Exploding(fatal=envelopes[len(envelopes) // 2].position)
    store = _fresh(stores, "reads-grouped", (*GROUP, exploding))
    try:
        with pytest.raises(RuntimeError):
            store.apply([*GROUP, exploding], envelopes)
        assert store.positions(["balances", "statements", "exploding"]) == {
            "balances": 0,
            "statements": 0,
            "exploding": 0,
        }, "one model's failure undoes the whole batch, for every model of the group"
        assert store.dump(Balances()) == {"balances": []}

        assert store.apply(GROUP, envelopes) == {
            "balances": envelopes[-1].position,
            "statements": envelopes[-1].position,
        }
        assert store.positions(["balances", "statements"]) == {
            "balances": envelopes[-1].position,
            "statements": envelopes[-1].position,
        }
    finally:
        store.datastore.close()


def test_a_model_behind_the_rest_of_its_group_catches_up_and_nothing_is_applied_twice(bone, stores):
    _post_ring(bone, 20, "behind")
    envelopes = stored_envelopes(bone)
    middle = len(envelopes) // 2
    grouped = _fresh(stores, "reads-grouped", GROUP)
    alone = _fresh(stores, "reads-alone", GROUP)
    try:
        grouped.apply([Balances()], envelopes[: middle + 7])
        grouped.apply([Statements()], envelopes[:middle])
        # Overlapping batches, as redeliveries and a resumed consumer bring them.
        for start in range(middle - 10, len(envelopes), 25):
            grouped.apply(GROUP, envelopes[start : start + 40])
        alone.apply(GROUP, envelopes)
        assert grouped.positions(["balances", "statements"]) == {
            "balances": envelopes[-1].position,
            "statements": envelopes[-1].position,
        }
        assert _dumps(grouped, GROUP) == _dumps(alone, GROUP)
    finally:
        grouped.datastore.close()
        alone.datastore.close()


def test_a_group_resumes_from_its_lowest_model_and_equals_a_rebuild(bone, broker, stores):
    with run_workers(bone, models=()):  # the relay only
        _post_ring(bone, 20, "first")
        wait_until(lambda: stream_position(broker.url) == bone.timebank.last_position())
        runner = ProjectionRunner(GROUP, bone.reads, broker.url)
        asyncio.run(runner.run(asyncio.Event(), on_progress=lambda *_: None))
        assert runner.position == bone.timebank.last_position()

        # Statements is dropped and starts again from nothing, while balances is at the head.
        bone.reads.drop(Statements())
        bone.reads.create(Statements())
        _post_ring(bone, 10, "second")
        wait_until(lambda: stream_position(broker.url) == bone.timebank.last_position())
        runner = ProjectionRunner(GROUP, bone.reads, broker.url)
        asyncio.run(runner.run(asyncio.Event(), on_progress=lambda *_: None))

    head = bone.timebank.last_position()
    assert bone.reads.positions(["balances", "statements"]) == {
        "balances": head,
        "statements": head,
    }
    _assert_equal_to_a_rebuild(bone, stores)


def test_a_failing_model_leaves_its_group_and_the_rest_keep_up(bone, broker):
    with run_workers(bone, models=()):  # the relay only
        _post_ring(bone, 10, "failing")
        exploding = Exploding(fatal=stored_envelopes(bone)[-12].position)
        bone.reads.create(exploding)
        runner = ProjectionRunner([*GROUP, exploding], bone.reads, broker.url)
        with Background(runner.run):
            head = bone.timebank.last_position()
            wait_until(
                lambda: (
                    bone.reads.positions(["balances", "statements"])
                    == {"balances": head, "statements": head}
                ),
                what="the healthy models to reach the head",
            )
            _post_ring(bone, 5, "after")
            head = bone.timebank.last_position()
            wait_until(lambda: runner.position == head, what="the group to go on without it")
            assert runner.names == ["balances", "statements"]
            assert bone.reads.position("exploding") < exploding.fatal, (
                "the failing model stays before its bad event, retrying on its own"
            )
    with bone.reads.transaction(commit=False) as db:
        applied = [row["position"] for row in db.all("SELECT position FROM exploding")]
    assert all(position < exploding.fatal for position in applied)


class Gate:
    """A read model that holds its transaction open at its first event until released."""

    name = "gate"
    tables: ClassVar[dict[str, str]] = {}

    def __init__(self) -> None:
        self.inside = threading.Event()
        self.release = threading.Event()

    def apply(self, db: ReadDb, envelope: Envelope) -> None:
        self.inside.set()
        assert self.release.wait(30), "never released"


class Signal:
    """A read model that says when its transaction has got to it."""

    name = "signal"
    tables: ClassVar[dict[str, str]] = {}

    def __init__(self) -> None:
        self.reached = threading.Event()

    def apply(self, db: ReadDb, envelope: Envelope) -> None:
        self.reached.set()


def test_two_projectors_of_one_model_take_turns_and_apply_nothing_twice(bone, stores):
    """Two groups sharing a read model (overlapping `timebank project`s, a rolling deploy) each
    consume every event. While one applies a batch, the other must wait for it, then skip what
    it applied: balance updates carry no key that would refuse a second application."""
    _post_ring(bone, 10, "turns")
    envelopes = stored_envelopes(bone)
    start = len(envelopes) - 20  # past the accounts' opening: balance updates only
    store = _fresh(stores, "reads-turns", GROUP)
    alone = _fresh(stores, "reads-alone", GROUP)
    try:
        store.apply([Balances()], envelopes[:start])
        gate, signal = Gate(), Signal()
        first = threading.Thread(
            target=store.apply, args=([Balances(), gate], envelopes[start : start + 8])
        )
        second = threading.Thread(
            target=store.apply, args=([Balances(), signal], envelopes[start : start + 16])
        )
        first.start()
        assert gate.inside.wait(30)
        second.start()
        # The second must not get past reading the positions while the first is applying.
        assert not signal.reached.wait(1), "the second applied beside the first"
        gate.release.set()
        first.join(30)
        second.join(30)
        store.apply(GROUP, envelopes)
        alone.apply(GROUP, envelopes)
        assert _dumps(store, GROUP) == _dumps(alone, GROUP)
    finally:
        store.datastore.close()
        alone.datastore.close()


def test_a_group_whose_consumer_disappears_points_a_new_one_at_its_position(bone, broker, stores):
    async def delete_consumer(name: str) -> None:
        nc = await nats.connect(broker.url)
        await nc.jetstream().delete_consumer(STREAM, name)
        await nc.close()

    runner = ProjectionRunner(GROUP, bone.reads, broker.url)
    with run_workers(bone, models=()), Background(runner.run):
        _post_ring(bone, 5, "before")
        head = bone.timebank.last_position()
        wait_until(lambda: runner.position == head, what="the group to reach the head")
        asyncio.run(delete_consumer(runner.durable_name))
        _post_ring(bone, 5, "after")
        head = bone.timebank.last_position()
        wait_until(lambda: runner.position == head, what="the group, on a consumer of its own")
    _assert_equal_to_a_rebuild(bone, stores)
