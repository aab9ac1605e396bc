"""Benchmark: the web workspace's pages, server time and queries per page.

    .venv/bin/python bench/bench_web.py small            # 10,000 open items, 100 customers
    .venv/bin/python bench/bench_web.py medium --database-url postgres://postgres@127.0.0.1:5432/postgres

Builds the books of ``bench_allocate.py`` (its seeded generator, in a child process) and
allocates the receipts oldest first, as ``bench_aging.py`` does, then requests each main page
of the workspace (docs/design/web.md) through Django's test client, signed in as the
company's owner: the time measured is the server's (URL routing, middleware, the selectors,
the template), without a network or a browser. Each page is requested ``--repeat`` times
(default 5) and the best and median milliseconds are reported, with the number of queries
the page issued: wall-clock (``best_ms``, ``median_ms``), the CPU time of this process
(``cpu_median_ms``: user and system, SQLite's work included, as it runs in the process) and,
on PostgreSQL, the CPU time of the server's backend that answered (``db_cpu_median_ms``, read
from ``/proc/<pid>/stat`` before and after). On a shared machine the CPU figures are the
ones to compare: wall-clock time also counts the waits for a core. One JSON object is
printed and written to ``bench/results/``.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_aging import TODAY  # noqa: E402
from bench_allocate import (  # noqa: E402
    ALLOCATE_ON,
    COMPANY,
    main_on_generated_books,
)
from bench_import import machine, server_cpu_seconds  # noqa: E402


def _cpu_ms() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return (usage.ru_utime + usage.ru_stime) * 1000


def _backend_cpu_ms() -> float | None:
    """The CPU time the PostgreSQL backend of this connection has used, in milliseconds;
    None on SQLite."""
    seconds = server_cpu_seconds()
    return None if seconds is None else seconds * 1000


def timed(call: Any, repeat: int) -> dict[str, Any]:
    """``call()`` ``repeat`` times: its wall-clock, process CPU and backend CPU
    milliseconds (best and medians) and the queries of the last call."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, cpus, db_cpus, queries = [], [], [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            db0 = _backend_cpu_ms()
            cpu0, start = _cpu_ms(), time.perf_counter()
            response = call()
            times.append((time.perf_counter() - start) * 1000)
            cpus.append(_cpu_ms() - cpu0)
            db1 = _backend_cpu_ms()
            if db0 is not None and db1 is not None:
                db_cpus.append(db1 - db0)
        assert getattr(response, "status_code", 200) == 200, (call, response)
        queries = len(captured.captured_queries) - (2 if db0 is not None else 0)
    out = {"best_ms": round(min(times), 1), "median_ms": round(statistics.median(times), 1),
           "cpu_median_ms": round(statistics.median(cpus), 1), "queries": queries}
    if db_cpus:
        out["db_cpu_median_ms"] = round(statistics.median(db_cpus), 1)
    return out


def measure(size: str, repeat: int, db: str, made: dict[str, Any]) -> dict[str, Any]:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from salesledger.apps.core.maintenance import planner_statistics_refresh
    from salesledger.apps.core.selectors import company_resolve
    from salesledger.apps.customers.selectors import customer_list
    from salesledger.apps.invoicing.selectors import invoice_list
    from salesledger.apps.payments.autoallocate import auto_allocate_all
    from salesledger.apps.payments.selectors import receipt_list

    company = company_resolve(COMPANY)
    owner = get_user_model().objects.get(username="bench-owner")
    auto_allocate_all(actor=owner, company=company, day=ALLOCATE_ON)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    else:
        # the planner's statistics, as the worker gathers them daily on SQLite
        # (core.maintenance.planner_statistics_refresh): without them the customer overview's
        # balances took twice the time on medium books
        planner_statistics_refresh()
    client = Client(HTTP_HOST="localhost")
    client.force_login(owner)
    customer = customer_list(company, limit=1, offset=len(customer_list(company)) // 2)[0]
    invoice = invoice_list(company, status="posted", limit=1)[0]
    receipt = (receipt_list(company, customer_id=customer["id"], limit=1)
               or receipt_list(company, limit=1))[0]
    day = f"as_of={TODAY.isoformat()}"
    base = f"/c/{company.code}"
    pages = {
        "dashboard": f"{base}/?{day}",
        "customers": f"{base}/customers/?sort=name&page=2",
        "customers_search": f"{base}/customers/?q={customer['name'][:4]}",
        "customer": f"{base}/customers/{customer['code']}/?{day}",
        "invoices": f"{base}/invoices/?page=3",
        "invoices_overdue": f"{base}/invoices/?overdue=1&{day}",
        "invoice": f"{base}/invoices/{invoice['number']}",
        "receipts": f"{base}/receipts/?page=2",
        "receipt": f"{base}/receipts/{receipt['number']}",
        "draft_new": f"{base}/drafts/new/?customer={customer['code']}",
        # reports, settings and the portfolio (report_views, settings_views, portfolio_views)
        "portfolio": f"{base}/portfolio/?{day}",
        "report_aging": f"{base}/reports/aging/?{day}",
        "report_aging_detail": f"{base}/reports/aging/?detail=1&page=3&{day}",
        "report_unapplied": f"{base}/reports/unapplied/?{day}",
        "report_forecast": f"{base}/reports/forecast/?{day}",
        "report_statement": f"{base}/reports/statement/?customer={customer['code']}"
                            f"&from=2024-01-01&to={TODAY.isoformat()}",
        "settings": f"{base}/settings/",
        "settings_terms": f"{base}/settings/terms/",
        "settings_rates": f"{base}/settings/rates/",
        # collections and dunning (collections_views, dunning_views)
        "worklist": f"{base}/collections/?{day}",
        "timeline": f"{base}/customers/{customer['code']}/timeline/?{day}",
        "disputes": f"{base}/disputes/",
        "promises": f"{base}/promises/?{day}",
        "dunning_history": f"{base}/dunning/history/",
        # credit and the customers' records (credit_views)
        "credit": f"{base}/credit/?{day}",
        "credit_page_3": f"{base}/credit/?page=3&{day}",
        "credit_suggestions": f"{base}/credit/suggestions/?{day}",
        "credit_review": f"{base}/credit/review/?{day}",
        "credit_duplicates": f"{base}/credit/duplicates/",
    }
    # The writing pages' partial answers (htmx): the editor's totals of ten lines, and the
    # dry run of an allocation by policy (the running remainder).
    lines = {"customer": customer["code"], "rows": "10"} | {
        f"line-{i}-{k}": v for i in range(1, 11) for k, v in (
            ("description", f"Item {i}"), ("quantity", str(i)), ("unit_price", "19.99"),
            ("tax_rate", "20"), ("discount", "5"), ("category", "S"))}
    posts = {
        "draft_totals": (f"{base}/drafts/totals/", lines),
        "allocate_preview": (f"{base}/receipt/preview/{receipt['number']}",
                             {"policy": "oldest_first"}),
    }
    out: dict[str, Any] = {}
    requests = {name: (url, None) for name, url in pages.items()} | posts
    for name, (url, data) in requests.items():
        out[name] = timed((lambda u=url: client.get(u)) if data is None else
                          (lambda u=url, d=data: client.post(u, d)), repeat)
    out.update(_back_office(repeat))
    return {"benchmark": "web", "size": size, "db": db, "open_items": made["items"],
            "customers": made["customers"], "pages": out, "machine": machine(),
            "date": datetime.now().strftime("%Y-%m-%d %H:%M"),
            "load_average": [round(x, 1) for x in os.getloadavg()]}


def _back_office(repeat: int) -> dict[str, Any]:
    """The back office's invoice list (a superuser's: every company), and the query its
    date hierarchy ran before it was removed (``dates('issue_date', 'year')``, a DISTINCT
    over every invoice's truncated date), timed alone for comparison."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from salesledger.apps.invoicing.models import Invoice

    staff = get_user_model().objects.filter(username="bench-staff").first() or (
        get_user_model().objects.create_superuser("bench-staff", "staff@example.com",
                                                  "a long password for the bench"))
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)
    out: dict[str, Any] = {}
    for name, call in (("admin_invoices", lambda: client.get("/admin/invoicing/invoice/")),
                       ("admin_invoices_filtered",
                        lambda: client.get("/admin/invoicing/invoice/?status__exact=posted")),
                       ("removed_date_hierarchy_query",
                        lambda: list(Invoice.objects.dates("issue_date", "month")))):
        out[name] = timed(call, repeat)
    return out


def main() -> None:
    main_on_generated_books(__doc__.split("\n\n")[0], "web", 5, measure)

if __name__ == "__main__":
    main()
