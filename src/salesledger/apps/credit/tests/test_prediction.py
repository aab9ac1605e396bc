"""Predicted payment dates on a small ledger told as a story: the backtest's figures worked
out by hand, the cut that keeps what was settled after the day out of everything learnt or
seen, the median fallback. (The model on the demo company, the stored model and the nightly
training: tests/db/test_payment_model_demo.py, since the demo is above this app.)"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from salesledger.apps.credit.prediction import (
    backtest,
    ledger_as_of,
    payment_predictions,
    predict,
    train,
)
from salesledger.apps.credit.services import signal_record
from salesledger.apps.customers.models import Customer

pytestmark = pytest.mark.django_db

D = date(2025, 5, 15)
KNOWN = date(2025, 9, 30)


@pytest.fixture
def story(make_customer: Any, post_invoice: Any, record_receipt: Any,
          allocate_to: Any) -> dict[str, Any]:
    """A pays 10, 10 and 20 days late, then has an item open on D paid on 27 May; B paid
    once 20 days late and never pays the item open on D; C is new, its first item open on D
    is paid on 11 June."""
    for code in "ABC":
        make_customer(code)
    out: dict[str, Any] = {}

    def invoice(code: str, issued: date, amount: str, paid_after_due: int | None) -> Any:
        inv = post_invoice(code, lines=[("Work", "1", amount, "0")], issue_date=issued,
                           terms="NET30")
        if paid_after_due is not None:
            day = inv.due_date + timedelta(days=paid_after_due)
            r = record_receipt(code, amount, day)
            allocate_to(r.number, {inv.number: amount}, day=day)
        return inv

    invoice("A", date(2025, 1, 6), "100.00", 10)
    invoice("A", date(2025, 2, 3), "100.00", 10)
    invoice("A", date(2025, 3, 3), "100.00", 20)
    invoice("B", date(2025, 1, 6), "200.00", 20)
    out["a"] = invoice("A", date(2025, 4, 7), "100.00", None)
    out["b"] = invoice("B", date(2025, 4, 14), "200.00", None)
    out["c"] = invoice("C", date(2025, 5, 2), "300.00", None)
    return out


def _pay(record_receipt: Any, allocate_to: Any, code: str, inv: Any, amount: str,
         day: date) -> None:
    r = record_receipt(code, amount, day)
    allocate_to(r.number, {inv.number: amount}, day=day)


def test_the_backtest_worked_out_by_hand(story: dict[str, Any], company: Any,
                                         record_receipt: Any, allocate_to: Any) -> None:
    a, c = story["a"], story["c"]
    _pay(record_receipt, allocate_to, "A", a, "100.00", date(2025, 5, 27))
    _pay(record_receipt, allocate_to, "C", c, "300.00", date(2025, 6, 11))
    result = backtest(company, as_of=D, known=KNOWN)
    # Too little history for a model: each item from its payer's median delay (C, new, from
    # the company's delays 10, 10, 20, 20: 15); the baseline from the average delay.
    assert result.trained_rows == 0
    model_a = a.due_date + timedelta(days=10)          # A's median of 10, 10, 20
    model_c = c.due_date + timedelta(days=15)
    base_a = a.due_date + timedelta(days=13)           # A's average 13.3 days
    base_c = c.due_date + timedelta(days=15)           # the company's average 15
    err = [abs((model_a - date(2025, 5, 27)).days), abs((model_c - date(2025, 6, 11)).days)]
    base = [abs((base_a - date(2025, 5, 27)).days), abs((base_c - date(2025, 6, 11)).days)]
    assert result.invoices == 2  # B's item was never settled
    assert result.model_mae == sum(err) / 2
    assert result.baseline_mae == sum(base) / 2
    assert result.model_within_7 == sum(e <= 7 for e in err) / 2
    assert result.baseline_within_7 == sum(e <= 7 for e in base) / 2
    # B's item, unpaid more than 90 days after its due date by KNOWN, defaulted; nobody's
    # history has a default, so every item scores 0 and the AUC is a coin's: 0.5.
    assert (result.defaults, result.scored, result.model_auc) == (3, 1, 0.5)


def test_nothing_settled_after_the_day_is_seen(story: dict[str, Any], company: Any,
                                               record_receipt: Any, allocate_to: Any) -> None:
    before = ledger_as_of(company, D)
    predicted = [(p.item.id, p.expected, p.p10, p.p90, p.default_probability, p.method)
                 for p in predict(before, train(before))]
    # when the items open on D are paid after it, and an earlier one reversed after it
    _pay(record_receipt, allocate_to, "A", story["a"], "100.00", D + timedelta(days=1))
    _pay(record_receipt, allocate_to, "B", story["b"], "200.00", D + timedelta(days=30))
    after = ledger_as_of(company, D)
    # then the ledger of D, its predictions and what the training sees are unchanged
    assert after.items == before.items
    assert [(p.item.id, p.expected, p.p10, p.p90, p.default_probability, p.method)
            for p in predict(after, train(after))] == predicted
    assert all(i.settled_on is None or i.settled_on <= D for i in after.items)
    # while the ledger of a later day knows of the payments
    later = {i.id: i for i in ledger_as_of(company, KNOWN).items}
    assert later[story["a"].instalments.get().pk].settled_on == D + timedelta(days=1)


def test_thin_history_falls_back_to_the_customers_median(story: dict[str, Any],
                                                          company: Any) -> None:
    result = payment_predictions(company, as_of=D)
    by_customer = {p.item.customer: p for p in result.items}
    assert {p.method for p in result.items} == {"median"}
    a = by_customer["A"]
    # A: median 10, 10th and 90th percentiles of 10, 10, 20 (interpolated): 10 and 18
    assert (a.expected, a.p10, a.p90) == tuple(
        story["a"].due_date + timedelta(days=n) for n in (10, 10, 18))
    # B's only delay is 20 days: its median, whatever the company's
    assert by_customer["B"].expected == story["b"].due_date + timedelta(days=20)
    # C has no history: the company's median delay
    assert by_customer["C"].expected == story["c"].due_date + timedelta(days=15)


def test_the_ledger_of_a_day_reads_collections_signals_up_to_it(
        story: dict[str, Any], company: Any) -> None:
    a = Customer.objects.get(company=company, code="A")
    signal_record(company_id=company.pk, customer_id=a.pk, kind="promise_broken",
                  day=D - timedelta(days=3))
    signal_record(company_id=company.pk, customer_id=a.pk, kind="promise_made",
                  day=D - timedelta(days=2))
    signal_record(company_id=company.pk, customer_id=a.pk, kind="plan_broken",
                  day=D + timedelta(days=1))
    assert ledger_as_of(company, D).signals == {"A": [(D - timedelta(days=3), "promise_broken")]}
    assert ledger_as_of(company, D + timedelta(days=1)).signals == {
        "A": [(D - timedelta(days=3), "promise_broken"), (D + timedelta(days=1), "plan_broken")]}
