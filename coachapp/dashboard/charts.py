"""Server-drawn SVG charts: coordinates computed here, drawn by templates/dashboard/_*.html.

The viewBox is 320 units wide, so at a 360 px phone one unit is about one pixel and the labels
stay readable; every chart has its data table beside it.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from coachapp import metrics

WIDTH = 320


@dataclass(frozen=True)
class Bar:
    label: str
    value_text: str
    y: float
    width: float
    #: None when the figure rests on too few items to show.
    value: float | None
    n: int
    key: int


def bars(rows: Sequence[Any], *, value_text: Callable[[Any], str]) -> tuple[list[Bar], float]:
    """Horizontal bars with the label above each; returns the bars and the chart's height."""
    out: list[Bar] = []
    y = 0.0
    for row in rows:
        if not row.enough:
            continue  # listed in the table, with its count; a bar would claim too much
        value = row.value
        out.append(
            Bar(
                label=row.label,
                value_text=value_text(row),
                y=y,
                width=0 if value is None else round(value * (WIDTH - 4), 1),
                value=value,
                n=row.n,
                key=row.key,
            )
        )
        y += 40
    return out, max(y, 40)


@dataclass(frozen=True)
class Chart:
    """A bar chart: the rows of its table and the bars drawn from them."""

    rows: Sequence[Any]
    bars: list[Bar]
    height: float
    #: Rows not drawn because they rest on fewer than MIN_ITEMS items.
    hidden: int = 0


@dataclass(frozen=True)
class CurvePlot:
    path: str
    height: int
    left: int
    bottom: int
    plot_width: int
    #: (x, label) along the day axis and (y, label) up the share axis.
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    x28: float
    #: The last day drawn (where at least MIN_ITEMS items were still observed).
    last_day: int


def curve_plot(curve: metrics.Curve, *, horizon: int = 112) -> CurvePlot:
    left, right, top, bottom = 36, 14, 8, 150
    plot_width = WIDTH - left - right

    def x(day: float) -> float:
        return round(left + plot_width * min(day, horizon) / horizon, 1)

    def y(share: float) -> float:
        return round(top + (bottom - top) * (1 - share), 1)

    # The line stops where fewer than MIN_ITEMS items are still observed: past that point one
    # slip moves the estimate by a tenth or more, and the tail would tell more than it knows.
    drawn = [s for s in curve.steps[1:] if s.at_risk >= metrics.MIN_ITEMS]
    parts = [f"M{x(0)} {y(1.0)}"]
    survival = 1.0
    for step in drawn:
        parts.append(f"H{x(step.day)}")
        if step.survival != survival:
            survival = step.survival
            parts.append(f"V{y(survival)}")
    return CurvePlot(
        path=" ".join(parts),
        height=bottom + 22,
        left=left,
        bottom=bottom,
        plot_width=plot_width,
        x_ticks=[(x(d), str(d)) for d in (0, 28, 56, 84, 112) if d <= horizon],
        y_ticks=[(y(s), f"{round(s * 100)}%") for s in (0, 0.5, 1)],
        x28=x(28),
        last_day=drawn[-1].day if drawn else 0,
    )


@dataclass(frozen=True)
class Column:
    x: float
    y: float
    height: float
    value: int
    label: str


def columns(values: Sequence[int], labels: Sequence[str], *, height: int = 120) -> list[Column]:
    """Vertical bars, one per week, scaled to the largest."""
    top = max(values, default=0) or 1
    step = WIDTH / max(len(values), 1)
    out = []
    for index, (value, label) in enumerate(zip(values, labels, strict=True)):
        h = round((height - 20) * value / top, 1)
        out.append(Column(round(index * step + 6, 1), round(height - h, 1), h, value, label))
    return out
