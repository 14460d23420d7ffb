"""Minutes travelling between stations (通存通兑) over HTTP: one station's figures, and the
flows among the stations of a street or district. Figures only, never who moved them."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Router, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from domain.identity import STAFF_ROLES
from projections import flows, stations
from services.api.certificates import Month
from services.web.auth import allow
from services.web.context import After
from services.web.reach import Reach
from services.web.reads import Reads
from services.windows import check_months_asked, station_now


class KindFigure(msgspec.Struct, kw_only=True):
    kind: str
    minutes_out: int  # paid by the station's residents to other stations' residents
    minutes_in: int  # paid to the station's residents by other stations' residents
    within: int  # moved among the station's own residents


class StationFlows(msgspec.Struct, kw_only=True):
    station_id: str
    first: str
    last: str
    kinds: list[KindFigure]
    minutes_out: int
    minutes_in: int


class Cell(msgspec.Struct, kw_only=True):
    from_station: str
    to_station: str
    minutes: int
    transfers: int


class Line(msgspec.Struct, kw_only=True):
    station_id: str
    code: str
    minutes_out: int  # to the other stations of the matrix
    minutes_in: int  # from the other stations of the matrix


class FlowMatrix(msgspec.Struct, kw_only=True):
    first: str
    last: str
    stations: list[Line]
    cells: list[Cell]
    minutes: int  # every cell, the diagonal too


@get(
    "/stations/{station_id:uuid}",
    sync_to_thread=True,
    opt=allow(*STAFF_ROLES),
    summary="A station's minutes paid to and received from other stations, by kind",
)
def station_flows(
    station_id: FromPath[UUID],
    reads: NamedDependency[Reads],
    reach: NamedDependency[Reach],
    first: Month,
    last: Month,
    after: After = None,
) -> StationFlows:
    check_months_asked(first, last, station_now())
    reach.check(station_id)
    rows = reads.query(
        ("flows",),
        after,
        lambda db: flows.station_report(db, str(station_id), since=first, until=last),
    )
    kinds = [msgspec.convert(row, KindFigure, strict=False) for row in rows]
    return StationFlows(
        station_id=str(station_id),
        first=first,
        last=last,
        kinds=kinds,
        minutes_out=sum(kind.minutes_out for kind in kinds),
        minutes_in=sum(kind.minutes_in for kind in kinds),
    )


@get(
    "/matrix",
    sync_to_thread=True,
    opt=allow(*STAFF_ROLES),
    summary="Minutes between the stations within your reach (one street's, or a district's)",
)
def flow_matrix(
    reads: NamedDependency[Reads],
    reach: NamedDependency[Reach],
    first: Month,
    last: Month,
    street: Annotated[
        str | None, QueryParameter(max_length=64, description="Only this street's stations")
    ] = None,
    after: After = None,
) -> FlowMatrix:
    check_months_asked(first, last, station_now())

    def query(db: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        shown = [
            row
            for row in stations.every_station(db)
            if reach.covers(row["station_id"]) and street in (None, row["street"])
        ]
        among = [row["station_id"] for row in shown]
        return shown, flows.matrix(db, among, since=first, until=last)

    shown, rows = reads.query(("flows", "stations"), after, query)
    cells = [msgspec.convert(row, Cell, strict=False) for row in rows]
    return FlowMatrix(
        first=first,
        last=last,
        stations=[_line(row, cells) for row in shown],
        cells=cells,
        minutes=sum(cell.minutes for cell in cells),
    )


def _line(station: dict[str, Any], cells: list[Cell]) -> Line:
    """A station's row and column of the matrix, added up (a station that only receives
    help shows as minutes out and none in)."""
    me = station["station_id"]
    across = [cell for cell in cells if cell.from_station != cell.to_station]
    return Line(
        station_id=me,
        code=station["code"],
        minutes_out=sum(cell.minutes for cell in across if cell.from_station == me),
        minutes_in=sum(cell.minutes for cell in across if cell.to_station == me),
    )


FLOWS = Router("/api/v1/flows", tags=["reports"], route_handlers=[station_flows, flow_matrix])
