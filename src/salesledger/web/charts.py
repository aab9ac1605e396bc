"""The reports' charts on a page: the SVG that ``formats/charts.py`` draws (the same as
``report aging|forecast --svg``), put inline, in the reader's language and format: the title
and the series' names translated, the title's day, the axis's amounts and the forecast's
weeks (the day each begins) written by babel for the reader's locale (``Formatter``). The
PDF pack draws the same charts in its own language, with no reader to format for. The SVG is
written by our code with every text in it escaped, so it is marked safe here and nowhere
else."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from babel.dates import format_skeleton
from babel.numbers import format_currency, format_decimal
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from salesledger.apps.documents.formatting import Formatter
from salesledger.formats.charts import (
    FIGURE_UNITS,
    Chart,
    aging_chart,
    forecast_chart,
    named,
    to_svg,
)
from salesledger.money import Money


def tick_format(fmt: Formatter, unit: str) -> Callable[[int], str]:
    """An axis's value (minor units of ``unit``, or tenths of a figure in days or %) as the
    reader writes it: ``€1,500`` and ``1 500 €``; a tick of whole major units shows no
    decimals (the axis's steps are round), one of cents shows them."""
    if unit in FIGURE_UNITS:
        def figure(value: int) -> str:
            text = str(format_decimal(value / 10, format="#,##0.#", locale=fmt.locale))
            return f"{text}\u00a0%" if unit == "%" else text
        return figure
    standard = fmt.locale.currency_formats["standard"].pattern
    whole = re.sub(r"\.0+", "", standard.split(";")[0])

    def money(value: int) -> str:
        amount = Money.from_minor(value, unit).amount
        if amount == amount.to_integral_value():
            return str(format_currency(amount, unit, format=whole, locale=fmt.locale,
                                       currency_digits=False))
        return fmt.money(value, unit)
    return money


def inline_svg(chart: Chart, fmt: Formatter) -> SafeString:
    return mark_safe(to_svg(chart, tick=tick_format(fmt, chart.currency)))  # noqa: S308


def aging_svg(report: Any, fmt: Formatter) -> SafeString:
    """The buckets of an aging report (``reporting.selectors.AgingReport``), base currency."""
    chart = aging_chart([b.label for b in report.buckets], report.base,
                        report.base_currency, report.as_of.isoformat())
    return inline_svg(named(chart, _("Aged receivables on %(day)s") % {
        "day": fmt.date(report.as_of)}, [_("open")]), fmt)


def forecast_svg(starts: list[date], w: Any, currency: str, as_of: date,
                 fmt: Formatter) -> SafeString:
    """The expected receipts per week with their band, and the naive view; each week named
    by the day it begins, short (``Mar 10``, ``10 mars``)."""
    weeks = [str(format_skeleton("MMMd", d, locale=fmt.locale)) for d in starts]
    chart = forecast_chart(weeks, w.naive, w.expected, w.low, w.high, currency,
                           as_of.isoformat())
    return inline_svg(named(chart, _("Expected receipts per week after %(day)s") % {
        "day": fmt.date(as_of)}, [_("expected"), _("naive (due dates)")]), fmt)
