"""Databases of their own for the backup tests, on the vendor of the run: each test database
is a real, separate one (SQLite: a file under its own SALESLEDGER_HOME; PostgreSQL: a
database created on the run's server, named after SALESLEDGER_TEST_DB_SUFFIX and the
parallel run's worker, and dropped afterwards), and every command runs in a process of its
own, as a user runs it, so that the backup, the writers and the restore never share a
connection or a transaction."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from conftest import database_vendor

AS_OF = "2026-11-23"
# Wall seconds after which a command counts as hung: a guard, not a measure. At a load of 25
# on two cores the first command (``demo``: the schema made, the books loaded) took more than
# 300 s, which failed the module's fixture and so its every test.
HANG = 3600


@dataclass(frozen=True)
class Database:
    """A database a command can be pointed at: the environment that selects it."""

    name: str
    env: dict[str, str]
    home: Path

    def sql(self, statement: str) -> list[tuple[Any, ...]]:
        """Run one raw statement on a connection of its own, committed; returns its rows."""
        if "SALESLEDGER_DATABASE_URL" not in self.env:
            import sqlite3

            with sqlite3.connect(self.home / "var" / "salesledger.sqlite3") as db:
                return list(db.execute(statement))
        import psycopg

        with psycopg.connect(self.env["SALESLEDGER_DATABASE_URL"], autocommit=True) as db:
            cur = db.execute(statement)
            return list(cur.fetchall()) if cur.description else []


def _base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("SALESLEDGER_DATABASE_URL", "SALESLEDGER_TESTING",
                        "SALESLEDGER_COMPANY", "DJANGO_SETTINGS_MODULE")}
    env.update(SALESLEDGER_HOME=str(home))
    return env


def _server_url(database: str) -> str:
    parts = urlsplit(os.environ["SALESLEDGER_DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{database}"))


def _admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(_server_url("postgres"), autocommit=True) as db:
        db.execute(statement)


@pytest.fixture(scope="module")
def new_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Database]]:
    """``new_database(tag)``: an empty database of the run's vendor."""
    made: list[str] = []
    # The run's suffix and, under pytest-xdist, the worker's name (gw0, gw1...): two workers
    # may each build this module's fixture at once.
    suffix = "".join(c for c in os.environ.get("SALESLEDGER_TEST_DB_SUFFIX", "")
                     + os.environ.get("PYTEST_XDIST_WORKER", "") if c.isalnum()).lower()

    def make(tag: str) -> Database:
        home = tmp_path_factory.mktemp(tag)
        env = _base_env(home)
        if database_vendor() != "postgresql":
            return Database(tag, env, home)
        name = f"test_salesledger_{suffix}_bk_{tag}"
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        _admin(f"CREATE DATABASE {name} TEMPLATE template0")
        made.append(name)
        env["SALESLEDGER_DATABASE_URL"] = _server_url(name)
        return Database(name, env, home)

    yield make
    for name in made:
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def cli(db: Database, *argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``salesledger ARGV`` in a process of its own, on ``db``."""
    return subprocess.run([sys.executable, "-m", "salesledger.cli.main", *argv], env=db.env,
                          cwd=cwd or db.home, capture_output=True, text=True, timeout=HANG)


# What the books say, through the command line's --json answers, each command run in one
# process (one start of Django for all of them).
_REPORTS = """
import contextlib, hashlib, io, json, pathlib, sys
from salesledger.cli.main import main
out = {}
def run(*argv):
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        status = main(list(argv))
    assert status == 0, (argv, status)
    return json.loads(text.getvalue())
as_of = sys.argv[1]
customers = [c["code"] for c in run("customer", "list", "--json")]
out["check"] = run("check", "--json")
out["balance"] = run("balance", "--json", "--as-of", as_of)
out["open-items"] = run("open-items", "--json", "--as-of", as_of)
for kind in ("customers", "invoices", "receipts", "open-items"):
    out["export " + kind] = run("export", kind, "--json", "--as-of", as_of)
out["invoices"] = run("invoice", "list", "--json")
for code in customers:
    out["customer " + code] = run("customer", "show", code, "--json", "--as-of", as_of)
for code in customers[:2]:
    pdf = pathlib.Path(f"statement-{code}.pdf")
    run("customer", "statement", code, "--as-of", as_of, "--output", str(pdf), "--json")
    out["statement " + code] = hashlib.sha256(pdf.read_bytes()).hexdigest()
    pdf.unlink()
print(json.dumps(out, sort_keys=True))
"""


def reports(db: Database) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", _REPORTS, AS_OF], env=db.env, cwd=db.home,
                          capture_output=True, text=True, timeout=HANG)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result
