"""Replicas started at the same moment on fresh stores (`timebank api` twice, say, on a new
PostgreSQL database): every one starts, and the station starts once."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from domain.listing import STARTING_CATEGORIES, Categories
from domain.provenance import Provenance
from services.composition.runtime import Backbone
from services.listings.handlers import categories_of
from services.store.eventstore import Timebank
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


def _stored(timebank: Timebank) -> list[Any]:
    notifications = timebank.recorder.select_notifications(start=1, limit=1_000_000)
    return [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in notifications]


def test_a_station_started_before_home_visits_were_listed_gets_them_once_by_an_event(
    stores, tmp_path
):
    events = stores.new("events")
    earlier = Timebank(events)
    startup = Provenance(actor="system", channel="system", correlation_id="startup")
    categories = Categories(by=startup)
    for code, name_zh, name_en in STARTING_CATEGORIES:
        if code != "home-visits":  # the list as it was
            categories.add(code, name_zh, name_en, startup)
    earlier.record(categories)
    before = _stored(earlier)
    earlier.close()

    def start(replica: str) -> Backbone:
        return make_backbone(
            tmp_path / replica, events, stores.new(f"reads-{replica}"), "nats://127.0.0.1:1"
        )

    bone = start("upgraded")
    after = _stored(bone.timebank)
    assert after[: len(before)] == before, "the station's history is left as it was"
    added = [
        bone.timebank.mapper.to_domain_event(notification)
        for notification in bone.timebank.recorder.select_notifications(
            start=len(before) + 1, limit=1_000
        )
        if notification.originator_id == categories.id
    ]
    assert [(type(e).__name__, e.code, e.name_zh, e.name_en) for e in added] == [
        ("CategoryAdded", "home-visits", "上门探访", "Home visits")
    ]
    assert "home-visits" in categories_of(bone.timebank).names
    assert start("again").timebank.last_position() == len(after), "added once"


def test_a_station_that_has_home_visits_under_its_own_code_is_left_as_it_is(stores, tmp_path):
    events = stores.new("events")
    earlier = Timebank(events)
    startup = Provenance(actor="system", channel="system", correlation_id="startup")
    categories = Categories(by=startup)
    for code, name_zh, name_en in STARTING_CATEGORIES[:2]:
        categories.add(code, name_zh, name_en, startup)
    categories.add("visits", "上门探访", "Visiting", startup)
    categories.retire("visits", "not offered here", startup)
    last = earlier.record(categories)
    earlier.close()
    bone = make_backbone(tmp_path, events, stores.new("reads"), "nats://127.0.0.1:1")
    known = categories_of(bone.timebank)
    assert "home-visits" not in known.names and "visits" in known.retired
    assert len(known.names) == len(STARTING_CATEGORIES)  # the other starters were added
    assert bone.timebank.last_position() > last
