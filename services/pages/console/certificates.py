"""Certificates of volunteer service (Art. 14–17): issued for a volunteer and a period, shown
with their verification code, printed with the volunteer's name (an opening of personal data,
recorded in the access log), and verified by anyone with the code — without any name."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from msgspec import Meta

from domain.identity import Role
from domain.provenance import Provenance
from domain.rules import NotFound
from projections import certificates, hours
from services import certificates as issuing
from services import volunteers
from services.api.auth import allow, public
from services.api.context import After, read
from services.pages.console.common import STAFF, Form, people, show
from services.pages.console.members import Opening, opened
from services.pages.console.timeline import Shown
from services.runtime import Backbone
from services.windows import DoneOn, PeriodEnd, Windowed


class NewCertificate(Windowed, kw_only=True):
    volunteer_id: UUID
    period_from: DoneOn
    period_to: PeriodEnd
    recording_body: Annotated[str, Meta(max_length=100)] = ""


def verification(bone: Backbone, code: str, after: int | None) -> dict[str, Any]:
    """What the certificate said, each entry it covered as it stands now, and every later step
    of those entries (a correction since it was issued)."""

    def query(db: Any) -> dict[str, Any]:
        found = certificates.certificate(db, code)
        if found is None:
            raise NotFound("certificate-not-found", f"No certificate has the code {code!r}.")
        covered = msgspec.json.decode(found["entries"])
        ids = [entry["entry_id"] for entry in covered]
        now = [hours.entry(db, entry_id) for entry_id in ids]
        entries = [
            {
                "certified": entry["minutes"],
                "now": row["minutes"] if row is not None and row["status"] == "approved" else None,
                "row": row,
            }
            for entry, row in zip(covered, now, strict=True)
        ]
        return {
            "certificate": found,
            "entries": entries,
            "later": hours.steps_after(db, ids, found["as_of"]),
            "shown": Shown(people(bone, db), {}, bone.settings.zone),
            "accurate": all(entry["now"] == entry["certified"] for entry in entries),
        }

    return read(bone, ("certificates", "hours"), after, query)


@post("/certificates", opt=allow(Role.COORDINATOR), sync_to_thread=True)
def issue(
    data: Form[NewCertificate], bone: NamedDependency[Backbone], by: NamedDependency[Provenance]
) -> Redirect:
    receipt, code = issuing.issue(
        bone.timebank,
        volunteer_id=data.volunteer_id,
        period_from=data.period_from,
        period_to=data.period_to,
        recording_body=data.recording_body,
        today=bone.today(),
        by=by,
    )
    return Redirect(f"/console/certificates/{code}?after={receipt.position}", status_code=303)


@get("/certificates/{code:str}", opt=allow(*STAFF), sync_to_thread=True)
def certificate(
    request: Request[Any, Any, Any],
    code: FromPath[str],
    bone: NamedDependency[Backbone],
    after: After = None,
) -> Template:
    return show(request, "console/certificates/certificate.html", verification(bone, code, after))


@post(
    "/certificates/{code:str}/printable",
    opt=allow(Role.COORDINATOR),
    sync_to_thread=True,
    status_code=200,
)
def printable(
    request: Request[Any, Any, Any],
    code: FromPath[str],
    data: Form[Opening],
    bone: NamedDependency[Backbone],
    by: NamedDependency[Provenance],
) -> Template:
    """The certificate to print, with the volunteer's name: opening it is recorded."""
    context = verification(bone, code, None)
    volunteer_id = UUID(context["certificate"]["volunteer_id"])
    _, details, position = volunteers.open_details(
        bone.timebank, bone.vault, volunteer_id=volunteer_id, purpose=data.purpose, by=by
    )
    page = "console/certificates/printable.html"
    return opened(request, page, data.purpose, position, **context, details=details)


@get("/certificates/verify/{code:str}", opt=public(), sync_to_thread=True)
def verify(
    request: Request[Any, Any, Any], code: FromPath[str], bone: NamedDependency[Backbone]
) -> Template:
    """Anyone holding a certificate can check it here: what it said and whether it still holds."""
    return show(request, "console/certificates/verify.html", verification(bone, code, None))
