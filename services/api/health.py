"""GET /health: is the store up, is the broker reachable, is the relay moving, how far behind
is each read model and is any of them stopped or stuck. Anything that needs an operator is a
problem: then the status is "degraded" and the answer 503, so a load balancer's check sees it
too."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import msgspec
import nats
from litestar import Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from nats.errors import Error as NatsError
from nats.js.errors import Error as JetStreamError

from projections import deadletter
from projections.catalog import READ_MODELS
from services.api import schemas
from services.composition.runtime import Backbone
from services.messaging.broker import servers, stream_head
from services.web.auth import public


class Stall:
    """Tells a position that stands still while work waits for it from one that moves."""

    def __init__(self, patience: float) -> None:
        self.patience = patience
        self._position: int | None = None
        self._since = 0.0

    def stuck(self, position: int, waiting: bool, now: float) -> bool:
        if not waiting or position != self._position:
            self._position, self._since = position, now
            return False
        return now - self._since >= self.patience


class Observed(msgspec.Struct, kw_only=True):
    """What one probe saw."""

    store_position: int | None
    stream_position: int | None
    relay_stuck: bool
    projected: dict[str, int]
    failures: dict[str, deadletter.Failure]
    stuck_models: list[str]  # behind the stream, not moving, no failure recorded (no projector?)
    embedded_broker: schemas.EmbeddedBrokerHealth | None  # its watchdog, under `timebank up`


# Each check names what needs an operator (nothing when all is well); a new concern is one
# more function here.
Check = Callable[[Observed], list[str]]


def _store(seen: Observed) -> list[str]:
    return ["the event store cannot be read"] if seen.store_position is None else []


def _broker(seen: Observed) -> list[str]:
    return ["the broker cannot be reached"] if seen.stream_position is None else []


def _embedded(seen: Observed) -> list[str]:
    broker = seen.embedded_broker
    if broker is None or broker.state == "running":
        return []
    return [
        f"the embedded broker is {broker.state} after {broker.failures} failed starts"
        f" (last: {broker.last_error})"
    ]


def _relay(seen: Observed) -> list[str]:
    if not seen.relay_stuck:
        return []
    return [f"the relay is stuck at position {seen.stream_position} while events wait"]


def _read_models(seen: Observed) -> list[str]:
    return [
        f"read model {name} stopped before position {failure.position}"
        f" ({failure.event_type}): {failure.error}"
        for name, failure in sorted(seen.failures.items())
    ]


def _projectors(seen: Observed) -> list[str]:
    return [
        f"read model {name} is stuck at position {seen.projected[name]} while events wait"
        for name in seen.stuck_models
    ]


CHECKS: list[Check] = [_store, _broker, _embedded, _relay, _read_models, _projectors]


async def _stream_position(nats_url: str) -> int | None:
    try:
        nc = await asyncio.wait_for(
            nats.connect(
                servers(nats_url), connect_timeout=1, allow_reconnect=False, error_cb=_quiet
            ),
            2,
        )
    except (NatsError, OSError, TimeoutError):
        return None
    try:
        return (await stream_head(nc.jetstream()))[1]
    except (NatsError, JetStreamError, TimeoutError):
        return None
    finally:
        with contextlib.suppress(NatsError, OSError, TimeoutError):
            await nc.close()


async def _quiet(_: Exception) -> None:
    """An unreachable broker is reported in the health body, not logged on every probe."""


def _stores(bone: Backbone) -> tuple[int | None, dict[str, int], dict[str, deadletter.Failure]]:
    store_position: int | None
    try:
        store_position = bone.timebank.last_position()
    except Exception:
        store_position = None
    return store_position, bone.reads.positions(list(READ_MODELS)), deadletter.failing(bone.reads)


def _embedded_broker(bone: Backbone) -> schemas.EmbeddedBrokerHealth | None:
    """The embedded broker's watchdog state, under `timebank up`: while it is down nothing is
    relayed."""
    if bone.broker is None:
        return None
    condition = bone.broker.condition
    return schemas.EmbeddedBrokerHealth(
        state=condition.state, failures=condition.failures, last_error=condition.last_error
    )


class Watch:
    """Stall watches over the relay and every read model, kept by the app between probes."""

    def __init__(self, patience: float) -> None:
        self._stalls: dict[str, Stall] = {}
        self._patience = patience

    def stuck(self, what: str, position: int, target: int | None) -> bool:
        stall = self._stalls.setdefault(what, Stall(self._patience))
        return stall.stuck(position, target is not None and target > position, time.monotonic())


def _watch(state: State, patience: float) -> Watch:
    if "health_watch" not in state:
        state.health_watch = Watch(patience)
    return state.health_watch  # type: ignore[no-any-return]


async def _observe(bone: Backbone, watch: Watch) -> Observed:
    (store_position, projected, failures), stream_position = await asyncio.gather(
        asyncio.to_thread(_stores, bone), _stream_position(bone.nats_url)
    )
    relay_stuck = stream_position is not None and watch.stuck(
        "relay", stream_position, store_position
    )
    return Observed(
        embedded_broker=_embedded_broker(bone),
        store_position=store_position,
        stream_position=stream_position,
        relay_stuck=relay_stuck,
        projected=projected,
        failures=failures,
        stuck_models=[
            name
            for name, position in projected.items()
            # Measured against the stream: what a running projector could have by now.
            if watch.stuck(name, position, stream_position) and name not in failures
        ],
    )


def _projection(seen: Observed, name: str, position: int) -> schemas.ProjectionHealth:
    failure = seen.failures.get(name)
    status = "failing" if failure else "stuck" if name in seen.stuck_models else "live"
    return schemas.ProjectionHealth(
        position=position,
        lag=max((seen.store_position or 0) - position, 0),
        status=status,
        failure=failure,
    )


@get(
    "/health",
    opt=public(),
    summary="Store, broker, relay and read models: ok, or degraded (503)",
    responses={
        503: ResponseSpec(
            data_container=schemas.Health,
            description="Degraded: something needs an operator (see `problems`).",
            generate_examples=False,
        )
    },
)
async def health(bone: NamedDependency[Backbone], state: State) -> Response[schemas.Health]:
    seen = await _observe(bone, _watch(state, bone.settings.stuck_seconds))
    problems = [problem for check in CHECKS for problem in check(seen)]
    body = schemas.Health(
        status="degraded" if problems else "ok",
        problems=problems,
        store_position=seen.store_position,
        broker_connected=seen.stream_position is not None,
        stream_position=seen.stream_position,
        relay_lag=None
        if seen.stream_position is None
        else max((seen.store_position or 0) - seen.stream_position, 0),
        relay_stuck=seen.relay_stuck,
        projections={
            name: _projection(seen, name, position) for name, position in seen.projected.items()
        },
        embedded_broker=seen.embedded_broker,
    )
    return Response(body, status_code=503 if problems else 200)
