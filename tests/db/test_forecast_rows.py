"""The forecast adds up the rows of a due date whose payers share a delay before it makes its
weeks (``forecast._by_delay``, keyed by customer id); its weeks must be those of the plain
forecast, made item by item from the aging's detail with each payer's delay looked up by code
(what the forecast did before): on ledgers written as ``test_aging_exact`` writes them, on
several days, before and after a merge (an alias's items take its survivor's delay)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from salesledger.apps.customers.merge import customer_merge
from salesledger.apps.reporting.aging import AgingScope, aging_item_rows
from salesledger.apps.reporting.forecast import forecast, payment_delays, recurring_items
from salesledger.domain.aging import parse_buckets
from salesledger.domain.errors import MergeRefused
from salesledger.domain.forecast import weekly

from .test_aging_exact import OPS, START, Books

pytestmark = pytest.mark.django_db

DAYS = [START + timedelta(days=n) for n in (20, 45, 75)]


def plain(company: Any, day: date, weeks: int = 13) -> Any:
    est = payment_delays(company, day)
    items = [(r["due_date"], r["base_open"], est.delay(str(r["customer"])))
             for r in aging_item_rows(company, AgingScope(as_of=day,
                                                          buckets=parse_buckets("current")))
             if r["type"] == "instalment"]
    return weekly(items + recurring_items(company, day, weeks, est), day, weeks)


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_the_forecast_is_the_plain_item_by_item_one(ops: list[tuple[Any, ...]]) -> None:
    books = Books()
    for op in ops:
        books.run(op)
    for day in DAYS:
        assert forecast(books.company, as_of=day, estimator="median") == plain(
            books.company, day), day
    try:
        customer_merge(actor=books.user, company=books.company, alias="B", survivor="A")
    except MergeRefused:  # B has a draft (a refused posting left it): nothing to compare
        return
    for day in DAYS:
        assert forecast(books.company, as_of=day, estimator="median") == plain(
            books.company, day), day
