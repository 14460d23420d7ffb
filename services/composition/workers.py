"""Background work in one event loop: the relay, the projections, the sweeps of what is due
(unconfirmed exchanges expire, motions short of support lapse) and (embedded) the broker's
watchdog. `timebank up` runs them beside the API, all but the projections, which it runs as a
child `timebank project` (see ``Projector``); `timebank relay` runs the relay alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog

from domain.provenance import SYSTEM_ACTOR, Provenance
from projections import council, exchanges
from projections.catalog import READ_MODELS
from projections.readstore import ReadDb
from projections.runner import ProjectionRunner
from services.composition.runtime import Backbone
from services.council import handlers as council_commands
from services.exchange import handlers as exchange
from services.messaging.broker import EmbeddedBroker, die_with_parent
from services.messaging.eventlog import EventLog
from services.messaging.relay import Relay

log = structlog.get_logger(__name__)
EXPIRY = Provenance(actor=SYSTEM_ACTOR, channel="system", correlation_id="exchange-expiry")
LAPSE = Provenance(actor=SYSTEM_ACTOR, channel="system", correlation_id="motion-lapse")


def _due(
    bone: Backbone, query: Callable[[ReadDb, datetime], list[str]]
) -> tuple[datetime, list[UUID]]:
    """Now, and the ids a read model lists as due now (each is checked again on its aggregate,
    which refuses what is no longer due)."""
    now = bone.clock()
    with bone.reads.transaction(commit=False) as db:
        return now, [UUID(found) for found in query(db, now)]


def expire_due_exchanges(bone: Backbone) -> int:
    """Expire the exchanges the read model lists as unconfirmed past their time."""
    now, due = _due(bone, exchanges.due_for_expiry)
    return exchange.expire_due(bone.timebank, due, now, EXPIRY)


def lapse_due_motions(bone: Backbone) -> int:
    """Lapse the motions the read model lists as short of support past their deadline."""
    now, due = _due(bone, council.due_to_lapse)
    return council_commands.lapse_due(bone.timebank, due, now, LAPSE)


SWEEPS: dict[str, Callable[[Backbone], int]] = {
    "exchanges.expiry": expire_due_exchanges,
    "motions.lapse": lapse_due_motions,
}


class Projector:
    """`timebank project` (every read model, one group) as a child process, started again if
    it dies. Beside the API, the commands and the relay, the read models would share one
    interpreter lock with them and wait their turn at every step; in a process of their own
    they run on another core. The child dies with this process (no orphan holds the stores).
    It opens only the read store, the event store's log and the broker: a projector never
    loads the command side.
    """

    def __init__(self, bone: Backbone) -> None:
        self.env = {
            **os.environ,
            "TIMEBANK_NATS_URL": bone.nats_url,
            "TIMEBANK_DATA": str(bone.settings.data_dir),
            "TIMEBANK_READ_STORE": bone.settings.read_store_url,
            "TIMEBANK_EVENT_STORE": bone.settings.event_store_url,
        }

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            child = subprocess.Popen(
                [sys.executable, "-m", "services.composition.cli", "project"],
                env=self.env,
                stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent,  # noqa: PLW1509
            )
            while child.poll() is None and not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.5)
            if stop.is_set():
                await asyncio.to_thread(_end, child)
                return
            log.warning("projector.exited_restarting", code=child.returncode)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)


def _end(child: subprocess.Popen[bytes]) -> None:
    """SIGTERM (it stops after the batch in hand), SIGKILL if it does not leave in time."""
    child.terminate()
    try:
        child.wait(10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


class Workers:
    def __init__(
        self,
        bone: Backbone,
        *,
        relay: bool,
        models: tuple[str, ...] = (),
        projector: Projector | None = None,
        broker: EmbeddedBroker | None = None,
    ) -> None:
        self.bone = bone
        self.broker = broker
        self.projector = projector
        self.relay: Relay | None = None
        if relay:
            self.relay = Relay(
                bone.timebank,
                bone.nats_url,
                stream_replicas=bone.settings.stream_replicas,
                stream_max_mb=bone.settings.stream_max_mb,
            )
            bone.timebank.on_recorded = self.relay.wake
        # One group: each event is fetched, decoded and committed once for all the models.
        self.projections: ProjectionRunner | None = None
        if models:
            self.projections = ProjectionRunner(
                [READ_MODELS[name] for name in models],
                bone.reads,
                bone.nats_url,
                events=EventLog(bone.timebank.recorder, bone.timebank.mapper),
            )

    async def run(self, stop: asyncio.Event) -> None:
        jobs: list[Coroutine[Any, Any, None]] = []
        if self.projections is not None:
            jobs.append(self.projections.run(stop))
        if self.projector is not None:
            jobs.append(self.projector.run(stop))
        if self.relay is not None:
            # The process that relays holds the command side, so it also runs the sweeps.
            jobs += [self.relay.run(stop), self._sweep(stop)]
        if self.broker is not None:
            jobs.append(self.broker.watch(stop))
        await asyncio.gather(*jobs)

    @classmethod
    def embedded(cls, bone: Backbone) -> Workers:
        """What `timebank up` runs beside the API: the relay and the sweeps here, every read
        model in a child process, and the embedded broker's watchdog when there is one."""
        return cls(bone, relay=True, projector=Projector(bone), broker=bone.broker)

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

    async def _sweep(self, stop: asyncio.Event) -> None:
        """Every ``expiry_sweep_seconds``, each of ``SWEEPS`` on its own."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.bone.settings.expiry_sweep_seconds)
            for name, sweep in SWEEPS.items():
                if stop.is_set():
                    return
                try:
                    await asyncio.to_thread(sweep, self.bone)
                except Exception:
                    log.exception(f"{name}_failed")  # tried again next round
