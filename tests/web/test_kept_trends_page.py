"""The trends page reads the kept trend cohorts (docs/design/kpis.md, "Kept trend cohorts"):
the first request computes the cohorts from the books and queues the worker's job once; the
job keeps them; the next requests read them in one query; a posting makes its month's cohort
computed again (and the job queued again), the others still read kept."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from salesledger.apps.reporting.models import TrendCohortKeep
from salesledger.apps.reporting.selectors import trend_report
from salesledger.apps.reporting.tasks import trend_keep_task
from salesledger.apps.reporting.trends import cohort_rows

from .conftest import AS_OF

pytestmark = pytest.mark.usefixtures("no_pdf_freezing")

URL = f"/c/acme/reports/trends/?as_of={AS_OF}"
DAY = date.fromisoformat(AS_OF)
# the page read from kept cohorts: the session and the workspace's (user, membership,
# company), the kept cohorts with their versions (one statement), and what the layout reads
KEPT_BUDGET = 8


def _queued() -> list[Any]:
    return list(DBTaskResult.objects.filter(task_path=trend_keep_task.module_path))


def _rates(response: Any) -> list[Any]:
    return [(t.row.cohort, t.row.items, t.row.late, t.row.unpaid_90, t.row.written_off)
            for t, _ in response.context["rows"]]


def test_the_page_computes_queues_then_reads_the_kept_cohorts(
        books: dict[str, Any], as_user: Callable[[Any], Any], post_invoice: Any,
        django_assert_max_num_queries: Any) -> None:
    company = books["company"]
    client = as_user(books["clerk"])
    first = client.get(URL)
    assert first.status_code == 200
    [job] = _queued()
    assert job.args_kwargs["args"] == ["acme", AS_OF]
    client.get(URL)
    assert len(_queued()) == 1  # asked once until it ran
    trend_keep_task.call(*job.args_kwargs["args"])
    assert not TrendCohortKeep.objects.filter(company=company, queued_at__isnull=False).exists()
    with django_assert_max_num_queries(KEPT_BUDGET, info="kept trend cohorts"):
        kept = client.get(URL)
    assert _rates(kept) == _rates(first) != []
    assert len(_queued()) == 1
    live = cohort_rows(company, first=date(2024, 6, 1), last=DAY, as_of=DAY)
    assert [t.row for t in trend_report(company, as_of=DAY)] == live
    # an invoice posted: its month's cohort is computed in the request and queued, the
    # rest kept
    inv = post_invoice("C001", lines=(("More consulting", 1, "400.00", "20"),))
    got: list[str] = []
    rows = trend_report(company, as_of=DAY, live=got)
    assert got == [inv.issue_date.isoformat()[:7]]
    assert [t.row for t in rows] == cohort_rows(company, first=date(2024, 6, 1), last=DAY,
                                                as_of=DAY)
    client.get(URL)
    assert len(_queued()) == 2
