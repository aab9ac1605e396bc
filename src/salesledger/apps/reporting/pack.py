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

from django.utils.translation import gettext as _
from django.utils.translation import override

from salesledger.apps.core.models import Company
from salesledger.apps.documents.rendering import html_to_pdf
from salesledger.domain.errors import ValidationFailed
from salesledger.formats.charts import (
    Chart,
    aging_chart,
    forecast_chart,
    kpi_chart,
    named,
    to_svg,
)
from salesledger.money import major_text

from .kpis import month_end
from .providers import provided
from .selectors import aging_report, cash_forecast, company_kpis, kpi_report, trend_report

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


def monthly_pack(company: Company, *, month: date, language: str = "en") -> Pack:
    """The pack of ``month`` (its first day), as of its last day, written in ``language``
    (the reporting app's catalogues: ``locale/``; figures, dates and amounts are written the
    same in every language)."""
    with override(language):
        return _pack(company, month, language)


def _pack(company: Company, month: date, language: str) -> Pack:
    as_of = month_end(month)
    day = as_of.isoformat()
    base = company.base_currency
    aging = aging_report(company, as_of=as_of)
    kpis = kpi_report(company, as_of=as_of, months=PACK_MONTHS)
    whole = company_kpis(company, as_of=as_of, months=PACK_MONTHS)
    trends = trend_report(company, as_of=as_of, months=PACK_MONTHS)
    weeks = cash_forecast(company, as_of=as_of, weeks=PACK_WEEKS)
    labels = [m.month for m in kpis]

    def week(k: int) -> str:
        return _("W%(n)s") % {"n": k + 1}

    charts = (
        kpi_chart(labels, {_("DSO"): [tenths(m.kpis.dso) for m in kpis],
                           _("best possible DSO"): [tenths(m.kpis.best_dso) for m in kpis]},
                  "days", _("DSO per month to %(day)s") % {"day": day}),
        kpi_chart(labels, {_("CEI"): [tenths(m.kpis.cei) for m in kpis],
                           _("over 90 days"): [tenths(m.kpis.over_90_share) for m in kpis]},
                  "%", _("Collection effectiveness to %(day)s") % {"day": day}),
        named(aging_chart([b.label for b in aging.buckets], aging.base, base, day),
               _("Aged receivables on %(day)s") % {"day": day}, [_("open")]),
        kpi_chart([t.row.cohort for t in trends],
                  {_("paid late"): [tenths(t.row.late.percent) for t in trends],
                   _("unpaid 90 days"): [tenths(t.row.unpaid_90.percent) for t in trends],
                   _("written off"): [tenths(t.row.written_off.percent) for t in trends]},
                  "%", _("Late and default rates by invoice month to %(day)s") % {"day": day}),
        named(forecast_chart([week(k) for k in range(PACK_WEEKS)], weeks.naive,
                              weeks.expected, weeks.low, weeks.high, base, day),
               _("Expected receipts per week after %(day)s") % {"day": day},
               [_("expected"), _("naive (due dates)")]),
    )
    svg = [_image(to_svg(c)) for c in charts]
    latest = kpis[-1]

    def money(v: int) -> str:
        return escape(f"{major_text(v, base)} {base}")

    def row(cells: list[str], head: bool = False) -> str:
        tag = "th" if head else "td"
        return "<tr>" + "".join(f"<{tag}>{c}</{tag}>" for c in cells) + "</tr>"

    headline = [
        (_("Receivable"), money(latest.inputs.receivable_end)),
        (_("Credit sales of the month"), money(latest.inputs.sales)),
        (_("Received on invoices"), money(latest.inputs.paid)),
        (_("DSO (days)"), _figure(latest.kpis.dso)),
        (_("Best possible DSO (days)"), _figure(latest.kpis.best_dso)),
        (_("Average days delinquent"), _figure(latest.kpis.days_delinquent)),
        (_("CEI (%)"), _figure(latest.kpis.cei)),
        (_("Current (%)"), _figure(latest.kpis.current_share)),
        (_("Over 90 days (%)"), _figure(latest.kpis.over_90_share)),
        (_("Write-off rate (%)"), _figure(latest.kpis.write_off_rate)),
    ]
    title = pack_title(f"{month:%Y-%m}")
    w = {k: escape(v) for k, v in {
        "as_of": _("As of %(day)s; amounts in %(currency)s at booking rates.") % {
            "day": day, "currency": base},
        "headline": _("Headline figures of %(month)s") % {"month": latest.month},
        "aging": _("Aged receivables on %(day)s") % {"day": day},
        "bucket": _("bucket"), "amount": _("amount"), "total": _("total"),
        "top": _("Most overdue customers"), "customer": _("customer"), "name": _("name"),
        "overdue": _("overdue"), "kpis": _("KPIs per month"), "month": _("month"),
        "countback": _("countback"), "best": _("best"), "add": _("ADD"),
        "cei": _("CEI %"), "to_pay": _("to pay"), "late": _("late"),
        "over_90": _("over 90 %"),
        "trends": _("Late-payment and default trends by invoice month"),
        "cohort": _("cohort"), "items": _("items"), "paid_late": _("paid late %"),
        "unpaid_90": _("unpaid 90 days %"), "written_off": _("written off %"),
        "flagged": _("flagged"),
        "forecast": _("Cash-flow forecast: %(weeks)s weeks after %(day)s") % {
            "weeks": PACK_WEEKS, "day": day},
        "week": _("week"), "from": _("from"), "naive": _("naive"),
        "expected": _("expected"), "low": _("low"), "high": _("high"),
        "dso": _("DSO")}.items()}
    # the auto-match rate of bank lines and the KPIs the apps above give (casework)
    columns = _company_columns()
    casework = [n for n in whole.names if n != "bank_lines"]
    casework_table = row([w["month"], *[escape(columns.get(n, n)) for n in casework]],
                         True) + "".join(
        row([m.month, *[_cell(whole.months[m.month].get(n)) for n in casework]])
        for m in kpis)
    w["casework"] = escape(_("Casework and bank matching per month"))
    w["casework_note"] = escape(_(
        "Disputed: invoices disputed in the month, of those issued in it; days to resolve: "
        "of the disputes closed in it; promises kept: of those due in it; auto-matched: bank "
        "lines of money in applied by the matcher alone, by count and by amount."))
    top = sorted(aging.customers, key=lambda c: -sum(c.base[1:]))[:10]
    html = f"""<!DOCTYPE html><html lang="{escape(language)}"><head><meta charset="utf-8">
<title>{escape(title)}</title>
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
<h1>{escape(title)}: {escape(company.name)}</h1>
<p>{w["as_of"]}</p>
<h2>{w["headline"]}</h2>
<table>{"".join(row([escape(k), v]) for k, v in headline)}</table>
{svg[0]}{svg[1]}
<h2 class="break">{w["aging"]}</h2>
<table>{row([w["bucket"], w["amount"]], True)}{"".join(
    row([escape(b.label), money(v)]) for b, v in zip(aging.buckets, aging.base, strict=True))}
{row([w["total"], money(aging.base_total)])}</table>
{svg[2]}
<h2>{w["top"]}</h2>
<table>{row([w["customer"], w["name"], w["overdue"], w["total"]], True)}{"".join(
    row([escape(c.code), escape(c.name), money(sum(c.base[1:])), money(sum(c.base))])
    for c in top if sum(c.base[1:]) > 0)}</table>
<h2 class="break">{w["kpis"]}</h2>
<table>{row([w["month"], w["dso"], w["countback"], w["best"], w["add"], w["cei"],
             w["to_pay"], w["late"], w["over_90"]], True)}{"".join(row([m.month, *[
    _figure(getattr(m.kpis, k)) for k in ("dso", "dso_countback", "best_dso",
                                          "days_delinquent", "cei", "days_to_pay",
                                          "days_late", "over_90_share")]]) for m in kpis)}</table>
<h2>{w["casework"]}</h2>
<table>{casework_table}</table>
<p>{w["casework_note"]}</p>
<h2>{w["trends"]}</h2>
<table>{row([w["cohort"], w["items"], w["paid_late"], w["unpaid_90"], w["written_off"],
             w["flagged"]], True)}{"".join(row([t.row.cohort, str(t.row.items),
    _figure(t.row.late.percent), _figure(t.row.unpaid_90.percent),
    _figure(t.row.written_off.percent), escape(" ".join(t.flagged))]) for t in trends)}</table>
{svg[3]}
<h2 class="break">{w["forecast"]}</h2>
<table>{row([w["week"], w["from"], w["naive"], w["expected"], w["low"], w["high"]], True)}{
    "".join(row([week(k), (as_of + timedelta(days=7 * k + 1)).isoformat(),
                 money(weeks.naive[k]), money(weeks.expected[k]), money(weeks.low[k]),
                 money(weeks.high[k])])
    for k in range(PACK_WEEKS))}</table>
{svg[4]}
</body></html>"""
    pdf = html_to_pdf(html, title=title, author=company.legal_name or company.name,
                      issued_at=datetime.combine(as_of, time(0, 0),
                                                 tzinfo=ZoneInfo(company.time_zone)),
                      language=language)
    return Pack(f"{month:%Y-%m}", as_of, pdf, charts)


def _cell(value: object) -> str:
    return "–" if value is None else escape(str(value))


def _company_columns() -> dict[str, str]:
    """The pack's column heads of the company's own KPIs (``selectors.company_kpis``), in the
    active language: the bank's, and those the apps above give under their names
    (``providers.py``; collections' disputes and promises). A KPI a provider adds later is
    headed by its own label, untranslated, until its words are in the catalogues."""
    heads = {k.name: k.label for k in provided()}
    heads.update({
        "auto_match_rate": _("auto-matched %"),
        "auto_match_amount_rate": _("auto-matched amount %"),
        "dispute_rate": _("disputed %"), "dispute_amount_rate": _("disputed amount %"),
        "days_to_resolve": _("days to resolve"), "disputes_closed": _("disputes closed"),
        "promise_kept_rate": _("promises kept %"), "promises_due": _("promises due")})
    return heads


def pack_title(month: str) -> str:
    """"Receivables pack 2026-02" in the active language."""
    return _("Receivables pack %(month)s") % {"month": month}


def _image(svg: str) -> str:
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img alt="" src="data:image/svg+xml;base64,{data}">'
