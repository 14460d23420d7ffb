"""Sign-in, staff and members over HTTP."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, JSONBody
from litestar.security.jwt import JWTAuth, Token
from msgspec import Meta

from domain.identity import Role
from domain.provenance import Provenance
from services.api.command_routes import command_route
from services.api.schemas import Strict
from services.bus import Bus, Caller
from services.identity import records
from services.identity.commands import (
    ChangeStaffReach,
    ChoosePin,
    CreateStaffAccount,
    DeactivateStaff,
    Deactivation,
    KioskSignIn,
    NewPassword,
    NewReach,
    PinChoice,
    SetStaffPassword,
    SignInAtKiosk,
)
from services.identity.staff import staff_sign_in
from services.store.eventstore import Timebank
from services.web.auth import (
    KIOSK_TOKEN_HEADER,
    Principal,
    allow,
    issue_token,
    member_roles,
    principal_of,
    public,
    token_lifetime,
)
from services.web.context import After
from services.web.reach import staff_overseen
from services.web.reads import Reads

KioskTokenHeader = Annotated[str, HeaderParameter(name=KIOSK_TOKEN_HEADER, max_length=200)]
# Route ``opt`` key: exempt from the sign-in rate limit (refresh needs a valid token already,
# and a kiosk calls it on every touch).
NOT_A_SIGN_IN = "not_a_sign_in"


class StaffSignIn(Strict):
    """Not a command: a staff sign-in records nothing (``services.identity.staff``)."""

    username: Annotated[str, Meta(min_length=1, max_length=32)]
    password: Annotated[str, Meta(min_length=1, max_length=200)]


class SignedIn(msgspec.Struct, kw_only=True):
    token: str
    expires_in: int
    subject: str
    roles: list[str]
    member_id: str | None = None
    account_id: str | None = None


class StaffMember(msgspec.Struct, kw_only=True):
    staff_id: str
    username: str
    role: str
    title: str | None
    is_active: bool
    registered_at: str


class Registered(msgspec.Struct, kw_only=True):
    id: str
    position: int
    member_number: str | None = None
    account_id: str | None = None
    setup_code: str | None = None  # shown this once: for the resident to choose their PIN
    setup_code_expires: datetime | None = None  # when it stops working


def recorded(done: records.Registered) -> Registered:
    """The answer to a command that changed one aggregate: its id and the position reached
    (with its route's status)."""
    return Registered(id=str(done.id), position=done.position)


def _signed_in(auth: JWTAuth[Principal, Token], principal: Principal) -> SignedIn:
    return SignedIn(
        token=issue_token(auth, principal),
        expires_in=int(token_lifetime(principal).total_seconds()),
        subject=principal.subject,
        roles=sorted(principal.roles),
        member_id=str(principal.member_id) if principal.member_id else None,
        account_id=str(principal.account_id) if principal.account_id else None,
    )


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["identity"]  # noqa: RUF012

    @post("/staff", sync_to_thread=True, opt=public(), summary="Staff sign-in")
    def staff(
        self,
        data: JSONBody[StaffSignIn],
        timebank: NamedDependency[Timebank],
        auth: NamedDependency[Any],
    ) -> SignedIn:
        staff = staff_sign_in(timebank, data.username, data.password)
        principal = Principal(
            subject=f"staff:{staff.id}", roles=frozenset({staff.role}), channel="console"
        )
        return _signed_in(auth, principal)

    @post("/kiosk", sync_to_thread=True, opt=public(), summary="Resident sign-in at a kiosk")
    def kiosk(
        self,
        data: JSONBody[KioskSignIn],
        timebank: NamedDependency[Timebank],
        auth: NamedDependency[Any],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
        kiosk_token: KioskTokenHeader,
    ) -> SignedIn:
        command = SignInAtKiosk.at(data, kiosk_token=kiosk_token)
        member, kiosk = bus.handle_from_thread(command, caller)
        return _signed_in(auth, principal_of(timebank, member, kiosk))

    @post(
        "/kiosk/pin",
        sync_to_thread=True,
        opt=public(),
        summary="A resident chooses their own PIN at a kiosk with the station's one-time code",
    )
    def choose_pin(
        self,
        data: JSONBody[PinChoice],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
        kiosk_token: KioskTokenHeader,
    ) -> Registered:
        command = ChoosePin.at(data, kiosk_token=kiosk_token)
        return recorded(bus.handle_from_thread(command, caller))

    @post(
        "/refresh",
        sync_to_thread=True,
        opt={**allow(*Role), NOT_A_SIGN_IN: True},
        summary="A fresh token for the signed-in caller (kiosks call it on every touch)",
    )
    def refresh(
        self,
        request: Request[Principal, Token, Any],
        timebank: NamedDependency[Timebank],
        auth: NamedDependency[Any],
    ) -> SignedIn:
        if not records.still_active(timebank, request.user.subject):
            raise records.SignInRefused("inactive", "This account is no longer active.")
        kiosk_id = request.user.kiosk_id
        if kiosk_id is not None and not records.kiosk_active(timebank, kiosk_id):
            raise records.SignInRefused("unknown-kiosk", "This kiosk has been retired.")
        principal = request.user
        if principal.member_id is not None:
            roles = member_roles(timebank, principal.member_id)
            principal = msgspec.structs.replace(principal, roles=roles)
        return _signed_in(auth, principal)


@get("/", sync_to_thread=True, opt=allow(Role.ADMIN), summary="Every staff account")
def directory(
    reads: NamedDependency[Reads], by: NamedDependency[Provenance], after: After = None
) -> list[StaffMember]:
    """The accounts whose reach lies within the caller's."""
    rows = staff_overseen(reads, by, after)
    return [msgspec.convert(row, StaffMember, strict=False) for row in rows]


STAFF = Router(
    "/api/v1/staff",
    tags=["identity"],
    route_handlers=[
        directory,
        command_route(
            "create",
            post(
                "/",
                sync_to_thread=True,
                opt=allow(Role.ADMIN),
                summary="Create a staff account",
            ),
            CreateStaffAccount,
            reply=recorded,
        ),
        command_route(
            "set_password",
            post(
                "/{staff_id:uuid}/password",
                status_code=200,
                sync_to_thread=True,
                opt=allow(Role.ADMIN),
                summary="Set a staff member's password",
            ),
            SetStaffPassword,
            NewPassword,
            reply=recorded,
        ),
        command_route(
            "deactivate",
            post(
                "/{staff_id:uuid}/deactivation",
                status_code=200,
                opt=allow(Role.ADMIN),
                summary="Deactivate a staff account; it can no longer sign in or refresh",
            ),
            DeactivateStaff,
            Deactivation,
            reply=recorded,
        ),
        command_route(
            "change_reach",
            post(
                "/{staff_id:uuid}/reach",
                status_code=200,
                opt=allow(Role.ADMIN),
                summary="Change how far a staff account's work reaches (never beyond yours)",
            ),
            ChangeStaffReach,
            NewReach,
            reply=recorded,
        ),
    ],
)
