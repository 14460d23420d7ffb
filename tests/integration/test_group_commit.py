"""Group commit on the real store: commands that arrive together are saved in one transaction,
yet each is answered as if it had run alone, in arrival order."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.application import Application
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.ledger import (
    AccountKind,
    Limits,
    TimeAccount,
    Transfer,
    system_account_id,
    transfer_id_for,
)
from domain.rules import RuleViolated
from services.bus import Receipt
from services.ledger import handlers as ledger
from services.ledger.commands import OpenAccount
from services.store.eventstore import Timebank
from services.store.groupcommit import GroupCommit
from tests.integration.support import BY, acting, transfer_on

NOW = datetime.now(UTC)
COMMUNITY = system_account_id(AccountKind.COMMUNITY)


@pytest.fixture
def app(stores) -> Iterator[Timebank]:
    timebank = Timebank(stores.new("events"))
    ledger.open_system_accounts(timebank, BY)
    yield timebank
    timebank.close()


def open_members(app: Timebank, count: int, grant: int) -> list[UUID]:
    members = [
        ledger.open_account(OpenAccount(owner=f"member-{n}"), acting(app)).id for n in range(count)
    ]
    for member in members:
        transfer_on(app, f"grant-{member}", COMMUNITY, member, grant)
    return members


async def grouped(commits: GroupCommit, *requests: tuple[str, UUID, UUID, int]) -> list[object]:
    """``requests`` sent at once, as requests the event loop has ready together; each one's
    receipt or error."""
    return await asyncio.gather(
        *(commits.run(transfer_on, commits.app, *request) for request in requests),
        return_exceptions=True,
    )


def balance(app: Timebank, account: UUID) -> int:
    found = app.find(account, TimeAccount)
    assert found is not None
    return found.balance


def test_commands_that_arrive_together_are_saved_in_one_transaction(app, monkeypatch):
    a, b, c = open_members(app, 3, grant=100)
    before = app.last_position()
    saves = []

    def save(*objects: object) -> list:
        recordings = Application.save(app, *objects)
        saves.append(len(recordings))
        return recordings

    monkeypatch.setattr(app, "save", save)
    outcomes = asyncio.run(
        grouped(
            GroupCommit(app),
            ("one", a, b, 30),
            ("two", b, c, 50),
            ("too-much", c, a, 10_000),  # past the floor: refused, the others saved
            ("three", c, a, 20),
        )
    )
    receipts = [outcome for outcome in outcomes if isinstance(outcome, Receipt)]
    assert len(receipts) == 3
    refused = outcomes[2]
    assert isinstance(refused, RuleViolated) and refused.code == "below-floor"
    assert saves == [3 * 3]  # one save: a transfer and two entries each
    assert app.last_position() == before + 3 * 3
    assert [balance(app, member) for member in (a, b, c)] == [90, 80, 130]
    # Each is answered with its own last event's position, and its transfer comes before
    # its entries, as if saved alone (the statements read model relies on that).
    made = {position: event for position, event in events_after(app, before)}
    for receipt in receipts:
        own = [p for p, e in made.items() if receipt.id in (e.originator_id, _transfer_of(e))]
        assert receipt.position == max(own)
        posted = min(own)
        assert made[posted].originator_id == receipt.id


def events_after(app: Timebank, position: int) -> list[tuple[int, object]]:
    return [
        (notification.id, app.mapper.to_domain_event(notification))
        for notification in app.recorder.select_notifications(
            start=position, limit=1000, inclusive_of_start=False
        )
    ]


def _transfer_of(event: object) -> object:
    return getattr(event, "transfer_id", None)


def test_the_same_request_twice_in_one_group_posts_once(app):
    a, b = open_members(app, 2, grant=100)
    first, again = asyncio.run(grouped(GroupCommit(app), ("same", a, b, 30), ("same", a, b, 30)))
    assert isinstance(first, Receipt) and isinstance(again, Receipt)
    assert first.id == again.id and not first.replayed and again.replayed
    assert again.position >= first.position
    assert (balance(app, a), balance(app, b)) == (70, 130)


def test_a_command_that_fails_leaves_nothing_in_its_group(app):
    (a,) = open_members(app, 1, grant=100)

    def changes_then_fails(app: Timebank) -> Receipt:
        account = app.find(a, TimeAccount)
        assert account is not None
        account.change_limits(Limits(floor=-50, cap=500), "raised", BY)
        app.record(account)
        raise RuleViolated("changed-its-mind", "Recorded, then refused.")

    def reads_limits(app: Timebank) -> Receipt:
        account = app.find(a, TimeAccount)
        assert account is not None
        assert account.limits != Limits(floor=-50, cap=500), "saw a failed command's change"
        account.change_limits(Limits(floor=-10, cap=300), "set", BY)
        return Receipt(account.id, app.record(account))

    async def both() -> list[object]:
        commits = GroupCommit(app)
        return await asyncio.gather(
            commits.run(changes_then_fails, app),
            commits.run(reads_limits, app),
            return_exceptions=True,
        )

    failed, saved = asyncio.run(both())
    assert isinstance(failed, RuleViolated) and isinstance(saved, Receipt)
    account = app.find(a, TimeAccount)
    assert account is not None and account.limits == Limits(floor=-10, cap=300)


def test_a_group_another_writer_got_ahead_of_runs_again_command_by_command(stores):
    event_store = stores.new("events")
    # A sole writer trusts its cache; here another process writes too, so the group's save is
    # refused and each command must run again alone, from what the store holds.
    app = Timebank(event_store, sole_writer=True)
    other = Timebank(event_store)
    try:
        ledger.open_system_accounts(app, BY)
        a, b, c = open_members(app, 3, grant=100)
        transfer_on(other, "elsewhere", a, c, 60)
        outcomes = asyncio.run(grouped(GroupCommit(app), ("x", a, b, 30), ("y", a, b, 30)))
        assert all(isinstance(outcome, Receipt) for outcome in outcomes)
        # Moved from the store's 40, not from the cache's 100.
        assert [balance(other, member) for member in (a, b, c)] == [-20, 160, 160]
    finally:
        app.close()
        other.close()


def test_a_command_from_a_worker_thread_is_run_on_the_loop(app):
    a, b, c = open_members(app, 3, grant=100)
    commits = GroupCommit(app)

    async def from_both() -> list[Receipt]:
        await commits.attach()
        # A page handler's thread and a coroutine handler, at the same moment.
        return await asyncio.gather(
            asyncio.to_thread(commits.run_from_thread, transfer_on, app, "paged", a, b, 10),
            commits.run(transfer_on, app, "posted", b, c, 20),
        )

    paged, posted = asyncio.run(from_both())
    assert not paged.replayed and not posted.replayed
    assert [balance(app, member) for member in (a, b, c)] == [90, 90, 120]


def test_waiting_for_a_command_on_the_loop_itself_is_refused(app):
    (a,) = open_members(app, 1, grant=100)
    commits = GroupCommit(app)

    async def on_the_loop() -> None:
        await commits.attach()
        commits.run_from_thread(transfer_on, app, "blocked", a, COMMUNITY, 10)

    with pytest.raises(RuntimeError, match=r"await GroupCommit\.run"):
        asyncio.run(on_the_loop())
    assert balance(app, a) == 100


REQUESTS = st.lists(
    st.tuples(
        st.sampled_from(["k1", "k2", "k3", "k4", "k5", "k6"]),  # keys repeat: retried requests
        st.integers(0, 3),
        st.integers(0, 3),
        st.integers(-5, 260),
    ),
    min_size=1,
    max_size=12,
)


@given(requests=REQUESTS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_group_answers_and_ends_as_its_commands_run_one_by_one(requests):
    """Serialisable: a group gives each request the answer it gets when the requests run one
    at a time in arrival order, and leaves the same balances and transfers."""
    with tempfile.TemporaryDirectory() as folder:
        alone, together = (Timebank(str(Path(folder) / f"{name}.sqlite")) for name in "ab")
        try:
            for app in (alone, together):
                ledger.open_system_accounts(app, BY)
                members = open_members(app, 4, grant=200)  # the same ids in both stores
            named = [(key, members[s], members[t], minutes) for key, s, t, minutes in requests]
            one_by_one = [_attempt(alone, request) for request in named]
            grouped_outcomes = asyncio.run(grouped(GroupCommit(together), *named))
            assert [_summary(o) for o in grouped_outcomes] == [_summary(o) for o in one_by_one]
            for member in members:
                assert balance(together, member) == balance(alone, member)
            for key in {key for key, *_ in named}:
                posted = [app.find(transfer_id_for(key), Transfer) for app in (alone, together)]
                assert [found is None for found in posted] == [posted[0] is None] * 2
        finally:
            alone.close()
            together.close()


def _attempt(app: Timebank, request: tuple[str, UUID, UUID, int]) -> Receipt | Exception:
    try:
        return transfer_on(app, *request)
    except Exception as error:
        return error


def _summary(outcome: object) -> tuple[str, object]:
    if isinstance(outcome, Receipt):
        return ("accepted", (outcome.id, outcome.replayed))
    return (type(outcome).__name__, getattr(outcome, "code", None))
