"""A dunning run killed with SIGKILL in the middle, twice, then run again to its end: every
customer is reminded at most once (read from a real SMTP server, aiosmtpd, that the command
sends to) and charged exactly once, and the books check.

The run is a real ``salesledger dunning run --send`` process on a SQLite database of its own
(under the test's temporary directory), killed once the mail server has received a few of its
messages: the moment is the run's own progress, not a guessed delay. Bounded for CI: a few
dozen customers, two kills (``SALESLEDGER_DUNNING_CUSTOMERS`` for more).

A kill that falls between the mail server's acceptance of a message and the recording of that
acceptance leaves a notice whose outcome is unknown: the resumed run does not send it again (a
duplicate is worse than a question) and reports it as ``outcome_unknown``. So the messages
received plus those reported unknown are the customers, and none is received twice.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from salesledger.apps.documents.tests.conftest import Mailbox, _free_port

CUSTOMERS = int(os.environ.get("SALESLEDGER_DUNNING_CUSTOMERS", "24"))
AS_OF = "2025-03-15"


@pytest.fixture
def mailbox() -> Any:
    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    box = Mailbox("127.0.0.1", _free_port())
    controller = Controller(box, hostname=box.host, port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def _env(home: Path, box: Mailbox) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SALESLEDGER_") or k == "SALESLEDGER_DUNNING_CUSTOMERS"}
    env.update(SALESLEDGER_HOME=str(home), SALESLEDGER_EMAIL_HOST=box.host,
               SALESLEDGER_EMAIL_PORT=str(box.port), SALESLEDGER_COMPANY="acme")
    return env


def _cli(env: dict[str, str], *argv: str) -> Any:
    done = subprocess.run([sys.executable, "-m", "salesledger.cli.main", *argv, "--json"],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, (argv, done.stdout[-2000:], done.stderr[-2000:])
    return json.loads(done.stdout)


def _books(home: Path, env: dict[str, str]) -> None:
    customers = home / "customers.csv"
    customers.write_text("code,name,country,email,tax_id\n" + "".join(
        f"K{n:03d},Customer {n},FR,k{n}@example.com,\n" for n in range(1, CUSTOMERS + 1)),
        encoding="utf-8")
    invoices = home / "invoices.csv"
    invoices.write_text("ref,customer,issue_date,description,quantity,unit_price,tax_rate\n"
                        + "".join(f"R{n},K{n:03d},2025-01-10,Consulting,1,{100 + n}.00,20\n"
                                  for n in range(1, CUSTOMERS + 1)), encoding="utf-8")
    _cli(env, "init", "--company", "acme", "--owner", "alice")
    _cli(env, "import", "customers", str(customers))
    _cli(env, "import", "invoices", str(invoices))
    _cli(env, "dunning", "policy", "add", "STD", "--default",
         "--level", "5;First reminder;email+letter;10.00")


def _kill_after(env: dict[str, str], box: Mailbox, more: int, delay: float = 0.0) -> bool:
    """Start the run and SIGKILL it ``delay`` seconds after the server has ``more`` new
    messages; False if it finished first. With no delay the kill falls while the run records
    what the server answered; with one, in the work on the next customer."""
    start = len(box.received)
    proc = subprocess.Popen([sys.executable, "-m", "salesledger.cli.main", "dunning", "run",
                             "--send", "--as-of", AS_OF, "--json"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        if len(box.received) >= start + more:
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.005)
    proc.wait()
    return False


def test_a_run_killed_twice_and_resumed_sends_nothing_twice_and_charges_once(
        tmp_path: Path, mailbox: Mailbox) -> None:
    env = _env(tmp_path, mailbox)
    _books(tmp_path, env)
    killed = [_kill_after(env, mailbox, 3), _kill_after(env, mailbox, 3, delay=0.05)]
    assert killed == [True, True], "the run ended before its kill: give it more customers"
    assert len(mailbox.received) < CUSTOMERS
    # when the run is started again and left to finish
    resumed = _cli(env, "dunning", "run", "--send", "--as-of", AS_OF)
    # then no customer received two messages, and each got one or is said to be unknown
    to = Counter(r.rcpt_tos[0] for r in mailbox.received)
    assert max(to.values()) == 1, to.most_common(3)
    unknown = {s["customer"] for s in resumed["skipped"] if s["reason"] == "outcome_unknown"}
    reached = {f"K{n:03d}" for n in range(1, CUSTOMERS + 1)
               if f"k{n}@example.com" in to}
    # (a notice whose outcome is unknown may well have arrived: it is the run that cannot
    # know, and it asks rather than send again)
    assert len(unknown) <= 2
    assert reached | unknown == {f"K{n:03d}" for n in range(1, CUSTOMERS + 1)}
    # and every customer was charged exactly once: one fee invoice of 10.00 EUR each
    notices = _cli(env, "dunning", "history", "--limit", "1000")
    assert len(notices) == CUSTOMERS
    fees = [n["fee_invoice"] for n in notices]
    assert None not in fees and len(set(fees)) == CUSTOMERS
    invoices = _cli(env, "invoice", "list", "--limit", "1000")
    assert len(invoices) == 2 * CUSTOMERS
    # and a run again the same day sends and charges nothing
    again = _cli(env, "dunning", "run", "--send", "--as-of", AS_OF)
    assert (again["messages_sent"], again["fees"]) == (0, [])
    assert len(mailbox.received) == len(reached)
    assert _cli(env, "check")["ok"] is True
