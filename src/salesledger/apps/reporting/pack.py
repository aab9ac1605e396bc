"""The monthly receivables pack: one PDF with the headline KPIs, the aging, the trends and the
forecast of a month's last day, and their charts (docs/design/reporting.md#the-monthly-pack).

Every figure comes from the selectors of this app (the same as ``report kpis|aging|trends|
forecast`` on that day) and every chart from ``formats/charts.py`` (the same definitions as
``--svg``), embedded as SVG images; the documents app lays the HTML out as a PDF with
WeasyPrint. Reading only: nothing is written.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from html import escape
from zoneinfo import ZoneInfo

from salesledger.apps.core.models import Company
from salesledger.apps.documents.rendering import html_to_pdf
from salesledger.domain.errors import ValidationFailed
from salesledger.formats.charts import (
    Chart,
    aging_chart,
    forecast_chart,
    kpi_chart,
    to_svg,
)
from salesledger.money import major_text

from .kpis import month_end
from .selectors import aging_report, cash_forecast, kpi_report, trend_report

PACK_MONTHS = 12
PACK_WEEKS = 13


def parse_month(text: str) -> date:
    """``YYYY-MM`` as the first day of that month."""
    try:
        year, month = text.strip().split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError
        return date(int(year), int(month), 1)
    except ValueError:
        raise ValidationFailed(f"--month {text!r}: write the month as YYYY-MM, e.g. 2026-03",
                               month=text) from None


def tenths(value: Decimal | None) -> int | None:
    return None if value is None else int((value * 10).to_integral_value())


def _figure(value: Decimal | None) -> str:
    return "–" if value is None else f"{value}"


@dataclass(frozen=True)
class Pack:
    month: str  # YYYY-MM
    as_of: date
    pdf: bytes
    charts: tuple[Chart, ...]


def monthly_pack(company: Company, *, month: date) -> Pack:
    """The pack of ``month`` (its first day), as of its last day."""
    as_of = month_end(month)
    base = company.base_currency
    aging = aging_report(company, as_of=as_of)
    kpis = kpi_report(company, as_of=as_of, months=PACK_MONTHS)
    trends = trend_report(company, as_of=as_of, months=PACK_MONTHS)
    weeks = cash_forecast(company, as_of=as_of, weeks=PACK_WEEKS)
    labels = [m.month for m in kpis]
    charts = (
        kpi_chart(labels, {"DSO": [tenths(m.kpis.dso) for m in kpis],
                           "best possible DSO": [tenths(m.kpis.best_dso) for m in kpis]},
                  "days", f"DSO per month to {as_of}"),
        kpi_chart(labels, {"CEI": [tenths(m.kpis.cei) for m in kpis],
                           "over 90 days": [tenths(m.kpis.over_90_share) for m in kpis]},
                  "%", f"Collection effectiveness to {as_of}"),
        aging_chart([b.label for b in aging.buckets], aging.base, base, as_of.isoformat()),
        kpi_chart([t.row.cohort for t in trends],
                  {"paid late": [tenths(t.row.late.percent) for t in trends],
                   "unpaid 90 days": [tenths(t.row.unpaid_90.percent) for t in trends],
                   "written off": [tenths(t.row.written_off.percent) for t in trends]},
                  "%", f"Late and default rates by invoice month to {as_of}"),
        forecast_chart([f"W{k + 1}" for k in range(PACK_WEEKS)], weeks.naive, weeks.expected,
                       weeks.low, weeks.high, base, as_of.isoformat()),
    )
    svg = [_image(to_svg(c)) for c in charts]
    latest = kpis[-1]

    def money(v: int) -> str:
        return escape(f"{major_text(v, base)} {base}")

    def row(cells: list[str], head: bool = False) -> str:
        tag = "th" if head else "td"
        return "<tr>" + "".join(f"<{tag}>{c}</{tag}>" for c in cells) + "</tr>"

    headline = [
        ("Receivable", money(latest.inputs.receivable_end)),
        ("Credit sales of the month", money(latest.inputs.sales)),
        ("Received on invoices", money(latest.inputs.paid)),
        ("DSO (days)", _figure(latest.kpis.dso)),
        ("Best possible DSO (days)", _figure(latest.kpis.best_dso)),
        ("Average days delinquent", _figure(latest.kpis.days_delinquent)),
        ("CEI (%)", _figure(latest.kpis.cei)),
        ("Current (%)", _figure(latest.kpis.current_share)),
        ("Over 90 days (%)", _figure(latest.kpis.over_90_share)),
        ("Write-off rate (%)", _figure(latest.kpis.write_off_rate)),
    ]
    top = sorted(aging.customers, key=lambda c: -sum(c.base[1:]))[:10]
    html = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Receivables pack {month:%Y-%m}</title>
<style>
@page {{ size: A4; margin: 15mm; }}
:root {{ --brand: #2f6db5; }}
body {{ font-family: sans-serif; font-size: 9pt; }}
h1 {{ font-size: 16pt; }} h2 {{ font-size: 12pt; margin-top: 8mm; }}
table {{ border-collapse: collapse; margin-bottom: 4mm; }}
th, td {{ border-bottom: 0.5pt solid #ccc; padding: 1mm 2mm; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
img {{ width: 170mm; }}
.break {{ break-before: page; }}
</style></head><body>
<h1>Receivables pack {month:%Y-%m}: {escape(company.name)}</h1>
<p>As of {as_of.isoformat()}; amounts in {base} at booking rates.</p>
<h2>Headline figures of {latest.month}</h2>
<table>{"".join(row([k, v]) for k, v in headline)}</table>
{svg[0]}{svg[1]}
<h2 class="break">Aged receivables on {as_of.isoformat()}</h2>
<table>{row(["bucket", "amount"], True)}{"".join(
    row([escape(b.label), money(v)]) for b, v in zip(aging.buckets, aging.base, strict=True))}
{row(["total", money(aging.base_total)])}</table>
{svg[2]}
<h2>Most overdue customers</h2>
<table>{row(["customer", "name", "overdue", "total"], True)}{"".join(
    row([escape(c.code), escape(c.name), money(sum(c.base[1:])), money(sum(c.base))])
    for c in top if sum(c.base[1:]) > 0)}</table>
<h2 class="break">KPIs per month</h2>
<table>{row(["month", "DSO", "countback", "best", "ADD", "CEI %", "to pay", "late",
             "over 90 %"], True)}{"".join(row([m.month, *[_figure(getattr(m.kpis, k)) for k in (
    "dso", "dso_countback", "best_dso", "days_delinquent", "cei", "days_to_pay", "days_late",
    "over_90_share")]]) for m in kpis)}</table>
<h2>Late-payment and default trends by invoice month</h2>
<table>{row(["cohort", "items", "paid late %", "unpaid 90 days %", "written off %",
             "flagged"], True)}{"".join(row([t.row.cohort, str(t.row.items),
    _figure(t.row.late.percent), _figure(t.row.unpaid_90.percent),
    _figure(t.row.written_off.percent), escape(" ".join(t.flagged))]) for t in trends)}</table>
{svg[3]}
<h2 class="break">Cash-flow forecast: {PACK_WEEKS} weeks after {as_of.isoformat()}</h2>
<table>{row(["week", "from", "naive", "expected", "low", "high"], True)}{"".join(
    row([f"W{k + 1}", (as_of + timedelta(days=7 * k + 1)).isoformat(), money(weeks.naive[k]),
         money(weeks.expected[k]), money(weeks.low[k]), money(weeks.high[k])])
    for k in range(PACK_WEEKS))}</table>
{svg[4]}
</body></html>"""
    pdf = html_to_pdf(html, title=f"Receivables pack {month:%Y-%m}",
                      author=company.legal_name or company.name,
                      issued_at=datetime.combine(as_of, time(0, 0),
                                                 tzinfo=ZoneInfo(company.time_zone)),
                      language="en")
    return Pack(f"{month:%Y-%m}", as_of, pdf, charts)


def _image(svg: str) -> str:
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img alt="" src="data:image/svg+xml;base64,{data}">'
