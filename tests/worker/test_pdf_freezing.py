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
