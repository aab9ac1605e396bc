"""Benchmark: the aging of "today" read from the aging summary, the dashboard's figures and
a page of the aged receivables' customers, in CPU seconds, to compare two versions of the
code side by side on the same books (docs/design/reporting.md, "The summary's totals kept").

    .venv/bin/python bench/bench_aging_summary_ab.py issue-h1 BOOKS \
        build,today,overview,page1,page100 5
    PYTHONPATH=OTHER_WORKTREE/src .venv/bin/python bench/bench_aging_summary_ab.py \
        issue-h1 BOOKS today,overview 5
    BENCH_PG=postgres://postgres@127.0.0.1:5432/postgres SALESLEDGER_BOOKS_DATABASE=COPY \
        .venv/bin/python bench/bench_aging_summary_ab.py issue-h1 - today,overview 3

BOOKS: a folder of ``books.py``'s SQLite books (``-`` on PostgreSQL, with ``BENCH_PG`` and
a copy of the books in ``SALESLEDGER_BOOKS_DATABASE``). ``build`` makes the summary of
2025-12-31 first: it writes, so give a copy of the books, migrated. Each measure is the best
of the repeats: CPU seconds of this process and, on PostgreSQL, of its backend
(``/proc/<pid>/stat``). ``PYTHONPATH`` picks the code measured (the file printed as
``code``). One JSON line is printed.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from books import COMPANY, books_database  # noqa: E402

TODAY = date(2025, 12, 31)


def main() -> None:
    size, books, what = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
    repeat = int(sys.argv[4]) if len(sys.argv) > 4 else 3  # noqa: PLR2004
    with books_database(size, books=None if books == "-" else books,
                        database_url=os.environ.get("BENCH_PG"), progress=lambda s: None):
        import django

        django.setup()
        from django.db import connection

        from salesledger.apps.core.selectors import company_resolve
        from salesledger.apps.reporting import selectors
        from salesledger.apps.reporting.aging_summary import summary_day

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

        out: dict[str, Any] = {"code": selectors.__file__, "db": connection.vendor,
                               "summary_day": str(summary_day(company)),
                               "load": round(os.getloadavg()[0], 1)}
        if "build" in what:
            start = time.process_time()
            selectors.aging_summary_rebuild(company, as_of=TODAY)
            out["build"] = round(time.process_time() - start, 3)
        calls: dict[str, Callable[[], Any]] = {
            "today": lambda: selectors.aging_report(company, as_of=TODAY),
            "overview": lambda: selectors.aging_overview(company, as_of=TODAY, top=5),
            # a page of the aged receivables' customers (51: the page and the next's first)
            "page1": lambda: selectors.aging_report_page(company, as_of=TODAY, size=51,
                                                         offset=0),
            "page100": lambda: selectors.aging_report_page(company, as_of=TODAY, size=51,
                                                           offset=5000),
        }
        for name in what:
            if name not in calls:
                continue
            best: tuple[float, float] | None = None
            for _ in range(repeat):
                before, start = server(), time.process_time()
                calls[name]()
                took = (time.process_time() - start, server() - before)
                best = took if best is None or sum(took) < sum(best) else best
            assert best is not None
            out[name] = {"cpu": round(best[0], 3), "server": round(best[1], 3)}
        out["load_end"] = round(os.getloadavg()[0], 1)
        print(json.dumps(out))


if __name__ == "__main__":
    main()
