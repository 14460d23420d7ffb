"""The Litestar application: routes, dependencies, problem details, OpenAPI, logging."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager

from litestar import Litestar
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig

from services.api.context import backbone, provenance
from services.api.health import health
from services.api.ledger import AccountController, TransferController
from services.api.problems import INTERNAL_ERROR_HANDLERS, problem_details_plugin
from services.logs import structlog_plugin
from services.runtime import Backbone

MAX_BODY_BYTES = 64 * 1024
Lifespan = Callable[[Litestar], AbstractAsyncContextManager[None]]


def create_app(bone: Backbone, lifespan: Sequence[Lifespan] = ()) -> Litestar:
    app = Litestar(
        route_handlers=[AccountController, TransferController, health],
        dependencies={
            "bone": Provide(backbone, sync_to_thread=False),
            "by": Provide(provenance, sync_to_thread=False),
        },
        plugins=[problem_details_plugin(), structlog_plugin()],
        exception_handlers=INTERNAL_ERROR_HANDLERS,
        openapi_config=OpenAPIConfig(title="Timebank", version="1", path="/schema"),
        request_max_body_size=MAX_BODY_BYTES,
        lifespan=list(lifespan),
    )
    app.state.backbone = bone
    return app
