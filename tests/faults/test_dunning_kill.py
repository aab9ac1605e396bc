"""A dunning run killed with SIGKILL in the middle, twice, then run again to its end: every
customer is reminded at most once (read from a real SMTP server, aiosmtpd, that the command
sends to) and charged exactly once, and the books check.

The run is a real ``salesledger dunning run --send`` process on a database of its own (a
SQLite file under the test's temporary directory, or a PostgreSQL database when the suite runs
on PostgreSQL: ``killed_runs.py``), killed once the mail server has received a few of its
messages: the moment is the run's own progress, not a guessed delay. Bounded for CI: a few
dozen customers, two kills (``SALESLEDGER_DUNNING_CUSTOMERS`` for more).

The run is killed with one sending process, and with one per core (the run shares many
notices out between them; here from two): a sending process dies with its run, and a notice is
claimed by one sender only, so a sender still finishing its message cannot make a duplicate.

A kill that falls between the mail server's acceptance of a message and the recording of that
acceptance leaves a notice whose outcome is unknown: the resumed run does not send it again (a
duplicate is worse than a question) and reports it as ``outcome_unknown``. So the messages
received plus those reported unknown are the customers, and none is received twice.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from salesledger.apps.documents.tests.conftest import Mailbox
from salesledger.apps.dunning.run import SENDERS

from .killed_runs import books, cli, command_database, command_env, kill_after, mailbox

__all__ = ["command_database", "mailbox"]

CUSTOMERS = int(os.environ.get("SALESLEDGER_DUNNING_CUSTOMERS", "24"))
AS_OF = "2025-03-15"
RUN = ["dunning", "run", "--send", "--as-of", AS_OF]


def _senders() -> int:
    """The sending processes of a parallel run on this machine (``run._senders``)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)
    return max(1, min(SENDERS, cores))


@pytest.mark.parametrize("parallel", [False, True], ids=["one-sender", "senders-per-core"])
def test_a_run_killed_twice_and_resumed_sends_nothing_twice_and_charges_once(
        tmp_path: Path, mailbox: Mailbox, command_database: str | None, parallel: bool) -> None:
    env = command_env(tmp_path, mailbox, command_database)
    # one sending process, or (from two notices) one per core, each at most one message
    # with the server at a time: each kill may leave one unknown per sender
    env["SALESLEDGER_DUNNING_PARALLEL_FROM"] = "2" if parallel else "1000000"
    senders = _senders() if parallel else 1
    books(tmp_path, env, CUSTOMERS)
    cli(env, "dunning", "policy", "add", "STD", "--default",
        "--level", "5;First reminder;email+letter;10.00")
    killed = [kill_after(env, mailbox, RUN, 3), kill_after(env, mailbox, RUN, 3, delay=0.05)]
    assert killed == [True, True], "the run ended before its kill: give it more customers"
    assert len(mailbox.received) < CUSTOMERS
    # when the run is started again and left to finish
    resumed = cli(env, "dunning", "run", "--send", "--as-of", AS_OF)
    # then no customer received two messages, and each got one or is said to be unknown
    to = Counter(r.rcpt_tos[0] for r in mailbox.received)
    assert max(to.values()) == 1, to.most_common(3)
    unknown = {s["customer"] for s in resumed["skipped"] if s["reason"] == "outcome_unknown"}
    reached = {f"K{n:03d}" for n in range(1, CUSTOMERS + 1)
               if f"k{n}@example.com" in to}
    # (a notice whose outcome is unknown may well have arrived: it is the run that cannot
    # know, and it asks rather than send again)
    assert len(unknown) <= 2 * senders
    assert reached | unknown == {f"K{n:03d}" for n in range(1, CUSTOMERS + 1)}
    # and every customer was charged exactly once: one fee invoice of 10.00 EUR each
    notices = cli(env, "dunning", "history", "--limit", "1000")
    assert len(notices) == CUSTOMERS
    fees = [n["fee_invoice"] for n in notices]
    assert None not in fees and len(set(fees)) == CUSTOMERS
    invoices = cli(env, "invoice", "list", "--limit", "1000")
    assert len(invoices) == 2 * CUSTOMERS
    # and a run again the same day sends and charges nothing
    again = cli(env, "dunning", "run", "--send", "--as-of", AS_OF)
    assert (again["messages_sent"], again["fees"]) == (0, [])
    assert len(mailbox.received) == len(reached)
    assert cli(env, "check")["ok"] is True
