"""Kiosk devices, consent, erasure and the personal-data access log over HTTP."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from domain.identity import Role
from domain.provenance import Provenance
from projections import access_log
from services.api.command_routes import command_route
from services.api.identity import recorded
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
from services.web.context import After
from services.web.reach import Reach
from services.web.reads import Reads

# Litestar checks a query parameter against its QueryParameter, not a msgspec Meta inside it.
Purpose = Annotated[
    str, QueryParameter(name="purpose", min_length=3, max_length=200, description="Why you need it")
]


class KioskIssued(msgspec.Struct, kw_only=True):
    id: str
    position: int
    token: str  # shown once: configure the device with it


def _issued(done: records.Registered) -> KioskIssued:
    return KioskIssued(id=str(done.id), position=done.position, token=done.token)


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


class PrivacyController(Controller):
    """Personal data and who opened it (``PRIVACY`` adds consent and erasure)."""

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
        reads: NamedDependency[Reads],
        reach: NamedDependency[Reach],
        member_id: Annotated[UUID | None, QueryParameter()] = None,
        after: After = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> list[Access]:
        """The openings of the people of the caller's stations."""
        rows = reads.query(
            ("access_log", "stations"),
            after,
            lambda db: access_log.entries(db, member_id, limit=limit, among=reach.among),
        )
        return [msgspec.convert(row, Access) for row in rows]


KIOSKS = Router(
    "/api/v1/kiosks",
    tags=["identity"],
    route_handlers=[
        command_route(
            "register",
            post("/", opt=allow(Role.ADMIN), summary="Register a kiosk device"),
            RegisterKiosk,
            reply=_issued,
        ),
        command_route(
            "retire",
            post(
                "/{kiosk_id:uuid}/retirement",
                status_code=200,
                opt=allow(Role.ADMIN),
                summary="Retire a kiosk; its token signs nobody in again",
            ),
            RetireKiosk,
            Retirement,
            reply=recorded,
        ),
    ],
)
PRIVACY = Router(
    "/api/v1",
    tags=["privacy"],
    route_handlers=[
        PrivacyController,
        command_route(
            "consent",
            post("/consents", opt=allow(Role.COORDINATOR), summary="Consent given or withdrawn"),
            RecordConsent,
            reply=recorded,
        ),
        command_route(
            "erase",
            post(
                "/erasures",
                opt=allow(Role.COORDINATOR),
                summary="Erase a deactivated member's personal data (their key is deleted)",
            ),
            ErasePersonalData,
            reply=recorded,
        ),
    ],
)
