"""Benchmark: keeping the cash-flow forecast (the worker's job) and reading it (the page's).

    SALESLEDGER_HOME=/var/tmp/COPY/issue-h1-s20261207-b1000-v1 \\
        .venv/bin/python bench/bench_forecast_keep.py --repeat 3
    SALESLEDGER_DATABASE_URL=postgres://postgres@127.0.0.1:5432/COPY \\
        .venv/bin/python bench/bench_forecast_keep.py --repeat 3

On a *copy* of books (it writes the kept forecast: docs/design/forecast.md, "The kept
forecast"), migrated: ``forecast_keep`` of the company's day (the books' "today",
2025-12-31), then ``kept_forecast`` (the page's read), each ``--repeat`` times; CPU
milliseconds of the process and, on PostgreSQL, of the backend (``/proc``), medians, and the
queries of the read. It checks that the kept weeks are the forecast's. One JSON object is
printed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_aging import TODAY  # noqa: E402
from bench_allocate import COMPANY  # noqa: E402
from bench_import import server_cpu_seconds  # noqa: E402


def _cpu_ms() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return (usage.ru_utime + usage.ru_stime) * 1000


def _timed(call: Any, repeat: int) -> tuple[Any, dict[str, Any]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cpus, backend, result, queries = [], [], None, 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            db0, cpu0 = server_cpu_seconds(), _cpu_ms()
            result = call()
            cpus.append(_cpu_ms() - cpu0)
            db1 = server_cpu_seconds()
        if db0 is not None and db1 is not None:
            backend.append((db1 - db0) * 1000)
        queries = len(captured.captured_queries) - (2 if db0 is not None else 0)
    out: dict[str, Any] = {"cpu_median_ms": round(statistics.median(cpus), 1),
                           "queries": queries}
    if backend:
        out["db_cpu_median_ms"] = round(statistics.median(backend), 1)
    return result, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--company", default=COMPANY)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesledger.config.settings")
    os.environ.setdefault("SALESLEDGER_SECRET_KEY", "bench-not-secret")
    import django

    django.setup()
    from django.db import connection

    from salesledger.apps.core.models import Company
    from salesledger.apps.reporting.forecast_keep import forecast_keep, kept_forecast

    company = Company.objects.get(code=args.company)
    weeks, keep = _timed(lambda: forecast_keep(company, day=TODAY), args.repeat)
    kept, read = _timed(lambda: kept_forecast(company, day=TODAY), args.repeat)
    assert kept is not None and kept.fresh and kept.weeks == weeks
    print(json.dumps({"benchmark": "forecast_keep", "db": connection.vendor,
                      "day": TODAY.isoformat(), "keep": keep, "read": read,
                      "expected_total": sum(weeks.expected),
                      "load_average": list(os.getloadavg())}))


if __name__ == "__main__":
    main()
