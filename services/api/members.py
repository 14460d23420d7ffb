"""Residents over HTTP: registering one, a setup code for their PIN, a PIN reset, and
deactivation."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from msgspec import Meta

from domain.identity import Role
from domain.provenance import Provenance
from services import identity
from services.api.auth import allow
from services.api.identity import Deactivation, Pin, Registered, Text, recorded
from services.api.schemas import Strict
from services.runtime import Backbone
from services.vault import PersonalDetails
from services.windows import BornOn


class NewMember(Strict, kw_only=True):
    display_name: Text
    building: Text
    household: Text
    phone: Annotated[str, Meta(pattern=r"^\+?[0-9 -]{5,20}$")]
    id_number: Annotated[str, Meta(pattern=r"^[0-9]{17}[0-9Xx]$")] | None = None
    birth_date: BornOn | None = None
    pin: Annotated[
        Pin | None,
        Meta(description="Omit it: the answer's setup_code lets the resident choose their own"),
    ] = None
    notice_version: (
        Annotated[
            str,
            Meta(
                pattern=r"^[A-Za-z0-9._-]{1,32}$",
                description="The privacy notice the resident was shown and agreed to; "
                "by default the station's current one",
            ),
        ]
        | None
    ) = None


class NewPin(Strict):
    pin: Pin


def _answered(done: identity.Registered) -> Registered:
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
        data: JSONBody[NewMember],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Registered:
        details = PersonalDetails(
            display_name=data.display_name,
            building=data.building,
            household=data.household,
            phone=data.phone,
            id_number=data.id_number,
            birth_date=data.birth_date,
        )
        done = identity.register_member(
            bone.timebank,
            bone.vault,
            details=details,
            pin=data.pin,
            notice_version=data.notice_version or bone.settings.privacy_notice_version,
            now=bone.clock(),
            by=by,
            limits=bone.settings.member_limits,
        )
        return _answered(done)

    @post(
        "/{member_id:uuid}/setup-code",
        sync_to_thread=True,
        opt=allow(Role.COORDINATOR),
        summary="A new one-time code for the resident to choose their own PIN at a kiosk",
    )
    def setup_code(
        self,
        member_id: FromPath[UUID],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Registered:
        done = identity.issue_setup_code(
            bone.timebank, member_id=member_id, now=bone.clock(), by=by
        )
        return _answered(done)

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
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[Registered]:
        done = identity.reset_pin(bone.timebank, member_id=member_id, pin=data.pin, by=by)
        return recorded(done, 200)

    @post(
        "/{member_id:uuid}/deactivation",
        status_code=200,
        sync_to_thread=True,
        opt=allow(Role.COORDINATOR),
        summary="Deactivate a member; their balance moves to the pool",
    )
    def deactivate(
        self,
        member_id: FromPath[UUID],
        data: JSONBody[Deactivation],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[Registered]:
        done = identity.deactivate_member(
            bone.timebank, member_id=member_id, reason=data.reason, now=bone.clock(), by=by
        )
        return recorded(done, 200)
