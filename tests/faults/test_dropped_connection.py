"""A connection dropped in the middle of a command (PostgreSQL): the server ends the session of
a real ``salesledger`` process (``pg_terminate_backend``, as an operator or a restart would)
while it waits in the middle of an automatic allocation run. The command says so in one line,
``database_connection_lost: ...``, exits 2 without a traceback and says it can be run again;
what it had committed stays, and running it again ends where an uninterrupted run ends."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from salesledger.apps.core.invariants import check_company
from salesledger.apps.payments.models import Allocation
from salesledger.apps.runs.models import AllocationRun

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
DAY = "2026-06-30"


def _cli(*argv: str, home: Path) -> subprocess.Popen[str]:
    """``salesledger ARGV`` in its own process, on this test's database."""
    db = connection.settings_dict
    url = (f"postgres://{db['USER'] or 'postgres'}"
           f"{':' + db['PASSWORD'] if db.get('PASSWORD') else ''}@{db['HOST'] or '127.0.0.1'}:"
           f"{db['PORT'] or 5432}/{db['NAME']}")
    env = {k: v for k, v in os.environ.items() if k != "SALESLEDGER_TESTING"}
    env.update(SALESLEDGER_DATABASE_URL=url, SALESLEDGER_HOME=str(home))
    return subprocess.Popen([sys.executable, "-m", "salesledger.cli.main", *argv], env=env,
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _waiting_backend(timeout: float = 60.0) -> int:
    """The backend of another session of this database that waits for a lock."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cur:
        while time.monotonic() < deadline:
            cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'")
            row = cur.fetchone()
            if row:
                return int(row[0])
            time.sleep(0.05)
    raise AssertionError("the command never waited for the lock")


@pytest.fixture
def books(company: Any, make_customer: Any, post_invoice: Any, record_receipt: Any) -> Any:
    """Three customers, each owing 120.00 and having paid 100.00, not allocated yet."""
    from datetime import date

    receipts = []
    for code in ("C1", "C2", "C3"):
        make_customer(code)
        post_invoice(code, lines=[("Audit", "1", "100.00", "20")], issue_date=date(2026, 5, 4))
        receipts.append(record_receipt(code, "100.00", date(2026, 5, 20)))
    return receipts


def test_a_dropped_connection_is_one_clear_line_and_the_command_runs_again(books: Any,
                                                                            company: Any,
                                                                            tmp_path: Path
                                                                            ) -> None:
    import psycopg

    db = connection.settings_dict
    # given another session holding the second customer's receipt
    holder = psycopg.connect(dbname=db["NAME"], host=db["HOST"] or None,
                             port=db["PORT"] or None, user=db["USER"] or None,
                             password=db.get("PASSWORD") or None)
    try:
        holder.execute("SELECT id FROM payments_receipt WHERE id = %s FOR UPDATE",
                       [books[1].pk])
        # when the run, one customer per transaction, waits for it in its second chunk and
        # the server ends its session
        proc = _cli("receipt", "auto-allocate", "--as-of", DAY, "--chunk", "1", home=tmp_path)
        backend = _waiting_backend()
        with connection.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", [backend])
        out, err = proc.communicate(timeout=120)
    finally:
        holder.rollback()
        holder.close()
    # then the command says so in one line, exit 2, no traceback, and that it can run again
    assert proc.returncode == 2, (out, err)
    assert err.startswith("database_connection_lost: the connection to the database "
                          "(postgresql "), err
    assert "run again" in err and "Traceback" not in err, err
    # and what it had committed is there: the first customer's chunk, acknowledged by the run
    [run] = AllocationRun.objects.all()
    assert run.status == "running" and run.allocations == 1
    assert list(Allocation.objects.values_list("receipt_id", flat=True)) == [books[0].pk]
    assert check_company(company) == []
    # when the same command is run again
    again = _cli("receipt", "auto-allocate", "--as-of", DAY, "--chunk", "1", home=tmp_path)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    # then it continued the run to the end an uninterrupted run reaches: each receipt
    # allocated once, in full, and the books check
    assert "(resumed)" in out and "allocated 3 allocations from 3 receipts" in out, out
    run.refresh_from_db()
    assert (run.status, run.customers, run.receipts, run.allocations) == ("finished", 3, 3, 3)
    assert sorted(Allocation.objects.values_list("receipt_id", "amount")) == [
        (r.pk, 10000) for r in books]
    assert check_company(company) == []
