"""Kiosk devices, consent, erasure and the personal-data access log over HTTP."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from domain.identity import Role
from domain.provenance import Provenance
from projections import access_log
from services.api.identity import Registered, recorded
from services.bus import Bus, Caller
from services.composition.runtime import Backbone
from services.identity import records
from services.identity.commands import (
    ErasePersonalData,
    RecordConsent,
    RegisterKiosk,
    RetireKiosk,
    Retirement,
)
from services.store.vault import PersonalDetails
from services.web.auth import allow
from services.web.context import After, read

# Litestar checks a query parameter against its QueryParameter, not a msgspec Meta inside it.
Purpose = Annotated[
    str, QueryParameter(name="purpose", min_length=3, max_length=200, description="Why you need it")
]


class KioskIssued(msgspec.Struct, kw_only=True):
    id: str
    position: int
    token: str  # shown once: configure the device with it


class MemberDetails(msgspec.Struct, kw_only=True):
    id: str
    member_number: str
    is_active: bool
    is_erased: bool
    consent: str | None
    details: PersonalDetails | None  # None once erased
    position: int


class Access(msgspec.Struct, kw_only=True):
    position: int
    member_id: str  # "list": a list of people shown with their names, one record for them all
    actor: str
    channel: str
    purpose: str
    opened_at: str
    shown: int = 0  # how many people such a list named


class KioskController(Controller):
    path = "/api/v1/kiosks"
    tags = ["identity"]  # noqa: RUF012

    @post("/", opt=allow(Role.ADMIN), summary="Register a kiosk device")
    async def register(
        self,
        data: JSONBody[RegisterKiosk],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> KioskIssued:
        done = await bus.handle(data, caller)
        return KioskIssued(id=str(done.id), position=done.position, token=done.token)

    @post(
        "/{kiosk_id:uuid}/retirement",
        status_code=200,
        opt=allow(Role.ADMIN),
        summary="Retire a kiosk; its token signs nobody in again",
    )
    async def retire(
        self,
        kiosk_id: FromPath[UUID],
        data: JSONBody[Retirement],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Response[Registered]:
        command = RetireKiosk.at(data, kiosk_id=kiosk_id)
        return recorded(await bus.handle(command, caller), 200)


class PrivacyController(Controller):
    path = "/api/v1"
    tags = ["privacy"]  # noqa: RUF012

    @post("/consents", opt=allow(Role.COORDINATOR), summary="Consent given or withdrawn")
    async def consent(
        self,
        data: JSONBody[RecordConsent],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Response[Registered]:
        return recorded(await bus.handle(data, caller))

    @post(
        "/erasures",
        opt=allow(Role.COORDINATOR),
        summary="Erase a deactivated member's personal data (their key is deleted)",
    )
    async def erase(
        self,
        data: JSONBody[ErasePersonalData],
        bus: NamedDependency[Bus],
        caller: NamedDependency[Caller],
    ) -> Response[Registered]:
        return recorded(await bus.handle(data, caller))

    @get(
        "/members/{member_id:uuid}",
        sync_to_thread=True,
        opt=allow(Role.COORDINATOR),
        summary="A member's personal data; every opening is recorded with its purpose",
    )
    def member(
        self,
        member_id: FromPath[UUID],
        purpose: Purpose,
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> MemberDetails:
        member, details, position = records.open_personal_data(
            bone.timebank, bone.vault, member_id=member_id, purpose=purpose, by=by
        )
        return MemberDetails(
            id=str(member.id),
            member_number=member.member_number,
            is_active=member.is_active,
            is_erased=member.is_erased,
            consent=member.consent,
            details=details,
            position=position,
        )

    @get(
        "/access-log",
        sync_to_thread=True,
        opt=allow(Role.COORDINATOR),
        summary="Who opened whose personal data, when and why (newest first)",
    )
    def access_log(
        self,
        bone: NamedDependency[Backbone],
        member_id: Annotated[UUID | None, QueryParameter()] = None,
        after: After = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> list[Access]:
        rows = read(
            bone, ("access_log",), after, lambda db: access_log.entries(db, member_id, limit=limit)
        )
        return [msgspec.convert(row, Access) for row in rows]
