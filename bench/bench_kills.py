"""Benchmark: SIGKILL at random moments of four real jobs, and resume (the kill harness).

    .venv/bin/python bench/bench_kills.py                      # large: 1,000 kills, SQLite
    .venv/bin/python bench/bench_kills.py small                # 200 kills, the CI's sizes
    .venv/bin/python bench/bench_kills.py large --database-url postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/bench_kills.py --seed 7 --kills 400 # other moments, other counts

Runs ``tests/faults/harness.py`` (what it does, and why it forks one Django-initialised
process per command: its docstring) in this process: a CSV import, an automatic allocation
run, the recurring run and the worker freezing PDFs, each killed with SIGKILL after a seeded
random delay between 0 and its typical duration, one to five times in a row, then run again
to the end. After every kill the books must pass ``salesledger check`` and keep what they
acknowledged, once; every resumed job must end exactly where an uninterrupted run ends. On
PostgreSQL each job's database sessions are also ended (``pg_terminate_backend``) at random
moments of some runs (5 per job at ``small``, 25 at ``large``): the command must finish or stop
with ``database_connection_lost``, and run again reach the same end.

Sizes: ``small`` is what CI runs (200 kills; 60 invoices in the file, 12 customers to
allocate, 2 schedules of four periods, 3 PDFs); ``large`` 1,000 kills on slightly larger jobs
(150 invoices, 30 customers, 6 schedules, 6 PDFs). The databases are new: SQLite files in a
temporary directory, or with ``--database-url`` databases named ``salesledger_bench_kills_PID_*``
on that server, dropped at the end.

Prints one JSON object and writes it to ``bench/results/kills-SIZE-DB[-LABEL]-TIMESTAMP.json``:
``{"benchmark": "kills", "size", "database", "seed", "kills", "seconds", "jobs": {job: {"kills",
"trials", "finished_before_kill", "resumes", "connections_dropped",
"stopped_by_a_dropped_connection", "typical_seconds", "seconds", "kill_delay_seconds"}},
"machine", "date", "load_average"}``. Exits 1, naming the seed, job, trial and delay, if a kill
broke the books or a resumed job ended elsewhere.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_import import machine  # noqa: E402

# size: (the harness's size, kills in all, dropped connections per job on PostgreSQL)
SIZES = {"small": ("ci", 200, 5), "large": ("bench", 1000, 25)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("size", nargs="?", choices=sorted(SIZES), default="large")
    parser.add_argument("--kills", type=int, help="kills in all (default: the size's)")
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--jobs", default="import,auto_allocate,recurring,pdf")
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite)")
    parser.add_argument("--label", default="")
    parser.add_argument("--results", type=Path, default=HERE / "results")
    args = parser.parse_args()
    harness_size, kills, drops = SIZES[args.size]
    work = Path(tempfile.mkdtemp(prefix="salesledger-bench-kills-"))
    os.environ["SALESLEDGER_HOME"] = str(work)
    os.environ.pop("SALESLEDGER_DATABASE_URL", None)
    if args.database_url:
        parts = urlsplit(args.database_url)
        os.environ["SALESLEDGER_DATABASE_URL"] = urlunsplit(
            parts._replace(path=f"/salesledger_bench_kills_{os.getpid()}"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesledger.config.settings")
    import django

    django.setup()
    from tests.faults import harness

    jobs = [j for j in args.jobs.split(",") if j]
    try:
        result = harness.run(kills=args.kills or kills, size=harness.SIZES[harness_size],
                             seed=args.seed, jobs=jobs, work=work, drops=drops,
                             report=lambda line: print(line, file=sys.stderr, flush=True))
    except harness.HarnessFailure as exc:
        print(f"bench_kills: {exc}\nrepeat with: bench/bench_kills.py {args.size} --seed "
              f"{args.seed} --jobs {','.join(jobs)}"
              + (f" --kills {args.kills}" if args.kills else ""), file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result.update(size=args.size, machine=machine(), date=time.strftime("%Y-%m-%d %H:%M"),
                  load_average=[round(x, 2) for x in os.getloadavg()])
    if args.label:
        result["label"] = args.label
    print(json.dumps(result, indent=1))
    args.results.mkdir(parents=True, exist_ok=True)
    name = "-".join(x for x in ("kills", args.size, result["database"], args.label,
                                time.strftime("%Y%m%dT%H%M%S")) if x)
    (args.results / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
