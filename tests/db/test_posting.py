"""Posting invoices and credit notes: journal, numbering, snapshot, audit, refusals."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from conftest import DAY

from salesledger.apps.core import events as domain_events
from salesledger.apps.core.invariants import check_company
from salesledger.apps.core.models import NumberCounter
from salesledger.apps.core.services import (
    company_close_period,
    company_create,
    membership_set,
)
from salesledger.apps.customers.services import customer_update
from salesledger.apps.invoicing.models import Instalment, Invoice
from salesledger.apps.invoicing.services import (
    InvoiceInput,
    invoice_create,
    invoice_delete_draft,
    invoice_post,
    invoices_post,
)
from salesledger.apps.ledger.models import JournalEntry
from salesledger.apps.payments.models import Allocation
from salesledger.apps.payments.selectors import open_items
from salesledger.apps.payments.services import ReceiptInput, allocate, receipt_record
from salesledger.domain.errors import (
    CreditExceedsInvoice,
    InvoiceNotDraft,
    NotFound,
    PeriodClosed,
    PermissionDenied,
    PurchaseOrderRequired,
    UnknownCustomer,
)
from salesledger.domain.invoicing import LineInput
from salesledger.domain.snapshot import snapshot_hash
from tests.support import events, journal, last_seq, open_amount, settled


def test_posting_writes_receivable_revenue_and_tax(company, owner, customer, create_invoice):
    # given a draft of 2 x 45.00 at 20 % and 1 x 10.00 at 5.5 %
    draft = create_invoice(lines=[("Consulting", "2", "45.00", "20"),
                                  ("Book", "1", "10.00", "5.5")])
    assert draft.number is None and JournalEntry.objects.count() == 0
    # and the draft already shows what it totals, line by line
    draft.refresh_from_db()
    assert (draft.net, draft.tax, draft.total) == (10000, 1855, 11855)
    assert [(li.net, li.tax) for li in draft.lines.all()] == [(9000, 1800), (1000, 55)]
    seq = last_seq(company)
    # when it is posted
    inv = invoice_post(actor=owner, company=company, invoice_id=draft.pk)
    # then it is numbered, totalled and journaled: Dr receivable 118.55, Cr revenue 100.00,
    # Cr tax 18.55 (18.00 + 0.55)
    inv.refresh_from_db()
    assert (inv.status, inv.number, inv.fiscal_year, inv.seq) == ("posted", "INV2025-00001",
                                                                  2025, 1)
    assert (inv.net, inv.tax, inv.total, inv.base_total) == (10000, 1855, 11855, 11855)
    assert journal(inv.journal_entry) == [
        ("receivable", 11855, 11855, customer.pk),
        ("revenue", -10000, -10000, None),
        ("tax_payable", -1855, -1855, None),
    ]
    entry = inv.journal_entry
    assert (entry.date, entry.kind, entry.source_type, entry.source_id) == (
        DAY, "invoice", "invoice", inv.pk)
    assert list(inv.lines.values_list("net", "tax")) == [(9000, 1800), (1000, 55)]
    # one instalment, NET30 by default
    assert list(inv.instalments.values_list("seq", "due_date", "amount", "settled")) == [
        (1, date(2025, 4, 9), 11855, 0)]
    assert inv.due_date == date(2025, 4, 9)
    # and the audit event says who posted what
    [ev] = events(company, since=seq)
    assert (ev.action, ev.entity, ev.entity_id, ev.actor_id) == (
        "invoice.post", "invoice", str(inv.pk), owner.pk)
    assert ev.data["after"] == {"number": "INV2025-00001", "customer": "C001",
                                "currency": "EUR", "total": "118.55",
                                "snapshot_hash": inv.snapshot_hash}
    assert check_company(company) == []


def test_snapshot_freezes_what_was_issued(company, owner, customer, post_invoice):
    inv = post_invoice()
    assert inv.snapshot["customer"]["name"] == "Dupont et Fils"
    assert inv.snapshot_hash == snapshot_hash(inv.snapshot)
    customer_update(actor=owner, company=company, code="C001", name="Dupont SA")
    inv.refresh_from_db()
    assert inv.snapshot["customer"]["name"] == "Dupont et Fils"
    assert inv.snapshot_hash == snapshot_hash(inv.snapshot)


def test_numbers_are_gapless_per_series(company, customer, create_invoice, post_invoice, owner):
    drafts = [create_invoice() for _ in range(3)]
    # a draft that is deleted never takes a number
    invoice_delete_draft(actor=owner, company=company, invoice_id=drafts[1].pk)
    numbers = [invoice_post(actor=owner, company=company, invoice_id=d.pk).number
               for d in (drafts[2], drafts[0])]
    cn = post_invoice(kind="credit_note", lines=[("Refund", 1, "5.00", "20")])
    assert numbers == ["INV2025-00001", "INV2025-00002"]
    assert cn.number == "CN2025-00001"
    assert dict(NumberCounter.objects.filter(company=company)
                .values_list("series", "last")) == {"INV": 2, "CN": 1}


def test_numbering_restarts_with_each_fiscal_year(owner, make_customer):
    # a company whose fiscal year starts in April
    april = company_create(actor=owner, code="april", name="April Ltd", fiscal_year_start=4,
                           owner=owner)
    data = dict(customer_code="A1", lines=[LineInput("x", Decimal(1), Decimal(10))])
    from salesledger.apps.customers.services import CustomerInput, customer_create

    customer_create(actor=owner, company=april, data=CustomerInput(code="A1", name="A",
                                                                   country="FR"))
    numbers = []
    for day in (date(2025, 3, 30), date(2025, 3, 31), date(2025, 4, 1), date(2026, 3, 31)):
        draft = invoice_create(actor=owner, company=april,
                               data=InvoiceInput(issue_date=day, **data))
        numbers.append(invoice_post(actor=owner, company=april, invoice_id=draft.pk).number)
    assert numbers == ["INV2024-00001", "INV2024-00002", "INV2025-00001", "INV2025-00002"]
    assert check_company(april) == []


def test_posting_twice_is_refused(company, owner, customer, post_invoice):
    inv = post_invoice()
    entries, seq = JournalEntry.objects.count(), last_seq(company)
    with pytest.raises(InvoiceNotDraft) as exc:
        invoice_post(actor=owner, company=company, invoice_id=inv.pk)
    assert exc.value.code == "invoice_not_draft"
    assert JournalEntry.objects.count() == entries and last_seq(company) == seq
    with pytest.raises(InvoiceNotDraft):
        invoice_delete_draft(actor=owner, company=company, invoice_id=inv.pk)


def test_foreign_currency_invoice_is_journaled_in_both_currencies(
        company, make_customer, post_invoice):
    usd = make_customer("US1", currency="USD")
    inv = post_invoice("US1", lines=[("Licence", 1, "100.00", "0")], rate=Decimal("0.9"),
                       terms="30-60-90")
    assert (inv.currency, inv.total, inv.base_total) == ("USD", 10000, 9000)
    assert journal(inv.journal_entry) == [("receivable", 10000, 9000, usd.pk),
                                          ("revenue", -10000, -9000, None)]
    assert list(inv.instalments.values_list("amount", "base_amount")) == [
        (3333, 2999), (3333, 2999), (3334, 3002)]
    assert check_company(company) == []


def test_a_tiny_invoice_in_thirds_has_no_zero_instalment(company, customer, post_invoice):
    # 0.02 in thirds is 0.00 + 0.01 + 0.01; a zero instalment is not an amount owed
    # (and the schema refuses it), so the first share is left out
    inv = post_invoice(lines=[("Stamp", "1", "0.02", "0")], terms="30-60-90")
    assert list(inv.instalments.values_list("seq", "amount", "due_date")) == [
        (1, 1, date(2025, 5, 9)), (2, 1, date(2025, 6, 8))]
    assert inv.due_date == date(2025, 6, 8)
    assert check_company(company) == []


def test_another_companys_documents_are_not_found(company, owner, customer, create_invoice,
                                                  record_receipt, django_user_model):
    draft = create_invoice()
    receipt = record_receipt()
    other_owner = django_user_model.objects.create_user("other")
    other = company_create(actor=other_owner, code="other", name="Other", owner=other_owner)
    with pytest.raises(NotFound):
        invoice_post(actor=other_owner, company=other, invoice_id=draft.pk)
    with pytest.raises(NotFound):
        invoice_delete_draft(actor=other_owner, company=other, invoice_id=draft.pk)
    with pytest.raises(NotFound):
        allocate(actor=other_owner, company=other, day=DAY, receipt=receipt.number, auto=True)
    # and a user of the other company may not act in this one
    with pytest.raises(PermissionDenied):
        invoice_post(actor=other_owner, company=company, invoice_id=draft.pk)
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_a_viewer_cannot_post(company, owner, customer, create_invoice, django_user_model):
    django_user_model.objects.create_user("viewer")
    membership_set(actor=owner, company=company, username="viewer", role="viewer")
    draft = create_invoice()
    viewer = django_user_model.objects.get(username="viewer")
    with pytest.raises(PermissionDenied) as exc:
        invoice_post(actor=viewer, company=company, invoice_id=draft.pk)
    assert exc.value.code == "permission_denied"


def test_purchase_order_number_required(company, owner, make_customer, create_invoice):
    make_customer("PO1", po_required=True)
    draft = create_invoice("PO1")
    with pytest.raises(PurchaseOrderRequired) as exc:
        invoice_post(actor=owner, company=company, invoice_id=draft.pk)
    assert exc.value.code == "purchase_order_required"
    draft.refresh_from_db()
    assert (draft.status, draft.number) == ("draft", None)
    assert not NumberCounter.objects.filter(company=company, last__gt=0).exists()
    ok = create_invoice("PO1", po_number="PO-778")
    assert invoice_post(actor=owner, company=company, invoice_id=ok.pk).number == "INV2025-00001"


def test_closed_period_refuses_posting_and_receipts(company, owner, customer, create_invoice):
    inside, after = create_invoice(issue_date=date(2025, 1, 31)), create_invoice()
    closed = company_close_period(actor=owner, company=company, through=date(2025, 1, 31))
    assert closed.lock_date == date(2025, 1, 31)
    # the caller's company object is the one from before the close: the service must
    # still see the closed period
    with pytest.raises(PeriodClosed) as exc:
        invoice_post(actor=owner, company=company, invoice_id=inside.pk)
    assert exc.value.code == "period_closed"
    with pytest.raises(PeriodClosed):
        receipt_record(actor=owner, company=company, data=ReceiptInput(
            customer_code="C001", date=date(2025, 1, 15), amount=Decimal(10)))
    assert Invoice.objects.get(pk=inside.pk).status == "draft"
    # the day after the lock date is open
    assert invoice_post(actor=owner, company=company, invoice_id=after.pk).number
    [ev] = [e for e in events(company) if e.action == "period.close"]
    assert ev.data == {"before": {"lock_date": "None"}, "after": {"lock_date": "2025-01-31"}}


def test_unknown_customer(company, owner, customer):
    with pytest.raises(UnknownCustomer) as exc:
        invoice_create(actor=owner, company=company, data=InvoiceInput(
            customer_code="NOPE", issue_date=DAY, lines=[LineInput("x", Decimal(1), Decimal(1))]))
    assert exc.value.code == "unknown_customer"
    with pytest.raises(UnknownCustomer):
        receipt_record(actor=owner, company=company, data=ReceiptInput(
            customer_code="NOPE", date=DAY, amount=Decimal(1)))
    assert not Invoice.objects.exists()


# ---------------------------------------------------------------- credit notes
def test_credit_note_correcting_an_invoice_is_applied_to_it(company, customer, post_invoice):
    # given an invoice of 100.00 in thirds
    inv = post_invoice(terms="30-60-90", lines=[("Consulting", "1", "100.00", "0")])
    assert list(inv.instalments.order_by("seq").values_list("amount", flat=True)) == [
        3333, 3333, 3334]
    seq = last_seq(company)
    # when a credit note of 60.00 corrects it
    cn = post_invoice(kind="credit_note", corrects=inv.number,
                      lines=[("Returned", 1, "50.00", "20")])
    # then it is journaled as the mirror of an invoice
    assert (cn.number, cn.total, cn.corrects_id) == ("CN2025-00001", 6000, inv.pk)
    assert journal(cn.journal_entry) == [("receivable", -6000, -6000, customer.pk),
                                         ("revenue", 5000, 5000, None),
                                         ("tax_payable", 1000, 1000, None)]
    # and applied at once, oldest instalment first; no journal entry for the allocation,
    # since both sides already sit on the receivable account
    assert open_amount(inv) == 4000
    assert settled(inv) == [3333, 2667, 0]
    assert cn.allocated == 6000
    allocs = list(Allocation.objects.filter(credit_note=cn).order_by("id"))
    assert [(a.amount, a.receipt_id, a.journal_entry_id) for a in allocs] == [
        (3333, None, None), (2667, None, None)]
    assert [e.action for e in events(company, since=seq)] == [
        "credit_note.create", "credit_note.post", "allocation.create"]
    assert [i["type"] for i in open_items(company)] == ["instalment", "instalment"]
    assert check_company(company) == []


def test_credit_notes_cannot_exceed_the_invoice(company, owner, customer, post_invoice,
                                                create_invoice):
    inv = post_invoice()  # 120.00
    post_invoice(kind="credit_note", corrects=inv.number, lines=[("a", 1, "80.00", "20")])
    too_much = create_invoice(kind="credit_note", corrects=inv.number,
                              lines=[("b", 1, "24.01", "0")])
    with pytest.raises(CreditExceedsInvoice) as exc:
        invoice_post(actor=owner, company=company, invoice_id=too_much.pk)
    assert exc.value.code == "credit_exceeds_invoice"
    assert "24.00" in exc.value.message
    too_much.refresh_from_db()
    assert too_much.status == "draft"
    rest = post_invoice(kind="credit_note", corrects=inv.number, lines=[("c", 1, "20.00", "20")])
    assert rest.allocated == 2400 and open_amount(inv) == 0
    assert check_company(company) == []


def test_drafts_post_together_as_one_batch(company, owner, customer, create_invoice):
    # given three drafts, the latest one first
    drafts = [create_invoice(issue_date=DAY + timedelta(days=n)) for n in (2, 0, 1)]
    seq = last_seq(company)
    # when they are posted together
    posted: list[domain_events.DocumentsPosted] = []
    with domain_events.subscribed(domain_events.DocumentsPosted, posted.append):
        invoices = invoices_post(actor=owner, company=company,
                                 invoice_ids=[d.pk for d in drafts])
    # then each keeps its row and takes its number in order of issue date
    assert [i.pk for i in invoices] == [d.pk for d in drafts]
    assert [i.number for i in invoices] == ["INV2025-00003", "INV2025-00001", "INV2025-00002"]
    assert all(i.status == "posted" and i.journal_entry_id for i in invoices)
    # and the apps above hear of the three at once
    [event] = posted
    assert [d.id for d in event.documents] == [d.pk for d in drafts]
    assert [e.action for e in events(company, since=seq)] == ["invoice.post"] * 3
    assert check_company(company) == []


def test_a_batch_with_a_refused_draft_posts_nothing(company, owner, customer, make_customer,
                                                    create_invoice):
    # given a draft that passes every rule and one for a customer who requires a PO number
    make_customer("PO1", po_required=True)
    good, bad = create_invoice(), create_invoice("PO1")
    # when both are posted together, the first refusal is the batch's
    with pytest.raises(PurchaseOrderRequired):
        invoices_post(actor=owner, company=company, invoice_ids=[good.pk, bad.pk])
    # then neither is posted, and no number was taken
    assert set(Invoice.objects.filter(company=company).values_list("status", flat=True)) == {
        "draft"}
    assert not NumberCounter.objects.filter(company=company, last__gt=0).exists()
    assert JournalEntry.objects.filter(company=company).count() == 0


def test_credit_note_for_a_paid_invoice_stays_an_open_credit(
        company, customer, post_invoice, record_receipt, allocate_to):
    inv = post_invoice()
    receipt = record_receipt(amount="120.00")
    allocate_to(receipt.number, {inv.number: "120.00"})
    cn = post_invoice(kind="credit_note", corrects=inv.number, lines=[("a", 1, "10.00", "20")])
    assert cn.allocated == 0
    assert [(i["type"], i["open"]) for i in open_items(company)] == [("credit_note", -1200)]
    assert check_company(company) == []


def test_standalone_credit_note_is_an_open_credit(company, customer, post_invoice, allocate_to):
    cn = post_invoice(kind="credit_note", lines=[("Goodwill", 1, "25.00", "20")])
    assert (cn.corrects_id, cn.allocated, cn.total) == (None, 0, 3000)
    assert not Instalment.objects.filter(invoice=cn).exists()
    [item] = open_items(company)
    assert (item["type"], item["document"], item["open"], item["amount"]) == (
        "credit_note", "CN2025-00001", -3000, -3000)
    # later applied to an invoice like a payment
    inv = post_invoice()
    [row] = allocate_to(credit_note=cn.number, auto=True)
    assert (row.amount, row.instalment.invoice_id) == (3000, inv.pk)
    assert open_amount(inv) == 9000
    assert check_company(company) == []
