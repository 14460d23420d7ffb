"""Runs a group of read models from one durable JetStream pull consumer.

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
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Sequence
from typing import NoReturn

import msgspec
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import (
    DEFAULT_PREFIX,
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    Header,
    StatusCode,
)
from nats.js.errors import Error as JetStreamError
from nats.js.errors import NotFoundError

from projections import deadletter
from projections.readstore import ReadModel, ReadStore
from projections.rebuilds import RebuildInProgress, RebuildRefused, rebuilding
from services.messaging.broker import connect, sleep_unless, stream_head, wait_either
from services.messaging.envelope import STREAM, SUBJECT_PREFIX, Envelope, decode, position_of

log = structlog.get_logger(__name__)


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
        fetch_timeout: float = 0.5,
        rebuild: str | None = None,
    ) -> None:
        """``rebuild``: the lease of the rebuild this runner does (see projections.rebuilds)."""
        self.models = list(models)
        self.rebuild = rebuild
        self.store = store
        self.nats_url = nats_url
        self.batch_size = batch_size
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
        expected = await self._point_consumer(js)
        puller = await Puller.open(nc, self.durable_name)
        log.info("projection.resumed", models=self.names, positions=self.positions)
        head = (await stream_head(js))[1] if on_progress else 0
        while not stop.is_set():
            if on_progress and self.position >= head:
                return True
            messages = await puller.fetch(self.batch_size, self.fetch_timeout, stop)
            run, done, gap = _contiguous(messages, expected)
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
                fetch_timeout=self.fetch_timeout,
            )
            for model in failing
        ]
        log.error("projection.split_off", models=[model.name for model in failing])
        raise GroupSplit(runners)

    async def _point_consumer(self, js: JetStreamContext) -> int:
        """(Re)create the durable consumer; answer the stream sequence it delivers first."""
        start = await first_sequence_after(js, self.position)
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
        return start


class Puller:
    """Pulls batches from a durable consumer into a callback subscription.

    nats-py's ``fetch`` waits for each message of a batch with a task and a timer of its own,
    which costs about twice what all the rest of taking a message in does; here a batch costs
    one request and one wait. The request is the one ``fetch`` opens with (``no_wait`` with
    ``expires``): the server sends what it has at once, or else waits up to ``expires`` for
    the first message, and either way ends the request with a status unless the batch is full.
    """

    def __init__(self, nc: Client, durable: str) -> None:
        self._nc = nc
        self._subject = f"{DEFAULT_PREFIX}.CONSUMER.MSG.NEXT.{STREAM}.{durable}"
        self._inbox = nc.new_inbox()
        self._arrived: list[Msg] = []
        self._wanted = 0
        self._ended = asyncio.Event()
        self._refused: str | None = None

    @classmethod
    async def open(cls, nc: Client, durable: str) -> Puller:
        puller = cls(nc, durable)
        await nc.subscribe(puller._inbox, cb=puller._receive)
        return puller

    async def fetch(self, batch: int, timeout: float, stop: asyncio.Event) -> list[Msg]:
        """Up to ``batch`` messages: what the consumer has now, or what comes first within
        ``timeout``. Messages of an earlier request that came after it ended come first.
        ``stop`` cuts the wait short: a stopping projector leaves at once, and what it did not
        acknowledge is delivered again wherever it starts next."""
        if not self._arrived:
            self._wanted = batch
            self._ended.clear()
            request = {"batch": batch, "expires": int(timeout * 1e9), "no_wait": True}
            await self._nc.publish(self._subject, json.dumps(request).encode(), self._inbox)
            # The server ends the request by ``expires``; waiting longer covers a lost answer.
            await wait_either(self._ended, stop, timeout + 1.0)
        if self._refused is not None:
            raise NatsError(f"pull request refused: {self._refused}")
        taken, self._arrived = self._arrived, []
        return taken

    async def _receive(self, message: Msg) -> None:
        status = JetStreamContext.is_status_msg(message)
        if status is None:
            self._arrived.append(message)
            if len(self._arrived) < self._wanted:
                return
        elif status not in _REQUEST_ENDED:
            # No such consumer (re-pointed by another process, say): the runner starts over.
            self._refused = f"{status} {(message.headers or {}).get(Header.DESCRIPTION, '')}"
        self._ended.set()


# Statuses that end a pull request without anything being wrong: no messages (now), the
# request expired, or it was cut short (the consumer changed leader, or was deleted).
_REQUEST_ENDED = {
    code.value for code in (StatusCode.NO_MESSAGES, StatusCode.REQUEST_TIMEOUT, StatusCode.CONFLICT)
}


class DeliveryGap(Exception):
    """A message arrived ahead of one that was delivered but lost on the way."""

    def __init__(self, expected: int, got: int) -> None:
        super().__init__(f"expected stream sequence {expected}, got {got}")


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


def _contiguous(messages: list[Msg], expected: int) -> tuple[list[Msg], list[Msg], int | None]:
    """Split a fetched batch into the unbroken run of sequences from ``expected`` on, the
    redeliveries (of messages applied already, or twice in this batch), and the first sequence
    after a gap, if there is one. Both lists are in stream order, and every redelivery comes
    before the end of the run.
    """
    run: list[Msg] = []
    done: list[Msg] = []
    for message in sorted(messages, key=lambda message: message.metadata.sequence.stream):
        sequence = message.metadata.sequence.stream
        if sequence < expected + len(run):
            done.append(message)
        elif sequence == expected + len(run):
            run.append(message)
        else:
            return run, done, sequence
    return run, done, None


async def first_sequence_after(js: JetStreamContext, position: int) -> int:
    """The stream sequence of the first message whose event-store position is above
    ``position``; positions rise with sequence, so a binary search finds it.
    """
    state = (await js.stream_info(STREAM)).state
    low, high = max(state.first_seq, 1), state.last_seq + 1
    while low < high:
        middle = (low + high) // 2
        message = await js.get_msg(STREAM, middle)
        if position_of((message.headers or {})["Nats-Msg-Id"]) > position:
            high = middle
        else:
            low = middle + 1
    return low
