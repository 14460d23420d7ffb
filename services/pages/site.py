"""The pages' composition: templates with their languages, vendored assets, sessions, CSRF,
and how a failure is shown to a person (in their language, never as a trace)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import structlog
from eventsourcing.persistence import PersistenceError
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from litestar import Request, Response, Router, get
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.params import FromPath, QueryParameter
from litestar.plugins.htmx import ClientRedirect, HTMXRequest, HTMXTemplate
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import File, Redirect, Template
from litestar.security.jwt import JWTCookieAuth, Token
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from domain.identity import MEMBER_NUMBER_LONGEST
from domain.rules import NotFound, RuleViolated
from services.bus import NotYours
from services.composition.runtime import Backbone
from services.identity.commands import MEMBER_NUMBER_PATTERN
from services.identity.records import SignInRefused
from services.pages import i18n, refusals
from services.pages.session import SESSION_COOKIE, current, local_path, signed_out
from services.store.eventstore import ConcurrentUpdate
from services.web.auth import Principal, TokenRevoked, public
from services.web.problems import (
    PositionAheadOfStore,
    ReadModelBehind,
    ReadModelFailing,
    http_problem,
)
from services.windows import DateOutOfRange

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATE_DIR = HERE / "templates"
# Paths the pages own: the API's bearer-token auth and its problem+json answers stay off them.
PAGE_PATHS = ("^/$", "^/(?:kiosk|console|council|lang|static)(?:/|$)")
API_PATHS = ["^/api/", "^/health", "^/schema"]  # bearer tokens: no cookie, so no CSRF token
NOTICE_TARGET = "#notice"  # where a page shows what went wrong with the last action

log = structlog.get_logger(__name__)


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        hours=i18n.hours,
        number=i18n.number,
        percent=i18n.percent,
        day=i18n.day,
        moment=i18n.moment,
        clock=i18n.clock,
        purpose=i18n.purpose,
    )
    env.globals.update(
        language=i18n.language,
        LANGUAGES=i18n.LANGUAGES,
        MEMBER_NUMBER_PATTERN=MEMBER_NUMBER_PATTERN,
        MEMBER_NUMBER_LONGEST=MEMBER_NUMBER_LONGEST,
    )
    return env


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(instance=JinjaTemplateEngine(engine_instance=environment()))


def csrf_config(secret: str) -> CSRFConfig:
    return CSRFConfig(secret=secret, cookie_samesite="strict", exclude=API_PATHS)


async def before_page(request: Request[Any, Any, Any]) -> None:
    """before_request: the page speaks the language the reader chose (Chinese by default),
    and a form is read (its text checked, services/web/bodies.py) before its handler, which
    Litestar would otherwise give the form without asking the request for it."""
    i18n.use(request.cookies.get(i18n.LANGUAGE_COOKIE, i18n.DEFAULT))
    if request.content_type[0] in FORMS:
        await request.form()


FORMS = (RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART)


def is_page_path(path: str) -> bool:
    return any(re.match(pattern, path) for pattern in PAGE_PATHS)


def sign_in_path(path: str) -> str:
    """Where someone who is not (or no longer) signed in goes from ``path``."""
    return "/kiosk/sign-in" if path.startswith("/kiosk") else f"/console/sign-in?next={path}"


def _notice(request: Request[Any, Any, Any], message: str, status: int) -> Response[Any]:
    """What went wrong, in the reader's language: into the page's notice area after an
    htmx action, or as a page of its own."""
    context = {"message": message, "signed_in": current(request)}
    if HTMXRequest(request.scope).htmx:
        return HTMXTemplate(
            template_name="notice.html",
            context=context,
            status_code=status,
            re_target=NOTICE_TARGET,
            re_swap="innerHTML",
        )
    return Template("failure.html", context=context, status_code=status)


def _not_signed_in(request: Request[Any, Any, Any], _: Exception) -> Response[Any]:
    """To sign-in, dropping a session cookie that no longer signs anyone in (expired, or
    revoked: the account deactivated or the kiosk retired)."""
    to = sign_in_path(request.url.path)
    if HTMXRequest(request.scope).htmx:
        redirect = ClientRedirect(to)
        redirect.set_cookie(SESSION_COOKIE, "", path="/", max_age=0)
        return redirect
    return signed_out(to)


def _refused(status: int) -> Callable[[Request[Any, Any, Any], Exception], Response[Any]]:
    def handle(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
        log.info("page.refused", path=request.url.path, code=refusals.code_of(error))
        return _notice(request, refusals.explain(error), status)

    return handle


def _http(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    return _notice(request, refusals.explain(error), error.status_code)


def _failed(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    log.exception("page.failed", path=request.url.path)
    return _notice(request, refusals.explain(error), 500)


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    NotAuthorizedException: _not_signed_in,
    TokenRevoked: _not_signed_in,  # else the app's problem+json for it would answer a page
    PermissionDeniedException: _refused(403),
    NotYours: _refused(403),  # a record of another station's, or people across stations
    RuleViolated: _refused(422),
    DateOutOfRange: _refused(422),  # the API answers it with a problem naming the field
    NotFound: _refused(404),
    SignInRefused: _refused(401),
    ValidationException: _refused(400),
    ConcurrentUpdate: _refused(409),
    ReadModelBehind: _refused(503),
    ReadModelFailing: _refused(503),
    PositionAheadOfStore: _refused(400),
    PersistenceError: _refused(503),
    HTTPException: _http,
    Exception: _failed,
}


def _lost(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    """No route answers the path, or not with this method. Routing fails before any router's
    exception handlers or before_request run, so the app calls this: a page path gets a page
    in the reader's language, any other path the API's problem details."""
    if not is_page_path(request.url.path):
        return http_problem(error).to_response(request)
    i18n.use(request.cookies.get(i18n.LANGUAGE_COOKIE, i18n.DEFAULT))
    return _notice(request, refusals.explain(error), error.status_code)


# The app's own handlers for what no route answered (services/composition/app.py).
ROUTING_FAILURES: dict[type[Exception] | int, Any] = {
    NotFoundException: _lost,
    MethodNotAllowedException: _lost,
}


@get("/", opt=public(), sync_to_thread=False)
def home(request: Request[Any, Any, Any]) -> Template:
    return Template("home.html", context={"signed_in": current(request)})


@get("/privacy-notice", opt=public(), sync_to_thread=True)
def privacy_notice(request: Request[Any, Any, Any], bone: NamedDependency[Backbone]) -> Template:
    """The station's current privacy notice (TIMEBANK_PRIVACY_NOTICE_FILE), for a resident to
    read before agreeing to it at registration."""
    settings = bone.settings
    path = settings.privacy_notice_file
    text = Path(path).read_text(encoding="utf-8") if path else ""
    context = {"signed_in": current(request), "version": settings.privacy_notice_version}
    return Template("privacy_notice.html", context={**context, "text": text})


@get(
    "/favicon.ico",
    opt=public(),
    sync_to_thread=False,
    cache_control=CacheControlHeader(max_age=86400, public=True),
)
def favicon() -> File:
    """Browsers ask for it on every site, whatever the page links: answered, not a 404."""
    return File(
        STATIC_DIR / "favicon.ico", media_type="image/x-icon", content_disposition_type="inline"
    )


@get("/lang/{code:str}", opt=public(), sync_to_thread=False)
def switch_language(
    code: FromPath[str], next_: Annotated[str, QueryParameter(name="next")] = "/"
) -> Redirect:
    lang = i18n.chosen(code)
    response = Redirect(local_path(next_), status_code=303)
    response.set_cookie(i18n.LANGUAGE_COOKIE, lang, max_age=365 * 24 * 3600, samesite="strict")
    return response


def pages(
    auth: JWTCookieAuth[Principal, Token],
    handlers: list[Any],
    sign_ins: list[Any],
    sign_ins_per_minute: int,
) -> Router:
    """The pages: signed in by cookie, each in the reader's language, failures shown as pages.
    ``sign_ins``: the sign-in pages, rate-limited per client like the API's sign-in."""
    limited = Router(
        path="/",
        route_handlers=sign_ins,
        middleware=[RateLimitConfig(rate_limit=("minute", sign_ins_per_minute)).middleware],
    )
    return Router(
        path="/",
        route_handlers=[home, privacy_notice, favicon, switch_language, limited, *handlers],
        middleware=[auth.middleware],
        before_request=before_page,
        exception_handlers=EXCEPTION_HANDLERS,
        include_in_schema=False,
    )


def assets() -> Router:
    return create_static_files_router(
        path="/static", directories=[STATIC_DIR], opt=public(), include_in_schema=False
    )
