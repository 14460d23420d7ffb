"""Many commands racing for one account, each through its own application instance (as API
replicas would be), on the real store: optimistic concurrency keeps the floor. Whatever the
aggregate caches hold, the store refuses a save made from a stale account. And many requests
at once through one API, which saves them in groups: the floor holds there too."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from datetime import UTC, datetime

import pytest
from litestar.testing import AsyncTestClient

from domain.ledger import MEMBER_LIMITS, TimeAccount
from domain.rules import RuleViolated
from projections import statements
from services.composition.app import create_app
from services.ledger import handlers as ledger
from services.ledger.commands import PostTransfer
from services.store.eventstore import ConcurrentUpdate, Timebank
from tests.integration.support import (
    acting,
    caught_up,
    make_backbone,
    open_member,
    run_workers,
    staff_headers,
    transfer_on,
    wait_until,
)

DRAINERS = 50
MINUTES = 40
NOW = datetime.now(UTC)


# sole_writer: each replica trusts its cache as only `timebank up` may, wrongly here, since
# four write at once; the store must still refuse every save made from a stale cache.
@pytest.mark.parametrize("sole_writer", [False, True], ids=["fast-forwarding", "sole-writer"])
def test_fifty_concurrent_transfers_never_break_the_floor(broker, stores, tmp_path, sole_writer):
    event_store = stores.new("events")
    bone = make_backbone(tmp_path, event_store, stores.new("reads"), broker.url)
    source = open_member(bone, "drained", grant=400)
    targets = [open_member(bone, f"taker-{i}").id for i in range(DRAINERS)]
    # Room for (400 + 600) / 40 = 25 of the 50 transfers: the rest must be refused.
    replicas = [Timebank(event_store, sole_writer=sole_writer) for _ in range(4)]
    for replica in replicas:  # each starts with the source cached, as a busy replica would
        replica.repository.get(source.id)
    start = threading.Barrier(DRAINERS)
    outcomes: dict[int, str] = {}

    def drain(i: int) -> None:
        start.wait()
        try:
            drained = PostTransfer(
                idempotency_key=f"drain-{i}",
                from_account=str(source.id),
                to_account=str(targets[i]),
                minutes=MINUTES,
                occurred_at=NOW,
            )
            receipt = ledger.transfer(drained, acting(replicas[i % len(replicas)], NOW))
            outcomes[i] = f"accepted:{receipt.id}"
        except RuleViolated as refused:
            outcomes[i] = refused.code
        except ConcurrentUpdate:
            outcomes[i] = "conflict"

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(DRAINERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    accepted = {value.split(":")[1] for value in outcomes.values() if value.startswith("accepted")}
    refusals = Counter(value for value in outcomes.values() if not value.startswith("accepted"))
    assert len(outcomes) == DRAINERS
    assert set(refusals) <= {"below-floor", "conflict"}
    balance = bone.timebank.repository.get(source.id).balance
    assert balance == 400 - MINUTES * len(accepted)
    assert balance >= MEMBER_LIMITS.floor
    assert refusals["below-floor"] > 0, "50 x 40 minutes cannot all fit above the floor"
    # A refusal for the floor is only right once there really was no room left.
    assert balance - MINUTES < MEMBER_LIMITS.floor

    assert_in_statement_once(bone, source.id, accepted)
    for replica in replicas:
        replica.close()


def test_fifty_transfers_through_the_api_at_once_never_break_the_floor(broker, stores, tmp_path):
    """The API saves requests that arrive together in groups (services.store.groupcommit): the
    floor still holds, and each accepted transfer is in the statement exactly once."""
    bone = make_backbone(tmp_path, stores.new("events"), stores.new("reads"), broker.url)
    source = open_member(bone, "drained", grant=400)
    targets = [open_member(bone, f"taker-{i}").id for i in range(DRAINERS)]
    headers = staff_headers(bone)

    async def drain() -> list:
        async with AsyncTestClient(create_app(bone)) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        "/api/v1/transfers",
                        json={
                            "idempotency_key": f"api-drain-{i}",
                            "from_account": str(source.id),
                            "to_account": str(target),
                            "minutes": MINUTES,
                        },
                        headers=headers,
                    )
                    for i, target in enumerate(targets)
                )
            )

    answers = asyncio.run(drain())
    accepted = {answer.json()["id"] for answer in answers if answer.status_code == 201}
    refused = Counter(answer.json()["code"] for answer in answers if answer.status_code != 201)
    assert set(refused) == {"below-floor"}
    balance = bone.timebank.repository.get(source.id).balance
    assert balance == 400 - MINUTES * len(accepted)
    assert MEMBER_LIMITS.floor <= balance < MEMBER_LIMITS.floor + MINUTES

    assert_in_statement_once(bone, source.id, accepted)


def assert_in_statement_once(bone, source, accepted: set[str]) -> None:
    """Once the read models caught up, each accepted drain is in the source's statement
    exactly once, and no running balance there went below the floor."""
    with run_workers(bone):
        wait_until(lambda: caught_up(bone), what="read models")
    with bone.reads.transaction(commit=False) as db:
        entries = statements.entries(db, source, before=None, limit=200)
    drained = [entry for entry in entries if entry["minutes"] == -MINUTES]
    assert sorted(entry["transfer_id"] for entry in drained) == sorted(accepted)
    assert all(entry["balance"] >= MEMBER_LIMITS.floor for entry in entries)


def _balance(event_store: str, account_id) -> int:
    """The balance as the store has it, from an application with nothing cached."""
    fresh = Timebank(event_store)
    try:
        return fresh.find(account_id, TimeAccount).balance
    finally:
        fresh.close()


def test_a_sole_writers_stale_cache_is_caught_by_the_store(broker, stores, tmp_path):
    """Should another process write after all, the sole writer's save from its stale cache is
    refused as a version conflict, and the retry decides on the store's state."""
    event_store = stores.new("events")
    bone = make_backbone(tmp_path, event_store, stores.new("reads"), broker.url, sole_writer=True)
    sole = bone.timebank
    assert not sole.repository.fastforward
    source = open_member(bone, "stale", grant=400).id
    target = open_member(bone, "taker").id
    other = Timebank(event_store)
    try:
        transfer_on(sole, "sole-1", source, target, 100)  # sole caches the source at 300
        transfer_on(other, "other-1", source, target, 300)  # behind its back: 0 left
        transfer_on(sole, "sole-2", source, target, 500)  # -500 is within the floor of -600
        assert _balance(event_store, source) == -500
        # Its cache now has what the store has: 100 more would break the floor.
        with pytest.raises(RuleViolated) as refused:
            transfer_on(sole, "sole-3", source, target, 200)
        assert refused.value.code == "below-floor"
        assert sole.find(source, TimeAccount).balance == -500
    finally:
        other.close()


def test_replicas_apply_each_others_transfers_to_what_they_cached(broker, stores, tmp_path):
    """A replica keeps what it saved in its cache, and still loads another's saves on top."""
    event_store = stores.new("events")
    bone = make_backbone(tmp_path, event_store, stores.new("reads"), broker.url)
    source = open_member(bone, "shared", grant=400).id
    target = open_member(bone, "taker").id
    first, second = Timebank(event_store), Timebank(event_store)
    try:
        transfer_on(first, "first-1", source, target, 100)
        transfer_on(second, "second-1", source, target, 50)
        assert first.find(source, TimeAccount).balance == 250
        transfer_on(first, "first-2", source, target, 250)
        assert second.find(source, TimeAccount).balance == 0
        assert _balance(event_store, source) == 0
    finally:
        first.close()
        second.close()
