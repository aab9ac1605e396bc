"""The forecast on a generated ledger whose customers pay with a known delay: each item is
expected on its due date plus its payer's median delay, and the backtest beats the naive
view of everyone paying on the due date."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import chain
from typing import Any

import pytest

from salesledger.apps.invoicing.models import Instalment
from salesledger.apps.reporting.aging import AgingScope, aging_item_rows
from salesledger.apps.reporting.forecast import payment_delays, recurring_items
from salesledger.apps.reporting.selectors import (
    ReportFilters,
    cash_forecast,
    forecast_backtest,
)
from salesledger.domain.aging import parse_buckets
from salesledger.domain.errors import ValidationFailed
from salesledger.domain.forecast import weekly

pytestmark = pytest.mark.django_db

START = date(2025, 1, 6)
# days after the due date each customer pays: A always four weeks late, B two days early,
# C late by 5 to 15 days
BEHAVIOUR = {"A": (28, 28, 28), "B": (-2, -2, -2), "C": (5, 10, 15)}
TODAY = date(2025, 12, 31)


@pytest.fixture
def books(make_customer: Any, post_invoice: Any, record_receipt: Any,
          allocate_to: Any) -> None:
    for code in BEHAVIOUR:
        make_customer(code)
    n = 0
    day = START
    while day <= date(2025, 11, 30):
        for code, delays in BEHAVIOUR.items():
            inv = post_invoice(code, lines=[("Work", "1", f"{100 + n}.00", "0")],
                               issue_date=day, terms="NET30")
            paid = inv.due_date + timedelta(days=delays[n % 3])
            if paid <= TODAY:
                r = record_receipt(code, f"{100 + n}.00", paid)
                allocate_to(r.number, {inv.number: f"{100 + n}.00"}, day=paid)
            n += 1
        day += timedelta(days=15)


def test_each_item_is_expected_after_its_payers_delay(books: None, company: Any) -> None:
    d = date(2025, 9, 30)
    w = cash_forecast(company, as_of=d, weeks=13)
    # everything open on the day is paid within the horizon: every view sums to the same
    assert sum(w.naive) == sum(w.expected) > 0
    # A's items are expected four weeks after the naive view puts them
    a_only = [x - y for x, y in zip(w.expected, w.naive, strict=True)]
    assert any(a_only) and sum(a_only) == 0
    assert all(lo <= e <= hi for lo, e, hi in zip(w.low, w.expected, w.high, strict=True))


def test_the_backtest_beats_the_naive_view(books: None, company: Any) -> None:
    bt = forecast_backtest(company, as_of=TODAY, weeks=13, runs=6)
    assert [r.made_on for r in bt.runs] == [date(2025, m, d) for m, d in
                                            ((4, 30), (5, 31), (6, 30), (7, 31), (8, 31),
                                             (9, 30))]
    assert all(sum(r.actual) > 0 for r in bt.runs)
    assert bt.naive_error is not None and bt.expected_error is not None
    assert bt.expected_error < bt.naive_error / 2
    with pytest.raises(ValidationFailed):
        forecast_backtest(company, as_of=TODAY, weeks=53)


def test_the_model_estimator_is_judged_by_the_same_backtest(books: None, company: Any) -> None:
    # the payment-date model (here its median fallback: too little history for a model)
    # puts A's items four weeks after their due dates too, and beats the naive view
    bt = forecast_backtest(company, as_of=TODAY, weeks=13, runs=3, estimator="model")
    assert bt.naive_error is not None and bt.expected_error is not None
    assert bt.expected_error < bt.naive_error / 2
    w = cash_forecast(company, as_of=date(2025, 9, 30), weeks=13, estimator="model")
    assert sum(w.expected) == sum(w.naive) > 0
    with pytest.raises(ValidationFailed):
        cash_forecast(company, as_of=TODAY, weeks=13, estimator="magic")


def _per_item(company: Any, day: date, weeks: int) -> Any:
    """The forecast as first written: every open item read on its own (the aging's detail)
    and put in its weeks, the reference the summed reading must equal."""
    est = payment_delays(company, day)
    items = ((r["due_date"], r["base_open"], est.delay(str(r["customer"])))
             for r in aging_item_rows(company, AgingScope(day, parse_buckets("current")))
             if r["type"] == "instalment")
    return weekly(chain(items, recurring_items(company, day, weeks, est)), day, weeks)


def test_the_items_summed_per_due_date_give_the_forecast_item_by_item(
        books: None, company: Any, record_receipt: Any, allocate_to: Any) -> None:
    # a part payment dated back, so that some day has an item partly open
    open_a = Instalment.objects.filter(company=company, customer__code="A",
                                       settled=0).order_by("due_date").first()
    assert open_a is not None
    r = record_receipt("A", "40.00", date(2025, 12, 20))
    allocate_to(r.number, {open_a.invoice.number: "40.00"}, day=date(2025, 12, 20))
    for day in (date(2025, 2, 28), date(2025, 6, 30), date(2025, 9, 30), date(2025, 12, 19),
                TODAY, date(2026, 3, 1)):
        for weeks in (1, 4, 13):
            assert cash_forecast(company, as_of=day, weeks=weeks) == _per_item(
                company, day, weeks), (day, weeks)


def test_the_forecast_of_each_customer_adds_up_to_the_company(books: None,
                                                              company: Any) -> None:
    """Filtered by customer, the forecast is of that customer's items, and the customers'
    naive and expected receipts and their backtests add up to the company's, week by week:
    each is a sum of items, and each item is one customer's."""
    d = date(2025, 9, 30)
    whole = cash_forecast(company, as_of=d, weeks=13)
    parts = {c: cash_forecast(company, as_of=d, weeks=13, filters=ReportFilters(customer=c))
             for c in BEHAVIOUR}
    def added(series: str) -> list[int]:
        return [sum(w) for w in zip(*(getattr(p, series) for p in parts.values()),
                                    strict=True)]

    assert added("naive") == whole.naive and added("expected") == whole.expected
    # the band is the least and the greatest of three scenarios in each week: the least of
    # a sum is at least the sum of the least, the greatest at most the sum of the greatest
    assert all(lo <= w for lo, w in zip(added("low"), whole.low, strict=True))
    assert all(hi >= w for hi, w in zip(added("high"), whole.high, strict=True))
    # A pays four weeks late: its items are expected later than the naive view puts them;
    # B two days early: never later
    a, b = parts["A"], parts["B"]
    assert sum(a.naive) == sum(a.expected) > 0 and a.naive != a.expected
    assert _weeks_mean(a.expected) > _weeks_mean(a.naive)
    assert _weeks_mean(b.expected) <= _weeks_mean(b.naive)
    # a country no customer has: nothing; a document currency no item has: nothing
    for nobody in (ReportFilters(country="DE"), ReportFilters(currency="USD")):
        w = cash_forecast(company, as_of=d, weeks=13, filters=nobody)
        assert sum(w.naive) == sum(w.expected) == sum(w.high) == 0
    bt_whole = forecast_backtest(company, as_of=TODAY, weeks=13, runs=3)
    bt_parts = [forecast_backtest(company, as_of=TODAY, weeks=13, runs=3,
                                  filters=ReportFilters(customer=c)) for c in BEHAVIOUR]
    for k, run in enumerate(bt_whole.runs):
        assert [sum(w) for w in zip(*(p.runs[k].actual for p in bt_parts), strict=True)] == \
            run.actual
        assert all(p.runs[k].made_on == run.made_on for p in bt_parts)
    assert sum(sum(p.runs[0].actual) for p in bt_parts[:1]) > 0


def _weeks_mean(amounts: list[int]) -> float:
    return sum(k * a for k, a in enumerate(amounts)) / sum(amounts)
