"""Document-level allowances and charges: written with the draft, in the totals, the journal,
the snapshot and the audit event of the posting, and frozen with the posted document."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import DatabaseError
from tests.support import journal, raw_sql

from salesledger.apps.core.models import AuditEvent
from salesledger.apps.invoicing.models import DocumentCharge, InvoiceLine
from salesledger.apps.invoicing.services import (
    InvoiceInput,
    invoice_create,
    invoice_delete_draft,
    invoice_post,
)
from salesledger.domain.errors import PostedIsImmutable, ValidationFailed
from salesledger.domain.invoicing import DocumentChargeInput, LineInput

pytestmark = pytest.mark.django_db

DAY = date(2025, 3, 10)
D = Decimal


def _data(**kw):
    kw.setdefault("lines", [LineInput("Consulting", D(2), D("100.00"), D(20), D(10), "S", "",
                                      "HUR"),
                            LineInput("Books", D(1), D("50.00"), D("5.5"))])
    kw.setdefault("charges", [DocumentChargeInput(True, D("15.00"), "Freight", "FC", D(20)),
                              DocumentChargeInput(False, D("5.00"), "Loyalty", "95", D("5.5"))])
    return InvoiceInput(customer_code="C001", issue_date=DAY, po_number="PO-1", **kw)


def test_posting_books_charges_and_allowances_in_the_totals_and_the_journal(
        company, owner, customer):
    # given a draft with a line discount, a freight charge and an allowance
    draft = invoice_create(actor=owner, company=company, data=_data())
    assert [(c.position, c.is_charge, c.amount, c.reason_code)
            for c in DocumentCharge.objects.filter(invoice=draft)] == [
        (1, True, 1500, "FC"), (2, False, 500, "95")]
    assert InvoiceLine.objects.get(invoice=draft, position=1).unit_code == "HUR"
    # when it is posted
    inv = invoice_post(actor=owner, company=company, invoice_id=draft.pk)
    # then the totals follow EN 16931: lines 180.00 + 50.00, + 15.00 freight, - 5.00
    # allowance = 240.00 net; VAT 20 % of 195.00 = 39.00, 5.5 % of 45.00 = 2.75 - 0.28 per
    # line and charge = 2.47 (the company rounds tax per line)
    assert (inv.net, inv.tax, inv.total) == (24000, 4147, 28147)
    # and the journal books the net revenue after allowances and charges
    assert journal(inv.journal_entry) == [
        ("receivable", 28147, 28147, customer.pk), ("revenue", -24000, -24000, None),
        ("tax_payable", -4147, -4147, None)]
    # and the snapshot freezes the charges with their VAT
    snap = inv.snapshot
    assert snap["charges"] == [
        {"is_charge": True, "reason": "Freight", "reason_code": "FC", "amount": 1500,
         "tax_category": "S", "tax_rate": "20", "tax": 300},
        {"is_charge": False, "reason": "Loyalty", "reason_code": "95", "amount": 500,
         "tax_category": "S", "tax_rate": "5.5", "tax": -28}]
    assert (snap["allowance_total"], snap["charge_total"]) == (500, 1500)
    assert snap["lines"][0]["unit_code"] == "HUR"
    # and the audit event of the posting carries the total and the snapshot's hash
    event = AuditEvent.objects.filter(company=company, action="invoice.post").get()
    assert event.data["after"]["total"] == "281.47"
    assert event.data["after"]["snapshot_hash"] == inv.snapshot_hash


def test_charges_of_a_posted_document_are_frozen(company, owner, customer):
    inv = invoice_post(actor=owner, company=company,
                       invoice_id=invoice_create(actor=owner, company=company, data=_data()).pk)
    charge = DocumentCharge.objects.filter(invoice=inv).first()
    charge.amount = 1
    with pytest.raises(PostedIsImmutable):
        charge.save()
    with pytest.raises(PostedIsImmutable):
        DocumentCharge.objects.filter(invoice=inv).delete()
    # and the database refuses even raw SQL
    with pytest.raises(DatabaseError, match="posted_is_immutable"):
        raw_sql("UPDATE invoicing_documentcharge SET amount = 1 WHERE id = %s", [charge.pk])
    with pytest.raises(DatabaseError, match="posted_is_immutable"):
        raw_sql("INSERT INTO invoicing_documentcharge (company_id, invoice_id, position, "
                "is_charge, reason, reason_code, amount, tax_category, tax_rate) VALUES "
                "(%s, %s, 9, %s, 'x', '', 1, 'S', '20')", [company.pk, inv.pk, True])


def test_a_draft_with_charges_can_be_deleted(company, owner, customer):
    draft = invoice_create(actor=owner, company=company, data=_data())
    invoice_delete_draft(actor=owner, company=company, invoice_id=draft.pk)
    assert not DocumentCharge.objects.filter(invoice_id=draft.pk).exists()


def test_a_bad_charge_is_refused_when_the_draft_is_written(company, owner, customer):
    with pytest.raises(ValidationFailed, match="document charge 1: give a reason"):
        invoice_create(actor=owner, company=company, data=_data(
            charges=[DocumentChargeInput(True, D(1), "", "", D(20))]))
    assert not DocumentCharge.objects.exists()


def test_charges_and_the_e_invoice_check_cost_no_query_each(company, owner, customer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def posting_queries(charges: int) -> int:
        draft = invoice_create(actor=owner, company=company, data=_data(
            charges=[DocumentChargeInput(True, D("1.00"), f"Charge {i}", "", D(20))
                     for i in range(charges)]))
        with CaptureQueriesContext(connection) as queries:
            invoice_post(actor=owner, company=company, invoice_id=draft.pk)
        return len(queries)

    posting_queries(1)  # the first posting of a year also creates the number counter
    assert posting_queries(1) == posting_queries(12)
