"""Charts: one definition, rendered to SVG (docs/design/charts.md).

A :class:`Chart` says what is drawn (categories, series of amounts in minor units, a band)
and nothing of how; :func:`to_svg` draws it as a self-contained SVG document that WeasyPrint
puts in a PDF and a browser shows as it is; :func:`to_spec` gives the same definition as plain
data for a web page to draw. Pure: no Django, no database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from xml.sax.saxutils import escape

from salesledger.money import major_text

COLOURS = ("#2f6db5", "#d9822b", "#3a9a5b", "#b33c3c")
BAND = "#9bbce3"


# Charts of figures rather than money: ``Chart.currency`` names the unit, and the values are
# tenths (a DSO of 35.4 days is 354; a rate of 12.5 % is 125).
FIGURE_UNITS = ("days", "%")


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[int | None, ...]  # minor units (or tenths of a figure), one per category;
    # None: no value (a line has a gap there)


@dataclass(frozen=True)
class Chart:
    """``kind`` ``bars``: one bar per category and series, side by side; ``lines``: one line
    per series, with ``band`` (low, high per category) shaded behind them."""

    title: str
    kind: str
    categories: tuple[str, ...]
    currency: str
    series: tuple[Series, ...]
    band: tuple[tuple[int, ...], tuple[int, ...]] | None = None
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.kind not in ("bars", "lines"):
            raise ValueError(f"chart kind {self.kind!r}")
        n = len(self.categories)
        for s in self.series:
            if len(s.values) != n:
                raise ValueError(f"series {s.name!r} has {len(s.values)} values for {n} "
                                 "categories")
        if self.band is not None and any(len(b) != n for b in self.band):
            raise ValueError("the band needs a low and a high per category")


def named(chart: Chart, title: str, names: list[str]) -> Chart:
    """``chart`` with ``title`` and its series renamed in order: the words in the reader's
    language, where the chart's own are the product's (the web page and the pack both)."""
    return replace(chart, title=title, series=tuple(
        Series(name, s.values) for name, s in zip(names, chart.series, strict=True)))


def aging_chart(labels: list[str], amounts: list[int], currency: str, as_of: str) -> Chart:
    return Chart(f"Aged receivables on {as_of}", "bars", tuple(labels), currency,
                 (Series("open", tuple(amounts)),))


def forecast_chart(weeks: list[str], naive: list[int], expected: list[int], low: list[int],
                   high: list[int], currency: str, as_of: str) -> Chart:
    return Chart(f"Expected receipts per week after {as_of}", "lines", tuple(weeks), currency,
                 (Series("expected", tuple(expected)), Series("naive (due dates)",
                                                              tuple(naive))),
                 band=(tuple(low), tuple(high)))


def kpi_chart(months: list[str], series: dict[str, list[int | None]], unit: str,
              title: str) -> Chart:
    """Monthly figures (DSO and the like in days, CEI and rates in %) as lines, in tenths."""
    return Chart(title, "lines", tuple(months), unit,
                 tuple(Series(name, tuple(v)) for name, v in series.items()))


def label(value: int, unit: str) -> str:
    """A value as its axis and its key show it: money in major units, or a figure."""
    if unit in FIGURE_UNITS:
        text = f"{value / 10:.1f}"
        return f"{text} %" if unit == "%" else text
    return major_text(value, unit)


def to_spec(chart: Chart) -> dict[str, Any]:
    """The definition as plain data (amounts in major units, as text)."""
    def text(v: int | None) -> str | None:
        return None if v is None else label(v, chart.currency)
    return {"title": chart.title, "kind": chart.kind, "currency": chart.currency,
            "categories": list(chart.categories),
            "series": [{"name": s.name, "values": [text(v) for v in s.values]}
                       for s in chart.series],
            "band": None if chart.band is None else {
                "low": [text(v) for v in chart.band[0]],
                "high": [text(v) for v in chart.band[1]]}}


def _ticks(top: int) -> list[int]:
    """Four or five round steps from 0 to at least ``top`` (minor units)."""
    if top <= 0:
        return [0, 1]
    step = 1
    while top / step > 5:
        for m in (2, 5, 10):
            if top / (step * m) <= 5:
                step *= m
                break
        else:
            step *= 10
    return [k * step for k in range(0, -(-top // step) + 1)]


def to_svg(chart: Chart, width: int = 640, height: int = 320, *,
           tick: Callable[[int], str] | None = None) -> str:
    """The chart as an SVG document. Every bar, line point and band is an element with a
    ``data-value`` (minor units) and a class, so that a test can read back what was drawn.

    ``tick`` writes a value of the axis (minor units, or tenths of a figure) in the reader's
    format (the web pages give babel's, ``web/charts.py``); without it the axis says
    ``label``'s plain figures, which the PDF pack keeps."""
    tick_text = tick or (lambda v: label(v, chart.currency))
    left, right, top, bottom = 80, 16, 36, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for s in chart.series for v in s.values if v is not None]
    if chart.band is not None:
        values += list(chart.band[1])
    ticks = _ticks(max([0, *values]))
    vmax = ticks[-1]
    lowest = min([0, *values])

    def y(v: int) -> float:
        return round(top + plot_h - (max(v, lowest) / vmax) * plot_h, 2) if vmax else top + plot_h

    n = len(chart.categories)
    slot = plot_w / max(n, 1)

    def x(i: int) -> float:
        return round(left + slot * (i + 0.5), 2)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<title>{escape(chart.title)}</title>',
           f'<text class="title" x="{left}" y="20" font-size="14">{escape(chart.title)}</text>']
    if chart.currency != "%":
        # the axis's unit: the currency of the amounts (or "days"), so that the ticks' bare
        # figures are never read without it
        out.append(f'<text class="unit" x="{left - 6}" y="{top - 10}" text-anchor="end">'
                   f'{escape(chart.currency)}</text>')
    for t in ticks:
        out.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y(t)}" '
                   f'y2="{y(t)}" stroke="#ddd"/>')
        out.append(f'<text class="tick" x="{left - 6}" y="{y(t) + 4}" text-anchor="end">'
                   f'{escape(tick_text(t))}</text>')
    for i, c in enumerate(chart.categories):
        out.append(f'<text class="category" x="{x(i)}" y="{height - bottom + 16}" '
                   f'text-anchor="middle">{escape(c)}</text>')
    if chart.kind == "bars":
        k = len(chart.series)
        bar_w = slot * 0.7 / k
        for j, s in enumerate(chart.series):
            for i, v in enumerate(s.values):
                if v is None:
                    continue
                bx = round(left + slot * i + slot * 0.15 + bar_w * j, 2)
                y0, y1 = y(0), y(v)
                out.append(f'<rect class="bar" data-series="{escape(s.name)}" '
                           f'data-value="{v}" x="{bx}" y="{min(y0, y1)}" '
                           f'width="{round(bar_w, 2)}" height="{round(abs(y0 - y1), 2)}" '
                           f'fill="{COLOURS[j % len(COLOURS)]}"/>')
    else:
        if chart.band is not None:
            low, high = chart.band
            pts = [f"{x(i)},{y(v)}" for i, v in enumerate(high)]
            pts += [f"{x(i)},{y(v)}" for i, v in reversed(list(enumerate(low)))]
            out.append(f'<polygon class="band" points="{" ".join(pts)}" fill="{BAND}" '
                       'fill-opacity="0.5" stroke="none"/>')
        for j, s in enumerate(chart.series):
            colour = COLOURS[j % len(COLOURS)]
            for run in _runs(s.values):
                line = " ".join(f"{x(i)},{y(v)}" for i, v in run)
                out.append(f'<polyline class="line" data-series="{escape(s.name)}" '
                           f'points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>')
            for i, v in enumerate(s.values):
                if v is None:
                    continue
                out.append(f'<circle class="point" data-series="{escape(s.name)}" '
                           f'data-value="{v}" cx="{x(i)}" cy="{y(v)}" r="2.5" '
                           f'fill="{colour}"/>')
    for j, s in enumerate(chart.series):
        lx = left + 150 * j
        out.append(f'<rect class="key" x="{lx}" y="{height - 20}" width="10" height="10" '
                   f'fill="{COLOURS[j % len(COLOURS)]}"/>')
        out.append(f'<text class="key" x="{lx + 14}" y="{height - 11}">'
                   f'{escape(s.name)} ({chart.currency})</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _runs(values: tuple[int | None, ...]) -> list[list[tuple[int, int]]]:
    """The stretches of a line between its gaps, as (category, value) pairs."""
    runs: list[list[tuple[int, int]]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((i, v))
    return [r for r in runs if r]
