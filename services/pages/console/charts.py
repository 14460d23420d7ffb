"""Bar charts drawn on the server as inline SVG: no chart library, nothing fetched, and they
print as sharply as the text around them. This module works out the geometry; the template
``console/chart.html`` draws it."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

# Dark enough against white for graphics (WCAG 1.4.11, at least 3:1), and apart from each other.
PALETTE = (
    "#0b4f8a",
    "#b34700",
    "#1d6b2f",
    "#7b2d8e",
    "#a11d1d",
    "#00695c",
    "#6d4c41",
    "#37474f",
)
WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 40  # room for the axes' labels


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float]  # one per column, in the chart's unit
    color: str = ""


@dataclass
class Chart:
    """What the template draws: bars, the value axis's ticks, the columns' labels, a legend."""

    title: str
    width: int = WIDTH
    height: int = HEIGHT
    bars: list[dict[str, object]] = field(default_factory=list)
    ticks: list[dict[str, object]] = field(default_factory=list)
    columns: list[dict[str, object]] = field(default_factory=list)
    legend: list[Series] = field(default_factory=list)
    baseline: float = HEIGHT - BOTTOM
    left: int = LEFT
    right: int = WIDTH - RIGHT


def nice_top(largest: float, *, whole: bool) -> tuple[float, float]:
    """A round top for the value axis at or above ``largest``, and the step between its ticks
    (1, 2 or 5 times a power of ten, about four ticks; ``whole``: counts, so never below 1)."""
    if largest <= 0:
        return 1.0, 1.0
    rough = largest / 4
    power = 10 ** math.floor(math.log10(rough))
    step = next(multiple * power for multiple in (1, 2, 5, 10) if multiple * power >= rough)
    if whole:
        step = max(step, 1.0)
    return step * math.ceil(largest / step), step


def bar_chart(
    title: str,
    columns: list[str],
    series: list[Series],
    *,
    stacked: bool,
    value_text: Callable[[float], str],
    whole: bool = False,
) -> Chart:
    """Bars for each column: one stack of every series, or the series side by side.
    ``value_text`` says a value in words (the ticks and each bar's tooltip); ``whole``: the
    values are counts."""
    coloured = [
        Series(one.name, one.values, one.color or PALETTE[index % len(PALETTE)])
        for index, one in enumerate(series)
    ]
    totals = [
        sum(one.values[column] for one in coloured)
        if stacked
        else max((one.values[column] for one in coloured), default=0)
        for column in range(len(columns))
    ]
    top, step = nice_top(max(totals, default=0), whole=whole)
    chart = Chart(title=title, legend=coloured)
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(len(columns), 1)
    bar_width = slot * 0.6 / (1 if stacked else max(len(coloured), 1))

    def y(value: float) -> float:
        return TOP + plot_height * (1 - value / top)

    chart.ticks = [
        {"y": round(y(step * index), 1), "text": value_text(step * index)}
        for index in range(round(top / step) + 1)
    ]
    for column, name in enumerate(columns):
        start = LEFT + slot * column + slot * 0.2
        chart.columns.append({"x": round(LEFT + slot * (column + 0.5), 1), "text": name})
        stacked_below = 0.0
        for index, one in enumerate(coloured):
            value = one.values[column]
            if value <= 0:
                continue
            base = stacked_below if stacked else 0.0
            chart.bars.append(
                {
                    "x": round(start + (0 if stacked else bar_width * index), 1),
                    "y": round(y(base + value), 1),
                    "width": round(bar_width, 1),
                    "height": round(y(base) - y(base + value), 1),
                    "color": one.color,
                    "title": f"{name} · {one.name}: {value_text(value)}",
                }
            )
            stacked_below += value
    return chart
