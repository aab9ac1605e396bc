"""The aging summary is the aging of its day after every change, and the report reads it
without a difference (apps/reporting/aging_summary.py; docs/design/reporting.md, "The aging
summary").

Hypothesis writes ledgers as ``test_aging_exact`` does (invoices and credit notes in EUR and
USD, receipts, allocations dated back or forth, reversals, deductions, refunds, payments
returned), with the summary built for a day in the middle of that work; after every step the
summary must equal the aging's query of its day, customer by customer (what ``salesledger
check`` compares), and at the end the report of the day, whole and filtered, must be the same
read from the summary as from the items.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any
from unittest.mock import patch

import pytest
from django.db.models import F
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from salesledger.apps.core.invariants import check_company
from salesledger.apps.customers.merge import customer_merge
from salesledger.apps.customers.models import Customer
from salesledger.apps.reporting import aging_summary
from salesledger.apps.reporting.aging_summary import (
    summary_day,
    summary_drift,
    summary_rolled_back,
    touched_customers,
)
from salesledger.apps.reporting.models import AgingSummaryRow, AgingSummaryTotal
from salesledger.apps.reporting.selectors import (
    ReportFilters,
    _report_of_summary,
    _scope,
    aging_items,
    aging_items_page,
    aging_overview,
    aging_report,
    aging_report_page,
    aging_summary_rebuild,
    portfolio,
)
from salesledger.domain.errors import MergeRefused

from .test_aging_exact import OPS, START, Books

pytestmark = pytest.mark.django_db

FILTERS = [ReportFilters(), ReportFilters(customer="A"), ReportFilters(customer="U"),
           ReportFilters(currency="USD"), ReportFilters(currency="EUR"),
           ReportFilters(country="FR"), ReportFilters(country="DE")]


def assert_reads_alike(company: Any, day: date) -> None:
    for f in FILTERS:
        for currency_filter in (f,):
            assert aging_report(company, as_of=day, filters=currency_filter) == aging_report(
                company, as_of=day, filters=currency_filter, summary=False), f
    report, top = aging_overview(company, as_of=day, top=2)
    whole = aging_report(company, as_of=day, summary=False)
    assert (report.base, report.by_currency, report.items, report.unapplied) == (
        whole.base, whole.by_currency, whole.items, whole.unapplied)
    assert [(c.code, late, balance) for c, late, balance in top] == [
        (c.code, late, balance) for c, late, balance in whole.top_overdue(2)]


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(ops=OPS, at=st.integers(0, 60), when=st.integers(0, 6))
def test_the_summary_is_exact_after_every_posting_allocation_and_reversal(
        ops: list[tuple[Any, ...]], at: int, when: int) -> None:
    books = Books()
    day = START + timedelta(days=at)
    for k, op in enumerate(ops):
        if k == when:  # the summary is built somewhere in the work (or before it)
            aging_summary_rebuild(books.company, as_of=day)
        books.run(op)
        if summary_day(books.company) is not None:
            assert summary_drift(books.company) == [], op
    if summary_day(books.company) is None:
        aging_summary_rebuild(books.company, as_of=day)
    assert summary_drift(books.company) == []
    assert_reads_alike(books.company, day)
    assert_rolls_back_alike(books.company, day)
    assert_pages_alike(books.company, day)
    assert_customer_pages_alike(books.company, day)
    assert_far_back_alike(books.company, day)
    # an alias's items are its survivor's when read, from the summary as from the items
    try:
        customer_merge(actor=books.user, company=books.company, alias="B", survivor="A")
    except MergeRefused:
        # a credit note whose posting was refused is left a draft, which a merge refuses
        event("merge refused: a draft")
        return
    assert summary_drift(books.company) == []
    assert_reads_alike(books.company, day)
    assert_rolls_back_alike(books.company, day)
    assert_pages_alike(books.company, day)
    assert_customer_pages_alike(books.company, day)


def assert_pages_alike(company: Any, day: date) -> None:
    """Every page of the items of the summary's day (found from its counts) is the slice of
    the whole stream of the items, with each filter."""
    for f in FILTERS:
        _, items = aging_items(company, as_of=day, filters=f)
        whole = list(items)
        # the owners walked in runs of one customer, then two (a page across runs), to the
        # end or for two runs then by the window over them all, and as the product walks them
        for first, most, runs in ((1, 2, 1000), (1, 2, 2), (aging_summary.SPAN_FIRST,
                                                           aging_summary.SPAN_MOST,
                                                           aging_summary.SPAN_RUNS)):
            with patch.multiple(aging_summary, SPAN_FIRST=first, SPAN_MOST=most,
                                SPAN_RUNS=runs):
                for size in (1, 3):
                    for offset in range(0, len(whole) + 1, size):
                        _, page = aging_items_page(company, as_of=day, filters=f, size=size,
                                                   offset=offset)
                        assert page == whole[offset:offset + size], (f, size, offset, first)


def assert_customer_pages_alike(company: Any, day: date) -> None:
    """Every page of the report's customers on the summary's day (its owners found and read
    in the database) is the slice of the whole report's, with the whole report's totals,
    with each filter."""
    for f in FILTERS:
        whole = aging_report(company, as_of=day, filters=f, summary=False)
        for size in (1, 3):
            for offset in range(0, len(whole.customers) + 1, size):
                page = aging_report_page(company, as_of=day, filters=f, size=size,
                                         offset=offset)
                assert page == replace(whole, customers=whole.customers[
                    offset:offset + size]), (f, size, offset)


def assert_rolls_back_alike(company: Any, day: date) -> None:
    """A day before the summary's, rolled back from it (every customer whose aging may
    differ read from the items, however many), is the report of the items."""
    for back in (1, 2, 7, 31, 61, 200):
        past = day - timedelta(days=back)
        for f in FILTERS:
            if f.customer:
                continue  # one customer's day is read from its items
            scope = _scope(company, past, f)
            read = summary_rolled_back(company, scope, share=1e6)
            assert read is not None, (past, f)
            whole = aging_report(company, as_of=past, filters=f, summary=False)
            assert _report_of_summary(company, scope, read) == whole, (past, f)
        # and through the report, whichever way its count chooses
        assert aging_report(company, as_of=past) == aging_report(company, as_of=past,
                                                                 summary=False)


def assert_far_back_alike(company: Any, day: date) -> None:
    """Days a year and more before the summary's: with the summary made that of a day long
    after the work (what a company's "today" is months after its entries), every day of the
    work, and a day before it, is read the way the report chooses, and rolled back from the
    summary whatever the share, and both equal the report of the items with every filter
    (which test_aging_exact holds to a plain reading of the rows). The summary is then made
    that of ``day`` again."""
    late = START + timedelta(days=400)
    aging_summary_rebuild(company, as_of=late)
    for past in (START - timedelta(days=1), START, START + timedelta(days=20),
                 START + timedelta(days=45), START + timedelta(days=100)):
        event(f"far back: {(late - past).days // 100 * 100}+ days")
        for f in FILTERS:
            whole = aging_report(company, as_of=past, filters=f, summary=False)
            assert aging_report(company, as_of=past, filters=f) == whole, (past, f)
            if f.customer:
                continue  # one customer's day is read from its items
            scope = _scope(company, past, f)
            read = summary_rolled_back(company, scope, share=1e6)
            assert read is not None, (past, f)
            assert _report_of_summary(company, scope, read) == whole, (past, f)
    aging_summary_rebuild(company, as_of=day)


def test_the_check_names_a_drift_and_the_rebuild_mends_it() -> None:
    books = Books()
    for op in [("invoice", 0, 12000, 3, "NET30"), ("receipt", 0, 5000, 10, False),
               ("allocate", 0, 0, 50, 2)]:
        books.run(op)
    day = START + timedelta(days=40)
    assert aging_summary_rebuild(books.company, as_of=day) == 1
    assert [p for p in check_company(books.company) if p.check == "aging summary"] == []
    AgingSummaryRow.objects.filter(company=books.company).update(open_1=1)
    problems = [p for p in check_company(books.company) if p.check == "aging summary"]
    # the row against the books, and the totals kept against the rows
    assert [p.detail.split()[0] for p in problems] == ["customer", "totals"]
    aging_summary_rebuild(books.company, as_of=day)
    assert summary_drift(books.company) == []
    AgingSummaryTotal.objects.filter(company=books.company).update(base_0=F("base_0") + 1)
    assert [line.split()[0] for line in summary_drift(books.company)] == ["totals"]
    aging_summary_rebuild(books.company, as_of=day)
    assert summary_drift(books.company) == []


def test_a_change_dated_after_the_day_leaves_the_summary_alone(
        django_assert_max_num_queries: Any) -> None:
    books = Books()
    books.run(("invoice", 0, 12000, 3, "NET30"))
    books.run(("receipt", 0, 5000, 10, False))
    day = START + timedelta(days=5)
    aging_summary_rebuild(books.company, as_of=day)
    before = list(AgingSummaryRow.objects.filter(company=books.company).values())
    books.run(("allocate", 0, 0, 50, 20))  # dated after the day
    books.run(("invoice", 0, 7000, 30, "NET30"))  # issued after the day
    assert list(AgingSummaryRow.objects.filter(company=books.company).values()) == before
    assert summary_drift(books.company) == []


def test_today_reads_the_summary_in_a_few_queries_and_the_dashboard_too(
        django_assert_num_queries: Any) -> None:
    books = Books()
    for op in [("invoice", 0, 12000, 3, "NET30"), ("invoice", 1, 9000, 4, "NET14"),
               ("invoice", 2, 4000, 5, "30-60-90"), ("receipt", 1, 5000, 10, False),
               ("allocate", 0, 1, 50, 2)]:
        books.run(op)
    day = START + timedelta(days=70)
    aging_summary_rebuild(books.company, as_of=day)
    # the summary's day, its rows with the customers' names, the survivors of merges, its
    # totals per currency, its day again (a build for another day may have committed
    # meanwhile), the unapplied cash: whatever the books
    with django_assert_num_queries(6):
        report = aging_report(books.company, as_of=day)
    assert report == aging_report(books.company, as_of=day, summary=False)
    # the dashboard: the day, the totals per currency, the top customers ranked and cut by
    # the database (the least overdue of the top, then the owners at or above it), the day
    # again, the unapplied cash
    with django_assert_num_queries(6):
        aging_overview(books.company, as_of=day, top=5)
    # a page of the report's customers: the summary's day, the page's owners (the
    # customers walked in code order), their rows, the survivors, the totals, the day
    # again, the unapplied cash
    with django_assert_num_queries(7):
        first = aging_report_page(books.company, as_of=day, size=2, offset=1)
    assert first.customers == report.customers[1:3] and first.base == report.base
    rows = portfolio(books.user, as_of=day)
    assert [r.receivable for r in rows] == [report.base_total]
    # a page of the items: the summary's day, the page's customers from its counts (a
    # run of customers by code, their counts summed in the database), their ids, the day
    # again, then whether anything is dated after the day and the page's items
    with django_assert_num_queries(6):
        _, page = aging_items_page(books.company, as_of=day, size=2, offset=1)
    _, items = aging_items(books.company, as_of=day)
    assert page == list(items)[1:3]


def test_the_command_builds_the_summary_of_today_and_a_page_does_not() -> None:
    from salesledger.apps.core.services import company_today

    books = Books()
    books.run(("invoice", 0, 12000, 3, "NET30"))
    today = company_today(books.company)
    aging_overview(books.company, as_of=today, top=5)  # a page: a read
    aging_report(books.company, as_of=today)
    assert summary_day(books.company) is None
    report = aging_report(books.company, as_of=today, build_summary=True)  # the command
    assert summary_day(books.company) == today
    assert report == aging_report(books.company, as_of=today, summary=False)


def test_a_recent_day_rolls_back_only_the_customers_it_touched() -> None:
    books = Books()
    for op in [("invoice", 0, 12000, 3, "NET30"), ("invoice", 1, 9000, 4, "NET14"),
               ("invoice", 2, 4000, 5, "30-60-90"), ("receipt", 1, 5000, 10, False),
               ("allocate", 0, 0, 50, 60)]:  # B's receipt to B's invoice, on day 70
        books.run(op)
    day = START + timedelta(days=71)
    aging_summary_rebuild(books.company, as_of=day)
    past = day - timedelta(days=2)
    # the allocation of day 70 touched B; no item's due date is where a bucket's start moves
    # between the two days (69-70, 39-40, 9-10, ...: the items are due on days 18 to 95)
    b = Customer.objects.get(company=books.company, code="B")
    assert touched_customers(books.company, past, day) == {b.pk}
    read = summary_rolled_back(books.company, _scope(books.company, past, ReportFilters()),
                               share=1e6)
    assert read is not None
    assert aging_report(books.company, as_of=past) == aging_report(
        books.company, as_of=past, summary=False)
    # a day after the summary's, or a share too small, is read from the items
    after = _scope(books.company, day + timedelta(days=1), ReportFilters())
    assert summary_rolled_back(books.company, after, share=1e6) is None
    assert summary_rolled_back(books.company, _scope(books.company, past, ReportFilters()),
                               share=0.0) is None
