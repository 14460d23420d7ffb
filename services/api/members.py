"""Residents over HTTP: registering one, a setup code for their PIN, a PIN reset, and
deactivation."""

from __future__ import annotations

from litestar import Router, post

from domain.identity import Role
from services.api.command_routes import command_route
from services.api.identity import Registered, recorded
from services.identity import records
from services.identity.commands import (
    DeactivateMember,
    Deactivation,
    IssueSetupCode,
    MoveMemberHome,
    NewHome,
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


MEMBERS = Router(
    "/api/v1/members",
    tags=["identity"],
    route_handlers=[
        command_route(
            "register",
            post(
                "/", sync_to_thread=True, opt=allow(Role.COORDINATOR), summary="Register a resident"
            ),
            RegisterMember,
            reply=_answered,
        ),
        command_route(
            "setup_code",
            post(
                "/{member_id:uuid}/setup-code",
                sync_to_thread=True,
                opt=allow(Role.COORDINATOR),
                summary="A new one-time code for the resident to choose their own PIN at a kiosk",
            ),
            IssueSetupCode,
            reply=_answered,
        ),
        command_route(
            "reset_pin",
            post(
                "/{member_id:uuid}/pin",
                status_code=200,
                sync_to_thread=True,
                opt=allow(Role.COORDINATOR),
                summary="Reset a PIN",
            ),
            ResetPin,
            NewPin,
            reply=recorded,
        ),
        command_route(
            "deactivate",
            post(
                "/{member_id:uuid}/deactivation",
                status_code=200,
                opt=allow(Role.COORDINATOR),
                summary="Deactivate a member; their balance moves to the pool",
            ),
            DeactivateMember,
            Deactivation,
            reply=recorded,
        ),
        command_route(
            "move_home",
            post(
                "/{member_id:uuid}/home",
                status_code=200,
                opt=allow(Role.ADMIN),
                summary="Move a resident to another station (both within your reach)",
            ),
            MoveMemberHome,
            NewHome,
            reply=recorded,
        ),
    ],
)
