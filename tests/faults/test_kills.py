"""Two hundred SIGKILLs at random moments of four real jobs (a CSV import, an automatic
allocation run, the recurring run, the worker freezing PDFs), on the database of this run;
after each the books check, nothing acknowledged is lost or doubled, and the job run again
ends exactly where an uninterrupted run ends. On PostgreSQL, also five runs of each job whose
database session the server ends at a random moment. The harness and why it forks:
``tests/faults/harness.py``; the figures: docs/security.md, "Faults".

The harness runs in a process of its own, on databases of its own next to this run's test
database (named after it, so ``SALESLEDGER_TEST_DB_SUFFIX`` keeps two runs on one server
apart) or, on SQLite, in files under the test's temporary directory. Seeded: set
``SALESLEDGER_KILL_SEED`` to try other moments, ``SALESLEDGER_KILLS`` for more kills."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import _test_database_name, database_vendor

ROOT = Path(__file__).resolve().parents[2]
KILLS = int(os.environ.get("SALESLEDGER_KILLS", "200"))
DROPS = 5  # per job, on PostgreSQL: sessions ended by the server in the middle of a command
SEED = os.environ.get("SALESLEDGER_KILL_SEED", "20261206")


def _harness_env(home: Path) -> dict[str, str]:
    from django.conf import settings

    env = {k: v for k, v in os.environ.items()
           if k not in ("SALESLEDGER_DATABASE_URL", "SALESLEDGER_TESTING", "SALESLEDGER_HOME")}
    env["SALESLEDGER_HOME"] = str(home)
    if database_vendor() == "postgresql":
        db = settings.DATABASES["default"]
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        env["SALESLEDGER_DATABASE_URL"] = (
            f"postgres://{db.get('USER') or 'postgres'}{password}@"
            f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/"
            f"{_test_database_name()}_kills")
    return env


def test_two_hundred_kills_leave_balanced_books_that_resume_to_the_uninterrupted_end(
        tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "tests.faults.harness", "--kills", str(KILLS),
                           "--size", "ci", "--seed", SEED, "--drops", str(DROPS)], cwd=ROOT,
                          env=_harness_env(tmp_path), capture_output=True, text=True,
                          timeout=900)
    # A failure names the seed, the job, the trial and the moment of the kill.
    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads(done.stdout)
    assert result["database"] == ("postgresql" if database_vendor() == "postgresql"
                                  else "sqlite")
    assert result["kills"] >= KILLS
    for job in ("import", "auto_allocate", "recurring", "pdf"):
        assert result["jobs"][job]["kills"] >= KILLS // 4, (job, result["jobs"][job])
    if database_vendor() == "postgresql":
        assert result["connections_dropped"] > 0, result
