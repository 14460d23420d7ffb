"""The stations, the street's or district's administrators' work: every station within their
reach grouped by street, opening one, renaming or moving it (saying why) and closing it (after
a confirmation the domain is asked about)."""

from __future__ import annotations

from itertools import groupby
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template
from msgspec import Meta

from domain.identity import Role
from domain.rules import NotFound
from projections import stations
from services.bus import Bus, Caller, Receipt
from services.pages.console.common import Form, confirm_why, show
from services.pages.forms import Sent, action
from services.pages.i18n import N_, gettext
from services.pages.station_choices import within
from services.stations.commands import CloseStation, OpenStation, Placing, RenameStation
from services.web.auth import allow
from services.web.context import After
from services.web.reach import Reach
from services.web.reads import Reads

ADMINS = allow(Role.ADMIN)
STATION = "/stations/{station_id:uuid}"
Name = Annotated[str, Meta(min_length=1, max_length=100)]
Reason = Annotated[str, Meta(max_length=500)]  # whether one is given: the command says
DONE = {
    "opened": N_("The station is open: residents, staff and kiosks can be registered there."),
    "renamed": N_("The station's new name and place are recorded."),
    "closed": N_("The station is closed: nothing new is recorded there; its records stay."),
}
Done = Annotated[str, QueryParameter(max_length=20)]


class NewStation(msgspec.Struct, kw_only=True):
    code: Annotated[str, Meta(max_length=32)]  # what a code may be: the command says
    name: Name
    district: Name
    street: Name

    def command(self) -> OpenStation:
        placing = Placing(district=self.district, street=self.street)
        return OpenStation(code=self.code, name=self.name, placing=placing)


class NewName(msgspec.Struct, kw_only=True):
    name: Name
    district: Name
    street: Name
    reason: Reason = ""

    def command(self, station_id: UUID) -> RenameStation:
        placing = Placing(district=self.district, street=self.street)
        return RenameStation(
            station_id=station_id, name=self.name, placing=placing, reason=self.reason
        )


class Closure(msgspec.Struct, kw_only=True):
    reason: Reason = ""
    confirmed: bool = False

    def command(self, station_id: UUID) -> CloseStation:
        return CloseStation(station_id=station_id, reason=self.reason)


@get("/stations", opt=ADMINS, sync_to_thread=True)
def listed(
    request: Request[Any, Any, Any],
    reads: NamedDependency[Reads],
    reach: NamedDependency[Reach],
    after: After = None,
) -> Template:
    """The stations within the caller's reach, grouped by street, and the form for a new one
    (for a street's or district's administrators)."""
    rows = sorted(within(reads, reach, after), key=lambda row: (row["district"], row["street"]))
    streets = [
        {"district": district, "street": street, "stations": list(group)}
        for (district, street), group in groupby(rows, key=lambda r: (r["district"], r["street"]))
    ]
    context = {"streets": streets, "opens": not reach.is_one_station}
    return show(request, "console/stations/stations.html", context)


@post("/stations", opt=ADMINS, sync_to_thread=True)
def open_one(
    data: Form[NewStation], bus: NamedDependency[Bus], caller: NamedDependency[Caller]
) -> Redirect:
    return _to_station(bus.handle_from_thread(data.command(), caller), "opened")


@get(STATION, opt=ADMINS, sync_to_thread=True)
def station(
    request: Request[Any, Any, Any],
    station_id: FromPath[UUID],
    reads: NamedDependency[Reads],
    reach: NamedDependency[Reach],
    after: After = None,
    done: Done = "",
) -> Template:
    """One station: where it stands, renaming or moving it, and closing it."""
    found = reads.query(("stations",), after, lambda db: stations.station(db, str(station_id)))
    if found is None:
        raise NotFound("station-not-found", f"There is no station {station_id}.")
    reach.check(station_id)
    said = gettext(DONE[done]) if done in DONE else ""
    return show(request, "console/stations/station.html", {"station": found, "done": said})


def _closing(sent: Sent) -> Template:
    """Which station and why, to confirm (the domain is asked first whether it would refuse)."""
    found = sent.station.read_side.query(
        ("stations",), None, lambda db: stations.station(db, str(sent.record_id))
    )
    name = found["name"] if found is not None else str(sent.record_id)
    return confirm_why(
        sent,
        f"/console/stations/{sent.record_id}",
        "closing",
        [
            gettext(
                "No resident, kiosk, staff account or record can be added there any more. Its"
                " people and records stay, and its reports can still be read. This cannot be"
                " undone."
            )
        ],
        question=gettext("Close the station %(name)s?") % {"name": name},
        yes=gettext("Yes, close"),
    )


def _to_station(receipt: Receipt, said: str) -> Redirect:
    path = f"/console/stations/{receipt.id}?after={receipt.position}&done={said}"
    return Redirect(path, status_code=303)


ACTIONS = [
    action(
        f"{STATION}/renaming",
        NewName,
        lambda _, receipt: _to_station(receipt, "renamed"),
        opt=ADMINS,
    ),
    action(
        f"{STATION}/closing",
        Closure,
        lambda _, receipt: _to_station(receipt, "closed"),
        ask=_closing,
        opt=ADMINS,
    ),
]
