"""Runs one read model as a durable JetStream pull consumer.

The read store's tracking position is the truth about what a read model has applied. On every
start the durable consumer is re-pointed at the first stream message after that position, so a
crash, a dropped read-model database or a redelivery can never skip or double-apply an event:
anything at or below the tracked position is skipped inside the applying transaction.

Because of that skip, nothing may be applied past a message that was delivered but never
arrived (a connection dropped mid-delivery, a second process pulling from the same consumer):
the consumer would redeliver it only after ``ack_wait``, and then it would count as applied.
Stream sequences have no holes (the relay sees to that), so a runner applies only the
contiguous run it expects and otherwise re-points the consumer at its tracked position.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import structlog
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import Error as JetStreamError
from nats.js.errors import NotFoundError

from projections.readstore import ReadModel, ReadStore
from services.broker import connect
from services.envelope import STREAM, SUBJECT_PREFIX, decode, position_of
from services.relay import stream_head

log = structlog.get_logger(__name__)


class ProjectionRunner:
    def __init__(
        self,
        model: ReadModel,
        store: ReadStore,
        nats_url: str,
        *,
        batch_size: int = 1000,
        fetch_timeout: float = 0.5,
    ) -> None:
        self.model = model
        self.store = store
        self.nats_url = nats_url
        self.batch_size = batch_size
        self.fetch_timeout = fetch_timeout
        self.position = 0

    @property
    def durable_name(self) -> str:
        return f"projection-{self.model.name}"

    async def run(
        self, stop: asyncio.Event, on_progress: Callable[[int, int], None] | None = None
    ) -> None:
        """Apply events until ``stop`` is set. With ``on_progress``, stop once caught up instead,
        reporting (position reached, stream head position) after each batch: a rebuild.
        """
        backoff = 0.2
        while not stop.is_set():
            try:
                nc = await connect(self.nats_url, name=f"timebank-{self.durable_name}")
            except (NatsError, OSError, TimeoutError) as error:
                log.warning(
                    "projection.broker_unreachable", model=self.model.name, error=str(error)
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            try:
                # Only the relay creates the stream (with its replica count); until then the
                # stream lookups below fail and this loop retries.
                js = nc.jetstream()
                backoff = 0.2
                if await self._consume(js, stop, on_progress):
                    return
            except (NatsError, JetStreamError, OSError, TimeoutError, DeliveryGap) as error:
                log.warning("projection.interrupted", model=self.model.name, error=str(error))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            except Exception:
                # A failing event must not silently end the projection: it is logged, shows as
                # lag in /health, and the batch is retried (nothing of it was committed).
                log.exception("projection.failed", model=self.model.name, position=self.position)
                await asyncio.sleep(5.0)
            finally:
                with contextlib.suppress(NatsError, OSError, TimeoutError):
                    await nc.close()

    async def _consume(
        self,
        js: JetStreamContext,
        stop: asyncio.Event,
        on_progress: Callable[[int, int], None] | None,
    ) -> bool:
        self.position = await asyncio.to_thread(self.store.position, self.model.name)
        subscription, expected = await self._subscribe(js)
        log.info("projection.resumed", model=self.model.name, position=self.position)
        head = (await stream_head(js))[1] if on_progress else 0
        while not stop.is_set():
            if on_progress and self.position >= head:
                return True
            try:
                messages = await subscription.fetch(self.batch_size, timeout=self.fetch_timeout)
            except (TimeoutError, NatsTimeoutError):
                continue
            run, done, gap = _contiguous(messages, expected)
            if run:
                envelopes = [decode(message.data) for message in run]
                self.position = await asyncio.to_thread(self.store.apply, self.model, envelopes)
                expected += len(run)
            for message in done + run:
                await message.ack()
            if gap is not None:
                raise DeliveryGap(expected, gap)
            if on_progress:
                on_progress(self.position, head)
        return False

    async def _subscribe(
        self, js: JetStreamContext
    ) -> tuple[JetStreamContext.PullSubscription, int]:
        """The pull subscription, and the stream sequence it delivers first."""
        start = await first_sequence_after(js, self.position)
        with contextlib.suppress(NotFoundError):
            await js.delete_consumer(STREAM, self.durable_name)
        await js.add_consumer(
            STREAM,
            ConsumerConfig(
                durable_name=self.durable_name,
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=start,
                filter_subject=f"{SUBJECT_PREFIX}.>",
                ack_wait=30,
                max_ack_pending=20_000,
            ),
        )
        return await js.pull_subscribe_bind(durable=self.durable_name, stream=STREAM), start


class DeliveryGap(Exception):
    """A message arrived ahead of one that was delivered but lost on the way."""

    def __init__(self, expected: int, got: int) -> None:
        super().__init__(f"expected stream sequence {expected}, got {got}")


def _contiguous(messages: list[Msg], expected: int) -> tuple[list[Msg], list[Msg], int | None]:
    """Split a fetched batch into the unbroken run of sequences from ``expected`` on, the
    redeliveries (of messages applied already, or twice in this batch), and the first sequence
    after a gap, if there is one.
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
