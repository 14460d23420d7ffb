"""Helpers for integration tests: run workers in a thread, post transfers, wait for catch-up."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from domain.ledger import AccountKind, system_account_id
from domain.provenance import Provenance
from projections.catalog import READ_MODELS
from projections.readstore import open_read_store
from projections.runner import ProjectionRunner
from services import ledger
from services.config import Settings
from services.runtime import Backbone, build_backbone
from services.workers import Workers

BY = Provenance(actor="test", channel="test", correlation_id="test")
COMMUNITY = system_account_id(AccountKind.COMMUNITY)
POOL = system_account_id(AccountKind.POOL)


def make_backbone(tmp_path: Path, event_store: str, read_store: str, nats_url: str) -> Backbone:
    settings = Settings(data_dir=tmp_path / "data", event_store=event_store, read_store=read_store)
    return build_backbone(settings, nats_url)


class Background:
    """Runs async workers on their own event loop in a thread, as `timebank up` would."""

    def __init__(self, work: Callable[[asyncio.Event], object]) -> None:
        self._work = work
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._work(self._stop))  # type: ignore[arg-type]

    def __enter__(self) -> Background:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
        assert not self._thread.is_alive(), "workers did not stop"


def run_workers(bone: Backbone, *, relay: bool = True, models: tuple[str, ...] = tuple(READ_MODELS)) -> Background:
    return Background(Workers(bone, relay=relay, models=models).run)


def wait_until(condition: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def caught_up(bone: Backbone) -> bool:
    head = bone.timebank.last_position()
    return all(bone.reads.position(name) >= head for name in READ_MODELS)


def open_member(bone: Backbone, owner: str, grant: int = 0) -> ledger.Receipt:
    receipt = ledger.open_account(bone.timebank, owner, BY)
    if grant:
        transfer(bone, f"grant-{owner}", COMMUNITY, receipt.id, grant)
    return receipt


def transfer(bone: Backbone, key: str, source, target, minutes: int, memo: str = "") -> ledger.Receipt:
    now = datetime.now(UTC)
    return ledger.transfer(
        bone.timebank,
        idempotency_key=key,
        source=source,
        target=target,
        minutes=minutes,
        memo=memo,
        occurred_at=now,
        now=now,
        by=BY,
    )


def rebuilt_dumps(read_store_url: str, nats_url: str) -> dict[str, dict]:
    """Every read model rebuilt from the start of the stream into a fresh store, dumped."""
    fresh = open_read_store(read_store_url, list(READ_MODELS.values()))
    dumps = {}
    for model in READ_MODELS.values():
        runner = ProjectionRunner(model, fresh, nats_url)
        asyncio.run(runner.run(asyncio.Event(), on_progress=lambda *_: None))
        dumps[model.name] = fresh.dump(model)
    fresh.datastore.close()
    return dumps


def live_dumps(bone: Backbone) -> dict[str, dict]:
    return {model.name: bone.reads.dump(model) for model in READ_MODELS.values()}
