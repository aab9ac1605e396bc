"""The invoices import and the apps above the ones it writes to: it asks the vetoes of
``DocumentPosting`` for each document, so that a refusal is that document's problem, and it
publishes ``DocumentsPosted`` for what it writes, so that the documents app freezes the PDFs
of the documents numbered here, and not of history issued elsewhere (docs/design/events.md)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from salesledger.apps.core import events
from salesledger.apps.invoicing.models import Invoice
from salesledger.apps.invoicing.tests.books import make_customer
from salesledger.domain.errors import ImportFailed, LedgerError

CsvFile = Callable[[str, str], Path]


class Refused(LedgerError):
    code = "refused_by_test"


def test_a_veto_refuses_each_imported_document_it_concerns(
        csv_company: Any, csv_owner: Any, csv_file: CsvFile, csv_import: Any) -> None:
    make_customer(csv_company, csv_owner, "C1")
    held = make_customer(csv_company, csv_owner, "HELD")

    def hold(proposal: events.DocumentPosting) -> None:
        if proposal.customer_id == held.pk:
            raise Refused("customer HELD is on hold")

    path = csv_file("invoices.csv", """
        ref,customer,issue_date,description,quantity,unit_price,tax_rate
        a,C1,2025-03-01,Consulting,1,100.00,20
        b,HELD,2025-03-01,Consulting,1,100.00,20
        c,HELD,2025-03-02,Consulting,1,100.00,20
    """)
    with events.subscribed(events.DocumentPosting, hold), pytest.raises(ImportFailed) as failed:
        csv_import("invoices", path)
    assert [(p.line, p.reason) for p in failed.value.problems] == [
        (3, "customer HELD is on hold"), (4, "customer HELD is on hold")]
    assert not Invoice.objects.filter(company=csv_company).exists()


def test_an_import_queues_the_documents_it_numbers_not_those_issued_elsewhere(
        csv_company: Any, csv_owner: Any, csv_file: CsvFile, csv_import: Any) -> None:
    make_customer(csv_company, csv_owner, "K1", language="fr")
    path = csv_file("invoices.csv", """
        number,ref,customer,issue_date,description,quantity,unit_price,tax_rate
        ,A1,K1,2025-03-01,Consulting,2,150.00,20
        ,A2,K1,2025-03-02,Consulting,1,150.00,20
        OLD-7,,K1,2025-02-01,Books,3,12.50,20
    """)
    csv_import("invoices", path)
    freezing = DBTaskResult.objects.filter(task_path__endswith="freeze_pdfs_task")
    queued = [i for t in freezing for i in t.args_kwargs["args"][1]]
    numbered_here = Invoice.objects.filter(company=csv_company).exclude(number="OLD-7")
    assert sorted(queued) == sorted(numbered_here.values_list("pk", flat=True))
    assert len(queued) == 2
