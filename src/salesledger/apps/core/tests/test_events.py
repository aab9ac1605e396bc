"""The event seam: handlers inside the transaction or after commit, vetoes before any write,
and the listeners the apps register (docs/design/events.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.db import transaction

from salesledger.apps.core import events
from salesledger.apps.core.tests.csv_support import line, make_company, make_customer, post_single
from salesledger.apps.invoicing.models import Invoice
from salesledger.apps.invoicing.services import InvoiceInput, invoice_create, invoice_post
from salesledger.domain.errors import LedgerError


class Refused(LedgerError):
    code = "refused_by_test"


@dataclass(frozen=True)
class Happened(events.Event):
    what: str


def test_the_apps_listen_to_posting() -> None:
    who = events.listeners()["DocumentsPosted"]
    assert "salesledger.apps.documents.handlers.freeze_posted_pdfs (inside)" in who
    assert "salesledger.apps.payments.handlers.apply_credit_notes (inside)" in who


@pytest.mark.django_db(transaction=True)
def test_inside_handlers_share_the_transaction_on_commit_ones_wait_for_it() -> None:
    seen: list[str] = []
    event = Happened("something")
    with events.subscribed(Happened, lambda e: seen.append("inside")), \
            events.subscribed(Happened, lambda e: seen.append("after"), on_commit=True):
        with transaction.atomic():
            events.publish(event)
            assert seen == ["inside"]
        assert seen == ["inside", "after"]
        with pytest.raises(RuntimeError), transaction.atomic():
            events.publish(event)
            raise RuntimeError("rolled back")
        assert seen == ["inside", "after", "inside"]  # no "after" for a rollback
    with pytest.raises(RuntimeError, match="outside a transaction"):
        events.publish(event)


@pytest.mark.django_db
def test_a_veto_refuses_posting_before_anything_is_written(owner: Any) -> None:
    company = make_company(owner, code="veto", country="FR", base_currency="EUR")
    make_customer(company, owner, "C1")
    draft = invoice_create(actor=owner, company=company, data=InvoiceInput(
        customer_code="C1", issue_date=date(2025, 3, 1),
        lines=[line("Consulting", "1", "100.00", "20")]))
    proposals: list[events.DocumentPosting] = []

    def hold(proposal: events.DocumentPosting) -> None:
        proposals.append(proposal)
        raise Refused("customer C1 is on hold")

    with events.subscribed(events.DocumentPosting, hold), pytest.raises(Refused):
        invoice_post(actor=owner, company=company, invoice_id=draft.pk)
    assert [(p.customer_id, p.total, p.base_total, p.kind) for p in proposals] == [
        (draft.customer_id, 12000, 12000, "invoice")]
    draft.refresh_from_db()
    assert draft.status == "draft" and draft.number is None
    assert post_single(company, owner, "C1", [line("Consulting", "1", "10.00")]).number


@pytest.mark.django_db
def test_posting_a_credit_note_applies_it_in_the_same_transaction(owner: Any) -> None:
    company = make_company(owner, code="cn", country="FR", base_currency="EUR")
    make_customer(company, owner, "C1")
    inv = post_single(company, owner, "C1", [line("Consulting", "1", "100.00", "20")])
    posted: list[events.DocumentsPosted] = []
    with events.subscribed(events.DocumentsPosted, posted.append):
        cn = post_single(company, owner, "C1", [line("Consulting", "1", "50.00", "20")],
                         kind="credit_note", corrects_number=inv.number)
    assert [d.corrects_id for e in posted for d in e.documents] == [inv.pk]
    inv = Invoice.objects.get(pk=inv.pk)
    assert (cn.allocated, inv.instalments.get().settled) == (6000, 6000)


@pytest.mark.django_db
def test_a_veto_refuses_each_imported_document_it_concerns(owner: Any, tmp_path: Any) -> None:
    from salesledger.apps.core.csvio import import_file
    from salesledger.apps.core.tests.csv_support import write_csv
    from salesledger.domain.errors import ImportFailed

    company = make_company(owner, code="vetoimp", country="FR", base_currency="EUR")
    make_customer(company, owner, "C1")
    held = make_customer(company, owner, "HELD")

    def hold(proposal: events.DocumentPosting) -> None:
        if proposal.customer_id == held.pk:
            raise Refused("customer HELD is on hold")

    path = write_csv(tmp_path, "invoices.csv", """
        ref,customer,issue_date,description,quantity,unit_price,tax_rate
        a,C1,2025-03-01,Consulting,1,100.00,20
        b,HELD,2025-03-01,Consulting,1,100.00,20
        c,HELD,2025-03-02,Consulting,1,100.00,20
    """)
    with events.subscribed(events.DocumentPosting, hold), pytest.raises(ImportFailed) as failed:
        import_file(kind="invoices", path=path, company=company, actor=owner)
    assert [(p.line, p.reason) for p in failed.value.problems] == [
        (3, "customer HELD is on hold"), (4, "customer HELD is on hold")]
    assert not Invoice.objects.filter(company=company).exists()


def test_every_app_registers_the_invariants_of_what_it_writes() -> None:
    from salesledger.apps.core.invariants import registered

    assert registered() == [
        "salesledger.apps.ledger.invariants.balanced_entries",
        "salesledger.apps.payments.invariants.settlement_cache",
        "salesledger.apps.invoicing.invariants.instalments_sum",
        "salesledger.apps.payments.invariants.customer_ledger",
        "salesledger.apps.invoicing.invariants.numbering",
        "salesledger.apps.invoicing.invariants.posted_journal",
        "salesledger.apps.core.invariants.audit_chain",
        "salesledger.apps.payments.invariants.adjustments",
        "salesledger.apps.invoicing.invariants.issued_content",
        "salesledger.apps.documents.invariants.frozen_files",
    ]
