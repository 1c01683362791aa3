"""Stacked bar charts as plain geometry, drawn by a template as inline SVG: no script, no network."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Colour classes in static/app.css (c0 … c7).
PALETTE_SIZE = 8


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str  # the tooltip: day, key and count


@dataclass
class Chart:
    title: str
    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    legend: list[tuple[str, str, int]] = field(default_factory=list)  # (key, css class, total)
    x_labels: list[tuple[float, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, int]] = field(default_factory=list)
    plot_left: int = 40
    plot_bottom: int = 0


def stacked_bars(title: str, days: list[str], counts: dict[str, list[int]], *, width: int = 760,
                 height: int = 220) -> Chart:
    """One bar per day, stacked by key, scaled to the busiest day; every 7th day labelled."""
    left, top, bottom = 40, 10, 24
    plot_h = height - top - bottom
    chart = Chart(title, width, height, plot_left=left, plot_bottom=height - bottom)
    totals = [sum(series[i] for series in counts.values()) for i in range(len(days))]
    peak = max(totals, default=0) or 1
    step = (width - left - 10) / max(len(days), 1)
    css = {key: f"c{i % PALETTE_SIZE}" for i, key in enumerate(counts)}
    chart.legend = [(key, css[key], sum(series)) for key, series in counts.items()]
    for i, day in enumerate(days):
        y = float(top + plot_h)
        for key, series in counts.items():
            if series[i]:
                h = series[i] / peak * plot_h
                y -= h
                chart.bars.append(Bar(round(left + i * step + 1, 1), round(y, 1), round(max(step - 2, 1), 1),
                                      round(h, 1), css[key], f"{day} {key}: {series[i]}"))
        if (i % 7 == 0 and i < len(days) - 4) or i == len(days) - 1:  # weekly, never crowding the last day
            chart.x_labels.append((round(left + i * step, 1), day[5:]))
    chart.y_ticks = [(round(top + plot_h - f * plot_h, 1), round(peak * f)) for f in (0, 0.5, 1)]
    return chart
