"""Benchmark: aged receivables, statements, the streamed detail and the KPIs at scale.

    .venv/bin/python bench/bench_aging.py small                       # 1,000 customers
    .venv/bin/python bench/bench_aging.py issue --books /var/tmp/books --repeat 3
    .venv/bin/python bench/bench_aging.py issue --database-url postgres://postgres@127.0.0.1:5432/postgres

Reads the books of ``books.py`` (made and cached there: ``issue`` is the issue's ledger of
100,000 customers, about 1,000,000 open instalments and 10,000,000 journal lines of closed
history; ``issue-h1`` the same with 1,000,000) and times, in this process, ``aging_report``
(the selector behind ``salesledger report aging``) as of 2025-12-31 ("today": after every
allocation) and as of 2025-07-01 (a past day: the allocations of 2025-07-15 rolled back), the
streamed detail of the past day with each CSV row's text made (``report aging --detail
--csv``, to a sink), one customer's statement for the year (``period_statement``), and the
KPIs of 12 and 24 months (``--all`` adds the trends, the forecast and a backtest).

Each figure is timed ``--repeat`` times (best and median): wall seconds (``perf_counter``),
CPU seconds of this process (``process_time``) and, on PostgreSQL, CPU seconds of the
server's backend that served this connection (utime + stime of
``/proc/<pg_backend_pid()>/stat``, before and after). On a shared machine the CPU seconds
are the figure closest to a quiet machine's wall time; the load average is written beside
them. The base-currency total of both days is checked against the receivable control
account. One JSON object is printed and written to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_import import machine  # noqa: E402
from books import COMPANY, SIZES, books_database  # noqa: E402

TODAY = date(2025, 12, 31)
PAST = date(2025, 7, 1)
_TICK = os.sysconf("SC_CLK_TCK")


class _Sink(io.TextIOBase):
    """Takes what is written and keeps nothing."""

    def write(self, text: str) -> int:
        return len(text)


def _backend_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) used so far by the PostgreSQL backend ``pid``."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _timer(backend: int | None) -> Callable[[int, Callable[[], Any]], tuple[dict[str, Any], Any]]:
    def timed(repeat: int, fn: Callable[[], Any]) -> tuple[dict[str, Any], Any]:
        walls, cpus, servers, result = [], [], [], None
        for _ in range(repeat):
            server, cpu, wall = _backend_cpu(backend), time.process_time(), time.perf_counter()
            result = fn()
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            servers.append(_backend_cpu(backend) - server)
        out: dict[str, Any] = {
            "wall": {"best": round(min(walls), 3), "median": round(statistics.median(walls), 3)},
            "cpu": {"best": round(min(cpus), 3), "median": round(statistics.median(cpus), 3)}}
        if backend is not None:
            total = [c + s for c, s in zip(cpus, servers, strict=True)]
            out["server_cpu"] = {"best": round(min(servers), 3),
                                 "median": round(statistics.median(servers), 3)}
            out["cpu_total"] = {"best": round(min(total), 3),
                                "median": round(statistics.median(total), 3)}
        out["load_average"] = round(os.getloadavg()[0], 1)
        return out, result
    return timed


def measure(size: str, repeat: int, everything: bool, today_only: bool = False,
            build_summary: bool = False, recent: bool = False) -> dict[str, Any]:
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Sum

    from salesledger.apps.core.selectors import company_resolve
    from salesledger.apps.customers.models import Customer
    from salesledger.apps.ledger.models import JournalLine
    from salesledger.apps.reporting.aging_summary import summary_day
    from salesledger.apps.reporting.exports import aging_detail_rows
    from salesledger.apps.reporting.selectors import (
        aging_items,
        aging_overview,
        aging_report,
        aging_summary_rebuild,
        cash_forecast,
        forecast_backtest,
        kpi_report,
        period_statement,
        trend_report,
    )

    company = company_resolve(COMPANY)
    backend = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = int(cursor.fetchone()[0])
    timed = _timer(backend)
    load_start = [round(x, 1) for x in os.getloadavg()]
    summary: dict[str, Any] = {}
    if build_summary:
        # the nightly build of the aging summary of "today" (writes: a copy of the books)
        summary["summary_build"], summary["summary_rows"] = timed(
            1, lambda: aging_summary_rebuild(company, as_of=TODAY))
    summary["summary_day"] = str(summary_day(company))
    if summary["summary_day"] == str(TODAY):
        summary["aging_today_live"], r_live = timed(
            repeat, lambda: aging_report(company, as_of=TODAY, summary=False))
        summary["dashboard_today"], _ = timed(
            repeat, lambda: aging_overview(company, as_of=TODAY, top=5))
    today, r_today = timed(repeat, lambda: aging_report(company, as_of=TODAY))
    if summary["summary_day"] == str(TODAY):
        assert r_today == r_live, "the report from the summary differs from the live one"
    if today_only:
        return _today_only(size, connection, company, r_today, today, load_start)
    if recent:
        return {**_recent(timed, repeat, company), **summary, "aging_today": today,
                "benchmark": "aging-recent", "size": size, "db": connection.vendor,
                "database_version": _version(connection), "open_today": r_today.items,
                "machine": machine(), "date": datetime.now().strftime("%Y-%m-%d %H:%M"),
                "load_average_start": load_start,
                "load_average_end": [round(x, 1) for x in os.getloadavg()]}
    past, r_past = timed(repeat, lambda: aging_report(company, as_of=PAST))

    def detail_csv() -> tuple[int, float]:
        """The detail of the past day as ``report aging --detail --csv`` writes it, to a
        sink; with the growth of this process's peak memory while it ran."""
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        buckets, items = aging_items(company, as_of=PAST)
        writer = csv.writer(_Sink())
        n = 0
        for row in aging_detail_rows(buckets, items, company.base_currency):
            writer.writerow(row)
            n += 1
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return n, round((after - before) / 1024, 1)

    rss_before_csv = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    csv_t, (csv_rows, csv_growth) = timed(1, detail_csv)
    one = Customer.objects.filter(company=company).order_by("code").values_list(
        "code", flat=True)[Customer.objects.filter(company=company).count() // 2]
    statement_t, _ = timed(repeat, lambda: period_statement(
        company, code=one, start=date(2025, 1, 1), end=TODAY))
    kpis12_t, _ = timed(repeat, lambda: kpi_report(company, as_of=TODAY, months=12))
    kpis24_t, _ = timed(repeat, lambda: kpi_report(company, as_of=TODAY, months=24))
    more: dict[str, Any] = {}
    if everything:
        more["trends_12_months"], _ = timed(1, lambda: trend_report(company, as_of=TODAY,
                                                                     months=12))
        more["forecast_13_weeks"], _ = timed(1, lambda: cash_forecast(company, as_of=TODAY,
                                                                       weeks=13))
        more["backtest_3_runs"], _ = timed(1, lambda: forecast_backtest(
            company, as_of=TODAY, weeks=13, runs=3))
    for day, report in ((TODAY, r_today), (PAST, r_past)):
        control = (JournalLine.objects.filter(company=company, account__role="receivable",
                                              date__lte=day).aggregate(s=Sum("amount"))["s"])
        assert report.base_total == control, (day, report.base_total, control)
    lines, history = _history(connection)
    return {"benchmark": "aging", "size": size, "db": connection.vendor,
            "database_version": _version(connection),
            "customers": len(r_today.customers), "open_today": r_today.items,
            "open_past": r_past.items, "journal_lines": lines,
            "history_journal_lines": history,
            "aging_today": today, **summary, "aging_past": past,
            "detail_csv_past": csv_t, "detail_csv_rows": csv_rows,
            "detail_csv_rss_before_mb": round(rss_before_csv, 1),
            "detail_csv_peak_rss_growth_mb": csv_growth,
            "statement_one_customer": statement_t,
            "kpis_12_months": kpis12_t, "kpis_24_months": kpis24_t, **more,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "machine": machine(), "date": datetime.now().strftime("%Y-%m-%d %H:%M"),
            "load_average_start": load_start,
            "load_average_end": [round(x, 1) for x in os.getloadavg()]}


def _recent(timed: Any, repeat: int, company: Any) -> dict[str, Any]:
    """``--recent`` (with the summary of "today"): the aging of days before it, from the
    summary rolled back (the customers whose aging may differ read from the items) and from
    the items, checked equal, with how many customers were read from the items (None: too
    many, the items were read whole); the aged items' page 3 (51 rows, as the page asks); the
    unapplied cash of today, its totals and its list."""
    from salesledger.apps.reporting import selectors
    from salesledger.apps.reporting.aging_summary import (
        ROLLBACK_SHARE,
        summary_day,
        touched_customers,
    )
    from salesledger.apps.reporting.models import AgingSummaryRow
    from salesledger.apps.reporting.selectors import aging_items_page, aging_report
    from salesledger.apps.reporting.unapplied import unapplied_cash_totals, unapplied_receipts

    out: dict[str, Any] = {}
    held = AgingSummaryRow.objects.filter(company=company).count()
    day = summary_day(company)
    for label, past in (("yesterday", TODAY - timedelta(days=1)),
                        ("week", TODAY - timedelta(days=7)),
                        ("month", TODAY - timedelta(days=30)), ("past", PAST)):
        touched = touched_customers(company, past, day, limit=int(ROLLBACK_SHARE * held))
        out[f"aging_{label}_touched"] = None if touched is None else len(touched)
        out[f"aging_{label}"], fast = timed(repeat, lambda d=past: aging_report(
            company, as_of=d))
        out[f"aging_{label}_live"], live = timed(repeat, lambda d=past: aging_report(
            company, as_of=d, summary=False))
        assert fast == live, f"the {label} day rolled back differs from the items"
    out["items_page_3"], page = timed(repeat, lambda: aging_items_page(
        company, as_of=TODAY, size=51, offset=100))
    # before: the page's customers found from the items counted per customer
    found = selectors.summary_page_span
    selectors.summary_page_span = lambda *a, **k: None  # type: ignore[assignment]
    try:
        out["items_page_3_live"], live_page = timed(repeat, lambda: aging_items_page(
            company, as_of=TODAY, size=51, offset=100))
    finally:
        selectors.summary_page_span = found
    assert page == live_page, "the page from the summary's counts differs"
    out["unapplied_totals_today"], _ = timed(repeat, lambda: unapplied_cash_totals(
        company, as_of=TODAY))
    out["unapplied_list_today"], rows = timed(repeat, lambda: list(unapplied_receipts(
        company, as_of=TODAY)))
    out["unapplied_receipts_today"] = len(rows)
    out["summary_rows"] = held
    return out


def _history(connection: Any) -> tuple[int, int]:
    """The journal lines, and those of the closed history (dated up to 2024-12-31)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM ledger_journalline")
        lines = int(cursor.fetchone()[0])
        cursor.execute("SELECT count(*) FROM ledger_journalline WHERE date <= %s",
                       [date(2024, 12, 31)])
        return lines, int(cursor.fetchone()[0])


def _today_only(size: str, connection: Any, company: Any, report: Any, today: dict[str, Any],
                load_start: list[float]) -> dict[str, Any]:
    """``--today-only``: the aging of "today" alone, its total checked against the control
    account; to compare books that differ only by their closed history (``issue-h1`` and
    ``issue``: the issue's "at most 1.3 times slower from 1,000,000 to 10,000,000 rows")."""
    from django.db.models import Sum

    from salesledger.apps.ledger.models import JournalLine

    control = (JournalLine.objects.filter(company=company, account__role="receivable",
                                          date__lte=TODAY).aggregate(s=Sum("amount"))["s"])
    assert report.base_total == control, (report.base_total, control)
    lines, history = _history(connection)
    return {"benchmark": "aging", "size": size, "db": connection.vendor, "today_only": True,
            "database_version": _version(connection), "customers": len(report.customers),
            "open_today": report.items, "journal_lines": lines,
            "history_journal_lines": history, "aging_today": today,
            "machine": machine(), "date": datetime.now().strftime("%Y-%m-%d %H:%M"),
            "load_average_start": load_start,
            "load_average_end": [round(x, 1) for x in os.getloadavg()]}


def _version(connection: Any) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()" if connection.vendor == "postgresql"
                       else "SELECT sqlite_version()")
        return str(cursor.fetchone()[0]).split(" on ")[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size", choices=SIZES, nargs="?", default="small")
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--books", help="folder where SQLite books are kept between runs")
    parser.add_argument("--database-url", help="PostgreSQL server (the books are a database "
                                               "beside the one named, kept between runs)")
    parser.add_argument("--all", action="store_true",
                        help="also the trends, the forecast and a backtest")
    parser.add_argument("--today-only", action="store_true",
                        help="only the aging of 'today' (to compare the sizes of history)")
    parser.add_argument("--summary", action="store_true",
                        help="build the aging summary of \"today\" first (timed; it writes: "
                             "give a copy of the books, migrated), then time \"today\" from "
                             "it, live, and the dashboard's totals and top customers")
    parser.add_argument("--recent", action="store_true",
                        help="with --summary or a summary of \"today\": days before it, "
                             "rolled back from the summary and from the items, the aged "
                             "items' page 3 and today's unapplied cash (nothing else)")
    parser.add_argument("--results", default=str(HERE / "results"))
    args = parser.parse_args()
    with books_database(args.size, seed=args.seed, books=args.books,
                        database_url=args.database_url,
                        progress=lambda s: print(s, file=sys.stderr, flush=True)) as info:
        result = measure(args.size, args.repeat, args.all, args.today_only, args.summary,
                         args.recent)
        result["books"] = info["built"] or "cached"
    out = Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    kind = ("aging-today" if args.today_only else "aging-recent" if args.recent
            else "aging")
    (out / f"{kind}-{args.size}-{result['db']}-{stamp}.json").write_text(
        json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
