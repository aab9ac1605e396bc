"""Benchmark: the aging of past days, some days to a year before "today", in CPU seconds, to
compare two versions of the code side by side on the same books (docs/design/reporting.md,
"How a past day is computed").

    .venv/bin/python bench/bench_aging_past.py issue-h1 BOOKS 1,30,90,365 5
    PYTHONPATH=OTHER/src .venv/bin/python bench/bench_aging_past.py issue-h1 BOOKS 1,30 5
    BENCH_PG=postgres://postgres@127.0.0.1:5432/postgres SALESLEDGER_BOOKS_DATABASE=COPY \\
        .venv/bin/python bench/bench_aging_past.py issue-h1 - 1,30,90,365 3

BOOKS: a folder of ``books.py``'s SQLite books (``-`` on PostgreSQL, with ``BENCH_PG`` and a
copy of the books in ``SALESLEDGER_BOOKS_DATABASE``), with the aging summary of "today"
(2025-12-31) built or not: the report of a past day reads it when it can. For each number
of days back, ``aging_report`` of that day (what ``report aging --as-of`` prints) is timed
``REPEAT`` times: CPU seconds of this process and, on PostgreSQL, of its backend
(``/proc/<pid>/stat``), their median and best; then, once, the grouped statement alone
(``aging.grouped_by_customer`` executed and fetched: the database's part, and on SQLite the
rows' fetching) beside it, and the report's base total is checked against the receivable
control account of the day. ``PYTHONPATH`` picks the code measured (printed as ``code``).
One JSON line is printed.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from books import COMPANY, books_database  # noqa: E402

TODAY = date(2025, 12, 31)


def main() -> None:
    size, books = sys.argv[1], sys.argv[2]
    backs = [int(n) for n in sys.argv[3].split(",")]
    repeat = int(sys.argv[4]) if len(sys.argv) > 4 else 3  # noqa: PLR2004
    with books_database(size, books=None if books == "-" else books,
                        database_url=os.environ.get("BENCH_PG"), progress=lambda s: None):
        import django

        django.setup()
        from django.db import connection
        from django.db.models import Sum

        from salesledger.apps.core.selectors import company_resolve
        from salesledger.apps.ledger.models import JournalLine
        from salesledger.apps.reporting import aging, selectors
        from salesledger.apps.reporting.aging_summary import summary_day
        from salesledger.domain.aging import DEFAULT_BUCKETS, parse_buckets

        company = company_resolve(COMPANY)
        backend = None
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_backend_pid()")
                backend = int(cur.fetchone()[0])

        def server() -> float:
            if backend is None:
                return 0.0
            fields = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        def timed(n: int, fn: Callable[[], Any]) -> tuple[dict[str, Any], Any]:
            cpus, servers, result = [], [], None
            for _ in range(n):
                before, start = server(), time.process_time()
                result = fn()
                cpus.append(time.process_time() - start)
                servers.append(server() - before)
            total = [c + s for c, s in zip(cpus, servers, strict=True)]
            return {"cpu": round(statistics.median(cpus), 3),
                    "server": round(statistics.median(servers), 3),
                    "total": round(statistics.median(total), 3),
                    "best": round(min(total), 3)}, result

        def statement(day: date) -> int:
            scope = aging.AgingScope(as_of=day, buckets=parse_buckets(DEFAULT_BUCKETS))
            (with_sql, grouped), params, _ = aging.grouped_by_customer(company, scope)
            with connection.cursor() as cur:
                cur.execute(f"{with_sql} SELECT * FROM ({grouped}) g", params)
                return len(cur.fetchall())

        out: dict[str, Any] = {"code": selectors.__file__, "db": connection.vendor,
                               "summary_day": str(summary_day(company)),
                               "load": round(os.getloadavg()[0], 1)}
        for back in backs:
            day = TODAY - timedelta(days=back)
            out[f"{back}"], report = timed(repeat, lambda d=day: selectors.aging_report(
                company, as_of=d))
            out[f"{back}_statement"], rows = timed(1, lambda d=day: statement(d))
            out[f"{back}_statement"]["rows"] = rows
            out[f"{back}"]["items"] = report.items
            control = (JournalLine.objects.filter(
                company=company, account__role="receivable", date__lte=day)
                .aggregate(s=Sum("amount"))["s"])
            assert report.base_total == control, (day, report.base_total, control)
        out["load_end"] = round(os.getloadavg()[0], 1)
        print(json.dumps(out))


if __name__ == "__main__":
    main()
