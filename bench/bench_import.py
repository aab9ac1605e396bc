"""Benchmark: import the generated customers and invoices CSV files into a fresh database.

    .venv/bin/python bench/bench_import.py large            # SQLite in a temporary directory
    .venv/bin/python bench/bench_import.py medium --database-url postgres://postgres@127.0.0.1:5432/postgres

Creates a fresh database (SQLite in a temporary directory, or with ``--database-url`` a
new PostgreSQL database next to the one named, dropped afterwards), migrates it, creates a
company, generates the files with ``bench/generate.py``, and times ``salesledger import
customers`` then ``salesledger import invoices`` through the command line's own entry point.
Then runs every ledger invariant (``check_company``) and fails if one is broken. Prints one
JSON object per timed import (``benchmark``, ``size``, ``invoices``, ``seconds``,
``per_second``, ``db``, ``machine``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import SIZES, generate  # noqa: E402

COMPANY = "bench"


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"python": platform.python_version(), "cpu": cpu, "cores": os.cpu_count(),
            "system": f"{platform.system()} {platform.release()}"}


@contextlib.contextmanager
def fresh_postgres(url: str) -> Any:
    """A new, empty PostgreSQL database on the server of ``url``; dropped on exit."""
    import psycopg

    parts = urlsplit(url)
    name = f"salesledger_bench_{os.getpid()}"
    admin = psycopg.connect(url, autocommit=True)
    try:
        admin.execute(f'CREATE DATABASE "{name}"')
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        from django.db import connections

        connections.close_all()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def cli(*argv: str) -> dict[str, Any]:
    """Run ``salesledger ARGV --json`` in this process; return its JSON output."""
    from salesledger.cli.main import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main([*argv, "--json"])
    if code != 0:
        raise SystemExit(f"salesledger {' '.join(argv)} failed with exit code {code}")
    return json.loads(out.getvalue())


def run(size: str, home: Path, *, seed: int, numbers: bool, db: str) -> list[dict[str, Any]]:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from salesledger.apps.core.invariants import check_company
    from salesledger.apps.core.services import company_create

    call_command("migrate", verbosity=0)
    owner = get_user_model().objects.create_user("bench-owner")
    company = company_create(actor=owner, code=COMPANY, name="Benchmark Ltd", owner=owner)
    paths = generate(size, home / "data", seed=seed, numbers=numbers)
    results = []
    kinds = ["customers", "invoices"] + (["receipts"] if numbers else [])
    for kind in kinds:
        start = time.perf_counter()
        result = cli("import", kind, str(paths[kind]), "--company", COMPANY)
        seconds = time.perf_counter() - start
        count = result.get("documents") or result.get("customers") or result.get("receipts")
        results.append({
            "benchmark": f"import_{kind}", "size": size, kind: count,
            "rows": result["rows"], "seconds": round(seconds, 2),
            "per_second": round(count / seconds, 1), "db": db, "machine": machine()})
    if db == "postgresql":
        # What autovacuum does a little later: without statistics on the freshly loaded
        # tables the planner picks nested loops for the check's correlated subqueries.
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    start = time.perf_counter()
    problems = check_company(company)
    assert not problems, f"ledger check failed: {[str(p) for p in problems[:20]]}"
    results.append({"benchmark": "check_company", "size": size,
                    "seconds": round(time.perf_counter() - start, 2), "problems": 0, "db": db})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size", choices=SIZES, nargs="?", default="large")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--numbers", action="store_true",
                        help="files keep their numbers; also import receipts")
    parser.add_argument("--database-url", help="PostgreSQL server to run on (a new database "
                                               "is created next to the one named)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesledger.config.settings")
    os.environ.pop("SALESLEDGER_DATABASE_URL", None)
    with tempfile.TemporaryDirectory(prefix="salesledger-bench-") as tmp:
        home = Path(tmp)
        os.environ["SALESLEDGER_HOME"] = str(home)
        (home / "var").mkdir()
        os.environ["SALESLEDGER_SECRET_KEY"] = "bench-not-secret"
        if args.database_url:
            with fresh_postgres(args.database_url) as url:
                os.environ["SALESLEDGER_DATABASE_URL"] = url
                results = run(args.size, home, seed=args.seed, numbers=args.numbers,
                              db="postgresql")
        else:
            results = run(args.size, home, seed=args.seed, numbers=args.numbers, db="sqlite")
    for r in results:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
