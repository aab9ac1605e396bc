"""The kept trend cohorts (reporting/trend_keep.py) give what the books give.

Hypothesis writes a ledger in the order people work (the generator of test_aging_exact: invoices
in two currencies, receipts, allocations dated back or forth, reversals, deductions, refunds,
returned payments) and keeps the cohorts between its writes, on days before, between and
after them: on every day, the trends read through the kept cohorts are those computed from
the books (``cohort_rows``), and ``salesledger check``'s comparison finds nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from salesledger.apps.reporting import trend_keep
from salesledger.apps.reporting.models import KeptTrendCohort, TrendCohortKeep
from salesledger.apps.reporting.trend_keep import kept_drift, trend_cohorts
from salesledger.apps.reporting.trends import cohort_rows
from tests.db.test_aging_exact import DOCUMENTS, START, WORK, Books

FIRST, LAST = date(2025, 12, 1), date(2026, 3, 1)
DAYS = (-1, 20, 45, 100, 130, 400)


def assert_as_books(company: Any, as_of: date, *, keep: bool = False) -> tuple[str, ...]:
    got = trend_cohorts(company, first=FIRST, last=LAST, as_of=as_of, keep=keep)
    assert got.rows == cohort_rows(company, first=FIRST, last=LAST, as_of=as_of)
    return got.live


@pytest.mark.django_db
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(docs=DOCUMENTS, work=st.lists(WORK, min_size=1, max_size=3),
       keep_on=st.lists(st.sampled_from(DAYS), min_size=1, max_size=3))
def test_kept_cohorts_are_the_books_after_back_dated_writes(
        docs: list[tuple[Any, ...]], work: list[list[tuple[Any, ...]]],
        keep_on: list[int]) -> None:
    books = Books()
    for op in docs:
        books.run(op)
    for n, chunk in enumerate(work):
        # kept on a day, then written to (dated back or forth), then read on every day
        assert_as_books(books.company, START + timedelta(days=keep_on[n % len(keep_on)]),
                        keep=True)
        for op in chunk:
            books.run(op)
        for d in DAYS:
            assert_as_books(books.company, START + timedelta(days=d))
        assert kept_drift(books.company) == []
    # kept after the last write, every cohort is read kept on a day after every allocation
    assert_as_books(books.company, START + timedelta(days=400), keep=True)
    live = assert_as_books(books.company, START + timedelta(days=400))
    event(f"live after keeping: {bool(live)}")
    assert live == ()
    assert kept_drift(books.company) == []


@pytest.fixture
def books(db: Any) -> Books:
    b = Books()
    for op in (("invoice", 0, 10000, 5, "NET30"), ("invoice", 1, 20000, 40, "NET14"),
               ("receipt", 0, 50000, 70, False)):
        b.run(op)
    return b


def test_a_write_makes_stale_only_the_cohort_of_its_invoice(books: Books) -> None:
    company, day = books.company, START + timedelta(days=200)
    assert assert_as_books(company, day) == ("2025-12", "2026-01", "2026-02", "2026-03")
    assert assert_as_books(company, day, keep=True) == ()
    assert assert_as_books(company, day) == ()
    # an allocation dated back, to the January invoice: January alone is computed
    books.run(("allocate", 0, 0, 50, 0))
    assert assert_as_books(company, day) == ("2026-01",)
    # an invoice posted in March, and its cohort only
    books.run(("invoice", 1, 3000, 62, "NET30"))
    assert assert_as_books(company, day) == ("2026-01", "2026-03")
    assert kept_drift(company) == []


def test_a_day_before_a_kept_allocation_is_computed(books: Books) -> None:
    company = books.company
    books.run(("allocate", 0, 0, 50, 30))  # dated 11 April, on the January invoice
    assert_as_books(company, START + timedelta(days=200), keep=True)
    # on 10 April the allocation of 11 April does not count: January from the books
    assert assert_as_books(company, date(2026, 4, 10)) == ("2026-01",)
    # the maturity moves with the day, from the kept figures
    for d in (date(2026, 4, 11), date(2026, 5, 20), date(2026, 7, 1)):
        assert assert_as_books(company, d) == ()


def test_a_keeper_that_read_before_a_write_keeps_nothing(books: Books, monkeypatch: Any
                                                        ) -> None:
    company = books.company
    trend_cohorts(company, first=FIRST, last=LAST, as_of=START, keep=True)
    TrendCohortKeep.objects.filter(company=company, cohort="2026-01").update(kept_version=None)
    # a write between the keeper's reading of the version and its store
    real = trend_keep.cohort_parts

    def write_meanwhile(*args: Any, **kw: Any) -> Any:
        out = real(*args, **kw)
        books.run(("allocate", 0, 0, 50, 0))
        return out

    monkeypatch.setattr(trend_keep, "cohort_parts", write_meanwhile)
    trend_cohorts(company, first=FIRST, last=LAST, as_of=START, keep=True)
    monkeypatch.undo()
    k = TrendCohortKeep.objects.get(company=company, cohort="2026-01")
    assert k.kept_version != k.version
    assert assert_as_books(company, START + timedelta(days=200)) == ("2026-01",)
    assert kept_drift(company) == []


def test_the_check_names_a_kept_figure_that_differs(books: Books) -> None:
    company = books.company
    trend_cohorts(company, first=FIRST, last=LAST, as_of=START + timedelta(days=200),
                  keep=True)
    assert kept_drift(company) == []
    KeptTrendCohort.objects.filter(company=company, cohort="2026-01").update(late=7)
    lines = kept_drift(company)
    assert len(lines) == 1 and "trend cohort 2026-01" in lines[0] and "kept [1, " in lines[0]


def test_kept_cohorts_are_read_in_one_query(books: Books) -> None:
    company, day = books.company, START + timedelta(days=200)
    trend_cohorts(company, first=FIRST, last=LAST, as_of=day, keep=True)
    with CaptureQueriesContext(connection) as q:
        trend_cohorts(company, first=FIRST, last=LAST, as_of=day)
    assert len(q) == 1
    # one cohort stale: that query, and the two statements of the books for it
    books.run(("allocate", 0, 0, 50, 0))
    with CaptureQueriesContext(connection) as q:
        assert trend_cohorts(company, first=FIRST, last=LAST, as_of=day).live == ("2026-01",)
    assert len(q) == 3
