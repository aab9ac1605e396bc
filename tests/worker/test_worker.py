"""The task worker: the real django-tasks database backend and its worker code run the
recurring invoices; a worker that crashes half-way and restarts still issues every period
exactly once, and the daily calendar enqueues once per company and local day.

The clock is the test's (``django.utils.timezone.now`` is replaced), so that "five minutes
later" is exact. These tests run inside the test's transaction; Django's
``close_old_connections``, which the worker calls between tasks, would end that
transaction, so it is the one piece of the worker loop replaced here (the PostgreSQL race
tests in ``tests/db/test_recurring_races.py`` commit for real and keep it). Posting a period's
invoice does not queue the freezing of its PDF here (``no_pdf_freezing``), so that the queue
holds only the recurring app's tasks.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from conftest import line_inputs
from django.utils import timezone
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from salesledger.apps.core.invariants import check_company
from salesledger.apps.core.services import company_create
from salesledger.apps.invoicing.models import Invoice
from salesledger.apps.recurring import services as recurring_services
from salesledger.apps.recurring.models import DailyJob, RecurringRun
from salesledger.apps.recurring.scheduler import daily_jobs, daily_jobs_enqueue
from salesledger.apps.recurring.services import ScheduleInput, recurring_add
from salesledger.worker import make_worker, worker_loop, worker_round
from tests.worker.clock import T0, Clock

pytestmark = pytest.mark.usefixtures("no_pdf_freezing")

@pytest.fixture
def clock(monkeypatch):
    c = Clock(T0)
    monkeypatch.setattr(timezone, "now", c)
    return c


@pytest.fixture
def workers(monkeypatch, clock):
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    # The calendar's recurring run only: these tests count its tasks (the daily dunning run
    # has its own, test_the_calendar_enqueues_the_daily_dunning_run_too).
    monkeypatch.setattr("salesledger.worker.DAILY", {})
    return lambda name: make_worker(worker_id=name)


@pytest.fixture
def two_schedules(company, owner, customer):
    """Monthly from 1 February (4 periods due on 1 May) and from 15 March (2 due)."""
    def add(start):
        return recurring_add(actor=owner, company=company, as_of=start, data=ScheduleInput(
            customer_code="C001", lines=line_inputs([("Service", "1", "100.00", "20")]),
            every="monthly", start=start))
    return add(date(2025, 2, 1)), add(date(2025, 3, 15))


def _crash_on(monkeypatch, schedule_id, exc):
    """From now on, issuing a period of that schedule raises ``exc`` (the worker dies)."""
    original = recurring_services.issue_period

    def crashing(**kw):
        if kw["schedule_id"] == schedule_id:
            raise exc
        return original(**kw)

    monkeypatch.setattr(recurring_services, "issue_period", crashing)
    return original


def _periods(company):
    return sorted(RecurringRun.objects.filter(company=company)
                  .values_list("schedule_id", "period_index", "invoice__number"))


def test_a_restarted_worker_issues_every_period_exactly_once(
        company, two_schedules, workers, clock, monkeypatch):
    s1, s2 = two_schedules
    # given a worker that dies after the first schedule's periods have committed
    original = _crash_on(monkeypatch, s2.pk, RuntimeError("worker process killed"))
    # when it ticks and runs the queue
    ran = worker_round(workers("w1"), now=clock)
    # then the day's recurring run was enqueued once, ran, and failed half-way
    assert ran == 1
    [task] = DBTaskResult.objects.all()
    assert (task.task_path, task.status, task.exception_class_path) == (
        "salesledger.apps.recurring.tasks.recurring_run_task", "FAILED", "builtins.RuntimeError")
    assert task.args_kwargs["args"] == ["acme", "2025-05-01"]
    assert [(s, i) for s, i, _ in _periods(company)] == [(s1.pk, 0), (s1.pk, 1), (s1.pk, 2),
                                                         (s1.pk, 3)]

    # when a new worker starts a minute later (the fault is gone), it waits before retrying
    monkeypatch.setattr(recurring_services, "issue_period", original)
    restarted = workers("w2")
    clock.advance(minutes=1)
    assert worker_round(restarted, now=clock) == 0
    # and five minutes after the failure it enqueues the day's run again and runs it
    clock.advance(minutes=5)
    assert worker_round(restarted, now=clock) == 1
    # then every due period is issued exactly once, with gapless numbers
    assert [(s, i) for s, i, _ in _periods(company)] == [
        (s1.pk, 0), (s1.pk, 1), (s1.pk, 2), (s1.pk, 3), (s2.pk, 0), (s2.pk, 1)]
    assert sorted(Invoice.objects.values_list("seq", flat=True)) == [1, 2, 3, 4, 5, 6]
    assert check_company(company) == []
    [job] = DailyJob.objects.all()
    assert (job.day, job.attempts) == (date(2025, 5, 1), 2)
    assert sorted(DBTaskResult.objects.values_list("status", flat=True)) == [
        "FAILED", "SUCCESSFUL"]

    # when the worker keeps ticking the same day, nothing more is enqueued
    clock.advance(minutes=1)
    assert worker_round(restarted, now=clock) == 0
    assert daily_jobs(company=company)[0]["done"] is True
    # and the next day's run finds nothing due: still six invoices
    clock.advance(days=1)
    assert worker_round(restarted, now=clock) == 1
    assert Invoice.objects.count() == 6 and DailyJob.objects.count() == 2


def test_a_worker_killed_mid_task_is_taken_over_after_the_lease(
        company, two_schedules, workers, clock, monkeypatch):
    s1, s2 = two_schedules
    # given a worker process killed outright while running the task: it cannot even record
    # the failure, so the task stays "running" under a dead worker
    original = _crash_on(monkeypatch, s2.pk, SystemExit("killed"))
    set_failed = DBTaskResult.set_failed
    monkeypatch.setattr(DBTaskResult, "set_failed", lambda self, exc: (_ for _ in ()).throw(exc))
    with pytest.raises(SystemExit):
        worker_round(workers("dead"), now=clock)
    monkeypatch.setattr(DBTaskResult, "set_failed", set_failed)
    monkeypatch.setattr(recurring_services, "issue_period", original)
    assert DBTaskResult.objects.get().status == "RUNNING"
    assert len(_periods(company)) == 4
    # when another worker looks within the lease, it leaves the task to its owner
    clock.advance(minutes=10)
    assert worker_round(workers("w2"), now=clock) == 0
    # and once the lease has run out it enqueues the day's run again
    clock.advance(minutes=21)
    assert worker_round(workers("w2"), now=clock) == 1
    assert len(_periods(company)) == 6
    assert sorted(Invoice.objects.values_list("seq", flat=True)) == [1, 2, 3, 4, 5, 6]
    assert check_company(company) == []


def test_the_calendar_enqueues_once_per_company_and_local_day(
        company, owner, clock, django_assert_num_queries):
    # given a second company in New York: at 02:00 UTC it is still 30 April there
    company_create(actor=owner, code="nyco", name="NY Co", base_currency="USD", country="US",
                   time_zone="America/New_York", owner=owner)
    clock.now = datetime(2025, 5, 1, 2, 0, tzinfo=UTC)
    first = daily_jobs_enqueue(now=clock())
    assert [(e.company, e.day, e.attempt) for e in first] == [
        ("acme", "2025-05-01", 1), ("nyco", "2025-04-30", 1)]
    assert DBTaskResult.objects.count() == 2
    # when another worker ticks the same moment, nothing more is enqueued
    assert daily_jobs_enqueue(now=clock()) == []
    # at 05:00 UTC New York reaches 1 May: only it gets a new day
    clock.advance(hours=3)
    assert [(e.company, e.day) for e in daily_jobs_enqueue(now=clock())] == [
        ("nyco", "2025-05-01")]
    assert DailyJob.objects.count() == 3 and DBTaskResult.objects.count() == 3
    # and once every day's job is known to be done, a tick reads two rows and stops
    DailyJob.objects.update(done=True)
    with django_assert_num_queries(2):
        assert daily_jobs_enqueue(now=clock()) == []


def test_worker_once_runs_one_round(company, two_schedules, workers, clock, capsys):
    assert worker_loop(once=True, report=print) == 1
    out = capsys.readouterr().out
    assert "(one round)" in out and "stopped after 1 task(s)" in out
    assert len(_periods(company)) == 6


def test_the_all_companies_task_and_automatic_sending_through_the_worker(
        company, owner, customer, workers, clock, monkeypatch,
        django_capture_on_commit_callbacks):
    from salesledger.apps.recurring.tasks import recurring_run_all_task

    # given a schedule that sends automatically to a customer without an e-mail address
    recurring_add(actor=owner, company=company, as_of=date(2025, 4, 2), data=ScheduleInput(
        customer_code="C001", lines=line_inputs([("Service", "1", "100.00", "20")]),
        every="monthly", start=date(2025, 4, 2), auto_send=True))
    worker = workers("w1")
    # when the all-companies run is queued and run (the commit queues the sending)
    recurring_run_all_task.enqueue()
    with django_capture_on_commit_callbacks(execute=True):
        worker.run()
    # then the period due on 1 May in Paris is issued, and its sending is queued
    run = RecurringRun.objects.get()
    assert (run.period_start, run.send_status) == (date(2025, 4, 2), "queued")
    done = DBTaskResult.objects.get(task_path__endswith="recurring_run_all_task")
    assert done.status == "SUCCESSFUL"
    assert done.return_value["acme"]["issued"][0]["invoice"] == "INV2025-00001"
    # when the worker runs the sending task, the failure is recorded on the run and the task
    worker.run()
    send = DBTaskResult.objects.get(task_path__endswith="invoice_send_task")
    assert (send.status, send.exception_class_path) == (
        "FAILED", "salesledger.domain.errors.NoRecipients")
    run.refresh_from_db()
    assert run.send_status == "failed" and run.send_detail.startswith("no_recipients: ")


def test_automatic_sending_e_mails_the_invoice_through_the_documents_app(
        company, owner, make_customer, workers, clock, mailoutbox,
        django_capture_on_commit_callbacks):
    # given a schedule that sends automatically to a customer with a billing e-mail
    make_customer("C009", name="Martin SARL", email="compta@martin.example")
    recurring_add(actor=owner, company=company, as_of=date(2025, 5, 1), data=ScheduleInput(
        customer_code="C009", lines=line_inputs([("Service", "1", "100.00", "20")]),
        every="monthly", start=date(2025, 5, 1), auto_send=True))
    worker = workers("w1")
    # when the worker issues the period and then runs the sending task it queued
    with django_capture_on_commit_callbacks(execute=True):
        worker_round(worker, now=clock)
    with django_capture_on_commit_callbacks(execute=True):
        worker.run()
    # then the invoice went out with its PDF, and the run says so
    run = RecurringRun.objects.get()
    assert run.send_status == "sent" and run.send_detail.startswith("sent INV2025-00001")
    [message] = mailoutbox
    assert message.to == ["compta@martin.example"] and "INV2025-00001" in message.subject
    assert any(a[2] == "application/pdf" for a in message.attachments)
    assert sorted(DBTaskResult.objects.values_list("status", flat=True)) == [
        "SUCCESSFUL", "SUCCESSFUL"]


def test_the_calendar_enqueues_the_daily_dunning_run_too(
        company, owner, make_customer, clock, monkeypatch, mailoutbox,
        django_capture_on_commit_callbacks):
    from salesledger.apps.dunning.models import DunningNotice
    from salesledger.apps.dunning.services import policy_add
    from salesledger.apps.invoicing.services import InvoiceInput, invoice_create, invoice_post
    from salesledger.domain.dunning import Level

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    # given a default policy and an invoice 10 days overdue on the worker's day
    policy_add(actor=owner, company=company, code="STD", default=True,
               levels=[Level(0, 5, "Reminder")])
    make_customer("C9", email="c9@example.com")
    draft = invoice_create(actor=owner, company=company, data=InvoiceInput(
        customer_code="C9", issue_date=T0.date() - timedelta(days=40),
        lines=line_inputs([("Audit", 1, "100.00", "20")])))
    invoice_post(actor=owner, company=company, invoice_id=draft.pk)
    # when a worker runs a round, then another the same day
    worker = make_worker(worker_id="w1")
    with django_capture_on_commit_callbacks(execute=True):
        worker_round(worker, now=clock)
        worker_round(worker, now=clock)
    # then the day's dunning run was enqueued once and reminded the customer once
    jobs = DailyJob.objects.filter(company=company, job="dunning_run")
    assert [j.day for j in jobs] == [T0.date()]
    assert DunningNotice.objects.filter(company=company, day=T0.date()).count() == 1
    assert [m.to for m in mailoutbox] == [["c9@example.com"]]


def test_the_calendar_enqueues_the_statements_of_the_day(
        company, owner, make_customer, clock, monkeypatch, mailoutbox,
        django_capture_on_commit_callbacks):
    from salesledger.apps.dunning.models import DunningNotice
    from salesledger.apps.dunning.statements import statement_schedule_set
    from salesledger.apps.invoicing.services import InvoiceInput, invoice_create, invoice_post

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    # given a monthly schedule on the 1st (the worker's day) and a customer with a balance
    statement_schedule_set(actor=owner, company=company, code="MONTHLY", every="monthly",
                           day=1, as_of=T0.date() - timedelta(days=10))
    make_customer("C8", email="c8@example.com")
    draft = invoice_create(actor=owner, company=company, data=InvoiceInput(
        customer_code="C8", issue_date=T0.date() - timedelta(days=5),
        lines=line_inputs([("Audit", 1, "100.00", "20")])))
    invoice_post(actor=owner, company=company, invoice_id=draft.pk)
    # when a worker runs a round, then another the same day
    worker = make_worker(worker_id="w1")
    with django_capture_on_commit_callbacks(execute=True):
        worker_round(worker, now=clock)
        worker_round(worker, now=clock)
    # then the statements were enqueued once and the customer received its statement once
    jobs = DailyJob.objects.filter(company=company, job="statement_run")
    assert [j.day for j in jobs] == [T0.date()]
    assert DunningNotice.objects.filter(company=company, kind="statement").count() == 1
    [message] = mailoutbox
    assert message.to == ["c8@example.com"]
    assert [a[0] for a in message.attachments] == [f"statement-C8-{T0.date()}.pdf"]


def test_the_calendar_builds_the_aging_summary_of_the_day(
        company, owner, make_customer, clock, monkeypatch):
    from salesledger.apps.invoicing.services import InvoiceInput, invoice_create, invoice_post
    from salesledger.apps.reporting.aging_summary import summary_day, summary_drift
    from salesledger.apps.reporting.models import AgingSummaryRow

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    make_customer("C9")
    draft = invoice_create(actor=owner, company=company, data=InvoiceInput(
        customer_code="C9", issue_date=T0.date() - timedelta(days=40),
        lines=line_inputs([("Audit", 1, "100.00", "20")])))
    invoice_post(actor=owner, company=company, invoice_id=draft.pk)
    assert summary_day(company) is None
    # when a worker runs a round, then another the same day
    worker = make_worker(worker_id="w1")
    worker_round(worker, now=clock)
    worker_round(worker, now=clock)
    # then the day's summary was built once, and is the aging of the day
    jobs = DailyJob.objects.filter(company=company, job="aging_summary")
    assert [(j.day, j.done) for j in jobs] == [(T0.date(), True)]
    assert summary_day(company) == T0.date()
    assert AgingSummaryRow.objects.filter(company=company).count() == 1
    assert summary_drift(company) == []


def test_the_calendar_keeps_the_kpi_figures_of_the_ended_months(
        company, owner, make_customer, clock, monkeypatch):
    from salesledger.apps.invoicing.services import InvoiceInput, invoice_create, invoice_post
    from salesledger.apps.reporting.kpi_keep import kept_parts
    from salesledger.apps.reporting.kpis import months_ending

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    make_customer("C9")
    draft = invoice_create(actor=owner, company=company, data=InvoiceInput(
        customer_code="C9", issue_date=T0.date() - timedelta(days=40),
        lines=line_inputs([("Audit", 1, "100.00", "20")])))
    invoice_post(actor=owner, company=company, invoice_id=draft.pk)
    months = months_ending(T0.date(), 24)
    assert kept_parts(company, months) is None
    worker = make_worker(worker_id="w1")
    worker_round(worker, now=clock)
    worker_round(worker, now=clock)  # the day's job is marked done on the next tick
    jobs = DailyJob.objects.filter(company=company, job="kpi_keep")
    assert [(j.day, j.done) for j in jobs] == [(T0.date(), True)]
    # on 1 May the months to March are kept; April ended the day before, too recently
    assert months[-1] == date(2025, 4, 1)
    assert kept_parts(company, months[:-1]) is not None
    assert kept_parts(company, months) is None
