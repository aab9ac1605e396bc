"""Benchmark: the KPIs of 12 and 24 months, their parts, and the trends, at scale.

    .venv/bin/python bench/bench_kpis.py issue-h1 --books /var/tmp/books --repeat 3
    .venv/bin/python bench/bench_kpis.py issue-h1 --database-url postgres://postgres@127.0.0.1:5432/postgres

Reads the books of ``books.py`` (never builds shared ones: build them first) as of 2025-12-31
and times, in this process, ``kpi_report`` of 12 and 24 months (``report kpis``), its parts
for 24 months (the month ends' receivables, the sales of the countback's four years, the
receipts, the bad debts: ``apps/reporting/kpis.py``), the KPIs in a document currency and
``trend_report`` of 12 and 24 months (``report trends``, and by country), the KPIs of the
customers of one country (read from the books: never kept); with ``--keep`` (a copy of the books,
migrated: it writes), the KPIs once keeping the ended months' figures (``kpi_keep.py``), then
from them, checked equal to those computed; and the trends likewise, keeping the cohorts
(``trend_keep.py``) then reading them, checked equal to the cohorts from the books. CPU
seconds of this process and, on PostgreSQL, of the server's backend (``bench_aging.py``'s
timer); best and median of ``--repeat``; the load average beside each. One JSON object is
printed and written to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_aging import TODAY, _timer, _version  # noqa: E402
from bench_import import machine  # noqa: E402
from books import COMPANY, SIZES, books_database  # noqa: E402


def customer_sets(company: Any) -> dict[str, tuple[str, ...]]:
    """Sets of customers by code, as a collector's list or a group gives them: a group's
    size (10), a collector's (5,000), half of the customers (the most a filter's own rows are
    read for) and all but 5,000; each the first so many codes."""
    from salesledger.apps.customers.models import Customer

    codes = list(Customer.objects.filter(company=company).order_by("code")
                 .values_list("code", flat=True))
    return {"10": tuple(codes[:10]), "5000": tuple(codes[:5000]),
            "half": tuple(codes[:len(codes) // 2]), "all_but_5000": tuple(codes[5000:])}


def measure_filters(company: Any, timed: Any, repeat: int, out: dict[str, Any]
                    ) -> dict[str, Any]:
    """The KPIs of 24 months of each filter: one customer, sets of customers (a group's, a
    collector's, half of them, all but 5,000), a country, a country in a document currency.
    Returns the reports by filter."""
    from salesledger.apps.reporting.selectors import ReportFilters, kpi_report

    sets = customer_sets(company)
    filters = {"customer": ReportFilters(customer=sets["10"][0]),
               **{f"customers_{k}": ReportFilters(customers=v, among="the bench's")
                  for k, v in sets.items()},
               "country": ReportFilters(country="FR"),
               "country_document_currency": ReportFilters(country="FR",
                                                          currency=company.base_currency)}
    reports = {}
    for name, f in filters.items():
        out[f"kpis_24_months_{name}"], reports[name] = timed(repeat, lambda f=f: kpi_report(
            company, as_of=TODAY, months=24, filters=f))
        out[f"dso_last_month_{name}"] = str(reports[name][-1].kpis.dso)
    return reports


def measure(size: str, repeat: int, keep: bool, filters_only: bool = False
            ) -> dict[str, Any]:
    import django

    django.setup()
    from django.db import connection

    from salesledger.apps.core.selectors import company_resolve
    from salesledger.apps.reporting import kpis
    from salesledger.apps.reporting.selectors import ReportFilters, kpi_report, trend_report

    company = company_resolve(COMPANY)
    backend = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = int(cursor.fetchone()[0])
    timed = _timer(backend)
    load_start = [round(x, 1) for x in os.getloadavg()]
    months = kpis.months_ending(TODAY, 24)
    first, last = months[0], kpis.month_end(months[-1])
    ends = [first - timedelta(days=1), *(kpis.month_end(m) for m in months)]
    history = kpis.add_months(first, -kpis.COUNTBACK_MONTHS)
    out: dict[str, Any] = {}
    out["kpis_24_months"], k24 = timed(repeat, lambda: kpi_report(company, as_of=TODAY,
                                                                  months=24))
    if filters_only:  # the KPIs of 24 months of each filter, from the books then kept
        books_reports = measure_filters(company, timed, repeat, out)
        if keep:
            out["kpis_24_months_keeping"], _ = timed(1, lambda: kpi_report(
                company, as_of=TODAY, months=24, keep=True))
            kpi_report(company, as_of=TODAY, months=24, keep=True,
                       filters=ReportFilters(currency=company.base_currency))
            kept: dict[str, Any] = {}
            kept_reports = measure_filters(company, timed, repeat, kept)
            for name, report in kept_reports.items():
                assert report == books_reports[name], f"{name}: kept differs from the books"
            for k, v in kept.items():
                if k.startswith("kpis_"):
                    out[k.replace("kpis_24_months_", "kpis_24_months_kept_")] = v
        return {"benchmark": "kpis", "size": size, "db": connection.vendor,
                "database_version": _version(connection), **out,
                "machine": machine(), "date": datetime.now().strftime("%Y-%m-%d %H:%M"),
                "load_average_start": load_start,
                "load_average_end": [round(x, 1) for x in os.getloadavg()]}
    out["kpis_12_months"], _ = timed(repeat, lambda: kpi_report(company, as_of=TODAY,
                                                                months=12))
    out["part_month_ends_25"], at = timed(
        repeat, lambda: kpis.month_end_receivables(company, ends))
    out["part_sales_48_months"], _ = timed(
        repeat, lambda: kpis.monthly_sales(company, history, last))
    out["part_payments_24_months"], _ = timed(
        repeat, lambda: kpis.monthly_payments(company, first, last))
    out["part_bad_debts_24_months"], _ = timed(
        repeat, lambda: kpis.monthly_bad_debts(company, first, last))
    currency = company.base_currency
    out["kpis_24_months_document_currency"], kdoc = timed(repeat, lambda: kpi_report(
        company, as_of=TODAY, months=24, filters=ReportFilters(currency=currency)))
    out["kpis_24_months_country"], _ = timed(repeat, lambda: kpi_report(
        company, as_of=TODAY, months=24, filters=ReportFilters(country="FR")))
    out["trends_24_months"], trends24 = timed(repeat, lambda: trend_report(
        company, as_of=TODAY, months=24))
    out["trends_12_months"], _ = timed(repeat, lambda: trend_report(company, as_of=TODAY,
                                                                    months=12))
    out["trends_24_months_by_country"], _ = timed(repeat, lambda: trend_report(
        company, as_of=TODAY, months=24, by="country"))
    try:  # the kept figures (kpi_keep.py): they write, so only on a copy of the books
        from salesledger.apps.reporting.kpi_keep import kept_parts
    except ImportError:
        kept_parts = None
    if kept_parts is not None and keep:
        out["kpis_24_months_keeping"], _ = timed(1, lambda: kpi_report(
            company, as_of=TODAY, months=24, keep=True))
        assert kept_parts(company, months) is not None
        out["kpis_24_months_kept"], kept24 = timed(repeat, lambda: kpi_report(
            company, as_of=TODAY, months=24))
        out["kpis_12_months_kept"], _ = timed(repeat, lambda: kpi_report(
            company, as_of=TODAY, months=12))
        assert kept24 == k24, "the kept figures differ from the books'"
        doc = ReportFilters(currency=currency)
        kpi_report(company, as_of=TODAY, months=24, filters=doc, keep=True)
        out["kpis_24_months_document_currency_kept"], kept_doc = timed(
            repeat, lambda: kpi_report(company, as_of=TODAY, months=24, filters=doc))
        assert kept_doc == kdoc
    try:  # the kept trend cohorts (trend_keep.py): they write, so only on a copy
        from salesledger.apps.reporting.trend_keep import trend_cohorts
    except ImportError:
        trend_cohorts = None
    if trend_cohorts is not None and keep:
        from salesledger.apps.reporting.trends import cohort_rows

        out["trends_24_months_keeping"], _ = timed(1, lambda: trend_report(
            company, as_of=TODAY, months=24, keep=True))
        live: list[str] = []
        out["trends_12_months_kept"], kept12 = timed(repeat, lambda: trend_report(
            company, as_of=TODAY, months=12, live=live))
        out["trends_24_months_kept"], kept_t24 = timed(repeat, lambda: trend_report(
            company, as_of=TODAY, months=24, live=live))
        assert live == [], f"cohorts computed, not kept: {live}"
        assert [t.row for t in kept_t24] == [t.row for t in trends24], \
            "the kept cohorts differ from the books'"
        first12 = kpis.add_months(TODAY.replace(day=1), -11)
        assert [t.row for t in kept12] == cohort_rows(company, first=first12, last=TODAY,
                                                       as_of=TODAY)
    # the month ends the KPIs used are those of the reference, one aging per day (two here)
    for day in (ends[0], ends[-1]):
        assert at[day] == kpis.receivable_at(company, day), (day, at[day])
    return {"benchmark": "kpis", "size": size, "db": connection.vendor,
            "database_version": _version(connection), **out,
            "dso_last_month": str(k24[-1].kpis.dso),
            "receivable_end": k24[-1].inputs.receivable_end,
            "document_currency_months": len(kdoc),
            "trend_cohorts": [(r.row.cohort, r.row.items, r.row.late.part, r.row.unpaid_90.part,
                               r.row.written_off.part) for r in trends24][-3:],
            "machine": machine(), "date": datetime.now().strftime("%Y-%m-%d %H:%M"),
            "load_average_start": load_start,
            "load_average_end": [round(x, 1) for x in os.getloadavg()]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size", choices=SIZES, nargs="?", default="small")
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--books", help="folder where SQLite books are kept between runs")
    parser.add_argument("--database-url", help="PostgreSQL server (the books are a database "
                                               "beside the one named, kept between runs)")
    parser.add_argument("--keep", action="store_true",
                        help="then keep the figures and time the KPIs from them (writes: "
                             "give a copy of the books, migrated)")
    parser.add_argument("--filters", action="store_true",
                        help="time the KPIs of 24 months of each filter alone (with --keep: "
                             "then again once the company's months are kept)")
    parser.add_argument("--label", default="", help="a word for the results file's name")
    parser.add_argument("--results", default=str(HERE / "results"))
    args = parser.parse_args()
    with books_database(args.size, seed=args.seed, books=args.books,
                        database_url=args.database_url,
                        progress=lambda s: print(s, file=sys.stderr, flush=True)) as info:
        result = measure(args.size, args.repeat, args.keep, args.filters)
        result["books"] = info["built"] or "cached"
        result["label"] = args.label
    out = Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    label = f"-{args.label}" if args.label else ""
    (out / f"kpis-{args.size}-{result['db']}{label}-{stamp}.json").write_text(
        json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
