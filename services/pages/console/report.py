"""The monitoring report for the quarterly review: service hours per month by category, active
and new volunteers, trainings — as charts drawn on the server and as tables, printable, with
the figures as a CSV download."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Annotated, Any

import msgspec
from babel.dates import format_skeleton
from litestar import Request, Response, get
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter
from litestar.response import Template

from services.composition.runtime import Backbone
from services.pages.console.charts import Series, bar_chart
from services.pages.console.common import STAFF, category_names, show
from services.pages.i18n import gettext, language, number
from services.pages.i18n import hours as hours_of
from services.web.auth import allow
from services.web.downloads import csv_response
from services.web.monitoring import Drawn, drawn_for, monitoring_report
from services.web.reach import Reach
from services.web.reads import Reads
from services.windows import check_months_asked

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
Month = Annotated[str | None, QueryParameter(pattern=MONTH_PATTERN, description="YYYY-MM")]
CSV_COLUMNS = ["month", "category", "building", "minutes", "services"]


def quarter_of(today: date) -> tuple[str, str]:
    """The first and last month of the quarter ``today`` falls in."""
    first = (today.month - 1) // 3 * 3 + 1
    return f"{today.year}-{first:02d}", f"{today.year}-{first + 2:02d}"


def months_between(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` (a period checked by ``check_months_asked``)."""
    year, month = (int(part) for part in first.split("-"))
    months = []
    while f"{year}-{month:02d}" <= last:
        months.append(f"{year}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def month_name(month: str) -> str:
    year, number_of_month = (int(part) for part in month.split("-"))
    return format_skeleton("yMMM", date(year, number_of_month, 1), locale=language())


def _period(bone: Backbone, first: str | None, last: str | None) -> tuple[str, str]:
    default_first, default_last = quarter_of(bone.today())
    period = first or default_first, last or default_last
    check_months_asked(*period, bone.local_now())
    return period


def _figures(reads: Reads, reach: Reach, first: str, last: str, drawn: Drawn) -> dict[str, Any]:
    """The report's figures as the templates read them, with the categories' names."""
    report = monitoring_report(reads, reach, first, last, None, drawn)
    return {
        **msgspec.to_builtins(report),
        "categories": reads.query((), None, category_names),
    }


def _by_month(rows: list[dict[str, Any]], months: list[str], column: str) -> list[float]:
    found = {row["month"]: row[column] for row in rows}
    return [float(found.get(month, 0)) for month in months]


def _charts(figures: dict[str, Any], months: list[str]) -> dict[str, Any]:
    """The three charts, and the service table they are drawn from (month × category)."""
    names = [month_name(month) for month in months]
    minutes: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(months, 0))
    for row in figures["service"]:
        minutes[row["category"]][row["month"]] += row["minutes"]
    categories = figures["categories"]
    service = bar_chart(
        gettext("Service hours per month, by category"),
        names,
        [
            Series(categories.get(code, code), [minutes[code][month] / 60 for month in months])
            for code in sorted(minutes)
        ],
        stacked=True,
        value_text=lambda value: hours_of(round(value * 60)),
    )
    volunteers = bar_chart(
        gettext("Volunteers per month"),
        names,
        [
            Series(
                gettext("Active (gave service)"), _by_month(figures["volunteers"], months, "active")
            ),
            Series(gettext("Newly registered"), _by_month(figures["volunteers"], months, "new")),
        ],
        stacked=False,
        value_text=lambda value: number(int(value)),
        whole=True,
    )
    trainings = bar_chart(
        gettext("Hours trained per month"),
        names,
        [
            Series(
                gettext("Hours trained (length × attendees)"),
                [
                    value / 60
                    for value in _by_month(figures["trainings"], months, "minutes_trained")
                ],
            )
        ],
        stacked=False,
        value_text=lambda value: hours_of(round(value * 60)),
    )
    return {
        "charts": {"service": service, "volunteers": volunteers, "trainings": trainings},
        "service_table": {
            categories.get(code, code): [minutes[code][month] for month in months]
            for code in sorted(minutes)
        },
    }


# The station, street or district the report is drawn for, asked as the API asks it.
DRAWN = {"drawn": Provide(drawn_for, sync_to_thread=False)}


@get("/report", opt=allow(*STAFF), sync_to_thread=True, dependencies=DRAWN)
def report(
    request: Request[Any, Any, Any],
    bone: NamedDependency[Backbone],
    reach: NamedDependency[Reach],
    drawn: NamedDependency[Drawn],
    first: Month = None,
    last: Month = None,
) -> Template:
    first, last = _period(bone, first, last)
    months = months_between(first, last)
    figures = _figures(bone.read_side, reach, first, last, drawn)
    total = sum(row["minutes"] for row in figures["service"])
    services = sum(row["services"] for row in figures["service"])
    context = {
        **figures,
        **_charts(figures, months),
        "first": first,
        "last": last,
        "months": months,
        "month_names": [month_name(month) for month in months],
        "total": total,
        "services": services,
        "asked": drawn.query(),
    }
    return show(request, "console/report.html", context)


@get("/report/export", opt=allow(*STAFF), sync_to_thread=True, dependencies=DRAWN)
def export(
    bone: NamedDependency[Backbone],
    reach: NamedDependency[Reach],
    drawn: NamedDependency[Drawn],
    first: Month = None,
    last: Month = None,
) -> Response[str]:
    """The service figures as the API exports them: one line per month, category, building."""
    first, last = _period(bone, first, last)
    rows = _figures(bone.read_side, reach, first, last, drawn)["service"]
    return csv_response(
        f"monitoring-{first}-{last}",
        CSV_COLUMNS,
        [[row[column] for column in CSV_COLUMNS] for row in rows],
    )
