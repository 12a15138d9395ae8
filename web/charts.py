"""Server-rendered SVG charts: geometry computed here, drawn by templates/admin/_chart.html.
No script and no inline style, so the page stays inside the strict CSP."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 720
HEIGHT = 220
LEFT = 40  # room for the left axis's labels (counts)
RIGHT = 44  # room for the right axis's labels (shares): "100%" inside the picture
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
    # (x, y) of each month's share: drawn as a line and, so that it reads without colour, as
    # a dot per month.
    share_dots: tuple[tuple[float, float], ...]
    baseline: float
    plot_right: float  # where the plot ends and the right-hand scale begins

    @property
    def share_points(self) -> str:
        """The shares as an SVG polyline's points, "x,y x,y"."""
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in self.share_dots)


def bar_chart(values: list[tuple[str, int, float | None]]) -> BarChart:
    """Bars for (label, count, share of it in time) per month, with a line for the share."""
    plot_height = HEIGHT - BOTTOM - 8
    top = _nice_top(max((v for _, v, _ in values), default=0))
    slot = (WIDTH - LEFT - RIGHT) / max(len(values), 1)
    bars = []
    points: list[tuple[float, float]] = []
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
            points.append((round(x + slot * 0.35, 1), round(8 + plot_height * (1 - share), 1)))
    return BarChart(WIDTH, HEIGHT, tuple(bars), top, tuple(points), 8 + plot_height, WIDTH - RIGHT)


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
