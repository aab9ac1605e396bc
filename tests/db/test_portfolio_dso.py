"""The portfolio's DSO is read from what it needs (``kpis.last_month_dso``: the month's sales
and its month-end receivable, the latter the day's aging when the month ends on the day) and
is the DSO of ``kpi_report``'s month, as it was when the portfolio computed a whole month of
KPIs for it: on ledgers written as ``test_aging_exact`` writes them (EUR and USD, credit
notes, allocations dated back or forth, reversals), on month ends and between them, from the
open items and from the aging summary of the day."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from salesledger.apps.reporting.kpis import last_month_dso
from salesledger.apps.reporting.selectors import (
    aging_report,
    aging_summary_rebuild,
    kpi_report,
    portfolio,
)

from .test_aging_exact import OPS, START, Books

pytestmark = pytest.mark.django_db

# month ends and days between them, across the ledgers' three months and after
DAYS = [date(2026, 1, 31), date(2026, 2, 14), date(2026, 2, 28), date(2026, 3, 1),
        date(2026, 3, 31), date(2026, 4, 20)]


def _dso(books: Books, day: date) -> Any:
    [row] = portfolio(books.user, as_of=day)
    return row.dso


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_the_portfolio_dso_is_the_kpis_month_dso(ops: list[tuple[Any, ...]]) -> None:
    books = Books()
    for op in ops:
        books.run(op)
    company = books.company
    for day in DAYS:
        [month] = kpi_report(company, as_of=day, months=1)
        # what the portfolio passes: its aging of the day, from the open items...
        on_day = aging_report(company, as_of=day, summary=False).base_total
        assert last_month_dso(company, day, on_day) == month.kpis.dso, day
        # ...or from the aging summary of the day, which the page reads when it is of it
        aging_summary_rebuild(company, as_of=day)
        on_day = aging_report(company, as_of=day).base_total
        assert last_month_dso(company, day, on_day) == month.kpis.dso, day


def test_a_month_of_sales_and_receivable_gives_the_dso() -> None:
    books = Books()
    # two invoices issued in January, 500.00 of the first paid on 16 January
    books.run(("invoice", 0, 120000, 5, "NET30"))
    books.run(("invoice", 1, 30000, 10, "NET30"))
    books.run(("receipt", 0, 50000, 15, False))
    books.run(("allocate", 0, 0, 100, 0))
    sales = sum(i.base_total for i in books.invoices)
    end = START + timedelta(days=30)  # 2026-01-31
    # what is open at the month's end × its 31 days ÷ its sales, to one place
    dso = (Decimal((sales - 50000) * 31) / sales).quantize(Decimal("0.1"), ROUND_HALF_UP)
    assert _dso(books, end) == dso
    # ten days later the month is still January's
    assert _dso(books, end + timedelta(days=10)) == dso
    # on 28 February, the month is February, which has no sales: no DSO
    assert _dso(books, date(2026, 2, 28)) is None
