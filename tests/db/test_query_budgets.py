"""Query budgets: the selectors cost the same number of queries for 3 invoices as for 30."""

from __future__ import annotations

from datetime import timedelta

from conftest import DAY
from django.db import connection
from django.test.utils import CaptureQueriesContext

from salesledger.apps.invoicing.models import Instalment, Invoice
from salesledger.apps.invoicing.selectors import (
    instalment_invoice_numbers,
    invoice_list,
    invoice_numbers,
)
from salesledger.apps.payments.selectors import customer_balances, open_items

# selector name -> (call, budget)
SELECTORS = {
    # the aggregates, and the customers merged into others (whose figures are their
    # survivors', docs/design/customer-records.md)
    "customer_balances": (lambda c: customer_balances(c), 3),
    "customer_balances_as_of": (lambda c: customer_balances(c, as_of=DAY), 3),
    "open_items": (lambda c: list(open_items(c)), 3),
    # a day: one more, whether anything is dated after it (``moved_after``)
    "open_items_as_of": (lambda c: list(open_items(c, as_of=DAY + timedelta(days=40))), 4),
    "open_items_overdue": (lambda c: list(open_items(c, as_of=DAY + timedelta(days=40),
                                                     overdue_only=True)), 2),
    "invoice_list": (lambda c: invoice_list(c), 1),
}


def _grow(count, make_customer, post_invoice, record_receipt, allocate_to, start):
    for n in range(start, start + count):
        code = f"C{n % 4:03d}"
        if n < 4:
            make_customer(code)
        inv = post_invoice(code, issue_date=DAY + timedelta(days=n % 20),
                           terms="30-60-90" if n % 2 else "NET30")
        if n % 3 == 0:
            receipt = record_receipt(code, "50.00", DAY + timedelta(days=20))
            allocate_to(receipt.number, {inv.number: "50.00"}, day=DAY + timedelta(days=20))
        if n % 5 == 0:
            post_invoice(code, kind="credit_note", lines=[("x", 1, "1.00", "0")],
                         issue_date=DAY + timedelta(days=n % 20))


def _count(call, company):
    with CaptureQueriesContext(connection) as ctx:
        call(company)
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_the_data(company, make_customer, post_invoice,
                                                 record_receipt, allocate_to,
                                                 django_assert_max_num_queries):
    _grow(3, make_customer, post_invoice, record_receipt, allocate_to, 0)
    small = {name: _count(call, company) for name, (call, _) in SELECTORS.items()}
    _grow(27, make_customer, post_invoice, record_receipt, allocate_to, 3)
    for name, (call, budget) in SELECTORS.items():
        with django_assert_max_num_queries(budget):
            result = call(company)
        assert result, name  # the selector really read rows
    large = {name: _count(call, company) for name, (call, _) in SELECTORS.items()}
    assert large == small


def test_the_numbers_of_printed_rows_cost_one_query(company, make_customer, post_invoice,
                                                    record_receipt, allocate_to,
                                                    django_assert_num_queries):
    """What a command prints for each allocation or adjustment (its invoice's number) is read
    in one query, for 3 documents as for 30."""
    for start, count in ((0, 3), (3, 27)):
        _grow(count, make_customer, post_invoice, record_receipt, allocate_to, start)
        documents = dict(Invoice.objects.filter(company=company).values_list("id", "number"))
        instalments = dict(Instalment.objects.filter(company=company)
                           .values_list("id", "invoice__number"))
        with django_assert_num_queries(1):
            assert invoice_numbers(company, documents) == documents
        with django_assert_num_queries(1):
            assert instalment_invoice_numbers(company, instalments) == instalments
