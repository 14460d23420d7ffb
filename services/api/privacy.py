"""Kiosk devices, consent, erasure and the personal-data access log over HTTP."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from msgspec import Meta

from domain.identity import Role
from domain.provenance import Provenance
from projections import access_log
from services import identity
from services.api.auth import allow
from services.api.context import After, read
from services.api.identity import Registered, recorded
from services.api.schemas import Strict
from services.bus import Reason
from services.runtime import Backbone
from services.vault import PersonalDetails

NoticeVersion = Annotated[str, Meta(pattern=r"^[A-Za-z0-9._-]{1,32}$")]
# Litestar checks a query parameter against its QueryParameter, not a msgspec Meta inside it.
Purpose = Annotated[
    str, QueryParameter(name="purpose", min_length=3, max_length=200, description="Why you need it")
]


class NewKiosk(Strict):
    name: Annotated[str, Meta(min_length=1, max_length=64)]


class KioskIssued(msgspec.Struct, kw_only=True):
    id: str
    position: int
    token: str  # shown once: configure the device with it


class Consent(Strict):
    member_id: UUID
    notice_version: NoticeVersion
    withdrawn: bool = False


class Erasure(Strict):
    member_id: UUID
    reason: Reason


class Retirement(Strict):
    reason: Reason


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

    @post("/", sync_to_thread=True, opt=allow(Role.ADMIN), summary="Register a kiosk device")
    def register(
        self,
        data: JSONBody[NewKiosk],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> KioskIssued:
        done, token = identity.register_kiosk(bone.timebank, name=data.name, by=by)
        return KioskIssued(id=str(done.id), position=done.position, token=token)

    @post(
        "/{kiosk_id:uuid}/retirement",
        status_code=200,
        sync_to_thread=True,
        opt=allow(Role.ADMIN),
        summary="Retire a kiosk; its token signs nobody in again",
    )
    def retire(
        self,
        kiosk_id: FromPath[UUID],
        data: JSONBody[Retirement],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[Registered]:
        done = identity.retire_kiosk(bone.timebank, kiosk_id=kiosk_id, reason=data.reason, by=by)
        return recorded(done, 200)


class PrivacyController(Controller):
    path = "/api/v1"
    tags = ["privacy"]  # noqa: RUF012

    @post(
        "/consents",
        sync_to_thread=True,
        opt=allow(Role.COORDINATOR),
        summary="Consent given or withdrawn",
    )
    def consent(
        self,
        data: JSONBody[Consent],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[Registered]:
        done = identity.record_consent(
            bone.timebank,
            member_id=data.member_id,
            notice_version=data.notice_version,
            withdrawn=data.withdrawn,
            by=by,
        )
        return recorded(done)

    @post(
        "/erasures",
        sync_to_thread=True,
        opt=allow(Role.COORDINATOR),
        summary="Erase a deactivated member's personal data (their key is deleted)",
    )
    def erase(
        self,
        data: JSONBody[Erasure],
        bone: NamedDependency[Backbone],
        by: NamedDependency[Provenance],
    ) -> Response[Registered]:
        done = identity.erase_member(
            bone.timebank, bone.vault, member_id=data.member_id, reason=data.reason, by=by
        )
        return recorded(done)

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
        member, details, position = identity.open_personal_data(
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
