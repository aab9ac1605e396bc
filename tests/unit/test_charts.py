"""Charts drawn from one definition: the SVG is parsed and what was drawn is read back (the
bars' heights in proportion to their amounts, the forecast's line inside its band), and the
SVG is rendered into a PDF by WeasyPrint, as the pack will, and the PDF read back."""

from __future__ import annotations

import base64
import io
import xml.etree.ElementTree as ET

import pytest
from pypdf import PdfReader

from salesledger.formats.charts import Chart, Series, aging_chart, forecast_chart, to_spec, to_svg

NS = {"s": "http://www.w3.org/2000/svg"}


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_aging_bars_are_in_proportion_to_the_amounts() -> None:
    amounts = [86909, 48317, 0, 12000, 0, 250000]
    labels = ["current", "1-30", "31-60", "61-90", "91-120", "over 120"]
    root = _parse(to_svg(aging_chart(labels, amounts, "EUR", "2026-12-15")))
    bars = root.findall("s:rect[@class='bar']", NS)
    assert [int(b.get("data-value", "")) for b in bars] == amounts
    heights = [float(b.get("height", "")) for b in bars]
    assert heights[2] == heights[4] == 0
    # each bar's height over its amount is the same scale
    scales = {round(h / v, 6) for h, v in zip(heights, amounts, strict=True) if v}
    assert max(scales) - min(scales) < 1e-4
    # bars stand on the same base line, left to right in the order of the buckets
    bottoms = {round(float(b.get("y", "")) + float(b.get("height", "")), 1) for b in bars}
    assert len(bottoms) == 1
    xs = [float(b.get("x", "")) for b in bars]
    assert xs == sorted(xs)
    texts = [t.text for t in root.findall("s:text[@class='category']", NS)]
    assert texts == labels
    # the highest tick covers the highest bar, in major units
    ticks = [t.text for t in root.findall("s:text[@class='tick']", NS)]
    assert ticks[0] == "0.00" and float(ticks[-1] or 0) >= 2500.00


def test_the_forecast_line_lies_in_its_band() -> None:
    weeks = ["1", "2", "3", "4"]
    chart = forecast_chart(weeks, naive=[100000, 0, 50000, 0], expected=[40000, 60000, 0, 50000],
                           low=[40000, 0, 0, 0], high=[100000, 60000, 50000, 50000],
                           currency="EUR", as_of="2026-12-15")
    root = _parse(to_svg(chart))
    [band] = root.findall("s:polygon[@class='band']", NS)
    points = [tuple(map(float, p.split(","))) for p in (band.get("points") or "").split()]
    assert len(points) == 2 * len(weeks)
    high, low = points[:4], list(reversed(points[4:]))
    expected = [(float(c.get("cx", "")), float(c.get("cy", "")))
                for c in root.findall("s:circle[@data-series='expected']", NS)]
    for (hx, hy), (lx, ly), (ex, ey) in zip(high, low, expected, strict=True):
        assert hx == lx == ex
        assert hy <= ey <= ly  # SVG's y grows downwards
    assert len(root.findall("s:polyline[@class='line']", NS)) == 2


def test_the_definition_is_data_for_a_web_page() -> None:
    spec = to_spec(aging_chart(["current", "over 30"], [1050, 0], "EUR", "2026-12-15"))
    assert spec["series"] == [{"name": "open", "values": ["10.50", "0.00"]}]
    assert spec["kind"] == "bars" and spec["band"] is None


def test_a_chart_must_be_consistent() -> None:
    with pytest.raises(ValueError):
        Chart("x", "pie", ("a",), "EUR", (Series("s", (1,)),))
    with pytest.raises(ValueError):
        Chart("x", "bars", ("a", "b"), "EUR", (Series("s", (1,)),))


def test_rendered_into_a_pdf() -> None:
    from weasyprint import HTML

    svg = to_svg(aging_chart(["current", "1-30"], [86909, 48317], "EUR", "2026-12-15"))
    src = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    pdf = HTML(string=f'<html><body><img src="{src}"></body></html>').write_pdf()
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    lines = text.split("\n")
    assert lines[0] == "Aged receivables on 2026-12-15"
    # the axis's unit, the axis from 0 to 1,000.00 (above the highest bucket, 869.09), the
    # buckets, the key
    assert lines[1:] == ["EUR", "0.00", "200.00", "400.00", "600.00", "800.00", "1000.00",
                         "current", "1-30", "open (EUR)"]


def test_figures_in_tenths_and_gaps_in_lines() -> None:
    from salesledger.formats.charts import kpi_chart, label

    assert label(354, "days") == "35.4" and label(125, "%") == "12.5 %"
    assert label(12345, "EUR") == "123.45"
    chart = kpi_chart(["2026-01", "2026-02", "2026-03", "2026-04"],
                      {"DSO": [300, None, 354, 410]}, "days", "DSO")
    root = ET.fromstring(to_svg(chart))
    ns = {"s": "http://www.w3.org/2000/svg"}
    # two stretches of line around the missing month, three points
    lines = root.findall("s:polyline[@class='line']", ns)
    assert [len(line.get("points", "").split()) for line in lines] == [1, 2]
    assert [c.get("data-value") for c in root.findall("s:circle", ns)] == ["300", "354", "410"]
    ticks = [t.text for t in root.findall("s:text[@class='tick']", ns)]
    assert ticks == ["0.0", "10.0", "20.0", "30.0", "40.0", "50.0"]
    assert to_spec(chart)["series"][0]["values"] == ["30.0", None, "35.4", "41.0"]


def test_the_axis_names_its_unit() -> None:
    """The ticks are bare figures (500000.00); the axis says in what, once, above them."""
    root = _parse(to_svg(aging_chart(["current"], [50000000], "EUR", "2026-12-15")))
    assert [t.text for t in root.findall("s:text[@class='unit']", NS)] == ["EUR"]
    ticks = [t.text for t in root.findall("s:text[@class='tick']", NS)]
    assert "500000.00" in ticks
    days = Chart("DSO", "lines", ("2026-01",), "days", (Series("DSO", (354,)),))
    assert [t.text for t in _parse(to_svg(days)).findall("s:text[@class='unit']", NS)] == [
        "days"]
    # a rate's ticks carry their % sign already
    rate = Chart("CEI", "lines", ("2026-01",), "%", (Series("CEI", (925,)),))
    assert _parse(to_svg(rate)).findall("s:text[@class='unit']", NS) == []


def test_the_ticks_are_written_by_the_caller_when_it_gives_a_format() -> None:
    """The pure core draws the same axis; a page gives the reader's format (``tick``), the
    pack none: its ticks stay plain figures. Only the ticks' text changes, not where they
    are."""
    chart = aging_chart(["current", "1-30"], [120000, 30000], "EUR", "2026-12-15")
    plain, formatted = _parse(to_svg(chart)), _parse(to_svg(
        chart, tick=lambda v: f"<{v // 100} €>"))
    assert [t.text for t in plain.findall("s:text[@class='tick']", NS)] == [
        "0.00", "500.00", "1000.00", "1500.00"]
    ticks = formatted.findall("s:text[@class='tick']", NS)
    assert [t.text for t in ticks] == ["<0 €>", "<500 €>", "<1000 €>", "<1500 €>"]  # escaped
    assert [t.get("y") for t in ticks] == [
        t.get("y") for t in plain.findall("s:text[@class='tick']", NS)]
