"""Benchmark: aged receivables as of today and as of a past day.

    .venv/bin/python bench/bench_aging.py small            # 10,000 items, 1,000 receipts
    .venv/bin/python bench/bench_aging.py 1m --repeat 1    # 1,000,000 items, 100,000 receipts
    .venv/bin/python bench/bench_aging.py medium --database-url postgres://postgres@127.0.0.1:5432/postgres

Builds the books of ``bench_allocate.py`` (its seeded generator, in a child process: one
customer per 100 open items, invoices due in thirds, ten receipts per customer), allocates
the receipts oldest first on 2025-07-15 (``auto_allocate_all``), then times, in this process,
``aging_report`` (the selector behind ``salesledger report aging``) as of 2025-12-31 (after all
of it: "today") and as of 2025-07-01 (before every allocation: each is rolled back), and the
streamed detail of the past day (every item, as ``report aging --detail`` reads them, and
again with each CSV row's text made, as ``--csv`` writes them), one customer's statement for
the year, and the aging by size band; then
the KPIs of the 12 and 24 months to "today" (and their month ends' receivables both ways: one
aging per month end, and the one statement the KPIs use, which must agree), the trends of
its 12 invoice months, the 13-week forecast made on it, a backtest of three month ends and
the KPIs of 24 months by size band.
Each is timed ``--repeat`` times (default 3) and the best and median seconds are reported. The
base-currency total is checked against the receivable control account. One JSON object is
printed and written to ``bench/results/``.
"""

from __future__ import annotations

import csv
import io
import os
import resource
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_allocate import (  # noqa: E402
    ALLOCATE_ON,
    COMPANY,
    main_on_generated_books,
)
from bench_import import machine  # noqa: E402

TODAY = date(2025, 12, 31)
PAST = date(2025, 7, 1)


class _Sink(io.TextIOBase):
    """Takes what is written and keeps nothing."""

    def write(self, text: str) -> int:
        return len(text)


def _timed(repeat: int, fn: Any) -> tuple[dict[str, float], Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return {"best": round(min(times), 3), "median": round(statistics.median(times), 3)}, result


def measure(size: str, repeat: int, db: str, made: dict[str, Any]) -> dict[str, Any]:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Sum

    from salesledger.apps.core.selectors import company_resolve
    from salesledger.apps.customers.models import Customer
    from salesledger.apps.ledger.models import JournalLine
    from salesledger.apps.payments.autoallocate import auto_allocate_all
    from salesledger.apps.reporting.exports import aging_detail_rows
    from salesledger.apps.reporting.kpis import (
        month_end_receivables,
        months_ending,
        receivable_at,
    )
    from salesledger.apps.reporting.selectors import (
        aging_by_segment,
        aging_items,
        aging_report,
        cash_forecast,
        forecast_backtest,
        kpi_report,
        kpis_by_segment,
        period_statement,
        trend_report,
    )

    company = company_resolve(COMPANY)
    owner = get_user_model().objects.get(username="bench-owner")
    start = time.perf_counter()
    done = auto_allocate_all(actor=owner, company=company, day=ALLOCATE_ON)
    allocate_seconds = round(time.perf_counter() - start, 1)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    today, r_today = _timed(repeat, lambda: aging_report(company, as_of=TODAY))
    past, r_past = _timed(repeat, lambda: aging_report(company, as_of=PAST))

    def detail() -> int:
        _, items = aging_items(company, as_of=PAST)
        return sum(1 for _ in items)

    detail_t, listed = _timed(1, detail)

    def detail_csv() -> int:
        """The detail of the past day as ``report aging --detail --csv`` writes it (the
        rows' text included), to a sink: the export's time without the disk's."""
        buckets, items = aging_items(company, as_of=PAST)
        writer = csv.writer(_Sink())
        n = 0
        for row in aging_detail_rows(buckets, items, company.base_currency):
            writer.writerow(row)
            n += 1
        return n

    csv_t, csv_rows = _timed(1, detail_csv)
    one = Customer.objects.filter(company=company).order_by("code").values_list(
        "code", flat=True)[made["customers"] // 2]
    statement_t, _ = _timed(repeat, lambda: period_statement(
        company, code=one, start=date(2025, 1, 1), end=TODAY))
    by_size_t, _ = _timed(repeat, lambda: aging_by_segment(company, as_of=TODAY,
                                                           segment="size"))
    kpis_size_t, _ = _timed(1, lambda: kpis_by_segment(company, as_of=TODAY, months=24,
                                                       segment="size"))
    kpis_t, _ = _timed(repeat, lambda: kpi_report(company, as_of=TODAY, months=12))
    kpis24_t, _ = _timed(repeat, lambda: kpi_report(company, as_of=TODAY, months=24))
    # The month ends' receivables, the KPIs' costly input: one aging per month end (the
    # reference, as the KPIs were first written) against one statement for all of them.
    ends = [first - timedelta(days=1) for first in months_ending(TODAY, 13)[1:]] + [TODAY]
    per_day_t, per_day = _timed(repeat, lambda: {e: receivable_at(company, e) for e in ends})
    at_once_t, at_once = _timed(repeat, lambda: month_end_receivables(company, ends))
    assert per_day == at_once, "the month ends read at once differ from their agings"
    trends_t, _ = _timed(repeat, lambda: trend_report(company, as_of=TODAY, months=12))
    forecast_t, _ = _timed(repeat, lambda: cash_forecast(company, as_of=TODAY, weeks=13))
    backtest_t, _ = _timed(1, lambda: forecast_backtest(company, as_of=TODAY, weeks=13,
                                                        runs=3))
    for day, report in ((TODAY, r_today), (PAST, r_past)):
        control = (JournalLine.objects.filter(company=company, account__role="receivable",
                                              date__lte=day).aggregate(s=Sum("amount"))["s"])
        assert report.base_total == control, (day, report.base_total, control)
    return {"benchmark": "aging", "size": size, "db": db, "open_items": made["items"],
            "customers": made["customers"], "allocations": done.allocations,
            "open_today": r_today.items, "open_past": r_past.items,
            "today_seconds": today, "past_seconds": past,
            "detail_past_seconds": detail_t["best"], "detail_rows": listed,
            "detail_csv_past_seconds": csv_t["best"], "detail_csv_rows": csv_rows,
            "statement_one_customer_seconds": statement_t,
            "aging_by_size_seconds": by_size_t,
            "kpis_24_months_by_size_seconds": kpis_size_t["best"],
            "kpis_12_months_seconds": kpis_t, "kpis_24_months_seconds": kpis24_t,
            "month_ends_13_by_aging_seconds": per_day_t,
            "month_ends_13_at_once_seconds": at_once_t, "trends_12_months_seconds": trends_t,
            "forecast_13_weeks_seconds": forecast_t,
            "backtest_3_runs_seconds": backtest_t["best"],
            "allocate_seconds": allocate_seconds,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "machine": machine(), "date": datetime.now().strftime("%Y-%m-%d %H:%M"),
            "load_average": [round(x, 1) for x in os.getloadavg()]}


def main() -> None:
    main_on_generated_books(__doc__.split("\n\n")[0], "aging", 3, measure)

if __name__ == "__main__":
    main()
