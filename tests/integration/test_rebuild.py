"""`timebank rebuild` is safe whatever else runs: beside a live projector with events flowing,
and beside other rebuilds, every rebuilt read model ends exactly as a rebuild from scratch
would make it."""

from __future__ import annotations

import os
import subprocess

import pytest

from projections import rebuilds
from projections.catalog import READ_MODELS
from projections.rebuilds import RebuildRefused
from tests.integration.support import (
    TIMEBANK,
    Part,
    Poster,
    caught_up,
    live_dumps,
    make_backbone,
    open_member,
    rebuilt_dumps,
    ring_transfer,
    run_workers,
    transfer,
    wait_until,
)

# Rebuilt all at the same time: the ledger's, and two that read what they wrote before.
REBUILT = ("balances", "statements", "exchanges", "council")


def _rebuild_at_once(env: dict[str, str]) -> None:
    """`timebank rebuild` of each of ``REBUILT``, all at the same time; each must succeed."""
    rebuilds = {
        name: subprocess.Popen(
            [str(TIMEBANK), "rebuild", name],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name in REBUILT
    }
    for name, rebuild in rebuilds.items():
        output, _ = rebuild.communicate(timeout=300)
        assert rebuild.returncode == 0, f"{name}: {output}"
        assert f"{name} rebuilt up to position" in output


def test_rebuilds_beside_a_running_projector_equal_one_from_scratch(broker, stores, tmp_path):
    bone = make_backbone(tmp_path, stores.new("events"), stores.new("reads"), broker.url)
    members = [open_member(bone, f"member-{i}", grant=600).id for i in range(4)]
    env = {
        **os.environ,
        "TIMEBANK_NATS_URL": broker.url,
        "TIMEBANK_EVENT_STORE": bone.settings.event_store_url,
        "TIMEBANK_READ_STORE": bone.settings.read_store_url,
        "TIMEBANK_DATA": str(bone.settings.data_dir),
    }
    with (
        run_workers(bone, models=()),  # the relay
        Part(bone, "project", log_dir=tmp_path) as projector,  # every read model, as in `up`
    ):
        projector.start()
        wait_until(lambda: caught_up(bone), what="the projector")
        with Poster(bone, members, 100_000) as poster:
            poster.start()
            start = bone.timebank.last_position()
            wait_until(
                lambda: bone.reads.position("balances") > start + 300,
                what="the projector to apply transfers as they come",
            )
            _rebuild_at_once(env)
            assert poster.is_alive(), "events must flow all through the rebuilds"
        wait_until(lambda: caught_up(bone), timeout=120, what="the read models after the rebuilds")
        assert projector.is_running()
    rebuilt = rebuilt_dumps(stores.new("rebuilt"), broker.url)
    live = live_dumps(bone)
    for name in READ_MODELS:
        assert live[name] == rebuilt[name], name


def test_a_second_rebuild_of_a_model_is_refused_while_the_first_holds_it(broker, stores, tmp_path):
    bone = make_backbone(tmp_path, stores.new("events"), stores.new("reads"), broker.url)
    model = READ_MODELS["statements"]
    rebuilds.reset(bone.reads, model, "first")
    with pytest.raises(RebuildRefused, match="being rebuilt"):
        rebuilds.reset(bone.reads, model, "second")
    rebuilds.give_back(bone.reads, model.name, "first", done=True)
    rebuilds.reset(bone.reads, model, "second")


def test_a_rebuild_keeps_its_lease_by_applying(broker, stores, tmp_path):
    bone = make_backbone(tmp_path, stores.new("events"), stores.new("reads"), broker.url)
    model = READ_MODELS["statements"]
    rebuilds.reset(bone.reads, model, "applying")
    with bone.reads.transaction(commit=True) as db:  # as if it were about to lapse
        db.execute(f"UPDATE {rebuilds.TABLE} SET renewed_at = 0")
    bone.reads.apply([model], [], rebuild="applying")
    assert rebuilds.rebuilding(bone.reads, [model.name]) == [model.name]


@pytest.mark.parametrize("ending", ["stopped", "killed"])
def test_a_projector_finishes_a_model_whose_rebuild_ended_early(
    broker, stores, tmp_path, monkeypatch, ending
):
    """A rebuild stopped (its lease given up) or killed (its lease left to lapse) after it had
    dropped its model: the running projector takes the model over and finishes it."""
    bone = make_backbone(tmp_path, stores.new("events"), stores.new("reads"), broker.url)
    members = [open_member(bone, f"member-{i}", grant=600).id for i in range(4)]
    with run_workers(bone):
        wait_until(lambda: caught_up(bone), what="the projector")
        rebuilds.reset(bone.reads, READ_MODELS["statements"], "ended-early")
        for i in range(40):  # the others keep up meanwhile; statements waits
            transfer(bone, f"meanwhile-{i}", *ring_transfer(members, i))
        wait_until(lambda: bone.reads.position("balances") == bone.timebank.last_position())
        assert bone.reads.position("statements") == 0
        if ending == "stopped":
            rebuilds.give_back(bone.reads, "statements", "ended-early", done=False)
        else:  # no one renews it: it lapses (after a second here, not a minute)
            monkeypatch.setattr(rebuilds, "LEASE_SECONDS", 1.0)
        wait_until(lambda: caught_up(bone), what="the projector to finish statements")
        with pytest.raises(RebuildRefused, match="taken over"):
            bone.reads.apply([READ_MODELS["statements"]], [], rebuild="ended-early")
    assert rebuilt_dumps(stores.new("rebuilt"), broker.url) == live_dumps(bone)
