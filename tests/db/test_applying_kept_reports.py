"""Applying bank lines while the worker keeps the aging summary and the worklist ranking of a
day the payments reach: their handlers compute the customers paid again in the batch's
transaction, set-based (a grouped statement per 500 customers for the summary, per 2,000
for the ranking), so a batch of six customers' lines takes as many queries as a batch of
two customers', and both stay exact. (Here, above the apps: banking is below reporting and
collections, and its own tests do not import them.)"""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from salesledger.apps.banking.matching import apply_lines
from salesledger.apps.banking.tests.support import applying_books, sure_batch
from salesledger.apps.collections.models import WorklistEntry
from salesledger.apps.collections.ranking import worklist_rank_build
from salesledger.apps.invoicing.tests.books import ledger_problems
from salesledger.apps.reporting.aging_summary import summary_build, summary_drift

pytestmark = pytest.mark.django_db(transaction=False)

# after the invoices fall due (issued 2025-03-10, NET30) and the lines are booked (03-15)
DAY = date(2025, 4, 30)


def test_a_batch_keeps_the_summary_and_the_ranking_in_as_many_queries_for_more_customers(
        ) -> None:
    books = applying_books("kept")
    company, owner = books["company"], books["owner"]
    counts, ranked = [], []
    for n, groups in enumerate((1, 2, 6)):  # the first batch makes the series and the chain
        pairs = sure_batch(books, groups)
        if n == 0:
            summary_build(company, day=DAY)
            worklist_rank_build(company, day=DAY)
        ranked.append(WorklistEntry.objects.filter(company=company).count())
        with CaptureQueriesContext(connection) as queries:
            apply_lines(company=company, actor=owner, pairs=pairs, decided_by="auto")
        counts.append(len(queries.captured_queries))
        # what the batch paid left the ranking: nothing of its customers is overdue
        assert WorklistEntry.objects.filter(company=company).count() == 0
    # each batch's customers were ranked (overdue) before it paid them
    assert ranked == [1, 2, 6]
    assert counts[2] == counts[1], counts
    assert summary_drift(company) == []
    assert ledger_problems(company) == []
