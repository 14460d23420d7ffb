"""Event store → relay → JetStream → projections → read models, on real parts."""

from __future__ import annotations

import pytest

from domain.rules import RuleViolated
from projections import balances, statements
from services.ledger import handlers as ledger
from services.ledger.commands import CloseAccount, CorrectTransfer
from tests.integration.support import (
    COMMUNITY,
    POOL,
    acting,
    caught_up,
    live_dumps,
    make_backbone,
    open_member,
    rebuilt_dumps,
    run_workers,
    store_positions,
    stream_positions,
    transfer,
    wait_until,
)


def test_ledger_story_reaches_read_models_and_a_rebuild_equals_them(broker, stores, tmp_path):
    bone = make_backbone(tmp_path, stores.new("events"), stores.new("reads"), broker.url)
    with run_workers(bone):
        wang = open_member(bone, "member-wang", grant=120)
        li = open_member(bone, "member-li")
        shopping = transfer(bone, "shopping-1", wang.id, li.id, 60, memo="代买代办")
        with pytest.raises(RuleViolated) as refused:
            transfer(bone, "too-much-1", li.id, wang.id, 700)
        assert refused.value.code == "below-floor"
        fix = CorrectTransfer(
            idempotency_key="fix-shopping-1",
            transfer_id=shopping.id,
            minutes=15,
            reason="it was 45 minutes",
        )
        ledger.correct(fix, acting(bone.timebank))
        moved = CloseAccount(account=str(li.id), reason="moved away")
        ledger.close_account(moved, acting(bone.timebank))
        wait_until(lambda: caught_up(bone), what="read models")

        with bone.reads.transaction(commit=False) as db:
            rows = {
                account_id: balances.account(db, account_id)
                for account_id in (wang.id, li.id, COMMUNITY, POOL)
            }
            li_entries = statements.entries(db, li.id, before=None, limit=50)
        assert rows[wang.id]["balance"] == 120 - 60 + 15
        assert rows[li.id]["balance"] == 0 and rows[li.id]["is_closed"] == 1
        assert rows[POOL]["balance"] == 45, "Li's 45 minutes moved to the pool on closing"
        assert sum(row["balance"] for row in rows.values()) == 0
        assert [(e["kind"], e["minutes"], e["balance"]) for e in reversed(li_entries)] == [
            ("transfer", 60, 60),
            ("correction", -15, 45),
            ("closure", -45, 0),
        ]
        shopping_entry = li_entries[-1]
        assert shopping_entry["counterpart"] == str(wang.id)
        assert shopping_entry["memo"] == "代买代办"
        assert li_entries[1]["corrects"] == str(shopping.id)

    assert rebuilt_dumps(stores.new("rebuilt"), broker.url) == live_dumps(bone)


def test_every_event_reaches_the_stream_once_and_in_order_across_relay_restarts(
    broker, stores, tmp_path
):
    bone = make_backbone(tmp_path, stores.new("events"), stores.new("reads"), broker.url)
    giver = open_member(bone, "giver", grant=600)
    taker = open_member(bone, "taker")
    for round_number in range(3):
        with run_workers(bone, models=()):
            for i in range(20):
                transfer(bone, f"r{round_number}-{i}", giver.id, taker.id, 1)
            wait_until(
                lambda: stream_positions(broker.url)[-1:] == [bone.timebank.last_position()],
                what="relay",
            )
        # Commands keep working while no relay runs; the next relay catches up.
        transfer(bone, f"offline-{round_number}", giver.id, taker.id, 1)
    with run_workers(bone, models=()):
        wait_until(
            lambda: stream_positions(broker.url)[-1:] == [bone.timebank.last_position()],
            what="relay",
        )
    assert stream_positions(broker.url) == store_positions(bone)
