"""Benchmark: the workspace's bank pages on a matched statement, server time and queries.

    .venv/bin/python bench/bench_web_bank.py small     # 1,000 lines, 10,000 invoices
    .venv/bin/python bench/bench_web_bank.py medium --database-url postgres://postgres@127.0.0.1:5432/postgres

Builds the books and the statement of ``bench_match.py`` (its seeded generator, the same mix),
matches every line without applying any (``bank_match``: every line waits in the review
queue with its suggestions, the queue at its longest), then requests each bank page
(docs/design/web.md) through Django's test client, signed in as the company's owner: the
time measured is the server's (routing, middleware, the selectors, the template), without a
network or a browser. Each page is requested ``--repeat`` times (default 5); the best and
median milliseconds are reported with the page's queries. One JSON object is printed and
written to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_import import bench_database, machine  # noqa: E402
from bench_match import SIZES, build  # noqa: E402


def measure(size: str, seed: int, db: str, repeat: int) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from salesledger.apps.banking.matching import bank_match
    from salesledger.apps.banking.selectors import statement_lines

    call_command("migrate", verbosity=0)
    lines_n, invoices_n = SIZES[size]
    books = build("bench", lines_n, invoices_n, seed=seed)
    company, owner = books["company"], books["owner"]
    bank_match(actor=owner, company=company)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    line = statement_lines(company, status="suggested", limit=1)[0]["id"]
    client = Client(HTTP_HOST="localhost")
    client.force_login(owner)
    base = f"/c/{company.code}"
    last = max(1, lines_n // 50 - 1)
    pages = {
        "bank": f"{base}/bank/",
        "lines": f"{base}/bank/lines/",
        "lines_suggested": f"{base}/bank/lines/?status=suggested",
        "lines_unmatched": f"{base}/bank/lines/?status=unmatched",
        "lines_far_page": f"{base}/bank/lines/?page={last}",
        "review": f"{base}/bank/review/",
        "review_far_page": f"{base}/bank/review/?page={last}",
        "line": f"{base}/bank/lines/{line}/",
        "match": f"{base}/bank/match/",
        "rules": f"{base}/bank/rules/",
        "settings_numbering": f"{base}/settings/numbering/",
        "settings_tax": f"{base}/settings/tax/",
    }
    out: dict[str, Any] = {}
    for name, url in pages.items():
        times, queries = [], 0
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (url, response.status_code)
            queries = len(captured.captured_queries)
        out[name] = {"best_ms": round(min(times), 1),
                     "median_ms": round(statistics.median(times), 1), "queries": queries}
    return {"benchmark": "web_bank", "size": size, "db": db, "seed": seed,
            "lines": len(books["truth"]), "open_invoices": invoices_n,
            "customers": books["customers"], "pages": out, "machine": machine(),
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "load_average": [round(x, 1) for x in os.getloadavg()]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size", choices=("small", "medium"), nargs="?", default="small")
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", help="PostgreSQL server to run on (a new database "
                                               "is created next to the one named)")
    parser.add_argument("--results", default=str(HERE / "results"))
    args = parser.parse_args()
    with bench_database(args.database_url) as (_, db):
        result = measure(args.size, args.seed, db, args.repeat)
    out = Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"web-bank-{args.size}-{result['db']}-{stamp}.json").write_text(
        json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
