"""Who is using a page: the same principals and role guard as the API, carried in an
HttpOnly cookie (Litestar's JWTCookieAuth) instead of a bearer header.

A kiosk is a shared screen: it carries its device token in a long-lived cookie of its own,
set once when a coordinator sets the screen up, and a resident's session on it slides — each
page they open renews it, and it ends :data:`KIOSK_IDLE_LIFETIME` after their last touch.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.response import Redirect
from litestar.security.jwt import JWTCookieAuth, Token

from services.web.auth import Principal, issue_token, principal_from, token_lifetime

SESSION_COOKIE = "timebank_session"
DEVICE_COOKIE = "timebank_kiosk"
DEVICE_COOKIE_MAX_AGE = 10 * 365 * 24 * 3600  # until the kiosk is retired or set up again


def _page_principal(
    token: Token, connection: ASGIConnection[Any, Any, Any, Any]
) -> Principal | None:
    return principal_from(token, connection.cookies.get(DEVICE_COOKIE, ""), connection)


def page_auth(secret: str) -> JWTCookieAuth[Principal, Token]:
    return JWTCookieAuth[Principal, Token](
        token_secret=secret,
        retrieve_user_handler=_page_principal,
        key=SESSION_COOKIE,
        samesite="strict",  # with the CSRF token: no other site can act in someone's name
        exclude_opt_key="exclude_from_auth",
    )


def session_cookie(auth: JWTCookieAuth[Principal, Token], principal: Principal) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=issue_token(auth, principal),
        max_age=int(token_lifetime(principal).total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
    )


def device_cookie(device_token: str) -> Cookie:
    return Cookie(
        key=DEVICE_COOKIE,
        value=device_token,
        max_age=DEVICE_COOKIE_MAX_AGE,
        path="/",
        httponly=True,
        samesite="strict",
    )


def signed_in(auth: JWTCookieAuth[Principal, Token], principal: Principal, to: str) -> Redirect:
    return Redirect(to, status_code=303, cookies=[session_cookie(auth, principal)])


def signed_out(to: str) -> Redirect:
    return Redirect(to, status_code=303, cookies=[Cookie(key=SESSION_COOKIE, path="/", max_age=0)])


def local_path(path: str, otherwise: str = "/") -> str:
    """``path`` if it is on this site: a link may not send anyone elsewhere afterwards."""
    return path if path.startswith("/") and not path.startswith("//") else otherwise


def current(request: Request[Any, Any, Any]) -> Principal | None:
    """The signed-in principal on a page that anyone may open."""
    user = request.scope.get("user")
    return user if isinstance(user, Principal) else None


def renew_resident_session(request: Request[Any, Any, Any], response: Response[Any]) -> None:
    """A resident's touch keeps their kiosk session alive (the idle clock restarts)."""
    principal = current(request)
    if principal is not None and principal.is_member and response.status_code < 400:
        response.set_cookie(session_cookie(request.app.state.page_auth, principal))
