"""The Litestar application: routes, dependencies, problem details, OpenAPI, logging."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from litestar import Litestar, Router
from litestar.di import Provide
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi import OpenAPIConfig
from litestar.security.jwt import JWTCookieAuth, Token
from litestar.types import ControllerRouterHandler

from services.api.certificates import CERTIFICATES, ReportController
from services.api.council import MOTIONS
from services.api.exchanges import EXCHANGES
from services.api.flows import FLOWS
from services.api.health import health
from services.api.hour_audit import VolunteerHoursController
from services.api.hours import HOURS
from services.api.identity import NOT_A_SIGN_IN, STAFF, AuthController
from services.api.ledger import ACCOUNTS, TRANSFERS
from services.api.marketplace import CATEGORIES, LISTINGS
from services.api.meetings import COUNCIL_RULES, MEETINGS
from services.api.members import MEMBERS
from services.api.openapi import DescribedResponses
from services.api.pool import POOL
from services.api.privacy import KIOSKS, PRIVACY
from services.api.stations import STATIONS
from services.api.volunteers import TRAININGS, VOLUNTEERS
from services.composition.logs import structlog_plugin
from services.composition.runtime import Backbone
from services.pages import console, council, kiosk, site
from services.pages.session import page_auth
from services.pages.staff import StaffSignInPage
from services.web.auth import Principal, jwt_auth, public
from services.web.bodies import PlainParameters, TimebankRequest
from services.web.context import (
    backbone,
    caller,
    provenance,
    the_bus,
    the_timebank,
    with_request_context,
)
from services.web.problems import INTERNAL_ERROR_HANDLERS, problem_details_plugin
from services.web.reach import the_reach
from services.web.reads import the_reads

MAX_BODY_BYTES = 64 * 1024
Lifespan = Callable[[Litestar], AbstractAsyncContextManager[None]]


def _api(bone: Backbone) -> list[ControllerRouterHandler]:
    return [
        ACCOUNTS,
        TRANSFERS,
        Router(
            path="/",
            route_handlers=[AuthController],
            middleware=[
                RateLimitConfig(
                    rate_limit=("minute", bone.settings.sign_ins_per_minute),
                    exclude_opt_key=NOT_A_SIGN_IN,
                ).middleware
            ],
        ),
        STAFF,
        MEMBERS,
        CATEGORIES,
        LISTINGS,
        EXCHANGES,
        POOL,
        VOLUNTEERS,
        TRAININGS,
        HOURS,
        VolunteerHoursController,
        CERTIFICATES,
        ReportController,
        MOTIONS,
        MEETINGS,
        COUNCIL_RULES,
        KIOSKS,
        PRIVACY,
        STATIONS,
        FLOWS,
        health,
    ]


def _pages(bone: Backbone, cookie_auth: JWTCookieAuth[Principal, Token]) -> list[Router]:
    return [
        site.pages(
            cookie_auth,
            [*kiosk.PAGES, *console.PAGES, *council.PAGES],
            sign_ins=[StaffSignInPage, *kiosk.SIGN_IN_PAGES],
            sign_ins_per_minute=bone.settings.sign_ins_per_minute,
        ),
        site.assets(),
    ]


def _following_revocations(bone: Backbone) -> Lifespan:
    """What other replicas revoke reaches this one while it serves (services.web.revocation)."""

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        stop = asyncio.Event()
        following = asyncio.create_task(bone.revocations.follow(stop))
        try:
            yield
        finally:
            stop.set()
            await following

    return lifespan


def create_app(bone: Backbone, lifespan: Sequence[Lifespan] = ()) -> Litestar:
    """The API, and the pages unless ``settings.pages`` is off (an API-only replica)."""
    secret = bone.settings.token_secret()
    auth = jwt_auth(secret, exclude=site.PAGE_PATHS)
    cookie_auth = page_auth(secret)
    with_pages = bone.settings.pages
    app = Litestar(
        route_handlers=[*_api(bone), *(_pages(bone, cookie_auth) if with_pages else [])],
        on_app_init=[auth.on_app_init, with_request_context],
        dependencies={
            "bone": Provide(backbone, sync_to_thread=False),
            "by": Provide(provenance, sync_to_thread=False),
            "bus": Provide(the_bus, sync_to_thread=False),
            "caller": Provide(caller, sync_to_thread=False),
            "reads": Provide(the_reads, sync_to_thread=False),
            "reach": Provide(the_reach, sync_to_thread=True),
            "timebank": Provide(the_timebank, sync_to_thread=False),
            "auth": Provide(lambda: auth, sync_to_thread=False),
        },
        plugins=[problem_details_plugin(), structlog_plugin(), DescribedResponses()],
        exception_handlers={
            **INTERNAL_ERROR_HANDLERS,
            **(site.ROUTING_FAILURES if with_pages else {}),
        },
        openapi_config=OpenAPIConfig(
            title="Timebank",
            version="1",
            openapi_router=Router(
                path="/schema", route_handlers=[], opt=public(), include_in_schema=False
            ),
        ),
        request_max_body_size=MAX_BODY_BYTES,
        request_class=TimebankRequest,
        middleware=[PlainParameters()],
        csrf_config=site.csrf_config(secret) if with_pages else None,
        template_config=site.template_config() if with_pages else None,
        lifespan=[_following_revocations(bone), *lifespan],
        on_startup=[bone.commits.attach],
    )
    app.state.backbone = bone
    app.state.reads = bone.read_side
    app.state.page_auth = cookie_auth
    return app
