"""Benchmark: import the generated customers and invoices CSV files into a fresh database.

    .venv/bin/python bench/bench_import.py large            # SQLite in a temporary directory
    .venv/bin/python bench/bench_import.py medium --database-url postgres://postgres@127.0.0.1:5432/postgres

Creates a fresh database (SQLite in a temporary directory, or with ``--database-url`` a
new PostgreSQL database next to the one named, dropped afterwards), migrates it, creates a
company, generates the files with ``bench/generate.py`` (or reuses those in ``--data``), and
times ``salesledger import customers`` then ``salesledger import invoices``, each run as the
command line itself in a process of its own, whose peak resident memory the operating system
reports when it ends. Then runs every ledger invariant (``check_company``) and fails if one is
broken. Prints one JSON object per timed import (``benchmark``, ``size``, ``invoices``,
``seconds``, ``per_second``, ``peak_rss_mb``, ``db``, ``machine``) and writes them all to a
JSON file in ``bench/results/`` (``--results``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
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


def server_cpu_seconds() -> float | None:
    """CPU seconds (user and system) that the PostgreSQL backend of Django's connection has
    used so far, from ``/proc/<pg_backend_pid()>/stat`` (the server runs on this machine):
    on a shared machine, the process's and the server's CPU seconds are the figures closest
    to a quiet machine's wall time. None on SQLite (its work is the process's own) or when
    the server's process cannot be read."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


@contextlib.contextmanager
def bench_database(database_url: str | None) -> Iterator[tuple[Path, str]]:
    """A fresh home and database for one benchmark run, named in the environment that
    Django and child processes read: SQLite under a temporary home, or with ``database_url`` a
    new PostgreSQL database next to the one named (dropped on exit). Yields the home and
    ``"sqlite"`` or ``"postgresql"``."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesledger.config.settings")
    os.environ.pop("SALESLEDGER_DATABASE_URL", None)
    with tempfile.TemporaryDirectory(prefix="salesledger-bench-") as tmp:
        home = Path(tmp)
        os.environ["SALESLEDGER_HOME"] = str(home)
        (home / "var").mkdir()
        os.environ["SALESLEDGER_SECRET_KEY"] = "bench-not-secret"
        if database_url:
            with fresh_postgres(database_url) as url:
                os.environ["SALESLEDGER_DATABASE_URL"] = url
                yield home, "postgresql"
        else:
            yield home, "sqlite"


def cli(*argv: str) -> tuple[dict[str, Any], float, float, float]:
    """Run ``salesledger ARGV --json`` in a process of its own; return its JSON output, the
    wall-clock seconds, the CPU seconds (user and system) and the process's peak resident
    memory in MB (``wait4``'s ``ru_maxrss``, kilobytes on Linux)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "salesledger.cli.main", *argv, "--json"],
                                stdout=out, stderr=err, env=os.environ)
        _, status, usage = os.wait4(proc.pid, 0)  # reaps the child, with its resource usage
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"salesledger {' '.join(argv)} failed with exit code "
                             f"{proc.returncode}:\n{err.read().decode()[-4000:]}")
        result = json.loads(out.read())
    return result, seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def run(size: str, home: Path, *, seed: int, numbers: bool, db: str,
        data: Path | None) -> list[dict[str, Any]]:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from salesledger.apps.core.invariants import check_company
    from salesledger.apps.core.services import company_create

    call_command("migrate", verbosity=0)
    owner = get_user_model().objects.create_user("bench-owner")
    company = company_create(actor=owner, code=COMPANY, name="Benchmark Ltd", owner=owner)
    paths = data_files(size, data or home / "data", seed=seed, numbers=numbers)
    results = []
    kinds = ["customers", "invoices"] + (["receipts"] if numbers else [])
    for kind in kinds:
        result, seconds, cpu, peak = cli("import", kind, str(paths[kind]), "--company", COMPANY)
        count = result.get("documents") or result.get("customers") or result.get("receipts")
        results.append({
            "benchmark": f"import_{kind}", "size": size, kind: count,
            "rows": result["rows"], "seconds": round(seconds, 2),
            "per_second": round(count / seconds, 1), "cpu_seconds": round(cpu, 2),
            "peak_rss_mb": round(peak, 1),
            "db": db, "machine": machine()})
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


def data_files(size: str, out: Path, *, seed: int, numbers: bool) -> dict[str, Path]:
    """The generated files of ``size`` in ``out``: written unless a previous run left them
    there (a ``.done`` mark names the size, seed and mode they were made with)."""
    mark = out / ".done"
    wanted = f"{size} {seed} {numbers}"
    kinds = ["customers", "invoices"] + (["receipts"] if numbers else [])
    if mark.exists() and mark.read_text() == wanted:
        return {kind: out / f"{kind}.csv" for kind in kinds}
    paths = generate(size, out, seed=seed, numbers=numbers)
    mark.write_text(wanted)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size", choices=SIZES, nargs="?", default="large")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--numbers", action="store_true",
                        help="files keep their numbers; also import receipts")
    parser.add_argument("--database-url", help="PostgreSQL server to run on (a new database "
                                               "is created next to the one named)")
    parser.add_argument("--data", type=Path, help="directory for the generated files, kept "
                                                  "and reused by later runs of the same size")
    parser.add_argument("--label", default="", help="recorded with the figures, e.g. before")
    parser.add_argument("--results", type=Path, default=HERE / "results",
                        help="directory of the JSON results file (default bench/results)")
    args = parser.parse_args()
    with bench_database(args.database_url) as (home, db):
        results = run(args.size, home, seed=args.seed, numbers=args.numbers, db=db,
                      data=args.data)
    stamp = datetime.now(UTC)
    for r in results:
        r["date"] = stamp.strftime("%Y-%m-%d %H:%M")
        if args.label:
            r["label"] = args.label
        r["load_average"] = [round(x, 2) for x in os.getloadavg()]
        print(json.dumps(r))
    args.results.mkdir(parents=True, exist_ok=True)
    name = "-".join(filter(None, ["import", args.size, db, "numbers" if args.numbers else "",
                                  args.label, stamp.strftime("%Y%m%dT%H%M%S")]))
    (args.results / f"{name}.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
