"""Benchmark: what the dunning run reads from collections, and the collector worklist.

    .venv/bin/python bench/bench_worklist.py small            # 10,000 items, 100 customers
    .venv/bin/python bench/bench_worklist.py medium --database-url postgres://postgres@127.0.0.1:5432/postgres

Builds the books of ``bench_allocate.py`` (its seeded generator, in a child process: one
customer per 100 open items, invoices due in thirds; the receipts are left unallocated, so that
everything is open and overdue on the day measured), then, in this process, opens casework for
one customer in ten through the services (a dispute on part of an invoice, a promise to pay, a
two-instalment payment plan of another customer's overdue items, an inbound reply for one in
twenty), and times on 2025-12-31: ``dunning_pauses``, ``plan_instalments_due`` and
``plans_broken`` (what the dunning run reads, with their query counts), ``worklist`` (the
aged receivables, credit's risk scores and the assignments) and its first page, as the
workspace asks for it. Wall seconds, this process's CPU seconds and, on PostgreSQL, the
server backend's CPU seconds. Each is timed ``--repeat`` times
(default 3); best and median seconds are reported. One JSON object is printed and written to
``bench/results/``.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_allocate import COMPANY, main_on_generated_books  # noqa: E402
from bench_import import machine, server_cpu_seconds  # noqa: E402

AS_OF = date(2025, 12, 31)
OPENED = date(2025, 12, 1)


def _backend_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend so far; 0.0 on SQLite."""
    return server_cpu_seconds() or 0.0


def _timed(repeat: int, fn: Any) -> tuple[dict[str, float], Any]:
    """Best and median of ``repeat`` calls: wall seconds, this process's CPU seconds
    (``time.process_time``) and, on PostgreSQL, the server backend's CPU seconds."""
    wall, cpu, server, result = [], [], [], None
    for _ in range(repeat):
        backend = _backend_cpu()
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        server.append(_backend_cpu() - backend)
    return {"best": round(min(wall), 3), "median": round(statistics.median(wall), 3),
            "cpu_best": round(min(cpu), 3), "cpu_median": round(statistics.median(cpu), 3),
            "server_cpu_best": round(min(server), 3),
            "server_cpu_median": round(statistics.median(server), 3)}, result


def _casework(company: Any, owner: Any) -> dict[str, int]:
    """Casework for one customer in ten, through the services (seeded by the books: the
    customers in code order)."""
    from django.db.models import F, Min

    from salesledger.apps.collections.services import (
        DisputeSpec,
        customer_note_add,
        dispute_open,
        plan_create,
        promise_add,
    )
    from salesledger.apps.invoicing.models import Instalment

    rows = list(Instalment.objects.filter(company=company, settled__lt=F("amount"),
                                          due_date__lt=OPENED)
                .values_list("customer__code").annotate(first=Min("invoice__number"))
                .order_by("customer__code"))
    counts = {"disputes": 0, "promises": 0, "plans": 0, "replies": 0}
    for n, (code, number) in enumerate(rows):
        if n % 10 == 0:
            dispute_open(actor=owner, company=company, day=OPENED, spec=DisputeSpec(
                invoice=number, reason="pricing", amount=Decimal("10.00")))
            promise_add(actor=owner, company=company, customer=code, amount=Decimal("50.00"),
                        promised_date=AS_OF + timedelta(days=5), day=OPENED)
            counts["disputes"] += 1
            counts["promises"] += 1
        elif n % 10 == 5:
            plan_create(actor=owner, company=company, customer=code, day=OPENED,
                        instalments=2, first_due=AS_OF, every_days=30)
            counts["plans"] += 1
        if n % 20 == 3:
            customer_note_add(actor=owner, company=company, customer=code, day=OPENED,
                              text="What is this reminder about?", inbound_reply=True)
            counts["replies"] += 1
    return counts


def _first_page(worklist: Any, company: Any) -> list[Any]:
    """The first page of the workspace's worklist (``web/collections_views.py``: 50 rows and
    one more, to know whether another page follows); before the selector took ``limit``,
    the page cut the whole list."""
    try:
        return list(worklist(company, as_of=AS_OF, offset=0, limit=51))
    except TypeError:
        return list(worklist(company, as_of=AS_OF))[:51]


def _kept_ranking(company: Any, repeat: int, page_rows: list[Any]) -> dict[str, Any]:
    """The worker's ranking kept for the day (collections/ranking.py): building it (once),
    the page the workspace reads from it (which must be the page ranked on the fly), and
    ranking one customer again, as a casework write or a payment does in its transaction."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from salesledger.apps.collections.ranking import (
        worklist_rank_build,
        worklist_rank_refresh,
        worklist_ranked,
    )

    build_t, ranked = _timed(1, lambda: worklist_rank_build(company, day=AS_OF))
    with CaptureQueriesContext(connection) as q_kept:
        kept_rows = worklist_ranked(company, as_of=AS_OF, offset=0, limit=51) or []
    if kept_rows != page_rows:
        raise SystemExit("the kept ranking's first page is not the page ranked on the fly")
    kept_t, _ = _timed(repeat, lambda: worklist_ranked(company, as_of=AS_OF, offset=0,
                                                       limit=51))
    one = [page_rows[0].customer_id] if page_rows else []
    with CaptureQueriesContext(connection) as q_again:
        worklist_rank_refresh(company, one)
    again_t, _ = _timed(repeat, lambda: worklist_rank_refresh(company, one))
    return {"rank_build_customers": ranked, "rank_build_seconds": build_t,
            "kept_page_queries": len(q_kept), "kept_page_seconds": kept_t,
            "rank_one_again_queries": len(q_again), "rank_one_again_seconds": again_t}


def measure(size: str, repeat: int, db: str, made: dict[str, Any]) -> dict[str, Any]:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from salesledger.apps.collections.selectors import (
        dunning_pauses,
        plan_instalments_due,
        plans_broken,
        worklist,
    )
    from salesledger.apps.core.selectors import company_resolve

    company = company_resolve(COMPANY)
    owner = get_user_model().objects.get(username="bench-owner")
    start = time.perf_counter()
    counts = _casework(company, owner)
    casework_seconds = round(time.perf_counter() - start, 1)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    with CaptureQueriesContext(connection) as q_pauses:
        pauses = dunning_pauses(company.pk, AS_OF)
    with CaptureQueriesContext(connection) as q_due:
        due = plan_instalments_due(company.pk, AS_OF)
    with CaptureQueriesContext(connection) as q_broken:
        broken = plans_broken(company.pk, AS_OF)
    broken_t, _ = _timed(repeat, lambda: plans_broken(company.pk, AS_OF))
    pauses_t, _ = _timed(repeat, lambda: dunning_pauses(company.pk, AS_OF))
    due_t, _ = _timed(repeat, lambda: plan_instalments_due(company.pk, AS_OF))
    with CaptureQueriesContext(connection) as q_work:
        rows = worklist(company, as_of=AS_OF)
    work_t, _ = _timed(repeat, lambda: worklist(company, as_of=AS_OF))
    # What the worklist page asks for: its first page of 50 rows, and one more.
    with CaptureQueriesContext(connection) as q_page:
        page_rows = _first_page(worklist, company)
    page_t, _ = _timed(repeat, lambda: _first_page(worklist, company))
    kept = _kept_ranking(company, repeat, page_rows)
    return {"benchmark": "worklist", "size": size, "db": db, "open_items": made["items"],
            "customers": made["customers"], **counts, "casework_seconds": casework_seconds,
            "pauses": len(pauses), "pauses_queries": len(q_pauses), "pauses_seconds": pauses_t,
            "plan_instalments": len(due), "plan_instalments_queries": len(q_due),
            "plan_instalments_seconds": due_t,
            "plans_broken": len(broken), "plans_broken_queries": len(q_broken),
            "plans_broken_seconds": broken_t,
            "worklist_rows": len(rows), "worklist_queries": len(q_work),
            "worklist_seconds": work_t,
            "worklist_page_rows": len(page_rows), "worklist_page_queries": len(q_page),
            "worklist_page_seconds": page_t, **kept,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "machine": machine(), "date": datetime.now().strftime("%Y-%m-%d %H:%M"),
            "load_average": [round(x, 1) for x in os.getloadavg()]}


def main() -> None:
    main_on_generated_books(__doc__.split("\n\n")[0], "worklist", 3, measure)


if __name__ == "__main__":
    main()
