"""Benchmark: applying the sure lines of a statement alone, replayed on copies of one prepared
database, so that two versions of the writing path are timed on the same lines.

    # once: a copy of the shared books, the statement of bench_match.py made on it, matched
    # at the threshold; the sure lines kept (nothing applied), the database kept as it is
    .venv/bin/python bench/bench_apply.py prepare --shared-books /var/tmp/books/issue-h1-... \
        --threshold 0.7089 --out /var/tmp/apply-prep
    .venv/bin/python bench/bench_apply.py prepare --shared-books salesledger_books_... \
        --database-url postgres://postgres@127.0.0.1:5432/postgres --threshold 0.7089 \
        --out /var/tmp/apply-prep-pg
    # then as often as wanted: each run a fresh copy of the prepared database, the sure
    # lines applied batch by batch through ``_apply_sure`` (what ``bank match --auto-apply``
    # calls), timed
    .venv/bin/python bench/bench_apply.py run --prepared /var/tmp/apply-prep --repeat 3
    PYTHONPATH=/path/to/other/src .venv/bin/python bench/bench_apply.py run --prepared ...

``bench_match.py --apply-only`` times the same writing inside a whole ``bank match
--auto-apply`` run, which matches every line first (about three times the applying's CPU at
the issue's size); here the matching is done once, in ``prepare``, and each run only
applies. The lines of a batch are those ``bank_match`` would apply in it, matched against
the books before any of them was applied (a real run matches the second batch after the
first is written; the lines applied are nearly the same, and both versions replay the very
same ones).

Each run is a process of its own (``run`` starts them in turn): the database copied (SQLite:
the file; PostgreSQL: ``CREATE DATABASE ... TEMPLATE``), Django set up, the lines read, then
the batches applied. It reports the receipts applied, the process's CPU seconds
(``time.process_time()``: with SQLite the database's work is in it) and the PostgreSQL
backend's (``/proc/<pid>/stat``), and receipts per CPU-second of both together; ``run``
prints each run and the medians, and with ``--results DIR`` writes them there.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_import import machine, server_cpu_seconds  # noqa: E402

LINES = 10_000  # the statement of bench_match.py's ``large``


def _environ(home: Path, url: str | None) -> None:
    os.environ.update(DJANGO_SETTINGS_MODULE="salesledger.config.settings",
                      SALESLEDGER_HOME=str(home), SALESLEDGER_SECRET_KEY="bench-not-secret")
    if url is None:
        os.environ.pop("SALESLEDGER_DATABASE_URL", None)
    else:
        os.environ["SALESLEDGER_DATABASE_URL"] = url


def _admin(database_url: str) -> Any:
    import psycopg

    return psycopg.connect(database_url, autocommit=True)


def _copy_database(admin: Any, source: str, name: str) -> None:
    for attempt in range(120):  # the template may be read by someone: wait up to 10 min
        try:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
            return
        except Exception as exc:  # psycopg.errors.ObjectInUse
            if "being accessed" not in str(exc) or attempt == 119:
                raise
            time.sleep(5)


def prepare(args: argparse.Namespace) -> None:
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    home = out / "home"
    url = None
    if args.kept is not None and args.database_url is None:  # kept by bench_match --books
        if home.exists():
            shutil.rmtree(home)
        (home / "var").mkdir(parents=True)
        shutil.copyfile(args.kept.with_suffix(".sqlite3"), home / "var" / "salesledger.sqlite3")
    elif args.database_url is None:
        if home.exists():
            shutil.rmtree(home)
        subprocess.run(["cp", "-a", args.shared_books, str(home)], check=True)
    else:
        home.mkdir(exist_ok=True)
        (home / "var").mkdir(exist_ok=True)
        name = f"{args.name}_prep"
        admin = _admin(args.database_url)
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        url = urlunsplit(urlsplit(args.database_url)._replace(path=f"/{name}"))
        if args.kept is not None:
            admin.execute(f'CREATE DATABASE "{name}"')
            subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "-d", url,
                            str(args.kept.with_suffix(".dump"))], check=True)
        else:
            _copy_database(admin, args.shared_books, name)
        admin.close()
    _environ(home, url)
    import django

    django.setup()
    from bench_match import _unmeta, on_books
    from django.core.management import call_command
    from django.db import connection, connections

    from salesledger.apps.banking import matching

    call_command("migrate", verbosity=0)
    books = (_unmeta(json.loads(args.kept.with_suffix(".json").read_text())["bench"])
             if args.kept is not None else on_books(LINES, args.seed))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    batches: list[list[tuple[int, Any]]] = []

    def record(company: Any, actor: Any, sure: Any) -> list[Any]:
        batches.append([(row.pk, d) for row, d in sure])
        return []

    matching._apply_sure = record  # type: ignore[assignment]
    matching.bank_match(actor=books["owner"], company=books["company"], auto_apply=True,
                        threshold=args.threshold)
    connections.close_all()
    (out / "prepared.pickle").write_bytes(pickle.dumps({
        "company": books["company"].code, "owner": books["owner"].username,
        "batches": batches, "database": url and urlsplit(url).path.lstrip("/"),
        "threshold": args.threshold, "seed": args.seed,
        "books": (args.kept or Path(args.shared_books)).name}))
    print(json.dumps({"prepared": str(out), "batches": [len(b) for b in batches],
                      "sure_lines": sum(len(b) for b in batches)}))


def one(args: argparse.Namespace) -> None:
    """One timed run, in this process (``run`` starts it)."""
    prepared = pickle.loads((args.prepared / "prepared.pickle").read_bytes())
    with tempfile.TemporaryDirectory(prefix="salesledger-apply-", dir=args.scratch) as tmp:
        home = Path(tmp) / "home"
        url, admin, name = None, None, None
        if prepared["database"] is None:
            subprocess.run(["cp", "-a", str(args.prepared / "home"), str(home)], check=True)
        else:
            (home / "var").mkdir(parents=True)
            name = f"{prepared['database']}_run_{os.getpid()}"
            admin = _admin(args.database_url)
            _copy_database(admin, prepared["database"], name)
            url = urlunsplit(urlsplit(args.database_url)._replace(path=f"/{name}"))
        try:
            _environ(home, url)
            result = _apply(prepared, args.profile, args.by_statement)
        finally:
            if admin is not None:
                from django.db import connections

                connections.close_all()
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.close()
    print(json.dumps(result))


def _apply(prepared: dict[str, Any], profile: Path | None, by_statement: bool
           ) -> dict[str, Any]:
    import cProfile

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection

    from salesledger.apps.banking import matching
    from salesledger.apps.banking.models import StatementLine
    from salesledger.apps.core.collector import collector_paused
    from salesledger.apps.core.models import Company

    company = Company.objects.get(code=prepared["company"])
    owner = get_user_model().objects.get(username=prepared["owner"])
    ids = [pk for batch in prepared["batches"] for pk, _ in batch]
    rows = {r.pk: r for r in StatementLine.objects.filter(pk__in=ids)
            .select_related("bank_account")}
    batches = [[(rows[pk], d) for pk, d in batch] for batch in prepared["batches"]]
    connection.ensure_connection()
    applied = 0
    server0 = server_cpu_seconds() or 0.0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    profiler = cProfile.Profile(time.process_time) if profile is not None else None
    statements: dict[str, list[float]] = {}
    if by_statement:
        _time_statements(statements)
    with collector_paused():  # as bank_match runs it
        if profiler is not None:
            profiler.enable()
        for batch in batches:
            done = matching._apply_sure(company, owner, batch)
            applied += sum(1 for r in done if r.decision == "applied")
        if profiler is not None:
            profiler.disable()
    cpu = time.process_time() - cpu0
    if profiler is not None and profile is not None:
        profiler.dump_stats(profile)
    wall = time.perf_counter() - wall0
    server = (server_cpu_seconds() or 0.0) - server0
    return {"receipts": applied, "lines": len(ids), "cpu_seconds": round(cpu, 3),
            "server_cpu_seconds": round(server, 3), "wall_seconds": round(wall, 2),
            "per_cpu_second": round(applied / (cpu + server), 1),
            "load_average": [round(x, 1) for x in os.getloadavg()],
            "db": connection.vendor, "source": str(Path(matching.__file__).parents[3]),
            **({"statements": {k: [round(v[0], 3), int(v[1])] for k, v in sorted(
                statements.items(), key=lambda kv: -kv[1][0])}} if by_statement else {})}


def _time_statements(out: dict[str, list[float]]) -> None:
    """Add up the CPU seconds of this process's statements by their kind and table (the
    first words of each): with SQLite, the database's own work."""
    import re

    from django.db import connection

    from salesledger.apps.core import bulkinsert

    def key(sql: str) -> str:
        m = re.match(r'\s*(\w+)\s+(?:INTO\s+|FROM\s+)?"?(\w+)"?', sql[:200], re.I)
        if m is None:
            return sql[:30]
        verb, table = m.group(1).upper(), m.group(2)
        if verb == "SELECT":
            f = re.search(r'FROM\s+"?(\w+)"?', sql[:2000], re.I)
            table = f.group(1) if f else table
        return f"{verb} {table}"

    def add(sql: str, spent: float) -> None:
        slot = out.setdefault(key(sql), [0.0, 0])
        slot[0] += spent
        slot[1] += 1

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        t = time.process_time()
        try:
            return execute(sql, params, many, context)
        finally:
            add(sql, time.process_time() - t)

    connection.execute_wrappers.append(wrapper)
    real = bulkinsert._execute

    def timed(connection: Any, raw: Any, sql: str, params: Any, returning: bool) -> Any:
        t = time.process_time()
        try:
            return real(connection, raw, sql, params, returning)
        finally:
            add(sql, time.process_time() - t)

    bulkinsert._execute = timed


def run(args: argparse.Namespace) -> None:
    runs = []
    for _ in range(args.repeat):
        cmd = [sys.executable, __file__, "_one", "--prepared", str(args.prepared)]
        if args.database_url:
            cmd += ["--database-url", args.database_url]
        if args.scratch:
            cmd += ["--scratch", args.scratch]
        if args.profile and not runs:  # the first run profiled (its figures include it)
            cmd += ["--profile", str(args.profile)]
        if args.by_statement:
            cmd += ["--by-statement"]
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(runs[-1]), flush=True)
    summary = {"benchmark": "apply", "label": args.label, "runs": runs,
               "median_cpu_seconds": statistics.median(r["cpu_seconds"] for r in runs),
               "median_server_cpu_seconds": statistics.median(
                   r["server_cpu_seconds"] for r in runs),
               "median_per_cpu_second": statistics.median(r["per_cpu_second"] for r in runs),
               "machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M")}
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}))
    if args.results:
        out = Path(args.results)
        out.mkdir(parents=True, exist_ok=True)
        label = f"-{args.label}" if args.label else ""
        (out / f"apply-{runs[0]['db']}-{time.strftime('%Y%m%d-%H%M%S')}{label}.json"
         ).write_text(json.dumps(summary, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare", help="make the database and the sure lines to replay")
    p.add_argument("--shared-books", help="the books' folder (SQLite) or, with "
                   "--database-url, their database")
    p.add_argument("--kept", type=Path, help="instead: books kept by bench_match.py --books "
                   "(the path without .sqlite3, .dump or .json), with their own statement")
    p.add_argument("--database-url")
    p.add_argument("--threshold", type=float, required=True)
    p.add_argument("--seed", type=int, default=20261206)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--name", default="salesledger_apply",
                   help="PostgreSQL: the prepared database is NAME_prep")
    for name in ("run", "_one"):
        r = sub.add_parser(name)
        r.add_argument("--prepared", type=Path, required=True)
        r.add_argument("--database-url")
        r.add_argument("--scratch", help="where the copies are made (default: TMPDIR)")
        r.add_argument("--profile", type=Path, help="cProfile statistics of the (first) "
                       "run's applying, in CPU seconds, written to this file")
        r.add_argument("--by-statement", action="store_true", help="add up the CPU seconds "
                       "of the statements by kind and table (their cost is included)")
        if name == "run":
            r.add_argument("--repeat", type=int, default=3)
            r.add_argument("--label", default="")
            r.add_argument("--results")
    args = parser.parse_args()
    {"prepare": prepare, "run": run, "_one": one}[args.command](args)


if __name__ == "__main__":
    main()
