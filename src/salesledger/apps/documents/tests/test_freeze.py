"""The issued PDF is frozen in the background moments after posting: posting queues a task
in its own transaction, the real worker renders and stores it, once, however often the task
runs; a document whose template is broken is reported without holding up the others."""

from __future__ import annotations

import hashlib

import pytest
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from salesledger.apps.documents.services import invoice_pdf_file, pdfs_freeze
from salesledger.apps.invoicing.models import DocumentFile
from salesledger.apps.recurring.worker import make_worker, worker_round

pytestmark = pytest.mark.django_db

LINES = (("Conseil", "3", "411.52", "20"),)


@pytest.fixture
def worker(monkeypatch):
    # The worker closes old connections between tasks, which would end the test's
    # transaction; everything else is the real worker and the real queue.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    return make_worker(worker_id="test")


def _freeze_tasks():
    return DBTaskResult.objects.filter(task_path__endswith="freeze_pdfs_task")


def test_posting_queues_the_freeze_and_the_worker_freezes_once(seller, make_customer,
                                                               post_invoice, worker):
    make_customer("C001", name="Dupont", language="fr", country="FR")
    # given two posted invoices: each posting queued one task, and nothing is rendered yet
    first, second = post_invoice(lines=LINES), post_invoice(lines=LINES)
    assert _freeze_tasks().count() == 2
    assert not DocumentFile.objects.filter(kind="pdf").exists()
    # when the worker runs
    worker_round(worker)
    # then each document has its frozen PDF, with the hash of its bytes
    files = {f.invoice_id: f for f in DocumentFile.objects.filter(kind="pdf")}
    assert set(files) == {first.pk, second.pk}
    for f in files.values():
        assert hashlib.sha256(bytes(f.content)).hexdigest() == f.sha256
    # and serving it later gives those very bytes
    assert bytes(invoice_pdf_file(actor=None, company=seller, invoice=first).content) == bytes(
        files[first.pk].content)
    # and running the freeze again stores nothing twice
    again = pdfs_freeze(actor=None, company=seller, invoice_ids=[first.pk, second.pk])
    assert again == {"frozen": 0, "already": 2, "failed": {}}
    assert DocumentFile.objects.filter(kind="pdf").count() == 2


def test_a_broken_template_is_reported_and_the_rest_are_frozen(seller, owner, make_customer,
                                                               post_invoice, monkeypatch):
    from salesledger.apps.documents import services
    from salesledger.domain.errors import DocumentTemplateError

    make_customer("C001", name="Dupont", language="fr", country="FR")
    make_customer("C002", name="Müller", language="de", country="DE")
    french, german = post_invoice(lines=LINES), post_invoice("C002", lines=LINES)
    real = services.render_invoice_pdf

    def render(company, invoice, **kw):
        if invoice.pk == german.pk:
            raise DocumentTemplateError("the invoice template cannot be rendered: boom")
        return real(company, invoice, **kw)

    monkeypatch.setattr(services, "render_invoice_pdf", render)
    summary = pdfs_freeze(actor=None, company=seller, invoice_ids=[german.pk, french.pk])
    assert summary["frozen"] == 1 and list(summary["failed"]) == [german.number]
    assert "boom" in summary["failed"][german.number]
    assert list(DocumentFile.objects.values_list("invoice_id", flat=True)) == [french.pk]
