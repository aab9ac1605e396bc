"""Promises to pay and payment plans in the cash-flow forecast (docs/design/forecast.md,
"Promises and plans"): what a customer committed to pay on a day is expected on that day,
taken from its items oldest first, the naive view unchanged; as it was known on the
forecast's day (a promise kept, or made later, counts for nothing)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from salesledger.apps.collections.commitments import commitments_on
from salesledger.apps.collections.services import plan_create, promise_add
from salesledger.apps.reporting import providers
from salesledger.apps.reporting.selectors import cash_forecast
from salesledger.domain.forecast import Delay, committed

D = date(2026, 3, 31)  # the forecast's day


def test_a_commitment_takes_from_its_payers_oldest_items() -> None:
    usual = Delay(10, 5, 20, 9)
    items = [("A", date(2026, 3, 1), 500, usual), ("A", date(2026, 2, 1), 300, usual),
             ("B", date(2026, 3, 5), 100, usual)]
    out = committed(items, [("A", date(2026, 4, 20), 400), ("B", date(2026, 4, 1), 999)])
    # A's 400 on 20 April: 300 of February's item, 100 of March's; B's commitment is capped
    # at what B owes
    assert sorted(out) == sorted([
        (date(2026, 2, 1), 300, Delay(78, 78, 78, 0)),
        (date(2026, 3, 1), 100, Delay(50, 50, 50, 0)),
        (date(2026, 3, 1), 400, usual),
        (date(2026, 3, 5), 100, Delay(27, 27, 27, 0))])
    assert committed(items, []) == [(d, a, x) for _, d, a, x in
                                     sorted(items, key=lambda i: (i[0], i[1]))]


@pytest.mark.django_db
def test_promises_and_plans_move_the_expected_receipts(
        company: Any, owner: Any, make_customer: Any, post_invoice: Any,
        record_receipt: Any, allocate_to: Any) -> None:
    assert providers.commitments_registered() == [
        "salesledger.apps.collections.commitments.commitments_on"]
    make_customer("C001")
    make_customer("C002")
    a = post_invoice("C001", lines=[("Work", "1", "1000.00", "0")],
                     issue_date=date(2026, 3, 2), terms="NET30")  # due 1 April
    b = post_invoice("C002", lines=[("Work", "1", "600.00", "0")],
                     issue_date=date(2026, 1, 2), terms="NET30")  # due 1 February
    before = cash_forecast(company, as_of=D, weeks=13)
    # nobody has paid anything yet: every item is expected on its due date (or at once)
    assert before.expected == before.naive
    assert (before.expected[0], sum(before.expected)) == (160000, 160000)
    # C001 promises 400.00 of its invoice by 5 May (week 4 after 31 March); C002's 600.00
    # overdue is put in a plan of three instalments of 200.00, on 14 April, 28 April and 12
    # May (weeks 1, 3 and 5)
    promise_add(actor=owner, company=company, customer="C001", invoice=a.number,
                amount=Decimal("400.00"), promised_date=date(2026, 5, 5), day=D)
    plan_create(actor=owner, company=company, customer="C002", day=D, instalments=3,
                first_due=date(2026, 4, 14), every_days=14)
    w = cash_forecast(company, as_of=D, weeks=13)
    assert w.naive == before.naive
    assert w.expected[0] == 60000  # what is left of C001's invoice, due 1 April
    assert [w.expected[k] for k in (1, 3, 4, 5)] == [20000, 20000, 40000, 20000]
    assert w.low == w.expected == w.high  # the committed days are certain, the rest on time
    assert sum(w.expected) == 160000
    # judged as on the day: the day before the promise and the plan, nothing moves
    assert cash_forecast(company, as_of=D - timedelta(days=1),
                         weeks=13).expected == before.expected
    # the promise kept (400.00 paid on 20 April) and the plan broken (14 April's instalment
    # missed): a forecast made on 21 April has no commitment left; one of 13 April has both
    r = record_receipt("C001", "400.00", date(2026, 4, 20))
    allocate_to(r.number, {a.number: "400.00"}, day=date(2026, 4, 20))
    assert {c.customer_id for c in commitments_on(company, date(2026, 4, 13))} == {
        a.customer_id, b.customer_id}
    assert commitments_on(company, date(2026, 4, 21)) == []
