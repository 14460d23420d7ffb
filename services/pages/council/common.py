"""What the council pages share: who may open them, how a page is rendered, how an action
answers (with the page that shows its effect), and how the people in the record are named."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Response
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.plugins.htmx import ClientRedirect, HTMXRequest, HTMXTemplate
from litestar.response import Redirect, Template

from domain.identity import Role
from domain.provenance import SYSTEM_ACTOR, Provenance
from projections import staff_directory
from projections.readstore import ReadDb, Row
from services.bus import NotYours, Receipt
from services.composition.runtime import Backbone
from services.identity import records as identity
from services.pages.council.labels import LABELS
from services.web.auth import allow
from services.web.reach import Reach

COUNCIL = allow(Role.COUNCIL)
MODELS = ("council",)
WITH_STAFF = ("council", "staff_directory")  # pages naming staff in the record
Form = Body(media_type=RequestEncodingType.URL_ENCODED)  # what a page's form sends


def council_of(reach: Reach) -> str:
    """The station whose council an officer's pages show: their own. The pages name residents
    (who came, who voted how), which street and district accounts do not read."""
    if not reach.is_one_station or not reach.stations:
        raise NotYours("The council's pages are for the staff of one station.")
    (station,) = reach.stations
    return station


def check_council(reach: Reach, row: Row) -> Row:
    """``row`` (a motion or meeting), if it is of the caller's own station's council."""
    reach.check(council_of(reach))
    reach.check(row["station_id"])
    return row


def render(bone: Backbone, template: str, section: str, **context: Any) -> Template:
    """A council page: ``section`` is marked current in the navigation; times are shown in the
    station's zone."""
    return Template(
        f"council/{template}",
        context={
            "section": section,
            "zone": bone.settings.zone,
            "station_name": bone.settings.station_name,
            **LABELS,
            **context,
        },
    )


class Confirmation(msgspec.Struct, kw_only=True):
    """A form that asks first: ``confirmed`` comes back with the "yes"."""

    confirmed: bool = False


def confirming(
    request: Request[Any, Any, Any],
    bone: Backbone,
    section: str,
    *,
    question: str,
    sentences: list[str],
    action: str,
    back: str,
    yes: str,
) -> Template:
    """The confirmation, in plain words, before a council action that cannot be undone; asked
    only once the rules would accept the action (a refusal comes first). After an htmx click
    it takes the page's main part; its "yes" and "no" then navigate as plain links do."""
    context = {
        "question": question,
        "sentences": sentences,
        "items": [],
        "action": action,
        "fields": [],
        "target": None,
        "back": back,
        "yes": yes,
    }
    if HTMXRequest(request.scope).htmx:
        return HTMXTemplate(
            template_name="console/_confirm.html",
            context=context,
            re_target="#main",
            re_swap="innerHTML",
        )
    return render(bone, "confirm.html", section, **context)


def fresh(path: str, position: int) -> str:
    """``path`` read once the read models have applied ``position`` (read-your-writes)."""
    return f"{path}?after={position}"


def done(request: Request[Any, Any, Any], path: str, receipt: Receipt) -> Response[Any]:
    """After an action: the page at ``path`` showing its effect at once."""
    to = fresh(path, receipt.position)
    if HTMXRequest(request.scope).htmx:
        return ClientRedirect(to)
    return Redirect(to, status_code=303)


def part(
    request: Request[Any, Any, Any],
    path: str,
    receipt: Receipt,
    fragment: Callable[[], Template],
) -> Response[Any]:
    """After an action that changes one part of a page: that part alone for htmx, else the
    whole page."""
    if HTMXRequest(request.scope).htmx:
        return fragment()
    return Redirect(fresh(path, receipt.position), status_code=303)


def member_numbers(bone: Backbone, ids: Iterable[str]) -> dict[str, str]:
    """Members by their member number. Their names are opened only for a page that records
    the view in the access log (``reveal``, ``identity.open_names``)."""
    return {
        member: identity.member_of(bone.timebank, UUID(member)).member_number for member in set(ids)
    }


def staff_names(db: ReadDb) -> dict[str, Row]:
    """Every staff account by the subject its actions are recorded under."""
    return {f"staff:{row['staff_id']}": row for row in staff_directory.everyone(db)}


def people(bone: Backbone, db: ReadDb, subjects: Iterable[str]) -> dict[str, dict[str, str]]:
    """How each recorded subject (``staff:…``, ``member:…``, the system) is shown: its kind and
    name, for the ``who`` macro. Members by member number, and by name once ``reveal`` named
    them."""
    subjects = set(subjects)
    staff = staff_names(db)
    numbers = member_numbers(
        bone, (s.removeprefix("member:") for s in subjects if s.startswith("member:"))
    )
    shown: dict[str, dict[str, str]] = {}
    for subject in subjects:
        kind, _, raw = subject.partition(":")
        if subject in staff:
            row = staff[subject]
            shown[subject] = {"kind": "staff", "name": row["username"], "title": row["title"] or ""}
        elif kind == "member" and raw in numbers:
            shown[subject] = {"kind": "member", "number": numbers[raw], "name": ""}
        elif subject == SYSTEM_ACTOR:
            shown[subject] = {"kind": "system", "name": ""}
        else:
            shown[subject] = {"kind": "other", "name": subject}
    return shown


def reveal(
    bone: Backbone, shown: dict[str, dict[str, str]], *, purpose: str, by: Provenance
) -> None:
    """Name the members among ``shown`` (from ``people``) on a page about to be drawn: one
    record in the personal-data access log for the whole page."""
    members = {
        UUID(subject.removeprefix("member:")): person
        for subject, person in shown.items()
        if person["kind"] == "member"
    }
    names = identity.open_names(
        bone.timebank, bone.vault, member_ids=list(members), purpose=purpose, by=by
    )
    for member_id, name in names.items():
        members[member_id]["name"] = name


def staff_choices(db: ReadDb) -> list[Row]:
    """Who may be given a motion to carry out: active coordinators and council officers."""
    return [
        {**row, "subject": subject}
        for subject, row in staff_names(db).items()
        if row["is_active"] and row["role"] in (Role.COORDINATOR, Role.COUNCIL)
    ]


def named_ballots(
    bone: Backbone, ballots: list[Row], names: Mapping[UUID, str] | None = None
) -> list[dict[str, str]]:
    """An open vote's ballots (voter id, choice) as who voted how: by member number, and by
    name where ``names`` (opened for the list, from ``identity.open_names``) has one."""
    numbers = member_numbers(bone, (ballot["voter"] for ballot in ballots))
    named = names or {}
    return sorted(
        (
            {
                "number": numbers[ballot["voter"]],
                "name": named.get(UUID(ballot["voter"]), ""),
                "choice": ballot["choice"],
            }
            for ballot in ballots
        ),
        key=lambda ballot: ballot["number"],
    )
