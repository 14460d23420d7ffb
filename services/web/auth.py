"""Who is calling, and may they: JWT sign-in tokens (Litestar's JWTAuth) and role guards.

Every route declares its role set with ``allow(...)`` or ``public()``; the guard refuses a
route that declares none, so a new route cannot be forgotten open.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Self
from uuid import UUID

import msgspec
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.security.jwt import JWTAuth, JWTCookieAuth, Token

from domain.identity import Kiosk, Member, Role, kiosk_id_for
from domain.ledger import AccountKind, account_id_for
from services.identity.records import token_digest
from services.store.eventstore import Timebank
from services.volunteers import handlers as volunteers

STAFF_TOKEN_LIFETIME = timedelta(hours=8)
# Kiosks are shared: a resident's session ends after this long without a request.
KIOSK_IDLE_LIFETIME = timedelta(minutes=3)
KIOSK_TOKEN_HEADER = "X-Kiosk-Token"  # the device token every request from a kiosk carries


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """The signed-in caller. ``subject`` is pseudonymous and becomes the events' ``actor``."""

    subject: str
    roles: frozenset[Role]
    channel: str
    member_id: UUID | None = None
    account_id: UUID | None = None
    kiosk_id: UUID | None = None  # the kiosk a resident signed in at

    @property
    def is_member(self) -> bool:
        return self.member_id is not None

    def owns(self, account_id: UUID) -> bool:
        return self.account_id == account_id


def allow(*roles: Role, own_account_only: bool = False, people: bool = False) -> dict[str, Any]:
    """Route ``opt`` declaring who may call it. ``own_account_only``: a resident or volunteer
    may use it only on their own account (the handler checks which account it names).
    ``people``: it shows residents' records, which staff read only at their own station, not
    across a street or district (the handler checks the station)."""
    return {"roles": frozenset(roles), "own_account_only": own_account_only, "people": people}


def public() -> dict[str, Any]:
    """Route ``opt`` for what anyone may call, signed in or not."""
    return {"roles": None, "public": True, "exclude_from_auth": True}


# A coroutine, as is the API's user handler: Litestar hands a plain function to a worker thread
# and back, which costs more than the check itself.
async def role_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    if handler.opt.get("public"):
        return
    roles = handler.opt.get("roles")
    if not roles:
        raise PermissionDeniedException("This route declares no roles, so nobody may call it.")
    principal = connection.user
    if not isinstance(principal, Principal):
        raise NotAuthorizedException("Sign in first.")
    if not roles & principal.roles:
        raise PermissionDeniedException("Your role does not allow this.")


class TokenRevoked(NotAuthorizedException):
    """The token is good, but whom it names was deactivated, or the kiosk it was used at
    retired, since it was issued."""


def principal_from(
    token: Token, device_token: str, connection: ASGIConnection[Any, Any, Any, Any]
) -> Principal | None:
    """The token's principal; a resident's only from the kiosk they signed in at, which
    ``device_token`` (sent by the kiosk with every request) identifies. Refused once its
    subject or kiosk is revoked (services.web.revocation), which this process knows in memory."""
    try:
        principal = msgspec.convert(token.extras, Principal)
    except msgspec.ValidationError:
        return None
    if principal.is_member and (
        principal.kiosk_id is None or kiosk_id_for(token_digest(device_token)) != principal.kiosk_id
    ):
        return None
    if _revoked(principal, connection):
        raise TokenRevoked(
            "This sign-in is no longer valid: the account was deactivated or the kiosk retired."
        )
    return principal


def _revoked(principal: Principal, connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    bone = connection.app.state.get("backbone")
    # Only an app built without the service around it (a test of the guards) has none.
    return bone is not None and bone.revocations.revoked(principal.subject, principal.kiosk_id)


async def _api_principal(
    token: Token, connection: ASGIConnection[Any, Any, Any, Any]
) -> Principal | None:
    return principal_from(token, connection.headers.get(KIOSK_TOKEN_HEADER, ""), connection)


class CheckedOnce(Token):
    """A bearer token whose signature and claims are checked the first time its exact text
    is seen. PyJWT spends about a tenth of a whole transfer's CPU on each check (probing the
    key's format, scanning every segment's alphabet), and a client sends the same token with
    each request for hours. What a check found stays true of that text, except whether it has
    expired, so expiry is checked on every use."""

    @classmethod
    def decode(cls, encoded_token: str, secret: str, algorithm: str, **checks: Any) -> Self:
        frozen = tuple((name, _hashable(value)) for name, value in sorted(checks.items()))
        token = cls._checked(encoded_token, secret, algorithm, frozen)
        if checks.get("verify_exp", True) and token.exp <= datetime.now(UTC):
            raise NotAuthorizedException("Invalid token")
        return token

    @classmethod
    @lru_cache(maxsize=4096)  # tokens in use at once; an invalid one raises, so is not kept
    def _checked(
        cls, encoded_token: str, secret: str, algorithm: str, checks: tuple[tuple[str, Any], ...]
    ) -> Self:
        return super().decode(encoded_token, secret, algorithm, **dict(checks))


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def jwt_auth(secret: str, exclude: tuple[str, ...] = ()) -> JWTAuth[Principal, Token]:
    """The API's bearer tokens. ``exclude``: paths signed in otherwise (the pages)."""
    return JWTAuth[Principal, Token](
        token_secret=secret,
        retrieve_user_handler=_api_principal,
        token_cls=CheckedOnce,
        default_token_expiration=STAFF_TOKEN_LIFETIME,
        exclude_opt_key="exclude_from_auth",
        # anchored: unanchored, it matched /accounts/schema too
        exclude=["^/schema(?:/|$)", *exclude],
        guards=[role_guard],
    )


def token_lifetime(principal: Principal) -> timedelta:
    return KIOSK_IDLE_LIFETIME if principal.is_member else STAFF_TOKEN_LIFETIME


def issue_token(
    auth: JWTAuth[Principal, Token] | JWTCookieAuth[Principal, Token], principal: Principal
) -> str:
    return auth.create_token(
        identifier=principal.subject,
        token_expiration=token_lifetime(principal),
        token_extras=msgspec.to_builtins(principal),
    )


def member_roles(app: Timebank, member_id: UUID) -> frozenset[Role]:
    """A resident; a volunteer too while registered as one (so the role follows the registry
    at every refresh, not only at sign-in)."""
    if volunteers.is_volunteer(app, member_id):
        return frozenset({Role.RESIDENT, Role.VOLUNTEER})
    return frozenset({Role.RESIDENT})


def principal_of(app: Timebank, member: Member, kiosk: Kiosk) -> Principal:
    return Principal(
        subject=f"member:{member.id}",
        roles=member_roles(app, member.id),
        channel=f"kiosk:{kiosk.id}",
        member_id=member.id,
        account_id=account_id_for(str(member.id), AccountKind.MEMBER),
        kiosk_id=kiosk.id,
    )
