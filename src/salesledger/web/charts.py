"""The reports' charts on a page: the SVG that ``formats/charts.py`` draws (the same as
``report aging|forecast --svg``), put inline. The SVG is written by our code with every
text in it escaped, so it is marked safe here and nowhere else."""

from __future__ import annotations

from typing import Any

from django.utils.safestring import SafeString, mark_safe

from salesledger.formats.charts import Chart, aging_chart, to_svg


def inline_svg(chart: Chart) -> SafeString:
    return mark_safe(to_svg(chart))  # noqa: S308


def aging_svg(report: Any) -> SafeString:
    """The buckets of an aging report (``reporting.selectors.AgingReport``), base currency."""
    return inline_svg(aging_chart([b.label for b in report.buckets], report.base,
                                  report.base_currency, report.as_of.isoformat()))
