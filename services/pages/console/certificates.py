"""Certificates of volunteer service (Art. 14–17): issued for a volunteer and a period, shown
with their verification code, printed with the volunteer's name (an opening of personal data,
recorded in the access log), and verified by anyone with the code, who sees the masked name
and the totals by category, never what an entry says."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from msgspec import Meta

from domain.identity import Role
from domain.provenance import Provenance
from projections import certificates, hours, volunteers
from services.bus import Bus, Caller
from services.certificates.commands import IssueCertificate
from services.composition.runtime import Backbone
from services.pages.console.common import STAFF, Form, category_names, people, show
from services.pages.console.members import Opening, opened
from services.pages.console.timeline import Shown
from services.volunteers.handlers import open_details
from services.web.auth import allow, public
from services.web.context import After
from services.web.reach import Reach, check_sees_people
from services.web.verification import found_certificate, public_verification
from services.windows import DoneOn, PeriodEnd, Windowed


class NewCertificate(Windowed, kw_only=True):
    volunteer_id: UUID
    period_from: DoneOn
    period_to: PeriodEnd
    recording_body: Annotated[str, Meta(max_length=100)] = ""

    def command(self) -> IssueCertificate:
        return IssueCertificate.at(self)


def verification(bone: Backbone, code: str, after: int | None) -> dict[str, Any]:
    """For staff: what the certificate said, each entry it covered as it stands now, and every
    later step of those entries (a correction since it was issued)."""

    def query(db: Any) -> dict[str, Any]:
        found = found_certificate(db, code)
        entries = [
            {"certified": entry["minutes"], "now": certificates.minutes_now(row), "row": row}
            for entry, row in certificates.covered(db, found)
        ]
        ids = [entry["row"]["entry_id"] for entry in entries if entry["row"]]
        return {
            "certificate": found,
            "entries": entries,
            "later": hours.steps_after(db, ids, found["as_of"]),
            "shown": Shown(people(bone, db), {}, bone.settings.zone),
            "accurate": all(entry["now"] == entry["certified"] for entry in entries),
            "station_id": str(volunteers.home_of(db, found["volunteer_id"])),
        }

    return bone.read_side.query(("certificates", "hours", "volunteers"), after, query)


@post("/certificates", opt=allow(Role.COORDINATOR), sync_to_thread=True)
def issue(
    data: Form[NewCertificate], bus: NamedDependency[Bus], caller: NamedDependency[Caller]
) -> Redirect:
    certified = bus.handle_from_thread(data.command(), caller)
    return Redirect(
        f"/console/certificates/{certified.code}?after={certified.position}", status_code=303
    )


@get("/certificates/{code:str}", opt=allow(*STAFF, people=True), sync_to_thread=True)
def certificate(
    request: Request[Any, Any, Any],
    code: FromPath[str],
    bone: NamedDependency[Backbone],
    reach: NamedDependency[Reach],
    after: After = None,
) -> Template:
    context = verification(bone, code, after)
    check_sees_people(reach, context["station_id"])
    return show(request, "console/certificates/certificate.html", context)


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
    _, details, position = open_details(
        bone.timebank, bone.vault, volunteer_id=volunteer_id, purpose=data.purpose, by=by
    )
    page = "console/certificates/printable.html"
    return opened(request, page, data.purpose, position, **context, details=details)


@get("/certificates/verify/{code:str}", opt=public(), sync_to_thread=True)
def verify(
    request: Request[Any, Any, Any], code: FromPath[str], bone: NamedDependency[Backbone]
) -> Template:
    """Anyone holding a certificate can check it here: what it said and whether it still holds,
    by category; what each entry says stays with staff (it may name a third person)."""
    verified = public_verification(bone, code, None)
    names = bone.read_side.query((), None, category_names)
    return show(
        request, "console/certificates/verify.html", {"verified": verified, "categories": names}
    )
