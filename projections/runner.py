"""Runs a group of read models from the event store's log, then from one durable JetStream
pull consumer.

Every read model sees every event, so a group fetches and decodes each message once and
applies a batch to all its models in one read-store transaction, each model still tracked
under its own name. `timebank up` and `timebank project` run one group; `timebank rebuild`
runs a group of one.

The read store's tracking positions are the truth about what each read model has applied. On
every start the durable consumer is re-pointed at the first stream message after the lowest
position in the group, so a crash, a dropped read-model database or a redelivery can never skip
or double-apply an event: each model skips, inside the applying transaction, anything at or
below its own tracked position.

Because of that skip, nothing may be applied past a message that was delivered but never
arrived (a connection dropped mid-delivery, a second process pulling from the same consumer):
the consumer would redeliver it only after ``ack_wait``, and then it would count as applied.
Stream sequences have no holes (the relay sees to that), so a runner applies only the
contiguous run it expects and otherwise re-points the consumer at its tracked position.

The stream is bounded (services.messaging.broker.ensure_stream): it holds the latest events,
not all of them. So on every start a runner first replays from the event store's log what is
new to it (a rebuild, a new read model, a projector that was down: any number of events, in
batches applied exactly as the stream's), and then joins the stream at the first message past
the position it reached. Should the stream have dropped an event it still needs (it fell behind
the stream's first message, at the start or while following), it goes back to the store.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import NoReturn, Protocol

import msgspec
import structlog
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import Error as JetStreamError
from nats.js.errors import NotFoundError

from projections import deadletter
from projections.readstore import ReadModel, ReadStore
from projections.rebuilds import RebuildInProgress, RebuildRefused, rebuilding
from projections.stream import DeliveryGap, Puller, contiguous, first_sequence_after
from services.messaging.broker import connect, sleep_unless, stream_head
from services.messaging.envelope import STREAM, SUBJECT_PREFIX, Envelope, decode

log = structlog.get_logger(__name__)


class StoredEvents(Protocol):
    """The event store's log as envelopes (services.messaging.eventlog.EventLog)."""

    def after(self, position: int, limit: int) -> list[Envelope]: ...

    def next_position(self, position: int) -> int | None: ...

    def head(self) -> int: ...


def durable_name(model_names: Sequence[str]) -> str:
    """The consumer of the group of these read models (the same for any order of them)."""
    return "projection-" + "-".join(sorted(model_names))


class ProjectionRunner:
    def __init__(
        self,
        models: Sequence[ReadModel],
        store: ReadStore,
        nats_url: str,
        *,
        batch_size: int = 1000,
        replay_batch_size: int = 5000,
        fetch_timeout: float = 0.5,
        rebuild: str | None = None,
        events: StoredEvents | None = None,
    ) -> None:
        """``rebuild``: the lease of the rebuild this runner does (see projections.rebuilds).
        ``events``: the event store's log to replay from; without it, the runner reads only the
        stream, which must then hold every event it has not applied. A batch from the store is
        ``replay_batch_size`` events (one transaction each: fewer, larger ones replay faster);
        from the stream, what has arrived, up to ``batch_size``."""
        self.models = list(models)
        self.events = events
        self.rebuild = rebuild
        self.store = store
        self.nats_url = nats_url
        self.batch_size = batch_size
        self.replay_batch_size = replay_batch_size
        self.fetch_timeout = fetch_timeout
        self.positions = {model.name: 0 for model in self.models}

    @property
    def names(self) -> list[str]:
        return [model.name for model in self.models]

    @property
    def durable_name(self) -> str:
        if self.rebuild is not None:  # apart from any projector's, which may run meanwhile
            return "rebuild-" + "-".join(sorted(self.names))
        return durable_name(self.names)

    @property
    def position(self) -> int:
        """How far every read model of the group has got."""
        return min(self.positions.values())

    async def run(
        self, stop: asyncio.Event, on_progress: Callable[[int, int], None] | None = None
    ) -> None:
        """Apply events until ``stop`` is set. With ``on_progress``, stop once caught up instead,
        reporting (position reached, stream head position) after each batch: a rebuild.
        """
        split_off: list[asyncio.Task[None]] = []  # they stop on ``stop`` too
        try:
            await self._run(stop, on_progress, split_off)
        finally:
            await asyncio.gather(*split_off)

    async def _run(
        self,
        stop: asyncio.Event,
        on_progress: Callable[[int, int], None] | None,
        split_off: list[asyncio.Task[None]],
    ) -> None:
        backoff = 0.2
        while not stop.is_set():
            try:
                nc = await connect(self.nats_url, name=f"timebank-{self.durable_name}")
            except (NatsError, OSError, TimeoutError) as error:
                log.warning("projection.broker_unreachable", models=self.names, error=str(error))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            try:
                # Only the relay creates the stream (with its replica count); until then the
                # stream lookups below fail and this loop retries.
                backoff = 0.2
                if await self._consume(nc, stop, on_progress):
                    return
            except (NatsError, JetStreamError, OSError, TimeoutError, DeliveryGap) as error:
                log.warning("projection.interrupted", models=self.names, error=str(error))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            except RebuildInProgress as rebuilt:
                await self._wait_for_rebuild(rebuilt.models, stop)
            except RebuildRefused:
                raise
            except GroupSplit as split:
                # The rest of the group resumes at once, from its own lowest position.
                split_off += [asyncio.create_task(runner.run(stop)) for runner in split.runners]
            except PoisonEvent as poison:
                if on_progress:
                    raise  # a rebuild stops and says where
                # Halted before the event, recorded as failing; retried, for the fault may pass.
                log.error("projection.halted", **msgspec.structs.asdict(poison.failure))
                await sleep_unless(stop, poison.pause)
            except Exception:
                # Not one event's fault (the read store failed mid-batch, say): logged, shows as
                # lag in /health, and the batch is retried (nothing of it was committed).
                log.exception("projection.failed", models=self.names, position=self.position)
                await sleep_unless(stop, 5.0)
            finally:
                with contextlib.suppress(NatsError, OSError, TimeoutError):
                    await nc.close()

    async def _consume(
        self,
        nc: Client,
        stop: asyncio.Event,
        on_progress: Callable[[int, int], None] | None,
    ) -> bool:
        js = nc.jetstream()
        self.positions = await asyncio.to_thread(self.store.positions, self.names)
        expected = await self._join_stream(js, stop, on_progress)
        if expected is None:
            return False
        puller = await Puller.open(nc, self.durable_name)
        log.info("projection.resumed", models=self.names, positions=self.positions)
        head = (await stream_head(js))[1] if on_progress else 0
        while not stop.is_set():
            if on_progress and self.position >= head:
                return True
            messages = await puller.fetch(self.batch_size, self.fetch_timeout, stop)
            run, done, gap = contiguous(messages, expected)
            if run:
                await self._apply([decode(message.data) for message in run], split=not on_progress)
                expected += len(run)
            if run or done:
                # Acknowledging one message acknowledges every one before it (AckPolicy.ALL):
                # all of those are applied, and nothing past a gap ever is.
                await (run or done)[-1].ack()
            if gap is not None:
                raise DeliveryGap(expected, gap)
            if on_progress:
                on_progress(self.position, head)
        return False

    async def _wait_for_rebuild(self, models: list[str], stop: asyncio.Event) -> None:
        """Until the rebuild of ``models`` is over; then the runner starts again from the
        positions they are tracked at, the rebuild's."""
        log.warning("projection.waiting_for_rebuild", models=models)
        while not stop.is_set():
            try:
                if not await asyncio.to_thread(rebuilding, self.store, models):
                    log.info("projection.rebuild_over", models=models)
                    return
            except Exception as error:  # the read store is down, say: look again
                log.warning("projection.rebuild_unknown", models=models, error=str(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)

    async def _apply(self, envelopes: list[Envelope], *, split: bool) -> None:
        try:
            self.positions = await asyncio.to_thread(
                self.store.apply, self.models, envelopes, rebuild=self.rebuild
            )
        except RebuildInProgress as rebuilt:
            if not split or len(rebuilt.models) == len(self.models):
                raise
            # The rest go on; each model being rebuilt waits on its own consumer.
            self._split([model for model in self.models if model.name in rebuilt.models])
        except Exception:
            if len(self.models) == 1:
                await asyncio.to_thread(self._halt_at_poison, self.models[0], envelopes)
                return
            if not split:
                raise
            failing = await asyncio.to_thread(self._failing, envelopes)
            if not failing:
                raise  # the batch applies model by model: a passing fault, retry it
            self._split(failing)

    def _failing(self, envelopes: list[Envelope]) -> list[ReadModel]:
        """The models that fail the batch on their own; the others apply it meanwhile."""
        failing = []
        for model in self.models:
            try:
                self.store.apply([model], envelopes)
            except Exception:
                log.exception("projection.model_failed", model=model.name)
                failing.append(model)
        if len(failing) == len(self.models):
            # Every model failing is the store's fault if the store cannot even answer this.
            self.store.positions(self.names)
        return failing

    def _halt_at_poison(self, model: ReadModel, envelopes: list[Envelope]) -> None:
        """Apply the batch an event at a time, each in a transaction of its own, up to the
        first one that fails: record that one as a dead letter and stop there."""
        for envelope in envelopes:
            try:
                self.positions = self.store.apply([model], [envelope], rebuild=self.rebuild)
            except Exception as error:
                log.exception(
                    "projection.poison_event", model=model.name, position=envelope.position
                )
                raise PoisonEvent(
                    deadletter.record(self.store, model.name, envelope, error)
                ) from None

    def _split(self, failing: list[ReadModel]) -> NoReturn:
        """Go on without ``failing``: each retries on its own consumer, as a group of one, so
        that one read model's bad event does not hold back the read models beside it. When
        every model fails, the first stays here, as a group of one."""
        self.models = [model for model in self.models if model not in failing] or failing[:1]
        failing = [model for model in failing if model not in self.models]
        self.positions = {name: self.positions[name] for name in self.names}
        runners = [
            ProjectionRunner(
                [model],
                self.store,
                self.nats_url,
                batch_size=self.batch_size,
                replay_batch_size=self.replay_batch_size,
                fetch_timeout=self.fetch_timeout,
                events=self.events,
            )
            for model in failing
        ]
        log.error("projection.split_off", models=[model.name for model in failing])
        raise GroupSplit(runners)

    async def _join_stream(
        self,
        js: JetStreamContext,
        stop: asyncio.Event,
        on_progress: Callable[[int, int], None] | None,
    ) -> int | None:
        """Replay from the store until the stream holds the next event; then (re)create the
        durable consumer there and answer the stream sequence it delivers first (None:
        stopped meanwhile)."""
        while not stop.is_set():
            await self._replay_from_store(stop, on_progress)
            start, position_there = await first_sequence_after(js, self.position)
            if position_there is None or not await self._dropped_before(position_there):
                await self._point_consumer(js, start)
                return start
            log.info("projection.behind_the_stream", models=self.names, position=self.position)
        return None

    async def _replay_from_store(
        self, stop: asyncio.Event, on_progress: Callable[[int, int], None] | None
    ) -> None:
        """Apply what the event store holds past the group's position, batch by batch; each
        batch is read and decoded while the one before it is applied (the drivers let go of
        the interpreter while they wait on the database)."""
        if self.events is None:
            return
        head = await asyncio.to_thread(self.events.head)
        reading = self._read_after(self.position)
        try:
            while not stop.is_set() and self.position < head:
                envelopes = await reading
                if not envelopes:
                    return
                reading = self._read_after(envelopes[-1].position)
                await self._apply(envelopes, split=not on_progress)
                if on_progress:
                    on_progress(self.position, head)
        finally:
            reading.cancel()

    def _read_after(self, position: int) -> asyncio.Future[list[Envelope]]:
        assert self.events is not None
        return asyncio.ensure_future(
            asyncio.to_thread(self.events.after, position, self.replay_batch_size)
        )

    async def _dropped_before(self, position: int) -> bool:
        """Whether the store holds an event past the group's position and before
        ``position``, the first the stream has for it: one the stream no longer holds."""
        if self.events is None:
            return False  # the stream is all there is
        following = await asyncio.to_thread(self.events.next_position, self.position)
        return following is not None and following < position

    async def _point_consumer(self, js: JetStreamContext, start: int) -> None:
        """(Re)create the durable consumer, delivering from stream sequence ``start``."""
        with contextlib.suppress(NotFoundError):
            await js.delete_consumer(STREAM, self.durable_name)
        await js.add_consumer(
            STREAM,
            ConsumerConfig(
                durable_name=self.durable_name,
                ack_policy=AckPolicy.ALL,
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=start,
                filter_subject=f"{SUBJECT_PREFIX}.>",
                ack_wait=30,
                max_ack_pending=20_000,
            ),
        )


class PoisonEvent(Exception):
    """A read model cannot apply an event: it stopped just before it, recorded as failing."""

    def __init__(self, failure: deadletter.Failure) -> None:
        super().__init__(
            f"{failure.model} stopped before position {failure.position}"
            f" ({failure.event_type}): {failure.error}"
        )
        self.failure = failure

    @property
    def pause(self) -> float:
        """Seconds before the next attempt: 5, doubling with each failed one, at most 5 min."""
        return min(5.0 * 2 ** min(self.failure.attempts - 1, 6), 300.0)


class GroupSplit(Exception):
    """Read models left the group to run on their own; the group re-subscribes without them."""

    def __init__(self, runners: list[ProjectionRunner]) -> None:
        super().__init__(f"split off {[runner.names for runner in runners]}")
        self.runners = runners
