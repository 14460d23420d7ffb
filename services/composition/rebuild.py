"""`timebank rebuild`: drop a read model and apply the event store to it again (then the
stream, to its head), safely beside running projectors (see projections.rebuilds), on any
installation: it finds the broker a running `timebank up` started, or starts the embedded one
itself when `up` is stopped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from uuid import uuid4

import click

from projections import rebuilds
from projections.readstore import ReadModel, ReadStore
from projections.runner import ProjectionRunner, StoredEvents
from services.composition.config import Settings
from services.messaging.broker import EmbeddedBroker, running_url


@contextmanager
def broker_of(settings: Settings) -> Iterator[str]:
    """The broker's URL: the configured one; else that of the embedded broker a running
    `timebank up` keeps in the data directory; else one started here on that broker's store
    (`up` is stopped) for as long as the rebuild runs."""
    if settings.nats_url:
        yield settings.nats_url
        return
    store_dir = settings.data_dir / "nats"
    url = running_url(store_dir)
    if url is not None:
        yield url
        return
    if not store_dir.is_dir():
        raise click.UsageError(
            f"No broker: set TIMEBANK_NATS_URL, or name the data directory of `timebank up`"
            f" with --data (nothing at {store_dir})."
        )
    broker = EmbeddedBroker(store_dir)
    try:
        yield broker.start()
    finally:
        broker.stop()


async def rebuild(
    model: ReadModel,
    store: ReadStore,
    nats_url: str,
    events: StoredEvents,
    stop: asyncio.Event,
    on_progress: Callable[[int, int], None],
) -> tuple[int, bool]:
    """Rebuild ``model`` under a lease: the position it reached, and whether it caught up with
    the stream. Stopped early, it gives the lease back at once, and a projector finishes the
    model from where it got to."""
    token = uuid4().hex
    await asyncio.to_thread(rebuilds.reset, store, model, token)
    runner = ProjectionRunner([model], store, nats_url, rebuild=token, events=events)
    done = False
    try:
        await runner.run(stop, on_progress=on_progress)
        done = not stop.is_set()
    finally:
        await asyncio.to_thread(rebuilds.give_back, store, model.name, token, done=done)
    return runner.position, done
