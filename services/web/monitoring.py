"""The monitoring report drawn for a station, a street or a district: the same indicators for
the whole and for each of its stations (the drill-down), the whole being the sum of its
stations' parts. The API and the console both show it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from uuid import UUID

import msgspec
from litestar.params import QueryParameter

from projections import monitoring, stations
from services.web.reach import Reach, reported
from services.web.reads import Reads

F = TypeVar("F", bound=msgspec.Struct)


@dataclass(frozen=True)
class Drawn:
    """The station, street or district a report is drawn for (none: the caller's reach)."""

    station: UUID | None = None
    street: str | None = None
    district: str | None = None

    def query(self) -> dict[str, str]:
        """As a link's query asks for it again."""
        asked = {"station": self.station, "street": self.street, "district": self.district}
        return {name: str(value) for name, value in asked.items() if value is not None}


def drawn_for(
    station: Annotated[UUID | None, QueryParameter(description="One station")] = None,
    street: Annotated[
        str | None, QueryParameter(max_length=100, description="A street, by its name")
    ] = None,
    district: Annotated[
        str | None, QueryParameter(max_length=100, description="A district, by its name")
    ] = None,
) -> Drawn:
    """Dependency ``drawn``: what a report route's query asks it to be drawn for."""
    return Drawn(station, street, district)


class ServiceFigure(msgspec.Struct, kw_only=True):
    month: str
    category: str
    building: str
    minutes: int
    services: int


class VolunteerFigure(msgspec.Struct, kw_only=True):
    month: str
    active: int
    new: int


class TrainingFigure(msgspec.Struct, kw_only=True):
    month: str
    trainings: int
    minutes: int
    minutes_trained: int


class Registry(msgspec.Struct, kw_only=True):
    active: int = 0
    paused: int = 0
    left: int = 0


class Figures(msgspec.Struct, kw_only=True):
    service: list[ServiceFigure]
    volunteers: list[VolunteerFigure]
    trainings: list[TrainingFigure]
    registry: Registry


class StationFigures(Figures, kw_only=True):
    station_id: str
    code: str
    name: str
    district: str
    street: str


class MonitoringReport(Figures, kw_only=True):
    first: str
    last: str
    stations: list[StationFigures]  # the parts the figures above add up from


def _summed(figures: Iterable[F], kind: type[F], key: Callable[[F], tuple[str, ...]]) -> list[F]:
    """Figures with the same key added together, in key order."""
    totals: dict[tuple[str, ...], dict[str, Any]] = {}
    for figure in figures:
        values = msgspec.structs.asdict(figure)
        found = totals.setdefault(key(figure), values)
        if found is not values:
            for name, value in values.items():
                if isinstance(value, int):
                    found[name] += value
    return [kind(**totals[found]) for found in sorted(totals)]


def _whole(parts: list[Figures]) -> Figures:
    registry = Registry()
    for part in parts:
        registry.active += part.registry.active
        registry.paused += part.registry.paused
        registry.left += part.registry.left
    return Figures(
        service=_summed(
            (figure for part in parts for figure in part.service),
            ServiceFigure,
            lambda figure: (figure.month, figure.category, figure.building),
        ),
        volunteers=_summed(
            (figure for part in parts for figure in part.volunteers),
            VolunteerFigure,
            lambda figure: (figure.month,),
        ),
        trainings=_summed(
            (figure for part in parts for figure in part.trainings),
            TrainingFigure,
            lambda figure: (figure.month,),
        ),
        registry=registry,
    )


def _of(rows: list[dict[str, Any]], station_id: str, kind: type[F]) -> list[F]:
    return [
        msgspec.convert(row, kind, strict=False) for row in rows if row["station_id"] == station_id
    ]


def monitoring_report(
    reads: Reads,
    reach: Reach,
    first: str,
    last: str,
    after: int | None,
    drawn: Drawn,
) -> MonitoringReport:
    """The report for the station, street or district asked (by default the caller's whole
    reach), months ``first`` to ``last``."""

    def query(db: Any) -> MonitoringReport:
        chosen = reported(
            reach,
            stations.every_station(db),
            station=drawn.station,
            street=drawn.street,
            district=drawn.district,
        )
        among = [row["station_id"] for row in chosen]
        service = monitoring.service(db, among, first, last)
        volunteers = monitoring.volunteers_by_month(db, among, first, last)
        trainings = monitoring.trainings_by_month(db, among, first, last)
        registries = {row["station_id"]: row for row in monitoring.registry(db, among)}
        parts = []
        for row in chosen:
            held = registries.get(row["station_id"])
            parts.append(
                StationFigures(
                    station_id=row["station_id"],
                    code=row["code"],
                    name=row["name"],
                    district=row["district"],
                    street=row["street"],
                    service=_of(service, row["station_id"], ServiceFigure),
                    volunteers=_of(volunteers, row["station_id"], VolunteerFigure),
                    trainings=_of(trainings, row["station_id"], TrainingFigure),
                    registry=Registry()
                    if held is None
                    else Registry(active=held["active"], paused=held["paused"], left=held["left_"]),
                )
            )
        whole = _whole(parts)
        return MonitoringReport(
            first=first,
            last=last,
            service=whole.service,
            volunteers=whole.volunteers,
            trainings=whole.trainings,
            registry=whole.registry,
            stations=parts,
        )

    return reads.query(("monitoring", "stations"), after, query)
