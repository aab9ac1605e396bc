"""Applying the sure lines of a batch (``apply_lines``, what ``bank match --auto-apply``
writes): every rule of payments holds (a short payment's residual written off within the
tolerance, an early-payment discount taken, an invoice in another currency paid at the
proposal's rate), the audit chain in the same transaction, and the batch costs the same
number of queries whatever its number of lines: one ``receipts_record``, one
``allocations_make`` (one ``AllocationsMade``), one ``adjustments_write`` for the write-offs,
one for the discounts, and a fixed number of audit appends."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from salesledger.apps.banking.matching import apply_lines
from salesledger.apps.banking.models import LineMatch
from salesledger.apps.core import events
from salesledger.apps.core.audit import audit_verify
from salesledger.apps.core.models import AuditEvent
from salesledger.apps.invoicing.models import Invoice
from salesledger.apps.invoicing.tests.books import ledger_problems
from salesledger.apps.payments.models import Adjustment, Allocation, Receipt

from .support import applying_books, sure_batch

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def books() -> dict[str, Any]:
    return applying_books()


def test_a_batch_applies_every_rule_in_as_many_queries_for_more_lines(
        books: dict[str, Any]) -> None:
    company, owner = books["company"], books["owner"]
    made: list[events.AllocationsMade] = []
    counts = []
    with events.subscribed(events.AllocationsMade, made.append):
        for groups in (1, 2, 6):  # the first batch alone makes the series and the chain
            pairs = sure_batch(books, groups)
            # a line of each batch was matched before and waits for review: its match row
            # is updated, the others' are inserted
            LineMatch.objects.create(company=company, line=pairs[0][0], status="suggested",
                                     rejected=["0:x=1"])
            with CaptureQueriesContext(connection) as queries:
                numbers = apply_lines(company=company, actor=owner, pairs=pairs,
                                      decided_by="auto")
            counts.append(len(queries.captured_queries))
            assert len(numbers) == 4 * groups
    # one AllocationsMade per batch, with every allocation of the batch in it
    assert [len(e.allocations) for e in made] == [4, 8, 24]
    # then the batch of 24 lines takes as many queries as the batch of 8
    assert counts[2] == counts[1], counts
    assert Receipt.objects.count() == 36
    assert LineMatch.objects.filter(status="applied", receipt__isnull=False).count() == 36
    assert LineMatch.objects.filter(rejected=["0:x=1"], decided_by="auto").count() == 3
    # the short payments' residuals written off (2.00 each), the discounts taken (2 %)
    assert sorted(Adjustment.objects.filter(kind="write_off").values_list(
        "amount", flat=True)) == [200] * 9
    assert sorted(Adjustment.objects.filter(kind="discount").values_list(
        "amount", flat=True)) == [600] * 9
    # the dollar invoices paid in full at the proposal's rate, from euro receipts
    crossed = Allocation.objects.filter(source_currency="EUR", currency="USD")
    assert sorted(crossed.values_list("amount", "source_amount")) == [(11000, 10000)] * 9
    open_left = [i.number for i in Invoice.objects.filter(kind="invoice")
                 if sum(x.amount - x.settled for x in i.instalments.all())]
    assert open_left == []
    # one audit event per receipt, per receipt's allocation and per line, in the chain
    assert AuditEvent.objects.filter(action="bank_line.apply").count() == 36
    assert AuditEvent.objects.filter(action="receipt.record").count() == 36
    assert audit_verify(company) == []
    assert ledger_problems(company) == []
