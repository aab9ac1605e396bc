"""A scheduled statement run killed with SIGKILL in the middle, twice, then run again to its
end (the next day, as the worker would): every customer receives its statement of the period
at most once, read from a real SMTP server (aiosmtpd), and those not received are reported as
``outcome_unknown`` (the kill fell while the server had the message). The run is a real
``salesledger customer statement --schedule run --send`` process on a database of its own
(SQLite, or PostgreSQL when the suite runs on it: ``killed_runs.py``), killed once the server
has received a few of its messages."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from salesledger.apps.documents.tests.conftest import Mailbox

from .killed_runs import books, cli, command_database, command_env, kill_after, mailbox

__all__ = ["command_database", "mailbox"]

CUSTOMERS = 16
RUN = ("customer", "statement", "--schedule", "run", "--send")
FIRST = [*RUN, "--as-of", "2025-03-01"]


def test_a_statement_run_killed_twice_and_resumed_sends_nothing_twice(
        tmp_path: Path, mailbox: Mailbox, command_database: str | None) -> None:
    env = command_env(tmp_path, mailbox, command_database)
    books(tmp_path, env, CUSTOMERS)
    cli(env, "customer", "statement", "--schedule", "set", "--every", "monthly", "--day", "1",
        "--as-of", "2025-02-01")
    killed = [kill_after(env, mailbox, FIRST, 3),
              kill_after(env, mailbox, FIRST, 3, delay=0.05)]
    assert killed == [True, True], "the run ended before its kill: give it more customers"
    assert len(mailbox.received) < CUSTOMERS
    # resumed the next day: the same period (the statements of 1 March)
    resumed = cli(env, *RUN, "--as-of", "2025-03-02")
    to = Counter(r.rcpt_tos[0] for r in mailbox.received)
    assert max(to.values()) == 1, to.most_common(3)
    unknown = {s["customer"] for s in resumed["skipped"] if s["reason"] == "outcome_unknown"}
    reached = {f"K{n:03d}" for n in range(1, CUSTOMERS + 1) if f"k{n}@example.com" in to}
    assert len(unknown) <= 2
    assert reached | unknown == {f"K{n:03d}" for n in range(1, CUSTOMERS + 1)}
    again = cli(env, *RUN, "--as-of", "2025-03-31")
    assert (again["customers"], again["messages_sent"]) == (0, 0)
    assert len(mailbox.received) == len(reached)
    assert cli(env, "check")["ok"] is True
