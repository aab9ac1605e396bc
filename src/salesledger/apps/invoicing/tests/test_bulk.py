"""Bulk posting: gapless numbers shared with single posting, the single service's errors,
nothing written on failure, and kept numbers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from salesledger.apps.core.models import AuditEvent, NumberCounter
from salesledger.apps.core.services import company_close_period, number_prefix_set
from salesledger.apps.invoicing.models import Invoice
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
from salesledger.domain.errors import (
    CreditExceedsInvoice,
    CurrencyMismatch,
    DuplicateCode,
    NegativeQuantity,
    PeriodClosed,
    PurchaseOrderRequired,
    UnknownCustomer,
    ValidationFailed,
)


@pytest.fixture
def books(db: None) -> dict[str, Any]:
    owner = make_owner("bulk-owner")
    company = make_company(owner, "bulkco")
    customers = {code: make_customer(company, owner, code, **kw) for code, kw in (
        ("B1", {}), ("B2", {"po_required": True}), ("B3", {"currency": "USD"}))}
    return {"owner": owner, "company": company, **customers}


def doc(customer: Any, day: date, *, kind: str = "invoice", price: str = "100.00",
        **kw: Any) -> BulkDoc:
    return BulkDoc(customer_id=kw.pop("customer_id", customer.pk), kind=kind, issue_date=day,
                   currency=kw.pop("currency", customer.currency),
                   lines=kw.pop("lines", [line("Work", "1", price, "20")]), **kw)


def post(books: dict[str, Any], docs: list[BulkDoc]) -> list[Invoice]:
    ids = documents_post_bulk(actor=books["owner"], company=books["company"], docs=docs)
    found = Invoice.objects.in_bulk(ids)
    return [found[i] for i in ids]


def counter(company: Any, series: str, year: int) -> int | None:
    row = NumberCounter.objects.filter(company=company, series=series, fiscal_year=year).first()
    return row.last if row else None


def test_bulk_and_single_posting_share_one_gapless_series(books: dict[str, Any]) -> None:
    company, owner, b1 = books["company"], books["owner"], books["B1"]
    first = post_single(company, owner, "B1", [line("Work", "1", "10")],
                        issue_date=date(2025, 1, 10))
    posted = post(books, [doc(b1, date(2025, 1, 20)), doc(b1, date(2025, 1, 5)),
                          doc(b1, date(2025, 1, 15)),
                          doc(b1, date(2025, 1, 16), kind="credit_note", price="5")])
    last = post_single(company, owner, "B1", [line("Work", "1", "10")],
                       issue_date=date(2025, 1, 25))
    assert first.number == "INV2025-00001"
    # Numbers are taken in order of issue date, then input order; ids come back in input order.
    assert [p.number for p in posted] == ["INV2025-00004", "INV2025-00002", "INV2025-00003",
                                          "CN2025-00001"]
    assert [(p.series, p.seq, p.status) for p in posted[:2]] == [("INV", 4, "posted"),
                                                                 ("INV", 2, "posted")]
    assert last.number == "INV2025-00005"
    assert (counter(company, "INV", 2025), counter(company, "CN", 2025)) == (5, 1)
    assert AuditEvent.objects.filter(company=company, action__endswith=".post").count() == 6
    assert ledger_problems(company) == []


def test_each_fiscal_year_has_its_own_series(books: dict[str, Any]) -> None:
    company, b1 = books["company"], books["B1"]
    posted = post(books, [doc(b1, date(2026, 1, 2)), doc(b1, date(2025, 12, 30)),
                          doc(b1, date(2026, 1, 1)), doc(b1, date(2025, 6, 1))])
    assert [p.number for p in posted] == ["INV2026-00002", "INV2025-00002", "INV2026-00001",
                                          "INV2025-00001"]
    assert (counter(company, "INV", 2025), counter(company, "INV", 2026)) == (2, 2)
    assert ledger_problems(company) == []


@pytest.mark.parametrize(("broken", "error"), [
    (lambda b: doc(b["B1"], date(2025, 3, 1), customer_id=999_999), UnknownCustomer),
    (lambda b: doc(b["B2"], date(2025, 3, 1)), PurchaseOrderRequired),
    (lambda b: doc(b["B1"], date(2025, 1, 31)), PeriodClosed),
    (lambda b: doc(b["B1"], date(2025, 3, 1), lines=[line("Minus", "-3", "10")]),
     NegativeQuantity),
    (lambda b: doc(b["B1"], date(2025, 3, 1), kind="credit_note", currency="USD",
                   rate=Decimal("0.9"), corrects_id=b["posted"].pk), CurrencyMismatch),
    (lambda b: doc(b["B1"], date(2025, 3, 1), kind="credit_note", price="1000",
                   corrects_id=b["posted"].pk), CreditExceedsInvoice),
    (lambda b: doc(b["B1"], date(2025, 3, 1), number="INV2025-00009"), ValidationFailed),
    (lambda b: doc(b["B1"], date(2025, 3, 1), number="INV2025-00001"), DuplicateCode),
])
def test_a_broken_document_raises_the_single_services_error_and_writes_nothing(
        books: dict[str, Any], broken: Any, error: type[Exception]) -> None:
    company, owner = books["company"], books["owner"]
    books["posted"] = post_single(company, owner, "B1", [line("Work", "1", "100", "20")],
                                  issue_date=date(2025, 2, 10))
    company_close_period(actor=owner, company=company, through=date(2025, 1, 31))
    events = AuditEvent.objects.filter(company=company).count()
    good = doc(books["B1"], date(2025, 3, 2))
    with pytest.raises(error):
        post(books, [good, broken(books)])
    assert Invoice.objects.filter(company=company).count() == 1
    assert counter(company, "INV", 2025) == 1 and counter(company, "CN", 2025) is None
    assert AuditEvent.objects.filter(company=company).count() == events
    assert ledger_problems(company) == []


def test_kept_numbers(books: dict[str, Any]) -> None:
    company, b1 = books["company"], books["B1"]
    posted = post(books, [doc(b1, date(2025, 3, 1), number="F-2024-117"),
                          doc(b1, date(2025, 3, 2), number="INV2025-00002"),
                          doc(b1, date(2025, 3, 3), number="INV2025-00001"),
                          doc(b1, date(2025, 3, 1))])
    # A foreign number stays outside every counter; one written like this company's own
    # continues its series (so that the counter never gives it again).
    assert [(p.number, p.series, p.seq) for p in posted] == [
        ("F-2024-117", "IMP", None), ("INV2025-00002", "INV", 2), ("INV2025-00001", "INV", 1),
        ("INV2025-00003", "INV", 3)]
    assert counter(company, "INV", 2025) == 3
    with pytest.raises(DuplicateCode):
        post(books, [doc(b1, date(2025, 3, 4), number="F-2024-117")])
    with pytest.raises(ValidationFailed, match="does not continue that series"):
        post(books, [doc(b1, date(2025, 3, 4), number="INV2025-00009")])
    with pytest.raises(DuplicateCode, match="given to two documents"):
        post(books, [doc(b1, date(2025, 3, 4), number="X-1"),
                     doc(b1, date(2025, 3, 5), number="X-1")])
    assert ledger_problems(company) == []


def test_kept_numbers_follow_a_prefix_the_company_set_for_the_year(
        books: dict[str, Any]) -> None:
    company, owner, b1 = books["company"], books["owner"], books["B1"]
    number_prefix_set(actor=owner, company=company, series="INV", fiscal_year=2026,
                      prefix="FAC")
    posted = post(books, [doc(b1, date(2026, 3, 1), number="FAC2026-00001"),
                          doc(b1, date(2026, 3, 2), number="INV2026-00001"),
                          doc(b1, date(2026, 3, 3))])
    # FAC is the series' prefix in 2026: a number written so continues it; the default's
    # way of writing is now a foreign number, outside every counter
    assert [(p.number, p.series, p.seq) for p in posted] == [
        ("FAC2026-00001", "INV", 1), ("INV2026-00001", "IMP", None),
        ("FAC2026-00002", "INV", 2)]
    with pytest.raises(ValidationFailed, match="does not continue that series"):
        post(books, [doc(b1, date(2026, 3, 4), number="FAC2026-00009")])
    assert ledger_problems(company) == []


def test_credit_notes_of_a_batch_are_checked_together(books: dict[str, Any]) -> None:
    company, owner, b1 = books["company"], books["owner"], books["B1"]
    invoice = post_single(company, owner, "B1", [line("Work", "1", "100", "20")],
                          issue_date=date(2025, 2, 10))
    half = doc(b1, date(2025, 3, 1), kind="credit_note", price="50", corrects_id=invoice.pk)
    with pytest.raises(CreditExceedsInvoice):  # 60 + 60 > 120
        post(books, [half, doc(b1, date(2025, 3, 1), kind="credit_note", price="50.01",
                              corrects_id=invoice.pk)])
    credits = post(books, [half, doc(b1, date(2025, 3, 1), kind="credit_note", price="50",
                                     corrects_id=invoice.pk)])
    assert [c.corrects_id for c in credits] == [invoice.pk, invoice.pk]
    # Unlike invoice_post, bulk posting does not apply them: the caller decides (payments'
    # bulk writer applies them, payments/tests/test_payments_bulk.py).
    assert invoice.instalments.get().settled == 0 and credits[0].allocated == 0
    assert ledger_problems(company) == []
