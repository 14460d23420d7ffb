"""Scale-out: a 3-node JetStream cluster from infra/nats/cluster.conf, the stream at 3 replicas;
losing any one node loses nothing."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import msgspec
import nats
import pytest

from services.messaging.broker import free_port, nats_server_binary
from services.messaging.envelope import STREAM
from tests.integration.support import (
    caught_up,
    live_dumps,
    make_backbone,
    open_member,
    rebuilt_dumps,
    run_workers,
    transfer,
    wait_until,
)

CONFIG = Path(__file__).resolve().parents[2] / "infra" / "nats" / "cluster.conf"


class Node:
    def __init__(self, name: str, store: Path, cluster_port: int, routes: str) -> None:
        self.port = free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "NATS_NAME": name,
            "NATS_HOST": "127.0.0.1",
            "NATS_PORT": str(self.port),
            "NATS_CLUSTER_PORT": str(cluster_port),
            "NATS_STORE": str(store),
        }
        self.process = subprocess.Popen(
            [nats_server_binary(), "--config", str(CONFIG), "--routes", routes],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture
def cluster(tmp_path):
    cluster_ports = [free_port() for _ in range(3)]
    routes = ",".join(f"nats-route://127.0.0.1:{port}" for port in cluster_ports)
    nodes = [
        Node(f"n{i}", tmp_path / f"n{i}", port, routes) for i, port in enumerate(cluster_ports)
    ]
    yield nodes
    for node in nodes:
        if node.process.poll() is None:
            node.stop()


async def _replicas(urls: str) -> int:
    nc = await nats.connect(urls.split(","))
    info = await nc.jetstream().stream_info(STREAM)
    await nc.close()
    assert info.cluster is not None and len(info.cluster.replicas or []) == 2
    return info.config.num_replicas


def test_the_stream_survives_losing_a_node(cluster, tmp_path):
    urls = ",".join(node.url for node in cluster)
    bone = make_backbone(
        tmp_path, str(tmp_path / "events.sqlite"), str(tmp_path / "reads.sqlite"), urls
    )
    bone.settings = msgspec.structs.replace(bone.settings, stream_replicas=3)
    giver = open_member(bone, "giver", grant=600)
    taker = open_member(bone, "taker")
    with run_workers(bone):
        for i in range(50):
            transfer(bone, f"before-{i}", giver.id, taker.id, 1)
        wait_until(lambda: caught_up(bone), timeout=90, what="read models on the cluster")
        assert asyncio.run(_replicas(urls)) == 3
        cluster[0].stop()
        for i in range(50):
            transfer(bone, f"after-{i}", giver.id, taker.id, 1)
        wait_until(lambda: caught_up(bone), timeout=90, what="read models after losing a node")
    assert bone.timebank.repository.get(taker.id).balance == 100
    assert rebuilt_dumps(str(tmp_path / "rebuilt.sqlite"), urls) == live_dumps(bone)
