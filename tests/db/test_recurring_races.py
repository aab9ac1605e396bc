"""Recurring invoices under real concurrency on PostgreSQL: two runs, two workers and two
calendars racing, in threads with their own connections released by a barrier. Every
period is still issued exactly once and numbers stay gapless.

These tests commit (``transactional_db``); the flush between tests uses TRUNCATE, which the
suite's connections are allowed (``salesledger.allow_truncate``, see apps/core/guards.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from conftest import line_inputs
from django_tasks_db.models import DBTaskResult

from salesledger.apps.core.invariants import check_company
from salesledger.apps.invoicing.models import Invoice
from salesledger.apps.recurring.models import DailyJob, RecurringRun
from salesledger.apps.recurring.scheduler import daily_jobs_enqueue
from salesledger.apps.recurring.services import ScheduleInput, recurring_add, recurring_run
from salesledger.apps.recurring.tasks import recurring_run_task
from salesledger.worker import make_worker
from tests.db.test_races import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("no_pdf_freezing")]

AS_OF = date(2025, 6, 30)


@pytest.fixture
def schedules(transactional_db, company, owner, customer, make_customer):
    """Three schedules with 6 + 13 + 3 = 22 periods due on 30 June 2025."""
    make_customer("C002", name="Martin SARL")

    def add(customer_code, every, start):
        return recurring_add(actor=owner, company=company, as_of=start, data=ScheduleInput(
            customer_code=customer_code, every=every, start=start,
            lines=line_inputs([("Service", "1", "100.00", "20")])))

    return [add("C001", "monthly", date(2025, 1, 31)), add("C002", "2 weeks", date(2025, 1, 1)),
            add("C001", "quarterly", date(2024, 12, 31))]


def _exactly_once(company, expected_periods):
    runs = list(RecurringRun.objects.values_list("schedule_id", "period_index"))
    assert len(runs) == len(set(runs)) == expected_periods
    by_year: dict[int, list[int]] = {}
    for year, seq in Invoice.objects.order_by("seq").values_list("fiscal_year", "seq"):
        by_year.setdefault(year, []).append(seq)
    assert by_year == {2024: [1], 2025: list(range(1, expected_periods))}  # gapless
    assert Invoice.objects.filter(status="posted").count() == expected_periods
    assert check_company(company) == []


@pytest.mark.parametrize("round_", range(3))
def test_two_runs_racing_issue_each_period_once(company, owner, schedules, round_):
    # when two runs for the same day start at the same moment
    results = run_together([
        lambda: recurring_run(actor=None, company=company, as_of=AS_OF) for _ in range(2)])
    # then both finish without error, and between them every period is issued once
    assert [status for status, _ in results] == ["ok", "ok"], results
    summaries = [summary for _, summary in results]
    assert sum(len(s.issued) for s in summaries) == 22
    assert all(s.problems == [] for s in summaries)
    _exactly_once(company, 22)


@pytest.mark.parametrize("round_", range(2))
def test_two_workers_racing_on_two_queued_runs(company, schedules, round_):
    # given the day's run queued twice (say, by hand and by the calendar)
    for _ in range(2):
        recurring_run_task.enqueue(company.code, AS_OF.isoformat())
    # when two real database workers start at once
    results = run_together([lambda name=name: make_worker(worker_id=name).run()
                            for name in ("worker-a", "worker-b")])
    # then each task ran once, on one worker, and every period was issued once
    assert [status for status, _ in results] == ["ok", "ok"], results
    assert sorted(DBTaskResult.objects.values_list("status", flat=True)) == [
        "SUCCESSFUL", "SUCCESSFUL"]
    assert all(len(t.worker_ids) == 1 for t in DBTaskResult.objects.all())
    _exactly_once(company, 22)


def test_two_calendars_ticking_at_once_enqueue_once(company, schedules):
    now = datetime(2025, 6, 30, 6, 0, tzinfo=UTC)
    results = run_together([lambda: daily_jobs_enqueue(now=now) for _ in range(2)])
    assert [status for status, _ in results] == ["ok", "ok"], results
    assert sorted(len(enqueued) for _, enqueued in results) == [0, 1]
    assert DailyJob.objects.count() == 1 and DBTaskResult.objects.count() == 1
