"""The transactional outbox relay: event store notification log → JetStream, in order.

Each event is published with ``Nats-Msg-Id: timebank:<position>`` (the broker drops
duplicates) and ``Nats-Expected-Last-Sequence`` (the broker refuses anything that would land
out of order, so pipelined publishes can never leave a hole). The relay resumes after the last
position the stream holds, so it needs no state of its own and survives any crash.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.errors import Error as JetStreamError

from services.messaging.broker import connect, ensure_stream, sleep_unless, stream_head, wait_either
from services.messaging.envelope import encode, message_id, position_of
from services.messaging.eventlog import EventLog
from services.store.eventstore import Timebank

log = structlog.get_logger(__name__)

_Outgoing = tuple[str, bytes, str]  # subject, payload, Nats-Msg-Id


class Relay:
    def __init__(
        self,
        app: Timebank,
        nats_url: str,
        *,
        batch_size: int = 1000,
        poll_interval: float = 0.25,
        ack_timeout: float = 10.0,
        stream_replicas: int = 1,
        stream_max_mb: float = 0,
    ) -> None:
        """``stream_max_mb``: the stream's bound (0: none); see broker.ensure_stream."""
        self.events = EventLog(app.recorder, app.mapper)
        self.nats_url = nats_url
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.ack_timeout = ack_timeout
        self.stream_replicas = stream_replicas
        self.stream_max_mb = stream_max_mb
        self.position = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    def wake(self, _position: int = 0) -> None:
        """Called by the command side (any thread) after it recorded events."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self, stop: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        backoff = 0.2
        while not stop.is_set():
            try:
                nc = await connect(self.nats_url, name="timebank-relay")
            except (NatsError, OSError, TimeoutError) as error:
                log.warning("relay.broker_unreachable", error=str(error))
                await sleep_unless(stop, backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            try:
                js = nc.jetstream()
                await ensure_stream(js, self.stream_replicas, self.stream_max_mb)
                backoff = 0.2
                await self._pump(js, stop)
            except (NatsError, JetStreamError, OSError, TimeoutError) as error:
                log.warning("relay.interrupted", error=str(error), position=self.position)
                await sleep_unless(stop, backoff)
                backoff = min(backoff * 2, 5.0)
            except Exception:
                # A bug (say, an event with no published schema) must not silently end the
                # relay: it is logged, shows as relay lag in /health, and is retried.
                log.exception("relay.failed", position=self.position)
                await sleep_unless(stop, 5.0)
            finally:
                with contextlib.suppress(NatsError, OSError, TimeoutError):
                    await nc.close()

    async def _pump(self, js: JetStreamContext, stop: asyncio.Event) -> None:
        last_seq, self.position = await stream_head(js)
        log.info("relay.resumed", position=self.position, stream_seq=last_seq)
        assert self._wake is not None
        while not stop.is_set():
            self._wake.clear()
            batch = await asyncio.to_thread(self._outgoing_after, self.position)
            if not batch:
                await wait_either(self._wake, stop, self.poll_interval)
                continue
            pending = []
            for subject, payload, msg_id in batch:
                headers = {"Nats-Msg-Id": msg_id, "Nats-Expected-Last-Sequence": str(last_seq)}
                pending.append(await js.publish_async(subject, payload, headers=headers))
                last_seq += 1
            acks = await asyncio.wait_for(asyncio.gather(*pending), self.ack_timeout)
            if any(ack.duplicate for ack in acks):
                # Someone else (an earlier incarnation) published these; re-read the head.
                last_seq, self.position = await stream_head(js)
                continue
            self.position = position_of(batch[-1][2])
            log.debug("relay.published", count=len(batch), position=self.position)

    def _outgoing_after(self, position: int) -> list[_Outgoing]:
        return [
            (envelope.subject, encode(envelope), message_id(envelope.position))
            for envelope in self.events.after(position, self.batch_size)
        ]
