"""Benchmark: the task worker issuing recurring invoices.

    .venv/bin/python bench/bench_recurring.py                       # 100 schedules x 24 months
    .venv/bin/python bench/bench_recurring.py --schedules 20 --workers 2 \\
        --database-url postgres://postgres@127.0.0.1:5432/postgres

Creates a fresh database (SQLite in a temporary directory, or with ``--database-url`` a new
PostgreSQL database next to the one named, dropped afterwards), one company with a VAT number
and ten customers, and ``--schedules`` monthly schedules that started two years before the run
day, so that each has 24 periods due. It enqueues the day's recurring run through the worker's
calendar (``daily_jobs_enqueue``), queues it once more per extra worker (as if each worker had
been told to run it), and times ``--workers`` real django-tasks-db workers running the queue in
threads. Every period is one transaction (lock, create, post, run row, audit). Then it checks
that each period was issued exactly once and every ledger invariant (``check_company``, not
timed), and prints one JSON object: ``{"benchmark": "recurring_run", "schedules", "periods",
"workers", "seconds", "per_second", "db", ...}``. SQLite serialises writers, so use one worker
there.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_import import fresh_postgres, machine  # noqa: E402

RUN_AT = datetime(2027, 1, 15, 6, 0, tzinfo=UTC)  # 07:00 in Paris, 15 January 2027
START = date(2025, 2, 1)  # 24 monthly periods due on 15 January 2027


def build(schedules: int) -> Any:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from salesledger.apps.core.models import Company
    from salesledger.apps.core.services import company_create
    from salesledger.apps.customers.services import AddressInput, CustomerInput, customer_create
    from salesledger.apps.recurring.services import ScheduleInput, recurring_add
    from salesledger.domain.invoicing import LineInput

    call_command("migrate", verbosity=0)
    owner = get_user_model().objects.create_user("bench-owner")
    company = company_create(actor=owner, code="bench", name="Benchmark SARL", owner=owner)
    Company.objects.filter(pk=company.pk).update(
        tax_id="FR44732829320", address_line1="5 avenue Foch", postal_code="69006", city="Lyon")
    company.refresh_from_db()
    for n in range(10):
        customer_create(actor=owner, company=company, data=CustomerInput(
            code=f"C{n}", name=f"Customer {n}", country="FR", billing=AddressInput(
                line1=f"{n} rue du Port", city="Paris", postal_code="75001", country="FR")))
    for n in range(schedules):
        recurring_add(actor=owner, company=company, as_of=START, data=ScheduleInput(
            customer_code=f"C{n % 10}", every="1 month", start=START,
            lines=[LineInput("Subscription", Decimal(1), Decimal("49.90"), Decimal(20))]))
    return company


def run(schedules: int, workers: int, db: str) -> dict[str, Any]:
    import django

    django.setup()
    from django.db import connections

    from salesledger.apps.core.invariants import check_company
    from salesledger.apps.invoicing.models import Invoice
    from salesledger.apps.recurring.models import RecurringRun
    from salesledger.apps.recurring.scheduler import daily_jobs_enqueue
    from salesledger.apps.recurring.tasks import recurring_run_task
    from salesledger.worker import make_worker

    company = build(schedules)
    [job] = daily_jobs_enqueue(now=RUN_AT)
    for _ in range(workers - 1):
        recurring_run_task.enqueue(company.code, job.day)
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            make_worker(worker_id=name).run()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(f"bench-{i}",)) for i in range(workers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    if errors:
        raise SystemExit(f"a worker failed: {errors[0]!r}")
    periods = schedules * 24
    issued = RecurringRun.objects.count()
    distinct = RecurringRun.objects.values("schedule_id", "period_index").distinct().count()
    if not (issued == distinct == periods == Invoice.objects.filter(status="posted").count()):
        raise SystemExit(f"expected {periods} periods once each, got {issued} ({distinct})")
    problems = check_company(company)
    if problems:
        raise SystemExit(f"ledger invariant broken: {problems[:3]}")
    return {"benchmark": "recurring_run", "schedules": schedules, "periods": periods,
            "workers": workers, "seconds": round(seconds, 2),
            "per_second": round(periods / seconds, 1), "db": db, "machine": machine()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schedules", type=int, default=100)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesledger.config.settings")
    os.environ["SALESLEDGER_LOG_LEVEL"] = "WARNING"
    with tempfile.TemporaryDirectory() as home:
        os.environ["SALESLEDGER_HOME"] = home
        if args.database_url:
            with fresh_postgres(args.database_url) as url:
                os.environ["SALESLEDGER_DATABASE_URL"] = url
                print(json.dumps(run(args.schedules, args.workers, "postgresql")))
        else:
            os.environ.pop("SALESLEDGER_DATABASE_URL", None)
            print(json.dumps(run(args.schedules, args.workers, "sqlite")))


if __name__ == "__main__":
    main()
