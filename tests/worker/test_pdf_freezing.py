"""The issued PDF is frozen in the background moments after posting: posting queues a task
in its own transaction (the documents app listens to ``DocumentsPosted``), and the real worker
renders and stores it (that it is stored once, with its hash, however often the freeze runs,
is the documents app's own test: ``apps/documents/tests/test_freeze.py``)."""

from __future__ import annotations

import pytest
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from salesledger.apps.invoicing.models import DocumentFile
from salesledger.worker import make_worker, worker_round

pytestmark = pytest.mark.django_db

LINES = (("Conseil", "3", "411.52", "20"),)


@pytest.fixture
def worker(monkeypatch):
    # The worker closes old connections between tasks, which would end the test's
    # transaction; everything else is the real worker and the real queue.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    return make_worker(worker_id="test")


def test_posting_queues_the_freeze_and_the_worker_freezes(make_customer, post_invoice,
                                                          worker):
    make_customer("C001", name="Dupont", language="fr", country="FR")
    # given two posted invoices: each posting queued one task, and nothing is rendered yet
    first, second = post_invoice(lines=LINES), post_invoice(lines=LINES)
    assert DBTaskResult.objects.filter(task_path__endswith="freeze_pdfs_task").count() == 2
    assert not DocumentFile.objects.filter(kind="pdf").exists()
    # when the worker runs
    worker_round(worker)
    # then each document has its frozen PDF, and the tasks are done
    assert set(DocumentFile.objects.filter(kind="pdf").values_list("invoice_id", flat=True)) == {
        first.pk, second.pk}
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}


def _dead_pid() -> int:
    """The number of a process that has ended."""
    import subprocess

    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_a_task_whose_worker_was_killed_is_run_again_by_the_next_worker(make_customer,
                                                                         post_invoice,
                                                                         worker):
    # Found by the kill harness (tests/faults/): a worker killed half-way through a freeze
    # left its task "running", and no worker ever ran it again.
    import os
    import socket

    from salesledger.worker import tasks_reclaim, worker_name

    make_customer("C001", name="Dupont", language="fr", country="FR")
    first, second = post_invoice(lines=LINES), post_invoice(lines=LINES)
    host = socket.gethostname()[:40]
    tasks = list(DBTaskResult.objects.order_by("enqueued_at"))
    # given the first task claimed by a worker of this machine that is gone, the second by
    # one that is alive (this process), and a third, not retry-safe, by a dead worker too
    tasks[0].claim(f"{host}:{_dead_pid()}:killed01")
    tasks[1].claim(f"{host}:{os.getpid()}:alive001")
    from salesledger.apps.recurring.tasks import invoice_send_task

    send = invoice_send_task.enqueue("acme", 1, "2025-03-10")
    send_row = DBTaskResult.objects.get(pk=send.id)
    send_row.claim(f"{host}:{_dead_pid()}:killed02")
    # when the next worker runs a round
    worker_round(worker)
    # then the dead worker's freeze ran again and the first document has its PDF, once
    assert list(DocumentFile.objects.filter(kind="pdf").values_list("invoice_id", flat=True)
                ) == [first.pk]
    assert DBTaskResult.objects.get(pk=tasks[0].pk).status == "SUCCESSFUL"
    # and the living worker's task and the e-mail are left alone
    assert DBTaskResult.objects.get(pk=tasks[1].pk).status == "RUNNING"
    assert DBTaskResult.objects.get(pk=send_row.pk).status == "RUNNING"
    assert tasks_reclaim() == []
    # and a worker is named after its machine and process
    assert worker_name().startswith(f"{host}:{os.getpid()}:") and len(worker_name()) <= 64
    assert second.pk not in set(DocumentFile.objects.values_list("invoice_id", flat=True))


def test_a_task_that_lost_its_database_connection_is_run_again(make_customer, post_invoice,
                                                               worker):
    # Found by the kill harness (tests/faults/): a session ended by the server in the middle
    # of a freeze left the task failed (Django reconnects to record it), and no worker ran it
    # again.
    from django.db.utils import OperationalError

    from salesledger.worker import MAX_ATTEMPTS

    make_customer("C001", name="Dupont", language="fr", country="FR")
    lost, other, tired = (post_invoice(lines=LINES) for _ in range(3))
    tasks = list(DBTaskResult.objects.order_by("enqueued_at"))
    # given a freeze that lost its connection, one that failed otherwise, and one that lost it
    # on every one of its runs
    tasks[0].claim("w1")
    tasks[0].set_failed(OperationalError(
        "terminating connection due to administrator command"))
    tasks[1].claim("w1")
    tasks[1].set_failed(ValueError("not a connection"))
    for n in range(MAX_ATTEMPTS):
        tasks[2].claim(f"w{n}")
    tasks[2].set_failed(OperationalError("server closed the connection unexpectedly"))
    # when the next worker runs a round
    worker_round(worker)
    # then only the first ran again and froze its document
    assert list(DocumentFile.objects.values_list("invoice_id", flat=True)) == [lost.pk]
    assert [DBTaskResult.objects.get(pk=t.pk).status for t in tasks] == [
        "SUCCESSFUL", "FAILED", "FAILED"]
    assert {other.pk, tired.pk}.isdisjoint(DocumentFile.objects.values_list("invoice_id",
                                                                            flat=True))
