"""The stations of a deployment over HTTP: the list, and opening, renaming or closing one."""

from __future__ import annotations

import msgspec
from litestar import Router, get, post
from litestar.di import NamedDependency

from domain.identity import STAFF_ROLES, Role
from projections import stations
from services.api.command_routes import command_route
from services.stations.commands import (
    CloseStation,
    Closing,
    OpenStation,
    RenameStation,
    Renaming,
)
from services.web.auth import allow
from services.web.context import After
from services.web.reads import Reads


class StationView(msgspec.Struct, kw_only=True):
    station_id: str
    code: str
    name: str
    district: str
    street: str
    is_open: bool
    opened_at: str
    closed_at: str | None
    reason: str | None


@get("/", sync_to_thread=True, opt=allow(*STAFF_ROLES), summary="Every station, open ones first")
def every_station(reads: NamedDependency[Reads], after: After = None) -> list[StationView]:
    rows = reads.query(("stations",), after, stations.every_station)
    return [msgspec.convert(row, StationView, strict=False) for row in rows]


STATIONS = Router(
    "/api/v1/stations",
    tags=["stations"],
    route_handlers=[
        every_station,
        command_route(
            "open",
            post(
                "/",
                opt=allow(Role.ADMIN),
                summary="Open a station in a street or district your account works across",
            ),
            OpenStation,
        ),
        command_route(
            "rename",
            post(
                "/{station_id:uuid}/renaming",
                status_code=200,
                opt=allow(Role.ADMIN),
                summary="Rename a station, or move it to another street or district, saying why",
            ),
            RenameStation,
            Renaming,
        ),
        command_route(
            "close",
            post(
                "/{station_id:uuid}/closing",
                status_code=200,
                opt=allow(Role.ADMIN),
                summary="Close a station: nothing new is recorded there; its records stay",
            ),
            CloseStation,
            Closing,
        ),
    ],
)
