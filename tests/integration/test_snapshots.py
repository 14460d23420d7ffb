"""Every aggregate comes back from the store exactly as it was: from its events, from a
snapshot and from the cache, each value with its own type (``kind is AccountKind.MEMBER``
fails on the string ``"member"``, though the two are equal). After a restart (a fresh
application on the same store, its cache cold) every member-only command works on a busy
account.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import pkgutil
from dataclasses import fields, is_dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate, Snapshot
from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent, Transcoder

import domain
from domain.ledger import AccountKind, Limits, TimeAccount
from services.exchange import handlers as exchange
from services.exchange.commands import PairIn, RecordHelp
from services.ledger import handlers as ledger
from services.ledger.commands import ChangeLimits
from services.pool import handlers as pool
from services.pool.commands import DonateToPool, GrantFromPool
from services.store.eventstore import APPLICATION_NAME, Timebank, TypedSnapshot
from tests.integration.busy_world import busy_world
from tests.integration.support import (
    COMMUNITY,
    acting,
    deactivate_member,
    make_backbone,
    register_resident,
    transfer_on,
)

SNAPSHOT_INTERVAL = Timebank.snapshotting_intervals[TimeAccount]


@pytest.fixture
def bone(stores, tmp_path):
    # No broker: these commands only need the event store.
    return make_backbone(tmp_path, stores.new("events"), stores.new("reads"), "nats://unused")


def make_busy(app: Timebank, account_id: UUID, prefix: str) -> None:
    """Past the account's snapshot interval: its snapshot is what a cold load starts from."""
    for i in range(SNAPSHOT_INTERVAL + 1):
        transfer_on(
            app,
            f"{prefix}-{i}",
            COMMUNITY if i % 2 == 0 else account_id,
            account_id if i % 2 == 0 else COMMUNITY,
            10 if i % 2 == 0 else 5,
        )
    assert app.repository.get(account_id).version > SNAPSHOT_INTERVAL
    assert app.snapshots is not None
    assert list(app.snapshots.get(account_id)), "the account was snapshotted"


def restarted(bone) -> Timebank:
    """The same store, as a process started after the one that wrote it: nothing cached."""
    return Timebank(bone.settings.event_store_url)


def test_a_busy_account_loaded_from_its_snapshot_takes_member_only_commands(bone):
    giver = register_resident(bone, "Giver")
    taker = register_resident(bone, "Taker")
    make_busy(bone.timebank, giver.account_id, "busy-giver")
    make_busy(bone.timebank, taker.account_id, "busy-taker")
    now = datetime.now(UTC)

    app = restarted(bone)
    account = app.repository.get(giver.account_id)
    assert type(account.kind) is AccountKind and account.kind is AccountKind.MEMBER
    assert type(account.limits) is Limits

    review = ChangeLimits(account=str(giver.account_id), floor=-120, cap=600, reason="review")
    ledger.change_limits(review, acting(app))
    given = DonateToPool(idempotency_key="give", from_account=giver.account_id, minutes=30)
    pool.donation(given, acting(app, now))
    granted = GrantFromPool(
        idempotency_key="grant", to_account=taker.account_id, minutes=30, reason="in need"
    )
    pool.grant_from_pool(granted, acting(app, now))
    exchange.record(
        RecordHelp(
            idempotency_key="help",
            pairs=[PairIn(provider=giver.account_id, receiver=taker.account_id, minutes=60)],
            description="Shopping",
        ),
        acting(app, now),
    )
    deactivate_member(app, taker.id, "moved away", now)
    app.close()
    again = restarted(bone)
    assert again.repository.get(taker.account_id).is_closed
    again.close()


def test_a_snapshot_written_before_typed_snapshots_is_passed_over(bone):
    """Such a snapshot holds ``kind`` as the plain string; the account is rebuilt from its
    events instead, with its kind an AccountKind again."""
    member = register_resident(bone, "Busy")
    make_busy(bone.timebank, member.account_id, "busy")
    account = bone.timebank.repository.get(member.account_id)
    account.kind = "member"  # as such a snapshot gave it back
    assert bone.timebank.snapshots is not None
    bone.timebank.snapshots.put([Snapshot.take(account)])

    app = restarted(bone)
    loaded = app.repository.get(member.account_id)
    assert loaded.kind is AccountKind.MEMBER and loaded.version == account.version
    review = ChangeLimits(account=str(member.account_id), floor=-60, cap=600, reason="review")
    ledger.change_limits(review, acting(app))
    app.close()


def domain_aggregate_types() -> set[type[Aggregate]]:
    """Every aggregate class the domain defines, whichever module it is in."""
    for module in pkgutil.walk_packages(domain.__path__, "domain."):
        importlib.import_module(module.name)
    found: set[type[Aggregate]] = set()
    classes = [Aggregate]
    while classes:
        subclasses = classes.pop().__subclasses__()
        found.update(cls for cls in subclasses if cls.__module__.startswith("domain."))
        classes.extend(subclasses)
    return found


def assert_same(live: Any, loaded: Any, where: str) -> None:
    """``loaded`` equals ``live`` with every value of the same type, at any depth."""
    assert type(loaded) is type(live), f"{where}: {type(loaded)} instead of {type(live)}"
    if isinstance(live, Aggregate):
        state = {name: value for name, value in vars(live).items() if name != "_pending_events"}
        assert_same(state, {name: vars(loaded)[name] for name in state}, where)
        assert set(vars(loaded)) - {"_pending_events"} == set(state), where
    elif isinstance(live, dict):
        assert list(loaded) == list(live), f"{where}: keys (and their order)"
        for (key, value), (loaded_key, loaded_value) in zip(
            live.items(), loaded.items(), strict=True
        ):
            assert_same(key, loaded_key, f"{where} key {key!r}")
            assert_same(value, loaded_value, f"{where}[{key!r}]")
    elif isinstance(live, list | tuple):
        assert len(loaded) == len(live), where
        for index, (item, loaded_item) in enumerate(zip(live, loaded, strict=True)):
            assert_same(item, loaded_item, f"{where}[{index}]")
    elif isinstance(live, set | frozenset):
        assert loaded == live, where
        for item in live:
            (match,) = (other for other in loaded if other == item)
            assert_same(item, match, f"{where} item {item!r}")
    elif is_dataclass(live):
        for field in fields(live):
            assert_same(
                getattr(live, field.name), getattr(loaded, field.name), f"{where}.{field.name}"
            )
    else:
        assert loaded == live, where


def test_every_aggregate_comes_back_from_a_snapshot_the_store_and_the_cache_as_it_was(stores):
    live = busy_world(busy_postings=SNAPSHOT_INTERVAL + 2)
    assert {type(aggregate) for aggregate in live} == domain_aggregate_types(), (
        "the busy world builds an aggregate of every kind the domain has"
    )
    url = stores.new("events")
    writer = Timebank(url)
    writer.record(*live)
    app = Timebank(url)
    busiest = max(live, key=lambda aggregate: aggregate.version)
    assert app.snapshots is not None and list(app.snapshots.get(busiest.id)), "snapshotted"
    cache = app.repository.cache
    assert cache is not None and app.repository.fastforward

    for aggregate in live:
        kind = type(aggregate).__name__
        snapshot = writer.mapper.to_stored_event(TypedSnapshot.take(aggregate))
        assert_same(
            aggregate, app.mapper.to_domain_event(snapshot).mutate(None), f"{kind} snapshot"
        )
        assert_same(aggregate, app.repository.get(aggregate.id), f"{kind} from the store")
        # As another process's events reach a cached copy: the cache holds it as first saved,
        # and a load brings it up to date from the store.
        cache.put(aggregate.id, app.repository.get(aggregate.id, version=1))
        assert_same(aggregate, app.repository.get(aggregate.id), f"{kind} from the cache")
    writer.close()
    app.close()


NAMED_BEFORE = ("provenance", "leg", "limits", "pair", "covered_entry", "voting_rules", "service")
NAMED_BEFORE += ("date_iso",)


# What stations added to the events written before them, at their schema 1.
ADDED_WITH_STATIONS = {"station", "scope", "homes"}


class _WrittenBeforeStations(Mapper[UUID]):
    """Writes each event in the shape it had before stations: a member, staff account or
    kiosk registered with no station, and no class version."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        if getattr(type(domain_event), "class_version", 1) == 1:
            return super().to_stored_event(domain_event)
        older = object.__new__(type(domain_event))
        kept = {k: v for k, v in vars(domain_event).items() if k not in ADDED_WITH_STATIONS}
        object.__setattr__(older, "__dict__", kept)
        stored = super().to_stored_event(older)
        state = json.loads(stored.state)
        del state["class_version"]
        return dataclasses.replace(stored, state=json.dumps(state).encode())


class Before(Timebank):
    """The application as it was before values were written with their types: json as it
    comes, the value objects under the names they still have, untyped snapshots, and no
    stations."""

    name = APPLICATION_NAME  # the same tables

    def construct_mapper(self) -> Mapper[UUID]:
        return _WrittenBeforeStations(transcoder=self.construct_transcoder())

    def construct_transcoder(self) -> Transcoder:
        typed = super().construct_transcoder()
        assert isinstance(typed, JSONTranscoder)
        transcoder = JSONTranscoder()
        self.register_transcodings(transcoder)
        for name in NAMED_BEFORE:
            transcoder.register(typed.names[name])
        return transcoder

    def take_snapshot(self, aggregate_id: UUID, version: int | None = None, **_: Any) -> None:
        assert self.snapshots is not None
        self.snapshots.put([Snapshot.take(self.repository.get(aggregate_id, version=version))])


def test_a_store_written_before_typed_values_loads_as_it_did(stores):
    """Its events keep their shapes (the domain coerces what they give back as strings and
    lists); its untyped snapshots are passed over."""
    url = stores.new("events")
    live = busy_world(busy_postings=SNAPSHOT_INTERVAL + 2, with_stations=False)
    before = Before(url)
    before.record(*live)
    members = [a for a in live if isinstance(a, TimeAccount) and a.kind is AccountKind.MEMBER]
    busiest = max(members, key=lambda account: account.version)
    assert before.snapshots is not None
    assert list(before.snapshots.recorder.select_events(busiest.id)), "an untyped snapshot"
    app = Timebank(url)
    for aggregate in live:
        loaded = vars(app.repository.get(aggregate.id))
        for name, value in vars(aggregate).items():
            assert name == "_pending_events" or loaded[name] == value, (aggregate, name)
    assert app.repository.get(busiest.id).kind is AccountKind.MEMBER
    ledger.change_limits(
        ChangeLimits(account=str(busiest.id), floor=-60, cap=60, reason="r"), acting(app)
    )
    before.close()
    app.close()
