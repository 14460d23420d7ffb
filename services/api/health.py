"""GET /health: is the store up, is the broker reachable, how far behind are relay and reads."""

from __future__ import annotations

import asyncio
import contextlib

import nats
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from nats.errors import Error as NatsError
from nats.js.errors import Error as JetStreamError

from projections.catalog import READ_MODELS
from services.api import schemas
from services.api.auth import public
from services.broker import servers
from services.relay import stream_head
from services.runtime import Backbone


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


def _positions(bone: Backbone) -> tuple[int | None, dict[str, int]]:
    store_position: int | None
    try:
        store_position = bone.timebank.last_position()
    except Exception:
        store_position = None
    return store_position, bone.reads.positions(list(READ_MODELS))


@get(
    "/health",
    opt=public(),
    summary="Store, broker, relay lag and read-model lag",
    responses={
        503: ResponseSpec(
            schemas.Health, description="The event store is unreachable", generate_examples=False
        )
    },
)
async def health(bone: NamedDependency[Backbone]) -> Response[schemas.Health]:
    (store_position, projected), stream_position = await asyncio.gather(
        asyncio.to_thread(_positions, bone), _stream_position(bone.nats_url)
    )
    head = store_position or 0
    body = schemas.Health(
        status="ok" if store_position is not None and stream_position is not None else "degraded",
        store_position=store_position,
        broker_connected=stream_position is not None,
        stream_position=stream_position,
        relay_lag=None if stream_position is None else max(head - stream_position, 0),
        projections={
            name: schemas.ProjectionHealth(position=position, lag=max(head - position, 0))
            for name, position in projected.items()
        },
    )
    return Response(body, status_code=200 if store_position is not None else 503)
