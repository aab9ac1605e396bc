"""The columns and rows of every report's CSV, one definition for the command line's
``--csv`` and the web pages' CSV downloads (``?format=csv``): the aging (summary and item by
item), unapplied cash, the KPIs, the trends and the forecast. Each ``*_rows`` yields the rows
under its ``*_HEADERS`` (or ``*_headers()``), amounts in major units as plain text.

A million open items is a million rows: the amounts' text is made by one formatter per
currency (``major_texter``: integer arithmetic) rather than a ``Decimal`` per amount, and the
rows are produced one at a time from the streamed items, so memory does not grow with them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from typing import Any

from salesledger.domain.aging import Bucket
from salesledger.formats.csv_rows import neutralise_cell
from salesledger.money import major_text, major_texter

AGING_DETAIL_HEADERS = ["customer", "type", "document", "seq", "issue_date", "due_date",
                        "days", "bucket", "currency", "open", "base_currency", "base_open"]


def aging_detail_rows(buckets: Sequence[Bucket], items: Iterable[dict[str, Any]], base: str
                      ) -> Iterator[list[Any]]:
    """A CSV row per item of ``aging_items``, in ``AGING_DETAIL_HEADERS`` order."""
    texts: dict[str, Callable[[int], str]] = {}
    base_text = major_texter(base)
    labels = [b.label for b in buckets]
    for i in items:
        currency = i["currency"]
        text = texts.get(currency) or texts.setdefault(currency, major_texter(currency))
        yield [neutralise_cell(i["customer"]), i["type"], neutralise_cell(i["document"]),
               i["seq"] or "", i["issue_date"], i["due_date"], i["days"], labels[i["bucket"]],
               currency, text(i["open"]), base, base_text(i["base_open"])]


def aging_summary_headers(buckets: Sequence[Bucket]) -> list[str]:
    return ["customer", "name", "country", "currency", *[b.label for b in buckets], "total"]


def aging_summary_rows(report: Any, *, in_base: bool = True) -> Iterator[list[Any]]:
    """A row per customer of ``aging_report``, in the base currency; or, ``in_base`` False,
    a row per customer and document currency."""
    for c in report.customers:
        per = {report.base_currency: c.base} if in_base else c.amounts
        for cur, v in sorted(per.items()):
            yield [neutralise_cell(c.code), neutralise_cell(c.name), c.country, cur,
                   *[major_text(x, cur) for x in v], major_text(sum(v), cur)]


def aging_segment_headers(segment: str, buckets: Sequence[Bucket]) -> list[str]:
    return [segment, "customers", "currency", *[b.label for b in buckets], "total"]


def aging_segment_rows(segments: Iterable[Any], base: str) -> Iterator[list[Any]]:
    """A row per segment of ``aging_by_segment``, in the base currency."""
    for seg in segments:
        yield [neutralise_cell(seg.segment), seg.customers, base,
               *[major_text(x, base) for x in seg.base], major_text(sum(seg.base), base)]


UNAPPLIED_HEADERS = ["customer", "type", "document", "date", "currency", "amount", "open",
                     "base_currency", "base_open"]


def unapplied_rows(items: Iterable[dict[str, Any]], base: str) -> Iterator[list[Any]]:
    """A row per receipt or credit note of ``unapplied_items``."""
    for i in items:
        yield [neutralise_cell(i["customer"]), i["type"], neutralise_cell(i["document"]),
               i["date"], i["currency"], major_text(i["amount"], i["currency"]),
               major_text(i["open"], i["currency"]), base, major_text(i["base_open"], base)]


KPI_NAMES = ("dso", "dso_countback", "best_dso", "days_delinquent", "cei", "days_to_pay",
             "days_late", "current_share", "over_90_share", "write_off_rate")
KPI_INPUTS = ("sales", "receivable_start", "receivable_end", "current_end", "over_90_end",
              "paid", "bad_debt")
KPI_HEADERS = ["month", *KPI_NAMES, "currency", *KPI_INPUTS]


def figure(value: Any) -> str:
    """A ratio or a count of days as text; empty where it cannot be computed."""
    return "" if value is None else str(value)


def kpi_headers(company: Any = None) -> list[str]:
    """``KPI_HEADERS``, then the columns of the company's own KPIs when given
    (``selectors.company_kpis``: the auto-match rate, the casework's KPIs)."""
    return [*KPI_HEADERS, *(company.names if company is not None else ())]


def kpi_rows(months: Iterable[Any], base: str, company: Any = None) -> Iterator[list[Any]]:
    """A row per month of ``kpi_report``: the KPIs, then the amounts they were computed from,
    then (``company``: ``selectors.company_kpis`` of the same months) the company's own KPIs,
    empty where they have no value."""
    for m in months:
        extra = ([figure(company.months[m.month].get(n)) for n in company.names]
                 if company is not None else [])
        yield [m.month, *[figure(getattr(m.kpis, k)) for k in KPI_NAMES], base,
               *[major_text(getattr(m.inputs, k), base) for k in KPI_INPUTS], *extra]


def kpi_segment_headers(segment: str) -> list[str]:
    return [segment, *KPI_HEADERS]


def kpi_segment_rows(per: dict[str, list[Any]], base: str) -> Iterator[list[Any]]:
    """A row per segment and month of ``kpis_by_segment``."""
    for name, months in per.items():
        for row in kpi_rows(months, base):
            yield [neutralise_cell(name), *row]


# Each trend measure: its count and its amount attribute on a trend row.
TREND_MEASURES = (("late", "late_amount"), ("unpaid_90", "unpaid_90_amount"),
                  ("written_off", "written_off_amount"))
TREND_HEADERS = ["cohort", "country", "items", "currency", "amount",
                 *[f"{m}_{how}" for m, _ in TREND_MEASURES
                   for how in ("count", "count_pct", "amount", "amount_pct")], "flagged"]


def trend_headers(by: str = "cohort") -> list[str]:
    """``TREND_HEADERS``, the segment's column named after it by customer group or size."""
    return [TREND_HEADERS[0], by if by in ("group", "size") else "country", *TREND_HEADERS[2:]]


def trend_rows(rows: Iterable[Any], base: str) -> Iterator[list[Any]]:
    """A row per cohort (and country) of ``trend_report``; the country is empty by cohort."""
    for t in rows:
        r = t.row
        cells: list[Any] = []
        for m, am in TREND_MEASURES:
            c, a = getattr(r, m), getattr(r, am)
            cells += [c.part, figure(c.percent), major_text(a.part, base), figure(a.percent)]
        yield [r.cohort, r.segment, r.items, base, major_text(r.amount, base), *cells,
               " ".join(t.flagged)]


FORECAST_SERIES = ("naive", "expected", "low", "high")
FORECAST_HEADERS = ["week", "from", "currency", *FORECAST_SERIES]


def forecast_rows(weeks: Any, starts: Sequence[date], base: str) -> Iterator[list[Any]]:
    """A row per week of ``cash_forecast`` (``starts``: each week's first day)."""
    for k, d in enumerate(starts):
        yield [k + 1, d, base, *[major_text(getattr(weeks, s)[k], base)
                                 for s in FORECAST_SERIES]]


PORTFOLIO_HEADERS = ["company", "name", "role", "currency", "receivable", "overdue", "over_90",
                     "over_90_share", "dso", "unapplied_cash"]
PORTFOLIO_AMOUNTS = ("receivable", "overdue", "over_90", "unapplied_cash")


def portfolio_headers(target: str = "") -> list[str]:
    """``PORTFOLIO_HEADERS``; with a currency to convert to, its rate and the four amounts
    converted (``receivable_in``...)."""
    return [*PORTFOLIO_HEADERS, *(["in_currency", "rate", *[f"{a}_in" for a in
                                                              PORTFOLIO_AMOUNTS]]
                                  if target else [])]


def portfolio_rows(rows: Sequence[Any], target: str = "", total: Sequence[int] = ()
                   ) -> Iterator[list[Any]]:
    """A row per company of ``portfolio`` in its own currency; with ``target``, the amounts
    converted beside them, and a last row ``total`` of the converted amounts."""
    for r in rows:
        own = [r.receivable, r.overdue, r.over_90]
        yield [neutralise_cell(r.code), neutralise_cell(r.name), r.role, r.currency,
               *[major_text(a, r.currency) for a in own], figure(r.over_90_share),
               figure(r.dso), major_text(r.unapplied, r.currency),
               *([target, figure(r.rate), *[major_text(a, target) for a in r.converted]]
                 if target and r.converted is not None else [])]
    if target:
        yield ["total", "", "", "", "", "", "", "", "", "", target, "",
               *[major_text(a, target) for a in total]]
