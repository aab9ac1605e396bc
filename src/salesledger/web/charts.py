"""The reports' charts on a page: the SVG that ``formats/charts.py`` draws (the same as
``report aging|forecast --svg``), put inline, with the title and the series' names in the
reader's language. The SVG is written by our code with every text in it escaped, so it is
marked safe here and nowhere else."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from salesledger.formats.charts import Chart, aging_chart, forecast_chart, named, to_svg


def inline_svg(chart: Chart) -> SafeString:
    return mark_safe(to_svg(chart))  # noqa: S308


def aging_svg(report: Any) -> SafeString:
    """The buckets of an aging report (``reporting.selectors.AgingReport``), base currency."""
    chart = aging_chart([b.label for b in report.buckets], report.base,
                        report.base_currency, report.as_of.isoformat())
    return inline_svg(named(chart, _("Aged receivables on %(day)s") % {
        "day": report.as_of.isoformat()}, [_("open")]))


def forecast_svg(weeks: list[str], w: Any, currency: str, as_of: date) -> SafeString:
    """The expected receipts per week with their band, and the naive view."""
    chart = forecast_chart(weeks, w.naive, w.expected, w.low, w.high, currency,
                           as_of.isoformat())
    return inline_svg(named(chart, _("Expected receipts per week after %(day)s") % {
        "day": as_of.isoformat()}, [_("expected"), _("naive (due dates)")]))
