"""Reading the stream: pulling batches from a durable consumer, finding where in the stream
an event-store position is, and telling the run of messages a runner may apply."""

from __future__ import annotations

import asyncio
import json

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import DEFAULT_PREFIX, Header, StatusCode

from services.messaging.broker import wait_either
from services.messaging.envelope import STREAM, position_of


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
    """A message arrived ahead of one that was delivered but lost on the way, or that the
    bounded stream dropped before the runner took it: the runner starts again, from the store."""

    def __init__(self, expected: int, got: int) -> None:
        super().__init__(f"expected stream sequence {expected}, got {got}")


def contiguous(messages: list[Msg], expected: int) -> tuple[list[Msg], list[Msg], int | None]:
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


async def first_sequence_after(js: JetStreamContext, position: int) -> tuple[int, int | None]:
    """The stream sequence of the first message whose event-store position is above
    ``position``, and that message's position (None: the stream holds none yet); positions
    rise with sequence, so a binary search finds it.
    """
    state = (await js.stream_info(STREAM)).state
    low, high = max(state.first_seq, 1), state.last_seq + 1
    while low < high:
        middle = (low + high) // 2
        if await _position_at(js, middle) > position:
            high = middle
        else:
            low = middle + 1
    return low, (await _position_at(js, low) if low <= state.last_seq else None)


async def _position_at(js: JetStreamContext, sequence: int) -> int:
    message = await js.get_msg(STREAM, sequence)
    return position_of((message.headers or {})["Nats-Msg-Id"])
