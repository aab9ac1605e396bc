"""Matching speed, two versions of the code against one prepared copy of the books.

    # once: a copy of the shared books, the statement of bench_match.on_books made on it
    .venv/bin/python bench/bench_match_ab.py prepare --shared-books BOOKS --into DIR
    .venv/bin/python bench/bench_match_ab.py prepare --shared-books DBNAME --into COPY \
        --database-url postgres://postgres@127.0.0.1:5432/postgres
    # each run a new process: ``bank_match --dry-run`` of every line, timed, its decisions kept
    .venv/bin/python bench/bench_match_ab.py run --books DIR --decisions after.json
    PYTHONPATH=/path/to/other/src .venv/bin/python bench/bench_match_ab.py run --books DIR \
        --decisions before.json
    .venv/bin/python bench/bench_match_ab.py compare before.json after.json

``bench_match.py large --shared-books`` copies the books and makes the statement on them for
every run (minutes of CPU at the issue's size); the dry run writes nothing, so one prepared
copy serves every run of every version. ``run`` prints one JSON object: the matching's
process CPU seconds (``time.process_time``; on SQLite the database's work is in it) and, on
PostgreSQL, the backend's (``/proc/<pid>/stat``), wall seconds, and the figures of the dry
run at the threshold (precision, recall, top-3 of the reviewed lines, noise left unapplied:
a line counts as applied when its best proposal reaches the threshold, as
``bench_match.py --match-only`` counts it). ``compare`` fails (exit 1) when any line's
decision, proposals, confidences or evidence differ. The version of the code is the one
Python imports: ``PYTHONPATH`` pointing at another checkout's ``src`` runs that one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_match  # noqa: E402

SEED = 20261206


def _database(books: str, database_url: str | None) -> None:
    """Point Django at the prepared copy: a SQLite home folder, or a PostgreSQL database
    next to the one ``database_url`` names."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesledger.config.settings")
    os.environ["SALESLEDGER_SECRET_KEY"] = "bench-not-secret"
    if database_url is None:
        os.environ.pop("SALESLEDGER_DATABASE_URL", None)
        os.environ["SALESLEDGER_HOME"] = str(Path(books).resolve())
    else:
        parts = urlsplit(database_url)
        os.environ["SALESLEDGER_DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{books}"))
        home = Path(os.environ.get("TMPDIR", "/tmp")) / f"salesledger-ab-{os.getpid()}"
        (home / "var").mkdir(parents=True, exist_ok=True)
        os.environ["SALESLEDGER_HOME"] = str(home)


def prepare(source: str, into: str, database_url: str | None, seed: int) -> None:
    if database_url is None:
        if Path(into).exists():
            raise SystemExit(f"{into} exists: prepare into a new folder")
        subprocess.run(["cp", "-a", source, into], check=True)
    else:
        import psycopg

        admin = psycopg.connect(database_url, autocommit=True)
        for attempt in range(120):  # the template may be read by someone: wait 10 min
            try:
                admin.execute(f'CREATE DATABASE "{into}" TEMPLATE "{source}"')
                break
            except psycopg.errors.ObjectInUse:
                if attempt == 119:
                    raise
                time.sleep(5)
        admin.close()
    _database(into, database_url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    books = bench_match.on_books(bench_match.SIZES["large"][0], seed)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    meta = bench_match._meta(books)
    target = (Path(into) if database_url is None else Path(".")) / (
        "ab-meta.json" if database_url is None else f"{into}-ab-meta.json")
    target.write_text(json.dumps(meta))
    print(json.dumps({"prepared": into, "lines": len(meta["truth"]), "meta": str(target)}))


def run(books: str, database_url: str | None, decisions: Path | None, threshold: float,
        meta_file: Path, profile: Path | None = None) -> dict[str, Any]:
    _database(books, database_url)
    import django

    django.setup()
    from salesledger.apps.banking.matching import bank_match

    if os.environ.get("BENCH_MATCH_UNMAPPED"):  # the same code, its file read unmapped
        import contextlib

        from salesledger.apps.banking import matching

        matching.pages_mapped = contextlib.nullcontext  # type: ignore[assignment]
    b = bench_match._unmeta(json.loads(meta_file.read_text()))
    clock = bench_match.Clock()
    profiler = bench_match._profiler(profile.parent if profile else None,
                                     profile.stem if profile else "")
    clock.start()
    with profiler:
        proposed = bank_match(actor=b["owner"], company=b["company"], dry_run=True)
    clock.stop()
    if decisions is not None:
        decisions.write_text(json.dumps({"proposed": [bench_match._decision(r)
                                                      for r in proposed]}) + "\n")
    truth = b["truth"]
    done = [bench_match._as_applied(r, threshold) for r in proposed]
    applied = [r for r in done if r.decision == "applied"]
    right = sum(bench_match._right(r.proposal, truth[r.line.pk]) for r in applied)
    matchable = [lid for lid, (cid, _) in truth.items() if cid is not None]
    review = [r for r in done if r.decision != "applied" and truth[r.line.pk][0] is not None]
    top3 = sum(1 for r in review
               if any(bench_match._right(s, truth[r.line.pk]) for s in r.suggestions[:3]))
    noise = [r for r in done if truth[r.line.pk][0] is None]
    noise_left = sum(1 for r in noise if r.decision != "applied")
    import salesledger

    return {"benchmark": "match_ab", "db": "sqlite" if database_url is None else "postgresql",
            "code": str(Path(salesledger.__file__).resolve().parents[1]),
            "lines": len(proposed), "threshold": threshold,
            "match_cpu_seconds": round(clock.cpu, 2),
            "match_server_cpu_seconds": round(clock.server, 2),
            "match_seconds": round(clock.wall, 2),
            "precision": round(right / len(applied), 4) if applied else None,
            "recall": round(right / len(matchable), 4) if matchable else None,
            "top3_recall_review": round(top3 / len(review), 4) if review else None,
            "noise_unapplied": round(noise_left / len(noise), 4) if noise else None,
            "applied": len(applied), "sent_to_review": len(review),
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "load_average": [round(x, 1) for x in os.getloadavg()]}


def compare(before: Path, after: Path) -> list[str]:
    a, b = json.loads(before.read_text()), json.loads(after.read_text())
    out = []
    if len(a["proposed"]) != len(b["proposed"]):
        out.append(f"{len(a['proposed'])} lines before, {len(b['proposed'])} after")
    for x, y in zip(a["proposed"], b["proposed"], strict=False):
        if x != y:
            out.append(f"line {x[0]}: {x} before, {y} after")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare", help="copy the shared books and make the statement on them")
    p.add_argument("--shared-books", required=True, help="the books' folder (SQLite) or, "
                   "with --database-url, their database")
    p.add_argument("--into", required=True, help="a new folder (SQLite) or database name")
    p.add_argument("--database-url")
    p.add_argument("--seed", type=int, default=SEED)
    r = sub.add_parser("run", help="time the dry run of every line on a prepared copy")
    r.add_argument("--books", required=True, help="the prepared folder or database")
    r.add_argument("--database-url")
    r.add_argument("--decisions", type=Path, help="write each line's decisions there")
    r.add_argument("--threshold", type=float, default=0.7089, help="for the figures")
    r.add_argument("--profile", type=Path, help="write the dry run's cProfile statistics "
                   "to this file (NAME.prof; the timings then include the profiler's cost)")
    r.add_argument("--meta", type=Path, help="the prepared copy's meta file (default: "
                   "BOOKS/ab-meta.json, or BOOKS-ab-meta.json on PostgreSQL)")
    c = sub.add_parser("compare", help="fail when two runs' decisions differ")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args.shared_books, args.into, args.database_url, args.seed)
    elif args.command == "run":
        meta = args.meta or (Path(args.books) / "ab-meta.json" if args.database_url is None
                             else Path(f"{args.books}-ab-meta.json"))
        print(json.dumps(run(args.books, args.database_url, args.decisions, args.threshold,
                             meta, args.profile)))
    else:
        differ = compare(args.before, args.after)
        for d in differ[:20]:
            print(d, file=sys.stderr)
        if differ:
            raise SystemExit(f"{len(differ)} line(s) differ")
        print("every line's decisions are the same", file=sys.stderr)


if __name__ == "__main__":
    main()
