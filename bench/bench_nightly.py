"""Benchmark: the worker's nightly jobs that keep what the pages read, run once on a copy.

    SALESLEDGER_HOME=/var/tmp/COPY/issue-h1-s20261207-b1000-v2 \\
        .venv/bin/python bench/bench_nightly.py
    SALESLEDGER_DATABASE_URL=postgres://postgres@127.0.0.1:5432/COPY \\
        .venv/bin/python bench/bench_nightly.py

On a *copy* of ``books.py``'s books (it writes), migrated: the jobs the worker's calendar
enqueues once a day for a company (``salesledger.worker.DAILY``: the aging summary of the
day, the kept KPI months, the kept trend cohorts, the kept forecast, the worklist's ranking
and the duplicate scan), each called as the worker calls it (the task's own function, for the
books' company and day, 2025-12-31), in the calendar's order, so that ``bench_web.py
issue-h1 --books COPY`` then times the pages as they are read the morning after. The dunning
and statement runs are not called: they send, and no page reads what they keep. CPU
milliseconds of the process and, on PostgreSQL, of the backend, for each job; one JSON object
is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_aging import TODAY  # noqa: E402
from bench_allocate import COMPANY  # noqa: E402
from bench_import import machine, server_cpu_seconds  # noqa: E402


def _cpu_ms() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return (usage.ru_utime + usage.ru_stime) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="only these jobs (names, by commas)")
    args = parser.parse_args()
    only = frozenset(filter(None, args.only.split(",")))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesledger.config.settings")
    os.environ.setdefault("SALESLEDGER_SECRET_KEY", "bench-not-secret")
    import django

    django.setup()
    from django.db import connection

    from salesledger.apps.collections.tasks import worklist_rank_task
    from salesledger.apps.credit.tasks import duplicates_scan_task
    from salesledger.apps.reporting.tasks import (
        aging_summary_task,
        forecast_keep_task,
        kpi_keep_task,
        trend_keep_task,
    )

    day = TODAY.isoformat()
    jobs = {  # the calendar's order (worker.DAILY); the worklist reads the day's summary
        "aging_summary": lambda: aging_summary_task.call(COMPANY, day),
        "kpi_keep": lambda: kpi_keep_task.call(COMPANY, day),
        "forecast_keep": lambda: forecast_keep_task.call(COMPANY, day),
        "trend_keep": lambda: trend_keep_task.call(COMPANY, day),
        "worklist_rank": lambda: worklist_rank_task.call(COMPANY, day),
        "duplicates_scan": lambda: duplicates_scan_task.call(COMPANY),
    }
    out: dict[str, Any] = {}
    for name, job in jobs.items():
        if only and name not in only:
            continue
        db0, cpu0 = server_cpu_seconds(), _cpu_ms()
        result = job()
        row: dict[str, Any] = {"cpu_ms": round(_cpu_ms() - cpu0, 1), "result": result}
        db1 = server_cpu_seconds()
        if db0 is not None and db1 is not None:
            row["db_cpu_ms"] = round((db1 - db0) * 1000, 1)
        out[name] = row
        print(f"{name}: {row}", file=sys.stderr, flush=True)
    print(json.dumps({"benchmark": "nightly", "db": connection.vendor, "day": day,
                      "jobs": out, "machine": machine(),
                      "date": datetime.now().strftime("%Y-%m-%d %H:%M"),
                      "load_average": [round(x, 1) for x in os.getloadavg()]}, default=str))


if __name__ == "__main__":
    main()
