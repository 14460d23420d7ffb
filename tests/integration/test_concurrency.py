"""Many commands racing for one account, each through its own application instance (as API
replicas would be), on the real store: optimistic concurrency keeps the floor."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime

from domain.ledger import MEMBER_LIMITS
from domain.rules import RuleViolated
from projections import statements
from services import ledger
from services.eventstore import ConcurrentUpdate, Timebank
from tests.integration.support import (
    BY,
    caught_up,
    make_backbone,
    open_member,
    run_workers,
    wait_until,
)

DRAINERS = 50
MINUTES = 40
NOW = datetime.now(UTC)


def test_fifty_concurrent_transfers_never_break_the_floor(broker, stores, tmp_path):
    event_store = stores.new("events")
    bone = make_backbone(tmp_path, event_store, stores.new("reads"), broker.url)
    source = open_member(bone, "drained", grant=400)
    targets = [open_member(bone, f"taker-{i}").id for i in range(DRAINERS)]
    # Room for (400 + 600) / 40 = 25 of the 50 transfers: the rest must be refused.
    replicas = [Timebank(event_store) for _ in range(4)]
    start = threading.Barrier(DRAINERS)
    outcomes: dict[int, str] = {}

    def drain(i: int) -> None:
        start.wait()
        try:
            receipt = ledger.transfer(
                replicas[i % len(replicas)],
                idempotency_key=f"drain-{i}",
                source=source.id,
                target=targets[i],
                minutes=MINUTES,
                memo="",
                occurred_at=NOW,
                now=NOW,
                by=BY,
            )
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

    with run_workers(bone):
        wait_until(lambda: caught_up(bone), what="read models")
    with bone.reads.transaction(commit=False) as db:
        entries = statements.entries(db, source.id, before=None, limit=200)
    drained = [entry for entry in entries if entry["minutes"] == -MINUTES]
    assert sorted(entry["transfer_id"] for entry in drained) == sorted(accepted)
    assert all(entry["balance"] >= MEMBER_LIMITS.floor for entry in entries)
    for replica in replicas:
        replica.close()
