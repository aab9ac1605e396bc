"""The forecast counts the invoices recurring schedules are still to issue: each period in
the window, split by the schedule's terms, expected after its payer's delay; and on a ledger
where one customer is billed by a schedule, the backtest is better with them than without."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from conftest import line_inputs

from salesledger.apps.recurring.models import RecurringRun
from salesledger.apps.recurring.services import (
    ScheduleInput,
    recurring_add,
    recurring_run,
    recurring_set_active,
)
from salesledger.apps.reporting.selectors import cash_forecast, forecast_backtest

pytestmark = pytest.mark.django_db

TODAY = date(2025, 12, 31)
START = date(2025, 1, 15)


@pytest.fixture
def books(company: Any, owner: Any, make_customer: Any, post_invoice: Any,
          record_receipt: Any, allocate_to: Any) -> int:
    """A, invoiced by hand every fortnight, pays 10 days late; S, billed 1,200.00 on the
    15th of every month by a schedule (30 days net), pays 5 days late. Returns the
    schedule's id."""
    make_customer("A")
    make_customer("S")
    schedule = recurring_add(actor=owner, company=company, as_of=START, data=ScheduleInput(
        customer_code="S", lines=line_inputs([("Subscription", "1", "1200.00", "0")]),
        every="monthly", start=START, terms_code="NET30"))
    day, n = date(2025, 1, 6), 0
    while day <= date(2025, 12, 20):
        recurring_run(actor=owner, company=company, as_of=day)
        inv = post_invoice("A", lines=[("Work", "1", f"{300 + n}.00", "0")], issue_date=day,
                           terms="NET30")
        paid = inv.due_date + timedelta(days=10)
        if paid <= TODAY:
            r = record_receipt("A", f"{300 + n}.00", paid)
            allocate_to(r.number, {inv.number: f"{300 + n}.00"}, day=paid)
        n += 1
        day += timedelta(days=14)
    recurring_run(actor=owner, company=company, as_of=date(2025, 12, 20))
    for run in RecurringRun.objects.filter(company=company).select_related("invoice"):
        paid = run.invoice.due_date + timedelta(days=5)
        if paid <= TODAY:
            r = record_receipt("S", "1200.00", paid)
            allocate_to(r.number, {run.invoice.number: "1200.00"}, day=paid)
    return int(schedule.pk)


def test_the_periods_to_come_are_in_the_forecast(books: int, company: Any,
                                                 owner: Any) -> None:
    assert RecurringRun.objects.filter(company=company).count() == 12  # January to December
    with_them = cash_forecast(company, as_of=TODAY, weeks=13)
    recurring_set_active(actor=owner, company=company, schedule_id=books, active=False,
                         as_of=TODAY)
    without = cash_forecast(company, as_of=TODAY, weeks=13)
    # 13 weeks to 1 April 2026: the invoices of 15 January, 15 February and 15 March, due
    # 14 February, 17 March and 14 April; the last falls after the window
    naive = [x - y for x, y in zip(with_them.naive, without.naive, strict=True)]
    assert naive[6] == naive[10] == 120000 and sum(naive) == 240000
    # S pays five days late: 19 February (week 8) and 22 March (week 12)
    expected = [x - y for x, y in zip(with_them.expected, without.expected, strict=True)]
    assert expected[7] == expected[11] == 120000 and sum(expected) == 240000


def test_the_backtest_is_better_with_them(books: int, company: Any, owner: Any) -> None:
    with_them = forecast_backtest(company, as_of=TODAY, weeks=13, runs=6)
    recurring_set_active(actor=owner, company=company, schedule_id=books, active=False,
                         as_of=TODAY)
    without = forecast_backtest(company, as_of=TODAY, weeks=13, runs=6)
    # what was received is the same both times; only the forecast changes
    assert [r.actual for r in with_them.runs] == [r.actual for r in without.runs]
    assert with_them.expected_error is not None and without.expected_error is not None
    assert with_them.expected_error < without.expected_error
    assert with_them.naive_error is not None and without.naive_error is not None
    assert with_them.expected_error < with_them.naive_error
