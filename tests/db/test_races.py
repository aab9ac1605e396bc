"""Concurrency on PostgreSQL: real transactions in threads, each with its own connection,
released together by a barrier. Numbers stay gapless, and no instalment, receipt or
invoice is ever over-settled, over-allocated or over-credited.

These tests commit (``transactional_db``); the flush between tests uses TRUNCATE, which the
suite's connections are allowed (``salesledger.allow_truncate``, see apps/core/guards.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from conftest import DAY
from django.db import connection, connections
from django.db.models import Sum

from salesledger.apps.core.invariants import check_company
from salesledger.apps.invoicing.models import Instalment, Invoice
from salesledger.apps.invoicing.services import invoice_post
from salesledger.apps.payments.models import Receipt
from salesledger.apps.payments.services import Target, allocate
from salesledger.domain.errors import (
    AllocationExceedsOpenAmount,
    AllocationExceedsUnallocated,
    CreditExceedsInvoice,
)

pytestmark = [pytest.mark.postgres]


def run_together(calls: list[Callable[[], Any]]) -> list[tuple[str, Any]]:
    """Run the calls at once, one thread and one database connection each; return
    ("ok", result) or ("error", exception) per call, in order."""
    barrier = threading.Barrier(len(calls))
    results: list[tuple[str, Any]] = [("missing", None)] * len(calls)

    def work(i: int, call: Callable[[], Any]) -> None:
        try:
            connection.ensure_connection()  # connect before the start line, not after it
            barrier.wait(timeout=30)
            results[i] = ("ok", call())
        except Exception as exc:  # the test inspects every outcome
            results[i] = ("error", exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread is stuck (deadlock?)"
    return results


def _kinds(results: list[tuple[str, Any]]) -> list[str]:
    return sorted("ok" if status == "ok" else type(value).__name__ for status, value in results)


def test_concurrent_postings_take_gapless_numbers(transactional_db, company, owner, customer,
                                                  create_invoice):
    # given 8 drafts and no number taken yet this year
    drafts = [create_invoice() for _ in range(8)]
    # when all are posted at the same moment
    results = run_together([
        (lambda d=d: invoice_post(actor=owner, company=company, invoice_id=d.pk).number)
        for d in drafts])
    # then every posting succeeds and the numbers are exactly 1..8
    assert _kinds(results) == ["ok"] * 8, results
    assert sorted(number for _, number in results) == [f"INV2025-{n:05d}" for n in range(1, 9)]
    assert sorted(Invoice.objects.values_list("seq", flat=True)) == list(range(1, 9))
    assert check_company(company) == []


@pytest.mark.parametrize("round_", range(3))
def test_two_receipts_racing_for_one_instalment(transactional_db, company, owner, customer,
                                                post_invoice, record_receipt, round_):
    # given an invoice of 120.00 (one instalment) and two payments of 120.00
    inv = post_invoice(terms="NET30")
    receipts = [record_receipt(amount="120.00") for _ in range(2)]
    # when both are allocated to it in full at once
    results = run_together([
        (lambda r=r: allocate(actor=owner, company=company, day=DAY, receipt=r.number,
                              targets=[Target(inv.number, Decimal("120.00"))]))
        for r in receipts])
    # then exactly one wins; the other is refused with the business error
    assert _kinds(results) == [AllocationExceedsOpenAmount.__name__, "ok"], results
    [inst] = Instalment.objects.filter(invoice=inv)
    assert inst.settled == inst.amount == 12000
    assert sorted(Receipt.objects.values_list("allocated", flat=True)) == [0, 12000]
    assert check_company(company) == []


@pytest.mark.parametrize("round_", range(3))
def test_one_receipt_racing_to_two_invoices(transactional_db, company, owner, customer,
                                            post_invoice, record_receipt, round_):
    # given a payment of 100.00 and two invoices of 80.00 (66.67 + 20 % tax = 80.00)
    invoices = [post_invoice(lines=[("x", "1", "66.67", "20")]) for _ in range(2)]
    assert [i.total for i in invoices] == [8000, 8000]
    receipt = record_receipt(amount="100.00")
    # when the payment is allocated to both in full at once (160.00 > 100.00)
    results = run_together([
        (lambda i=i: allocate(actor=owner, company=company, day=DAY, receipt=receipt.number,
                              targets=[Target(i.number, Decimal("80.00"))]))
        for i in invoices])
    # then one allocation is refused and the receipt is never over-allocated
    assert _kinds(results) == [AllocationExceedsUnallocated.__name__, "ok"], results
    receipt.refresh_from_db()
    assert receipt.allocated == 8000
    assert check_company(company) == []


@pytest.mark.parametrize("round_", range(3))
def test_two_credit_notes_racing_to_correct_one_invoice(transactional_db, company, owner,
                                                        customer, post_invoice, create_invoice,
                                                        round_):
    # given an invoice of 120.00 and two drafted credit notes of 84.00 each
    inv = post_invoice()
    drafts = [create_invoice(kind="credit_note", corrects=inv.number,
                             lines=[("refund", "1", "70.00", "20")],
                             issue_date=DAY + timedelta(days=1)) for _ in range(2)]
    # when both are posted at once
    results = run_together([
        (lambda d=d: invoice_post(actor=owner, company=company, invoice_id=d.pk))
        for d in drafts])
    # then the invoice is never credited beyond its total
    assert _kinds(results) == [CreditExceedsInvoice.__name__, "ok"], results
    credited = (Invoice.objects.filter(corrects=inv, status="posted")
                .aggregate(s=Sum("total"))["s"])
    assert credited == 8400 <= inv.total
    assert check_company(company) == []
