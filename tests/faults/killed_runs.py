"""What the kill tests of the runs that send (``test_dunning_kill.py``,
``test_statement_kill.py``) share: a real SMTP server (aiosmtpd) that the commands send to, a
database of the test's own for the commands (a SQLite file under the test's folder, or, when
the suite runs on PostgreSQL, a database beside the suite's test database, dropped at the end),
the ``salesledger`` command run to its end, and a run killed with SIGKILL once the server has
received a few of its messages: the moment is the run's own progress, not a guessed delay.

The commands run in processes of their own, with the environment that names their home and
their database: the suite's own database is not theirs (a test's transaction would hide their
rows, and Django's test database is emptied between tests).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from salesledger.apps.documents.tests.conftest import Mailbox, _free_port

# A command that has not ended after this long is a hang, not a slow machine.
COMMAND_TIMEOUT = 600


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server on a free port; what it received is ``mailbox.received``."""
    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    box = Mailbox("127.0.0.1", _free_port())
    controller = Controller(box, hostname=box.host, port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def command_database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The database URL of the test's commands: None on SQLite (a file in their home); on
    PostgreSQL an empty database named after the suite's test database (its suffix keeps two
    runs on one server apart) and the test, dropped afterwards."""
    from django.conf import settings
    from django.db import connections

    if connections["default"].vendor != "postgresql":
        yield None
        return
    import psycopg

    db = settings.DATABASES["default"]
    name = f"{_suite_database_name()}_{request.module.__name__.rsplit('.', 1)[-1]}"
    auth = f"{db.get('USER') or 'postgres'}" + (f":{db['PASSWORD']}" if db.get("PASSWORD")
                                                else "")
    where = f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    admin_kw = {"dbname": "postgres", "host": db.get("HOST") or None,
                "port": db.get("PORT") or None, "user": db.get("USER") or None,
                "password": db.get("PASSWORD") or None, "autocommit": True}
    with psycopg.connect(**admin_kw) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://{auth}@{where}/{name}"
    finally:
        with psycopg.connect(**admin_kw) as admin:
            # FORCE: the backend of a killed command may not have noticed yet.
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _suite_database_name() -> str:
    """The suite's test database name, with the run's ``SALESLEDGER_TEST_DB_SUFFIX``."""
    from django.conf import settings

    name = settings.DATABASES["default"].get("TEST", {}).get("NAME") or "test_salesledger"
    suffix = os.environ.get("SALESLEDGER_TEST_DB_SUFFIX", "").strip()
    return f"{name}_{suffix}" if suffix and not name.endswith(f"_{suffix}") else name


def command_env(home: Path, box: Mailbox, database_url: str | None) -> dict[str, str]:
    """The environment of the test's commands: this process's, without its own salesledger
    settings (but the sizes the tests read), with the home, the mail server, the company and,
    on PostgreSQL, the database."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SALESLEDGER_") or k == "SALESLEDGER_DUNNING_CUSTOMERS"}
    env.update(SALESLEDGER_HOME=str(home), SALESLEDGER_EMAIL_HOST=box.host,
               SALESLEDGER_EMAIL_PORT=str(box.port), SALESLEDGER_COMPANY="acme")
    if database_url:
        env["SALESLEDGER_DATABASE_URL"] = database_url
    return env


def cli(env: dict[str, str], *argv: str) -> Any:
    """``salesledger ARGV --json`` run to its end; its JSON answer."""
    done = subprocess.run([sys.executable, "-m", "salesledger.cli.main", *argv, "--json"],
                          env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    assert done.returncode == 0, (argv, done.stdout[-2000:], done.stderr[-2000:])
    return json.loads(done.stdout)


def books(home: Path, env: dict[str, str], customers: int) -> None:
    """A company ``acme`` with ``customers`` customers K001... (each with an e-mail address
    k1@example.com...) and an invoice each, issued on 2025-01-10."""
    path = home / "customers.csv"
    path.write_text("code,name,country,email,tax_id\n" + "".join(
        f"K{n:03d},Customer {n},FR,k{n}@example.com,\n" for n in range(1, customers + 1)),
        encoding="utf-8")
    invoices = home / "invoices.csv"
    invoices.write_text("ref,customer,issue_date,description,quantity,unit_price,tax_rate\n"
                        + "".join(f"R{n},K{n:03d},2025-01-10,Consulting,1,{100 + n}.00,20\n"
                                  for n in range(1, customers + 1)), encoding="utf-8")
    cli(env, "init", "--company", "acme", "--owner", "alice")
    cli(env, "import", "customers", str(path))
    cli(env, "import", "invoices", str(invoices))


def kill_after(env: dict[str, str], box: Mailbox, argv: list[str], more: int,
               delay: float = 0.0) -> bool:
    """Start ``salesledger ARGV`` and SIGKILL it ``delay`` seconds after the server has
    ``more`` new messages; False if it finished first. With no delay the kill falls while
    the run records what the server answered; with one, in the work on the next customer."""
    start = len(box.received)
    proc = subprocess.Popen([sys.executable, "-m", "salesledger.cli.main", *argv, "--json"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + COMMAND_TIMEOUT
    while proc.poll() is None and time.monotonic() < deadline:
        if len(box.received) >= start + more:
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.005)
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    return False
