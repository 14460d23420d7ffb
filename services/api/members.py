"""Residents over HTTP: registering one, a setup code for their PIN, a PIN reset, and
deactivation."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from domain.identity import Role
from services.api.identity import Registered, recorded
from services.bus import Bus, Caller
from services.identity import records
from services.identity.commands import (
    DeactivateMember,
    Deactivation,
    IssueSetupCode,
    NewPin,
    RegisterMember,
    ResetPin,
)
from services.web.auth import allow


def _answered(done: records.Registered) -> Registered:
    """A registration or a new setup code: the code is in this answer only."""
    return Registered(
        id=str(done.id),
        position=done.position,
        member_number=done.member_number or None,
        account_id=str(done.account_id) if done.account_id else None,
        setup_code=done.setup_code or None,
        setup_code_expires=done.setup_code_expires,
    )


class MemberController(Controller):
    path = "/api/v1/members"
    tags = ["identity"]  # noqa: RUF012

    @post("/", sync_to_thread=True, opt=allow(Role.COORDINATOR), summary="Register a resident")
    def register(
        self,
        data: JSONBody[RegisterMember],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Registered:
        return _answered(bus.handle_from_thread(data, caller))

    @post(
        "/{member_id:uuid}/setup-code",
        sync_to_thread=True,
        opt=allow(Role.COORDINATOR),
        summary="A new one-time code for the resident to choose their own PIN at a kiosk",
    )
    def setup_code(
        self,
        member_id: FromPath[UUID],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Registered:
        return _answered(bus.handle_from_thread(IssueSetupCode(member_id=member_id), caller))

    @post(
        "/{member_id:uuid}/pin",
        status_code=200,
        sync_to_thread=True,
        opt=allow(Role.COORDINATOR),
        summary="Reset a PIN",
    )
    def reset_pin(
        self,
        member_id: FromPath[UUID],
        data: JSONBody[NewPin],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Response[Registered]:
        command = ResetPin.at(data, member_id=member_id)
        return recorded(bus.handle_from_thread(command, caller), 200)

    @post(
        "/{member_id:uuid}/deactivation",
        status_code=200,
        opt=allow(Role.COORDINATOR),
        summary="Deactivate a member; their balance moves to the pool",
    )
    async def deactivate(
        self,
        member_id: FromPath[UUID],
        data: JSONBody[Deactivation],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Response[Registered]:
        command = DeactivateMember.at(data, member_id=member_id)
        return recorded(await bus.handle(command, caller), 200)
