"""Freezing the issued PDFs: each document's PDF is rendered and stored once, with the hash of
its bytes, however often the freeze runs; a document whose template is broken is reported
without holding up the others. (That posting queues the freeze and the worker runs it is the
story of ``tests/worker/test_pdf_freezing.py``; that an import queues only what it numbers,
``apps/interchange/tests/test_csv_events.py``.)"""

from __future__ import annotations

import hashlib

import pytest

from salesledger.apps.documents import services
from salesledger.apps.documents.services import invoice_pdf_file, pdfs_freeze
from salesledger.apps.invoicing.models import DocumentFile
from salesledger.domain.errors import DocumentTemplateError

pytestmark = pytest.mark.django_db

LINES = (("Conseil", "3", "411.52", "20"),)


def test_each_pdf_is_frozen_once_with_the_hash_of_its_bytes(seller, make_customer,
                                                            post_invoice):
    make_customer("C001", name="Dupont", language="fr", country="FR")
    first, second = post_invoice(lines=LINES), post_invoice(lines=LINES)
    # when the freeze runs (posting queued it; here it is called as the task calls it)
    done = pdfs_freeze(actor=None, company=seller, invoice_ids=[first.pk, second.pk])
    # then each document has its frozen PDF, with the hash of its bytes
    assert done == {"frozen": 2, "already": 0, "failed": {}}
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
