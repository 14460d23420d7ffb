"""Background work in one event loop: the relay, the projections and (embedded) the broker's
watchdog. `timebank up` runs them beside the API; `timebank relay|project` run them alone.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import structlog

from projections.catalog import READ_MODELS
from projections.runner import ProjectionRunner
from services.broker import EmbeddedBroker
from services.relay import Relay
from services.runtime import Backbone

log = structlog.get_logger(__name__)


class Workers:
    def __init__(
        self,
        bone: Backbone,
        *,
        relay: bool,
        models: tuple[str, ...] = (),
        broker: EmbeddedBroker | None = None,
    ) -> None:
        self.broker = broker
        self.relay: Relay | None = None
        if relay:
            self.relay = Relay(
                bone.timebank, bone.nats_url, stream_replicas=bone.settings.stream_replicas
            )
            bone.timebank.on_recorded = self.relay.wake
        self.runners = [
            ProjectionRunner(READ_MODELS[name], bone.reads, bone.nats_url) for name in models
        ]

    async def run(self, stop: asyncio.Event) -> None:
        jobs: list[Coroutine[Any, Any, None]] = [runner.run(stop) for runner in self.runners]
        if self.relay is not None:
            jobs.append(self.relay.run(stop))
        if self.broker is not None:
            jobs.append(self._watch_broker(stop))
        await asyncio.gather(*jobs)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(self.run(stop))
        try:
            yield
        finally:
            stop.set()
            try:
                await asyncio.wait_for(task, 15)
            except TimeoutError:
                log.warning("workers.stop_timed_out")

    async def _watch_broker(self, stop: asyncio.Event) -> None:
        """Restart the embedded broker if it dies; the relay and projections reconnect."""
        assert self.broker is not None
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
            if not stop.is_set() and not self.broker.is_running():
                log.warning("broker.died_restarting", url=self.broker.url)
                await asyncio.to_thread(self.broker.start)
