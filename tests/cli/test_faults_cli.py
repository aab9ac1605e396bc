"""Faults at the command line: a database another process holds, and a reader that stops
reading. Each says what happened and keeps the command's own outcome; nothing is written twice
or hidden. Real processes on a real SQLite file."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("SALESLEDGER_DATABASE_URL", "SALESLEDGER_TESTING")}
    env.update(SALESLEDGER_HOME=str(home), **extra)
    return env


def _cli(home: Path, *argv: str, **extra: str) -> subprocess.CompletedProcess[str]:
    # Generous: ``init`` migrates a new database (about 26 CPU seconds of Django's migration
    # states), and on a loaded 2-core machine that ran past two minutes.
    return subprocess.run([sys.executable, "-m", "salesledger.cli.main", *argv],
                          env=_env(home, **extra), capture_output=True, text=True, timeout=600)


@pytest.fixture
def books(tmp_path: Path) -> Path:
    for argv in (("init", "--company", "acme", "--owner", "alice"),
                 ("customer", "add", "--code", "C1", "--name", "Dupont", "--country", "FR"),
                 ("invoice", "create", "--customer", "C1", "--date", "2026-11-02",
                  "--line", "Audit;1;100;20", "--post")):
        done = _cli(tmp_path, *argv)
        assert done.returncode == 0, done.stderr
    return tmp_path


def test_a_database_held_by_another_writer_is_busy_and_nothing_is_written(books: Path) -> None:
    # given another process holding the write lock
    holder = sqlite3.connect(books / "var" / "salesledger.sqlite3", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        # when a receipt is recorded and the lock outlasts the wait
        done = _cli(books, "receipt", "record", "--customer", "C1", "--amount", "50",
                    "--date", "2026-11-20", SALESLEDGER_SQLITE_BUSY_TIMEOUT="1")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # then the command says the database is busy, exits 2, without a traceback
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("database_busy: the database (sqlite "), done.stderr
    assert "nothing was written" in done.stderr and "Traceback" not in done.stderr
    # and nothing was written: the same command now records the first receipt
    again = _cli(books, "receipt", "record", "--customer", "C1", "--amount", "50",
                 "--date", "2026-11-20")
    assert again.returncode == 0 and again.stdout.startswith("receipt RCT2026-00001"), again


def test_a_closed_pipe_does_not_hide_a_breach_that_check_found(books: Path) -> None:
    # given books whose numbering counter was moved behind the ledger's back
    with sqlite3.connect(books / "var" / "salesledger.sqlite3") as db:
        db.execute("UPDATE core_numbercounter SET last = last + 5 WHERE series = 'INV'")
    # when `check` writes to a reader that has already gone (`salesledger check | head -0`)
    proc = subprocess.Popen([sys.executable, "-m", "salesledger.cli.main", "check"],
                            env=_env(books), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    # then it still exits 1, and quietly
    assert proc.wait(timeout=120) == 1, err
    assert "Traceback" not in err and "BrokenPipe" not in err
    # and on healthy books a closed pipe is no error
    with sqlite3.connect(books / "var" / "salesledger.sqlite3") as db:
        db.execute("UPDATE core_numbercounter SET last = last - 5 WHERE series = 'INV'")
    proc = subprocess.Popen([sys.executable, "-m", "salesledger.cli.main", "check"],
                            env=_env(books), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.close()
    assert proc.wait(timeout=120) == 0
