"""The worker's calendar: once a day per company, in the company's time zone, enqueue the
recurring run for that local day, exactly once however many workers tick at once.

The claim is a ``DailyJob`` row, unique per (company, job, day), inserted in the same
transaction as the task row (the queue lives in the same database): the worker that
inserts it enqueues, any other gets the unique violation and does nothing, and a crash
leaves either both rows or neither.

A claimed job whose task failed, or whose task has been "running" for longer than
``RUNNING_LEASE`` (its worker died), is enqueued again, at most ``MAX_ATTEMPTS`` times a
day, after ``RETRY_AFTER``; once its task has succeeded the row is marked done and no longer
looked at. Re-running is always safe: the recurring run issues each period
exactly once (docs/design/recurring-invoices.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction

from salesledger.apps.core.models import Company

from .models import DailyJob
from .services import now_local

JOB_RECURRING = "recurring_run"
MAX_ATTEMPTS = 5
RETRY_AFTER = timedelta(minutes=5)
RUNNING_LEASE = timedelta(minutes=30)


@dataclass(frozen=True)
class Enqueued:
    company: str
    job: str
    day: str
    attempt: int
    task_id: str


def _enqueue_recurring(company: Company, day: str) -> str:
    from .tasks import recurring_run_task

    return str(recurring_run_task.enqueue(company.code, day).id)


# A daily job: its name and what enqueues its task for a company and a day (ISO), returning
# the task's id. The recurring run is this app's; the apps above add theirs through the
# worker (the dunning run), which passes them to ``daily_jobs_enqueue``.
Enqueue = Callable[[Company, str], str]


def _claim(company: Company, day: date, now: datetime, name: str, enqueue: Enqueue
           ) -> Enqueued | None:
    try:
        with transaction.atomic():
            job = DailyJob.objects.create(company=company, job=name, day=day,
                                          enqueued_at=now)
            job.task_id = enqueue(company, day.isoformat())
            job.save(update_fields=["task_id"])
    except IntegrityError:
        return None  # another worker claimed this day first
    return Enqueued(company.code, name, day.isoformat(), 1, job.task_id)


def daily_job_claim(company: Company, *, job: str, day: date, now: datetime,
                    enqueue: Enqueue) -> Enqueued | None:
    """Claim ``job`` for the company's ``day`` and enqueue its task, for a job that is not
    due for every company (the credit app's nightly training of the payment-date model, only
    for the companies that have one); ``None`` when another worker claimed it first."""
    return _claim(company, day, now, job, enqueue)


def _task_state(task_id: str) -> tuple[str, datetime | None, datetime | None]:
    """(status, started_at, finished_at) of a queued task; ``gone`` when pruned."""
    from django_tasks import default_task_backend
    from django_tasks.exceptions import TaskResultDoesNotExist

    if not task_id:
        return "missing", None, None
    try:
        result = default_task_backend.get_result(task_id)
    except TaskResultDoesNotExist:
        return "gone", None, None
    return str(result.status), result.started_at, result.finished_at


def _abandoned(job: DailyJob, now: datetime) -> bool | None:
    """True: enqueue again; False: leave it; None: it is over (succeeded or pruned)."""
    status, started, finished = _task_state(job.task_id)
    if status in ("SUCCESSFUL", "gone"):
        return None
    if status == "FAILED":
        return finished is None or finished <= now - RETRY_AFTER
    if status == "RUNNING":
        return started is None or started <= now - RUNNING_LEASE
    if status == "missing":
        return job.enqueued_at <= now - RETRY_AFTER
    return False


def _retry(company: Company, day: date, now: datetime, name: str, enqueue: Enqueue
           ) -> Enqueued | None:
    with transaction.atomic():
        job = (DailyJob.objects.select_for_update()
               .filter(company=company, job=name, day=day, done=False).first())
        if job is None:
            return None
        verdict = _abandoned(job, now)
        if verdict is None or (verdict and job.attempts >= MAX_ATTEMPTS):
            # Over, or given up for the day: stop looking at it.
            job.done = True
            job.save(update_fields=["done"])
            return None
        if not verdict:
            return None
        job.task_id = enqueue(company, day.isoformat())
        job.attempts += 1
        job.enqueued_at = now
        job.save(update_fields=["task_id", "attempts", "enqueued_at"])
    return Enqueued(company.code, name, day.isoformat(), job.attempts, job.task_id)


def daily_job_retry(company: Company, *, job: str, day: date, now: datetime,
                    enqueue: Enqueue) -> Enqueued | None:
    """Enqueue again a job claimed with ``daily_job_claim`` whose task failed or was
    abandoned (as ``daily_jobs_enqueue`` does for the daily jobs); ``None`` when it is over,
    still running, or another worker took it."""
    return _retry(company, day, now, job, enqueue)


def daily_jobs_enqueue(*, now: datetime, more: Mapping[str, Enqueue] | None = None
                       ) -> list[Enqueued]:
    """One tick of the worker's calendar at ``now`` (an aware datetime): for each company,
    claim today's recurring run (and each job of ``more``), or enqueue it again if its task
    failed or was abandoned. Two queries when every company's day is claimed and settled."""
    daily: dict[str, Enqueue] = {JOB_RECURRING: _enqueue_recurring, **(more or {})}
    companies = list(Company.objects.order_by("code"))
    days = {c.pk: now_local(c, now) for c in companies}
    jobs = {(j.company_id, j.job, j.day): j for j in DailyJob.objects.filter(
        job__in=list(daily), day__in=set(days.values()))}
    out = []
    for company in companies:
        day = days[company.pk]
        for name, enqueue in daily.items():
            job = jobs.get((company.pk, name, day))
            if job is None:
                enqueued = _claim(company, day, now, name, enqueue)
            elif job.done:
                continue
            else:
                enqueued = _retry(company, day, now, name, enqueue)
            if enqueued is not None:
                out.append(enqueued)
    return out


def daily_jobs(*, company: Company | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The latest daily jobs with the state of their task, newest first."""
    qs = DailyJob.objects.select_related("company").order_by("-day", "company__code")
    if company is not None:
        qs = qs.filter(company=company)
    rows = []
    for job in qs[:limit]:
        status, started, finished = _task_state(job.task_id)
        rows.append({"company": job.company.code, "job": job.job, "day": job.day,
                     "attempts": job.attempts, "done": job.done, "task": job.task_id,
                     "status": status,
                     "started_at": started, "finished_at": finished})
    return rows
