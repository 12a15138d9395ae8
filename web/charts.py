"""Server-rendered SVG charts: geometry computed here, drawn by templates/admin/_chart.html.
No script and no inline style, so the page stays inside the strict CSP."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 720
HEIGHT = 220
LEFT = 40  # room for the axis labels
BOTTOM = 24


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int
    share: float | None  # 0..1, drawn as a dot on the right-hand scale


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    top: int  # the value at the top of the left axis
    share_points: str  # "x,y x,y": the polyline of the shares
    baseline: float


def bar_chart(values: list[tuple[str, int, float | None]]) -> BarChart:
    """Bars for (label, count, share of it in time) per month, with a line for the share."""
    plot_height = HEIGHT - BOTTOM - 8
    top = _nice_top(max((v for _, v, _ in values), default=0))
    slot = (WIDTH - LEFT) / max(len(values), 1)
    bars = []
    points = []
    for i, (label, value, share) in enumerate(values):
        height = plot_height * value / top
        x = LEFT + i * slot + slot * 0.15
        bars.append(
            Bar(
                round(x, 1),
                round(8 + plot_height - height, 1),
                round(slot * 0.7, 1),
                round(height, 1),
                label,
                value,
                share,
            )
        )
        if share is not None:
            points.append(f"{x + slot * 0.35:.1f},{8 + plot_height * (1 - share):.1f}")
    return BarChart(WIDTH, HEIGHT, tuple(bars), top, " ".join(points), 8 + plot_height)


def _nice_top(largest: int) -> int:
    """A round number at or above `largest` for the axis (1, 2, 5 × a power of ten)."""
    if largest <= 0:
        return 1
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= largest:
                return step * magnitude
        magnitude *= 10
