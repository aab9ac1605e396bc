"""A scheduled statement run killed with SIGKILL in the middle, twice, then run again to its
end (the next day, as the worker would): every customer receives its statement of the period
at most once, read from a real SMTP server (aiosmtpd), and those not received are reported as
``outcome_unknown`` (the kill fell while the server had the message). The run is a real
``salesledger customer statement --schedule run --send`` process on a SQLite database of its
own, killed once the server has received a few of its messages (see test_dunning_kill.py)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from salesledger.apps.documents.tests.conftest import Mailbox

from .test_dunning_kill import _cli, _env, mailbox

__all__ = ["mailbox"]

CUSTOMERS = 16
RUN = ("customer", "statement", "--schedule", "run", "--send")


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
    _cli(env, "customer", "statement", "--schedule", "set", "--every", "monthly", "--day", "1",
         "--as-of", "2025-02-01")


def _kill_after(env: dict[str, str], box: Mailbox, more: int, delay: float = 0.0) -> bool:
    start = len(box.received)
    proc = subprocess.Popen([sys.executable, "-m", "salesledger.cli.main", *RUN, "--as-of",
                             "2025-03-01", "--json"], env=env,
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


def test_a_statement_run_killed_twice_and_resumed_sends_nothing_twice(
        tmp_path: Path, mailbox: Mailbox) -> None:
    env = _env(tmp_path, mailbox)
    _books(tmp_path, env)
    killed = [_kill_after(env, mailbox, 3), _kill_after(env, mailbox, 3, delay=0.05)]
    assert killed == [True, True], "the run ended before its kill: give it more customers"
    assert len(mailbox.received) < CUSTOMERS
    # resumed the next day: the same period (the statements of 1 March)
    resumed = _cli(env, *RUN, "--as-of", "2025-03-02")
    to = Counter(r.rcpt_tos[0] for r in mailbox.received)
    assert max(to.values()) == 1, to.most_common(3)
    unknown = {s["customer"] for s in resumed["skipped"] if s["reason"] == "outcome_unknown"}
    reached = {f"K{n:03d}" for n in range(1, CUSTOMERS + 1) if f"k{n}@example.com" in to}
    assert len(unknown) <= 2
    assert reached | unknown == {f"K{n:03d}" for n in range(1, CUSTOMERS + 1)}
    again = _cli(env, *RUN, "--as-of", "2025-03-31")
    assert (again["customers"], again["messages_sent"]) == (0, 0)
    assert len(mailbox.received) == len(reached)
    assert _cli(env, "check")["ok"] is True
