"""One rule, every path: what the single commands refuse, the bulk services and the CSV imports
refuse too, with the same error code (amount limit, allocation dates, blank purchase orders)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from salesledger.apps.core.services import company_close_period
from salesledger.apps.interchange.csvio import import_file
from salesledger.apps.interchange.tests.csv_support import write_csv
from salesledger.apps.invoicing.models import Invoice
from salesledger.apps.invoicing.posting.check import BulkDoc
from salesledger.apps.invoicing.services import (
    InvoiceInput,
    documents_post_bulk,
    invoice_create,
    invoice_post,
)
from salesledger.apps.invoicing.tests.books import (
    ledger_problems,
    line,
    make_company,
    make_customer,
    make_owner,
    post_single,
)
from salesledger.apps.payments.bulk import (
    BulkAllocation,
    BulkReceipt,
    allocations_apply_bulk,
    receipts_record_bulk,
)
from salesledger.apps.payments.models import Allocation, Receipt
from salesledger.apps.payments.services import (
    ReceiptInput,
    Target,
    allocate,
    receipt_record,
)
from salesledger.domain.errors import (
    ImportFailed,
    LedgerError,
    PeriodClosed,
    PurchaseOrderRequired,
)

ISSUED = date(2025, 3, 1)
EARLIER = date(2025, 2, 20)
# One minor unit below the largest value of a signed 64-bit column: a sum of two overflows.
HUGE = "92233720368547758.07"


@pytest.fixture
def books(db: None) -> dict[str, Any]:
    owner = make_owner()
    company = make_company(owner, country="FR", base_currency="EUR")
    make_customer(company, owner, "C001")
    make_customer(company, owner, "PO1", po_required=True)
    inv = post_single(company, owner, "C001", [line("Consulting", "1", "100.00", "20")],
                      issue_date=ISSUED)
    return {"owner": owner, "company": company, "invoice": inv}


def _code(call: Any) -> str:
    with pytest.raises(LedgerError) as refused:
        call()
    return refused.value.code


def _csv(books: dict[str, Any], tmp_path: Path, text: str) -> list[tuple[int, str | None, str]]:
    path = write_csv(tmp_path, "receipts.csv", text)
    with pytest.raises(ImportFailed) as failed:
        import_file(kind="receipts", path=path, company=books["company"], actor=books["owner"])
    return [(p.line, p.column, p.reason) for p in failed.value.problems]


def test_an_amount_beyond_any_payment_is_refused_by_every_path(books: dict[str, Any],
                                                               tmp_path: Path) -> None:
    company, owner = books["company"], books["owner"]
    single = _code(lambda: receipt_record(actor=owner, company=company, data=ReceiptInput(
        customer_code="C001", date=ISSUED, amount=Decimal(HUGE))))
    customer_id = books["invoice"].customer_id
    bulk = _code(lambda: receipts_record_bulk(actor=owner, company=company, receipts=[
        BulkReceipt(customer_id=customer_id, date=ISSUED, amount=9223372036854775807,
                    currency="EUR", rate=Decimal(1))]))
    problems = _csv(books, tmp_path, f"""
        customer,date,amount
        C001,2025-03-10,{HUGE}
        C001,2025-03-10,92233720368547758.08
    """)
    assert single == bulk == "invalid"
    assert [(ln, col) for ln, col, _ in problems] == [(2, "amount"), (3, "amount")]
    assert all("more than any amount recorded here" in reason for _, _, reason in problems)
    assert not Receipt.objects.filter(company=company).exists()
    assert ledger_problems(company) == []


def test_a_payment_is_never_allocated_before_the_invoice_was_issued(books: dict[str, Any],
                                                                    tmp_path: Path) -> None:
    company, owner, inv = books["company"], books["owner"], books["invoice"]
    receipt = receipt_record(actor=owner, company=company, data=ReceiptInput(
        customer_code="C001", date=EARLIER, amount=Decimal("50.00")))
    single = _code(lambda: allocate(actor=owner, company=company, receipt=receipt.number,
                                    targets=[Target(inv.number, Decimal("50.00"))],
                                    day=EARLIER))
    instalment = inv.instalments.get()
    bulk = _code(lambda: allocations_apply_bulk(actor=owner, company=company, allocations=[
        BulkAllocation(instalment_id=instalment.pk, amount=5000, date=EARLIER,
                       receipt_id=receipt.pk)]))
    problems = _csv(books, tmp_path, f"""
        customer,date,amount,invoice
        C001,2025-02-20,50.00,{inv.number}
        C001,2025-03-01,50.00,{inv.number}
    """)
    assert single == bulk == "invalid"
    assert problems == [(2, "date", f"cannot allocate on 2025-02-20 to {inv.number}, issued "
                                     "on 2025-03-01")]
    assert not Allocation.objects.filter(company=company).exists()
    assert Receipt.objects.filter(company=company).count() == 1  # the first one, only
    assert ledger_problems(company) == []


@pytest.mark.parametrize("po_number", ["", "   "])
def test_a_blank_purchase_order_number_is_none_on_every_path(books: dict[str, Any],
                                                             po_number: str) -> None:
    company, owner = books["company"], books["owner"]
    lines = [line("Consulting", "1", "100.00", "20")]
    draft = invoice_create(actor=owner, company=company, data=InvoiceInput(
        customer_code="PO1", issue_date=ISSUED, lines=lines, po_number=po_number))
    single = _code(lambda: invoice_post(actor=owner, company=company, invoice_id=draft.pk))
    customer_id = draft.customer_id
    bulk = _code(lambda: documents_post_bulk(actor=owner, company=company, docs=[
        BulkDoc(customer_id=customer_id, kind="invoice", issue_date=ISSUED, currency="EUR",
                lines=lines, po_number=po_number)]))
    assert single == bulk == PurchaseOrderRequired.code


def test_a_credit_note_breaking_several_rules_gets_the_same_first_refusal(
        books: dict[str, Any], tmp_path: Path) -> None:
    # given an invoice of 120.00, and books closed through its issue date
    company, owner, inv = books["company"], books["owner"], books["invoice"]
    company_close_period(actor=owner, company=company, through=ISSUED)
    # when a credit note of 240.00 dated that day corrects it (closed period, and too much)
    lines = [line("Refund", "1", "200.00", "20")]
    draft = invoice_create(actor=owner, company=company, data=InvoiceInput(
        customer_code="C001", issue_date=ISSUED, lines=lines, kind="credit_note",
        corrects_number=inv.number or ""))
    single = _code(lambda: invoice_post(actor=owner, company=company, invoice_id=draft.pk))
    bulk = _code(lambda: documents_post_bulk(actor=owner, company=company, docs=[
        BulkDoc(customer_id=inv.customer_id, kind="credit_note", issue_date=ISSUED,
                currency="EUR", lines=lines, corrects_id=inv.pk)]))
    path = write_csv(tmp_path, "credit.csv", f"""
        kind,ref,customer,issue_date,corrects,description,quantity,unit_price,tax_rate
        credit_note,r1,C001,2025-03-01,{inv.number},Refund,1,200.00,20
    """)
    with pytest.raises(ImportFailed) as failed:
        import_file(kind="invoices", path=path, company=company, actor=owner)
    # then every path refuses it for the rule posting checks first: the period
    assert single == bulk == PeriodClosed.code
    assert [p.code for p in failed.value.problems] == [PeriodClosed.code]
    assert Invoice.objects.filter(company=company, status="posted").count() == 1
    assert ledger_problems(company) == []
