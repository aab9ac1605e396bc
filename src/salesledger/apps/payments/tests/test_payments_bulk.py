"""Bulk receipts and allocations: the single services' rules, numbers and base amounts; credit
notes posted in bulk applied to the invoices they correct."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from salesledger.apps.core.models import AuditEvent
from salesledger.apps.invoicing.posting.check import BulkDoc
from salesledger.apps.invoicing.services import documents_post_bulk
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
    credit_notes_apply_to_corrected_bulk,
    receipts_record_bulk,
)
from salesledger.apps.payments.models import Allocation, Receipt
from salesledger.domain.errors import (
    AllocationCustomerMismatch,
    AllocationExceedsOpenAmount,
    AllocationExceedsUnallocated,
    CurrencyMismatch,
    NegativeAmount,
    UnknownCustomer,
    ValidationFailed,
)

D = date(2025, 3, 10)


@pytest.fixture
def books(db: None) -> dict[str, Any]:
    owner = make_owner("pay-owner")
    company = make_company(owner, "payco")
    out: dict[str, Any] = {"owner": owner, "company": company}
    for code, currency in (("P1", "EUR"), ("P2", "EUR"), ("U1", "USD"), ("U2", "USD")):
        out[code] = make_customer(company, owner, code, currency=currency,
                                  terms_code="30-60-90")
    return out


def receipts(books: dict[str, Any], items: list[BulkReceipt]) -> list[Receipt]:
    ids = receipts_record_bulk(actor=books["owner"], company=books["company"], receipts=items)
    found = Receipt.objects.in_bulk(ids)
    return [found[i] for i in ids]


def apply(books: dict[str, Any], items: list[BulkAllocation]) -> int:
    return allocations_apply_bulk(actor=books["owner"], company=books["company"],
                                  allocations=items)


def test_receipts_take_gapless_numbers_in_date_order(books: dict[str, Any]) -> None:
    p1 = books["P1"]
    made = receipts(books, [BulkReceipt(p1.pk, date(2025, 3, 12), 1000, "EUR"),
                            BulkReceipt(p1.pk, date(2025, 3, 11), 2000, "EUR", method="cheque"),
                            BulkReceipt(books["U1"].pk, date(2025, 3, 11), 500, "USD",
                                        rate=Decimal("0.9"))])
    assert [(r.number, r.amount, r.base_amount, r.method) for r in made] == [
        ("RCT2025-00003", 1000, 1000, "bank_transfer"), ("RCT2025-00001", 2000, 2000, "cheque"),
        ("RCT2025-00002", 500, 450, "bank_transfer")]
    assert all(r.journal_entry_id for r in made)
    assert AuditEvent.objects.filter(company=books["company"],
                                     action="receipt.record").count() == 3
    assert ledger_problems(books["company"]) == []


@pytest.mark.parametrize(("item", "error"), [
    (lambda b: BulkReceipt(b["P1"].pk, D, 0, "EUR"), NegativeAmount),
    (lambda b: BulkReceipt(999_999, D, 100, "EUR"), UnknownCustomer),
    (lambda b: BulkReceipt(b["P1"].pk, D, 100, "EUR", method="telepathy"), ValidationFailed),
    (lambda b: BulkReceipt(b["P1"].pk, D, 100, "EUR", rate=Decimal("1.1")), ValidationFailed),
])
def test_a_broken_receipt_writes_nothing(books: dict[str, Any], item: Any,
                                         error: type[Exception]) -> None:
    with pytest.raises(error):
        receipts(books, [BulkReceipt(books["P1"].pk, D, 100, "EUR"), item(books)])
    assert not Receipt.objects.exists()


@pytest.fixture
def open_items(books: dict[str, Any]) -> dict[str, Any]:
    company, owner = books["company"], books["owner"]
    inv = post_single(company, owner, "P1", [line("Work", "1", "300", "0")],
                      issue_date=date(2025, 3, 1))
    other = post_single(company, owner, "P2", [line("Work", "1", "300", "0")],
                        issue_date=date(2025, 3, 1))
    usd = post_single(company, owner, "U1", [line("Work", "1", "300", "0")], currency="USD",
                      rate=Decimal("0.9"), issue_date=date(2025, 3, 1))
    [r1, r2] = receipts(books, [BulkReceipt(books["P1"].pk, D, 15000, "EUR"),
                                BulkReceipt(books["P1"].pk, D, 40000, "EUR")])
    return {"inv": list(inv.instalments.order_by("seq")), "r1": r1, "r2": r2,
            "other": list(other.instalments.order_by("seq")),
            "usd": list(usd.instalments.order_by("seq"))}


@pytest.mark.parametrize(("plan", "error"), [
    # Two allocations that fit one by one but not together.
    (lambda o: [BulkAllocation(o["inv"][0].pk, 6000, D, receipt_id=o["r2"].pk),
                BulkAllocation(o["inv"][0].pk, 6000, D, receipt_id=o["r2"].pk)],
     AllocationExceedsOpenAmount),
    (lambda o: [BulkAllocation(o["inv"][0].pk, 5000, D, receipt_id=o["r1"].pk),
                BulkAllocation(o["inv"][1].pk, 5000, D, receipt_id=o["r1"].pk),
                BulkAllocation(o["inv"][2].pk, 5001, D, receipt_id=o["r1"].pk)],
     AllocationExceedsUnallocated),
    (lambda o: [BulkAllocation(o["other"][0].pk, 100, D, receipt_id=o["r1"].pk)],
     AllocationCustomerMismatch),
    (lambda o: [BulkAllocation(o["usd"][0].pk, 100, D, receipt_id=o["r1"].pk)],
     AllocationCustomerMismatch),
    (lambda o: [BulkAllocation(o["inv"][0].pk, 100, date(2025, 3, 9), receipt_id=o["r1"].pk)],
     ValidationFailed),
])
def test_allocations_are_checked_as_they_accumulate(books: dict[str, Any], open_items: Any,
                                                     plan: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        apply(books, plan(open_items))
    assert not Allocation.objects.exists()
    assert Receipt.objects.get(pk=open_items["r1"].pk).allocated == 0
    assert ledger_problems(books["company"]) == []


def test_currency_mismatch(books: dict[str, Any], open_items: Any) -> None:
    [eur_from_u1] = receipts(books, [BulkReceipt(books["U1"].pk, D, 100, "EUR")])
    with pytest.raises(CurrencyMismatch):
        apply(books, [BulkAllocation(open_items["usd"][0].pk, 100, D,
                                     receipt_id=eur_from_u1.pk)])


def test_bulk_allocation_relieves_the_same_base_as_allocate(books: dict[str, Any]) -> None:
    """Two customers, the same USD invoice and receipts at other rates: one settled by
    ``allocate``, the other by ``allocations_apply_bulk``. Base amounts and exchange
    differences must be the same, partial and final parts alike."""
    from salesledger.apps.payments.services import ReceiptInput, Target, allocate, receipt_record

    company, owner = books["company"], books["owner"]
    docs = {code: post_single(company, owner, code, [line("Work", "3", "333.33", "0")],
                              currency="USD", rate=Decimal("0.9137"),
                              issue_date=date(2025, 3, 1)) for code in ("U1", "U2")}
    # 499.99 then 500.00 at two other rates: a partial part, then the last one.
    plan_single = ((Decimal("0.95"), Decimal("499.99")), (Decimal("0.8812"), Decimal("500.00")))
    for rate, amount in plan_single:
        r = receipt_record(actor=owner, company=company, data=ReceiptInput(
            customer_code="U1", date=D, amount=Decimal("600.00"), rate=rate))
        allocate(actor=owner, company=company, day=D, receipt=r.number,
                 targets=[Target(docs["U1"].number or "", amount)])
    bulk = receipts(books, [BulkReceipt(books["U2"].pk, D, 60000, "USD", rate=rate)
                            for rate, _ in plan_single])
    plan = []
    open_ = {i.pk: i.amount for i in docs["U2"].instalments.order_by("seq")}
    for r, (_, amount) in zip(bulk, plan_single, strict=True):
        left = int(amount * 100)  # the same shares as allocate: oldest instalment first
        for pk in sorted(open_):
            take = min(left, open_[pk])
            if take:
                plan.append(BulkAllocation(pk, take, D, receipt_id=r.pk))
                open_[pk] -= take
                left -= take
    assert apply(books, plan) == len(plan)

    def result(code: str) -> list[tuple[int, int, int]]:
        return list(Allocation.objects.filter(customer=books[code]).order_by("pk")
                    .values_list("amount", "base_unapplied", "base_receivable"))

    assert result("U2") == result("U1")
    assert all(i.settled == i.amount for i in docs["U2"].instalments.all())
    assert ledger_problems(company) == []


def test_credit_notes_posted_in_bulk_are_applied_as_invoice_post_applies_one(
        books: dict[str, Any]) -> None:
    company, owner, p1 = books["company"], books["owner"], books["P1"]
    invoice = post_single(company, owner, "P1", [line("Work", "1", "100", "20")],
                          issue_date=date(2025, 2, 10))
    # given two credit notes of the invoice posted in bulk, which does not apply them
    credit_note_ids = documents_post_bulk(actor=owner, company=company, docs=[
        BulkDoc(customer_id=p1.pk, kind="credit_note", issue_date=date(2025, 3, 1),
                currency="EUR", lines=[line("Work", "1", "50", "20")], corrects_id=invoice.pk)
        for _ in range(2)])
    assert sum(i.settled for i in invoice.instalments.all()) == 0
    # when the bulk writer applies them, they settle the invoice's three instalments (30-60-90,
    # 40.00 each), oldest first: 40 + 20 from the first, 20 + 40 from the second
    assert credit_notes_apply_to_corrected_bulk(
        actor=owner, company=company, credit_note_ids=credit_note_ids) == 4
    assert list(invoice.instalments.order_by("seq").values_list("settled", flat=True)) == [
        4000, 4000, 4000]
    assert ledger_problems(company) == []
