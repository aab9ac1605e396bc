"""Benchmark: the web workspace's pages, server time and queries per page.

    .venv/bin/python bench/bench_web.py small            # 10,000 open items, 100 customers
    .venv/bin/python bench/bench_web.py medium --database-url postgres://postgres@127.0.0.1:5432/postgres

Builds the books of ``bench_allocate.py`` (its seeded generator, in a child process) and
allocates the receipts oldest first, as ``bench_aging.py`` does, then requests each main page
of the workspace (docs/design/web.md) through Django's test client, signed in as the
company's owner: the time measured is the server's (URL routing, middleware, the selectors,
the template), without a network or a browser. Each page is requested ``--repeat`` times
(default 5) and the best and median milliseconds are reported, with the number of queries
the page issued. One JSON object is printed and written to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_aging import TODAY  # noqa: E402
from bench_allocate import ALLOCATE_ON, COMPANY, SIZES  # noqa: E402
from bench_import import fresh_postgres, machine  # noqa: E402


def measure(size: str, repeat: int, db: str, made: dict[str, Any]) -> dict[str, Any]:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from salesledger.apps.core.selectors import company_resolve
    from salesledger.apps.customers.selectors import customer_list
    from salesledger.apps.invoicing.selectors import invoice_list
    from salesledger.apps.payments.autoallocate import auto_allocate_all

    company = company_resolve(COMPANY)
    owner = get_user_model().objects.get(username="bench-owner")
    auto_allocate_all(actor=owner, company=company, day=ALLOCATE_ON)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    client = Client(HTTP_HOST="localhost")
    client.force_login(owner)
    customer = customer_list(company, limit=1, offset=len(customer_list(company)) // 2)[0]
    invoice = invoice_list(company, status="posted", limit=1)[0]
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
    return {"benchmark": "web", "size": size, "db": db, "open_items": made["items"],
            "customers": made["customers"], "pages": out, "machine": machine(),
            "date": datetime.now().strftime("%Y-%m-%d %H:%M"),
            "load_average": [round(x, 1) for x in os.getloadavg()]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size", choices=SIZES, nargs="?", default="small")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", help="PostgreSQL server to run on (a new database "
                                               "is created next to the one named)")
    parser.add_argument("--results", default=str(HERE / "results"))
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesledger.config.settings")
    os.environ.pop("SALESLEDGER_DATABASE_URL", None)
    with tempfile.TemporaryDirectory(prefix="salesledger-bench-") as tmp:
        home = Path(tmp)
        os.environ["SALESLEDGER_HOME"] = str(home)
        (home / "var").mkdir()
        os.environ["SALESLEDGER_SECRET_KEY"] = "bench-not-secret"

        def run(db: str) -> dict[str, Any]:
            child = subprocess.run(
                [sys.executable, str(HERE / "bench_allocate.py"), args.size, "--seed",
                 str(args.seed), "--generate-only"], env=os.environ.copy(), check=True,
                capture_output=True, text=True)
            made = json.loads(child.stdout.strip().splitlines()[-1])
            return measure(args.size, args.repeat, db, made)

        if args.database_url:
            with fresh_postgres(args.database_url) as url:
                os.environ["SALESLEDGER_DATABASE_URL"] = url
                result = run("postgresql")
        else:
            result = run("sqlite")
    out = Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    (out / f"web-{args.size}-{result['db']}-{stamp}.json").write_text(
        json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
