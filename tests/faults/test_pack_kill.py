"""A worker killed with SIGKILL while the mail server has the monthly pack, then started
again: the pack is not sent twice. The worker is a real ``salesledger worker --once`` process
on a SQLite database of its own (the test reads its task queue back); the SMTP server
(aiosmtpd) holds its answer to the message for a few seconds, and the worker is killed once
the message has arrived, before the answer. The next worker takes the dead worker's task back
(``tasks_reclaim``), finds the pack handed over with no outcome, and reports it instead of
sending it again."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from salesledger.apps.documents.tests.conftest import Mailbox, _free_port

from .killed_runs import cli as _cli
from .killed_runs import command_env


class SlowMailbox(Mailbox):
    """Keeps each message, then waits before answering that it accepted it."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(4)
        return answer


@pytest.fixture
def slow_mailbox() -> Any:
    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    box = SlowMailbox("127.0.0.1", _free_port())
    controller = Controller(box, hostname=box.host, port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def test_a_worker_killed_while_the_server_has_the_pack_does_not_send_it_again(
        tmp_path: Path, slow_mailbox: SlowMailbox) -> None:
    env = command_env(tmp_path, slow_mailbox, None)  # a SQLite database of its own
    _cli(env, "init", "--company", "acme", "--owner", "alice", "--email", "alice@acme.example")
    # the schedule started forty days ago: a month is due today, whatever today is
    start = (date.today() - timedelta(days=40)).isoformat()
    _cli(env, "report", "pack", "--schedule", "set", "--day", "1", "--to", "alice",
         "--as-of", start)
    worker = subprocess.Popen([sys.executable, "-m", "salesledger.cli.main", "worker",
                               "--once"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while worker.poll() is None and not slow_mailbox.received and time.monotonic() < deadline:
        time.sleep(0.01)
    assert worker.poll() is None, "the worker ended before the server answered"
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert len(slow_mailbox.received) == 1
    # a new worker takes the task back and runs it: nothing is sent again
    done = subprocess.run([sys.executable, "-m", "salesledger.cli.main", "worker", "--once"],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    with sqlite3.connect(tmp_path / "var" / "salesledger.sqlite3") as db:
        [(status, workers)] = db.execute(
            "SELECT status, worker_ids FROM django_tasks_database_dbtaskresult "
            "WHERE task_path LIKE '%pack_run_task'").fetchall()
    # the task was taken back and run to its end by the second worker
    assert status == "SUCCESSFUL" and len(json.loads(workers)) == 2
    shown = _cli(env, "report", "pack", "--schedule", "show")
    [sent] = shown["sent"]
    assert sent["status"] == "queued"  # handed over, outcome unknown
    time.sleep(5)  # past the server's delay: a second message would have arrived by now
    assert len(slow_mailbox.received) == 1
    # asked again by hand, it is reported, not sent
    again = subprocess.run([sys.executable, "-m", "salesledger.cli.main", "report", "pack",
                            "--month", sent["month"], "--send"], env=env, capture_output=True,
                           text=True, timeout=600)
    assert again.returncode == 2 and "outcome unknown" in again.stdout
    assert len(slow_mailbox.received) == 1
