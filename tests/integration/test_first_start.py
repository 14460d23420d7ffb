"""Replicas started at the same moment on fresh stores (`timebank api` twice, say, on a new
PostgreSQL database): every one starts, and the station starts once."""

from __future__ import annotations

import threading
from pathlib import Path

from services.runtime import Backbone
from tests.integration.support import make_backbone

REPLICAS = 3
TRIES = 3  # fresh stores each time: a race lost only now and then must still show


def _start_at_once(urls: dict[str, str], data: Path) -> tuple[list[Backbone], list[str]]:
    """Start REPLICAS backbones on ``urls`` in threads released together; those started and
    how each of the others failed."""
    barrier = threading.Barrier(REPLICAS)
    started: list[Backbone] = []
    failed: list[str] = []

    def start(replica: int) -> None:
        barrier.wait()
        try:
            # The broker is never reached: building a backbone publishes nothing.
            bone = make_backbone(
                data / str(replica),
                urls["events"],
                urls["reads"],
                "nats://127.0.0.1:1",
                key_store=urls["keys"],
            )
        except Exception as error:
            failed.append(f"replica {replica}: {type(error).__name__}: {error}")
        else:
            started.append(bone)

    threads = [threading.Thread(target=start, args=(replica,)) for replica in range(REPLICAS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return started, failed


def test_replicas_starting_at_once_on_fresh_stores_all_start(stores, tmp_path):
    for attempt in range(TRIES):
        urls = {name: stores.new(f"{name}{attempt}") for name in ("events", "reads", "keys")}
        started, failed = _start_at_once(urls, tmp_path / str(attempt))
        assert failed == []
        assert len(started) == REPLICAS
        positions = {bone.timebank.last_position() for bone in started}
        assert len(positions) == 1, "every replica sees the one start of the station"
