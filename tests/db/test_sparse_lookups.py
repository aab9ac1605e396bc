"""Look-ups by a mostly empty column stay on their index once SQLite has statistics.

SQLite's ``ANALYZE`` counts the NULLs of an indexed column as one value, so on the plain index
of a column that is NULL in almost every row (``Customer.merged_into``, ``Allocation.
credit_note``) it records "every row has the same value", and its planner then reads the whole
table for one survivor's aliases or one credit note's allocations: at 100,000 customers that
was half of a customer statement's 76 ms (docs/design/reporting.md, "Performance"). The partial
indexes ``customer_merged`` and ``allocation_credit_note`` (on the rows where the column is
set) keep those look-ups on an index. PostgreSQL keeps the share of NULLs in its statistics
and needs nothing: its plans are not checked here.
"""

from __future__ import annotations

import pytest
from django.db import connection

from salesledger.apps.core.maintenance import planner_statistics_refresh
from salesledger.apps.customers.models import Customer
from salesledger.apps.customers.selectors import customer_family, survivors
from salesledger.apps.payments.models import Allocation

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif("connection.vendor != 'sqlite'",
                                 reason="SQLite's planner and its statistics")]


def _plan(sql: str, params: list[object]) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return " | ".join(str(row[-1]) for row in cursor.fetchall())


def _plans_of(call) -> list[str]:
    """The query plan of every statement ``call`` runs, after running it."""
    seen: list[tuple[str, list[object]]] = []

    def keep(execute, sql, params, many, context):
        seen.append((sql, list(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        call()
    return [_plan(sql, params) for sql, params in seen]


def test_aliases_and_credit_note_allocations_are_looked_up_by_index(
        company, make_customer, post_invoice, record_receipt, allocate_to):
    for n in range(60):
        make_customer(f"C{n:03d}")
    invoice = post_invoice("C001")
    receipt = record_receipt("C001", "10.00")
    allocate_to(receipt.number, {invoice.number: "10.00"})
    # nobody merged, no credit note allocated: the columns are NULL in every row, as in
    # most books
    assert not Customer.objects.filter(company=company, merged_into__isnull=False).exists()
    assert planner_statistics_refresh()
    one = Customer.objects.get(company=company, code="C030")

    plans = _plans_of(lambda: (survivors(company), customer_family(company, one.pk)))
    assert len(plans) == 2
    for plan in plans:
        assert "customer_merged" in plan, plan
        assert "SCAN customers_customer" not in plan, plan

    sql, params = Allocation.objects.filter(credit_note_id=invoice.pk).values_list(
        "amount").query.sql_with_params()
    plan = _plan(sql, list(params))
    assert "allocation_credit_note" in plan, plan
