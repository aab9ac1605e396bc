"""The charts checked by rendering them: each SVG of ``formats/charts.py`` (the one definition
the pack, the commands' ``--svg`` and the pages draw) is drawn by Chromium into a PNG, and the
pixels are read back with Pillow: the bars stand where their categories are, in proportion to
their amounts; an empty bucket draws nothing; a forecast draws its line over its band. Not a
count of bytes: what a reader sees."""

from __future__ import annotations

import io
from typing import Any

from salesledger.formats.charts import COLOURS, aging_chart, forecast_chart, kpi_chart, to_svg

WIDTH, HEIGHT = 640, 320
LEFT, RIGHT = 80, 16  # the plot's margins in to_svg


def _png(chromium: Any, svg: str) -> Any:
    from PIL import Image

    page = chromium.new_page(viewport={"width": WIDTH, "height": HEIGHT})
    try:
        page.set_content(f'<html><body style="margin:0">{svg}</body></html>')
        data = page.screenshot(clip={"x": 0, "y": 0, "width": WIDTH, "height": HEIGHT})
    finally:
        page.close()
    return Image.open(io.BytesIO(data)).convert("RGB")


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[k:k + 2], 16) for k in (1, 3, 5))  # type: ignore[return-value]


def _close(a: tuple[int, int, int], b: tuple[int, int, int], tol: int = 24) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def _column_height(img: Any, x: int, colour: tuple[int, int, int]) -> int:
    """How many pixels of ``colour`` the column at ``x`` holds."""
    return sum(1 for y in range(HEIGHT) if _close(img.getpixel((x, y)), colour))


def test_the_aging_bars_are_drawn_in_proportion(chromium: Any) -> None:
    amounts = [40000, 0, 20000, 10000]
    img = _png(chromium, to_svg(aging_chart(["current", "1-30", "31-60", "over 60"], amounts,
                                            "EUR", "2026-03-31")))
    slot = (WIDTH - LEFT - RIGHT) / len(amounts)
    blue = _rgb(COLOURS[0])
    heights = [_column_height(img, int(LEFT + slot * (i + 0.5)), blue)
               for i in range(len(amounts))]
    assert heights[1] == 0  # nothing in 1-30: no bar
    assert heights[0] > 100
    # each bar's height in pixels is its amount's share of the tallest, within two pixels
    for h, amount in zip(heights, amounts, strict=True):
        assert abs(h - heights[0] * amount / amounts[0]) <= 2, (heights, amounts)
    # and nothing of the bars' colour outside the plot (the key aside)
    assert _column_height(img, LEFT // 2, blue) == 0


def test_a_forecast_draws_its_band_and_its_lines(chromium: Any) -> None:
    weeks = [str(k) for k in range(1, 5)]
    img = _png(chromium, to_svg(forecast_chart(weeks, [100000, 0, 0, 0], [20000, 50000,
                                                                         20000, 10000],
                                               [10000, 30000, 10000, 0],
                                               [30000, 70000, 30000, 20000], "EUR",
                                               "2026-03-31")))
    colours = {img.getpixel((x, y)) for x in range(LEFT, WIDTH - RIGHT, 2)
               for y in range(36, HEIGHT - 56, 2)}
    # the band's light blue, the naive and expected lines' own colours
    for wanted in ("#9bbce3", COLOURS[0], COLOURS[1]):
        assert any(_close(c, _rgb(wanted), 40) for c in colours), wanted


def test_a_kpi_line_leaves_a_gap_where_a_month_has_no_value(chromium: Any) -> None:
    months = ["2026-01", "2026-02", "2026-03", "2026-04"]
    img = _png(chromium, to_svg(kpi_chart(months, {"DSO": [300, None, 350, 400]}, "days",
                                          "DSO per month")))
    slot = (WIDTH - LEFT - RIGHT) / len(months)
    blue = _rgb(COLOURS[0])
    drawn = [_column_height(img, int(LEFT + slot * (i + 0.5)), blue) for i in range(4)]
    assert drawn[0] > 0 and drawn[2] > 0 and drawn[3] > 0
    assert drawn[1] == 0  # February has no DSO: no point and no line through it
