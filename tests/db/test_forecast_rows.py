"""The forecast has the database add up the open items per due date and payer's delay, each
customer's own delay worked out in the query from the year's delays
(``forecast._open_by_delay``); its weeks must be those of the plain forecast, made item by
item from the aging's detail with each payer's delay from ``payment_delays``, looked up by
code (what the forecast did before): on ledgers written as ``test_aging_exact`` writes them,
on several days, before and after a merge (an alias's items take its survivor's delay), in
the company's currency and in the document currency USD (the items in it, as invoiced)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from salesledger.apps.customers.merge import customer_merge
from salesledger.apps.reporting.aging import AgingScope, aging_item_rows
from salesledger.apps.reporting.forecast import (
    ForecastFilter,
    forecast,
    payment_delays,
    recurring_items,
)
from salesledger.domain.aging import parse_buckets
from salesledger.domain.errors import MergeRefused
from salesledger.domain.forecast import weekly

from .test_aging_exact import OPS, START, Books

pytestmark = pytest.mark.django_db

DAYS = [START + timedelta(days=n) for n in (20, 45, 75)]


def plain(company: Any, day: date, weeks: int = 13, currency: str = "") -> Any:
    est = payment_delays(company, day)
    scope = AgingScope(as_of=day, buckets=parse_buckets("current"), currency=currency)
    items = [(r["due_date"], r["open" if currency else "base_open"],
              est.delay(str(r["customer"])))
             for r in aging_item_rows(company, scope) if r["type"] == "instalment"]
    only = ForecastFilter(scope) if currency else None
    return weekly(items + recurring_items(company, day, weeks, est, only=only), day, weeks)


def same(company: Any, day: date) -> bool:
    """The forecast of ``day`` is the plain one, in base currency and in USD."""
    scope = AgingScope(as_of=day, buckets=parse_buckets("current"), currency="USD")
    return (forecast(company, as_of=day, estimator="median") == plain(company, day)
            and forecast(company, as_of=day, estimator="median",
                         only=ForecastFilter(scope)) == plain(company, day, currency="USD"))


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_the_forecast_is_the_plain_item_by_item_one(ops: list[tuple[Any, ...]]) -> None:
    books = Books()
    for op in ops:
        books.run(op)
    for day in DAYS:
        assert same(books.company, day), day
    try:
        customer_merge(actor=books.user, company=books.company, alias="B", survivor="A")
    except MergeRefused:  # B has a draft (a refused posting left it): nothing to compare
        return
    for day in DAYS:
        assert same(books.company, day), day


# Payers with a history of their own: A's and U's receipts applied in several parts on
# different days, B's once; so that the own delays worked out in the query (not only the
# company's) are compared, before and after B is merged into A.
HISTORY = [("invoice", 0, 50000, 0, "30-60-90"), ("invoice", 0, 40000, 5, "NET14"),
           ("invoice", 2, 30000, 3, "30-60-90"), ("invoice", 1, 20000, 10, "NET30"),
           ("receipt", 0, 90000, 20, False), ("receipt", 2, 30000, 25, True),
           ("receipt", 1, 10000, 15, False),
           ("allocate", 0, 0, 10, 0), ("allocate", 0, 0, 10, 12), ("allocate", 0, 1, 20, 30),
           ("allocate", 0, 1, 30, 40), ("allocate", 1, 0, 20, 5), ("allocate", 1, 0, 20, 15),
           ("allocate", 1, 0, 30, 35), ("allocate", 2, 0, 50, 3), ("reverse", 0, 2)]


def test_own_delays_worked_out_by_the_database_are_the_estimators() -> None:
    books = Books()
    for op in HISTORY:
        books.run(op)
    day = START + timedelta(days=120)
    own = payment_delays(books.company, day).own
    assert set(own) >= {"A", "U"} and own["A"] != own["U"]
    for d in (*DAYS, day):
        assert same(books.company, d), d
    customer_merge(actor=books.user, company=books.company, alias="B", survivor="A")
    for d in (*DAYS, day):
        assert same(books.company, d), d
