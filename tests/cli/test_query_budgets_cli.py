"""Query budgets of the command line's rendering: a command that prints a row per allocation
or adjustment reads what it prints through a selector, in the same number of queries for 3
rows as for 30 (tests/db/test_query_budgets.py holds the selectors' own budgets).

The service a command calls is replaced here by one that returns the same rows read afresh,
without the related objects a service happens to hold in memory: the command must not rely on
them, and walking from each row to its invoice would cost queries per row."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from conftest import DAY
from django.db import connection
from django.test.utils import CaptureQueriesContext

from salesledger.apps.payments.models import Adjustment, Allocation
from tests.support import run

pytestmark = pytest.mark.django_db

# Queries of the whole command: the company, the acting user, what the document is (receipt
# allocate only), the rows (one query, in the replaced service) and their invoice numbers.
ALLOCATE_BUDGET = 5
WRITE_OFF_BUDGET = 4


def _run_counted(capsys, *argv: str) -> tuple[int, list[dict]]:
    with CaptureQueriesContext(connection) as ctx:
        code, out, err = run(capsys, *argv, "--json")
    assert (code, err) == (0, ""), err
    return len(ctx.captured_queries), json.loads(out)


def _afresh(model, ids):
    return lambda **kwargs: list(model.objects.filter(pk__in=ids).order_by("pk"))


def test_receipt_allocate_prints_any_number_of_allocations_in_fixed_queries(
        capsys, monkeypatch, make_customer, post_invoice, record_receipt, allocate_to,
        django_assert_max_num_queries):
    make_customer("C001")
    counts = {}
    ids: list[int] = []
    numbers: list[str] = []
    for size in (3, 30):
        receipt = record_receipt("C001", "100.00", DAY)
        for _ in range(size - len(ids)):
            inv = post_invoice("C001")
            numbers.append(inv.number)
            ids += [a.pk for a in allocate_to(receipt.number, {inv.number: "1.00"})]
        monkeypatch.setattr("salesledger.apps.payments.services.allocate",
                            _afresh(Allocation, list(ids)))
        with django_assert_max_num_queries(ALLOCATE_BUDGET):
            counts[size], rows = _run_counted(capsys, "receipt", "allocate", receipt.number,
                                              "--auto")
        assert [r["invoice"] for r in rows] == numbers
    assert counts[3] == counts[30]


def test_customer_write_off_prints_any_number_of_adjustments_in_fixed_queries(
        capsys, monkeypatch, owner, company, make_customer, post_invoice,
        django_assert_max_num_queries):
    from salesledger.apps.payments.adjustments.bad_debts import customer_write_off

    counts = {}
    ids: list[int] = []
    numbers: list[str] = []
    for size, code in ((3, "C001"), (30, "C002")):
        make_customer(code)
        for n in range(size - len(ids)):
            numbers.append(post_invoice(code, issue_date=DAY + timedelta(days=n)).number)
        ids += [a.pk for a in customer_write_off(actor=owner, company=company, code=code,
                                                 day=DAY + timedelta(days=60), reason="gone")]
        monkeypatch.setattr("salesledger.apps.payments.adjustments.bad_debts.customer_write_off",
                            _afresh(Adjustment, list(ids)))
        with django_assert_max_num_queries(WRITE_OFF_BUDGET):
            counts[size], rows = _run_counted(capsys, "customer", "write-off", code,
                                              "--reason", "gone")
        assert [r["invoice"] for r in rows] == numbers
    assert counts[3] == counts[30]
