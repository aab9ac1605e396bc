"""The monthly pack as a background task (django-tasks), run by ``salesledger worker``.

Each tick of the worker's calendar (``packs_enqueue``) looks at the companies whose pack
schedule is active and whose month due on their local day has not been sent, and claims a
daily job ``report_pack`` for each (``recurring.scheduler.daily_job_claim``: one task per
company and day however many workers tick). The task calls ``pack_run``, which sends a month
once (``pack_sending.py``): a task run twice, or resumed after its worker was killed, sends
nothing twice (docs/design/reporting.md, "The pack on a schedule").
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from salesledger.apps.core.models import Company
from salesledger.apps.core.selectors import company_get
from salesledger.apps.recurring.models import DailyJob
from salesledger.apps.recurring.scheduler import Enqueued, daily_job_claim, daily_job_retry
from salesledger.apps.recurring.services import now_local
from salesledger.domain.pack_schedule import pack_due

from .aging_summary import summary_build
from .forecast_keep import Kept, forecast_keep, recompute_claim
from .models import PackSchedule, PackSending
from .pack_sending import pack_run
from .selectors import kpi_report, trend_report
from .trend_keep import recompute_claim as trend_recompute_claim

JOB_PACK = "report_pack"
JOB_AGING_SUMMARY = "aging_summary"


@task()
def aging_summary_task(company: str, as_of: str) -> dict[str, Any]:
    """Make one company's (by code) aging summary that of ``as_of`` (ISO date): the daily
    job of the worker's calendar, so that the first report of the day reads it."""
    rows = summary_build(company_get(company), day=date.fromisoformat(as_of))
    return {"company": company, "day": as_of, "rows": rows}


def aging_summary_enqueue(company: Company, day: str) -> str:
    """The calendar's hook for the aging summary of the day (a daily job)."""
    return str(aging_summary_task.enqueue(company.code, day).id)


JOB_KPI_KEEP = "kpi_keep"


@task()
def kpi_keep_task(company: str, as_of: str) -> dict[str, Any]:
    """Keep the KPI figures of the 24 months ended by ``as_of`` (ISO date) and of the two
    years of sales before them (``kpi_keep.py``): the daily job of the worker's calendar, so
    that the KPI pages of 12 or 24 months read them instead of the books."""
    months = kpi_report(company_get(company), as_of=date.fromisoformat(as_of), months=24,
                        keep=True)
    return {"company": company, "day": as_of, "months": len(months)}


def kpi_keep_enqueue(company: Company, day: str) -> str:
    """The calendar's hook for the KPI figures (a daily job)."""
    return str(kpi_keep_task.enqueue(company.code, day).id)


# A page asks again for a stale forecast (or trend cohort) whose job has not run after this
# long (a worker that died with it, a queue that was cleared).
RECOMPUTE_AGAIN = timedelta(minutes=15)
JOB_TREND_KEEP = "trend_keep"
# the cohorts the daily job keeps: the trends page's longest choice
TREND_KEEP_MONTHS = 36


@task()
def trend_keep_task(company: str, as_of: str) -> dict[str, Any]:
    """Keep the trend cohorts of the ``TREND_KEEP_MONTHS`` invoice months up to ``as_of``'s
    (ISO date) that are not kept at their version (``trend_keep.py``): the daily job of the
    worker's calendar, and the job the trends page queues for the cohorts it computed."""
    rows = trend_report(company_get(company), as_of=date.fromisoformat(as_of),
                        months=TREND_KEEP_MONTHS, keep=True)
    return {"company": company, "day": as_of, "cohorts": len(rows)}


def trend_keep_enqueue(company: Company, day: str) -> str:
    """The calendar's hook for the kept trend cohorts (a daily job)."""
    return str(trend_keep_task.enqueue(company.code, day).id)


def trend_recompute_later(company: Company, cohorts: list[str], *, day: date) -> bool:
    """Queue the keeping of cohorts a page computed, once (until it ran, or
    ``RECOMPUTE_AGAIN`` after it was queued); whether this call queued it."""
    with transaction.atomic():
        if not trend_recompute_claim(company, cohorts, now=timezone.now(),
                                     after=RECOMPUTE_AGAIN):
            return False
        trend_keep_task.enqueue(company.code, day.isoformat())
    return True


JOB_FORECAST_KEEP = "forecast_keep"


@task()
def forecast_keep_task(company: str, as_of: str, currency: str = "", weeks: int = 13
                       ) -> dict[str, Any]:
    """Compute and keep one company's (by code) cash-flow forecast of ``as_of`` (ISO date)
    in ``currency`` ("" the company's) over ``weeks`` (``forecast_keep.py``): the daily job
    of the worker's calendar (13 weeks, the company's currency), and the job a page queues
    for a stale one."""
    w = forecast_keep(company_get(company), day=date.fromisoformat(as_of), currency=currency,
                      weeks=weeks)
    return {"company": company, "day": as_of, "currency": currency, "weeks": weeks,
            "expected": sum(w.expected)}


def forecast_keep_enqueue(company: Company, day: str) -> str:
    """The calendar's hook for the kept forecast of the day (a daily job)."""
    return str(forecast_keep_task.enqueue(company.code, day).id)


def forecast_recompute_later(company: Company, kept: Kept, *, day: date, currency: str,
                             weeks: int) -> bool:
    """Queue the computation of a stale kept forecast for the worker, once (until it ran,
    or ``RECOMPUTE_AGAIN`` after it was queued); whether this call queued it."""
    with transaction.atomic():
        if not recompute_claim(kept, now=timezone.now(), after=RECOMPUTE_AGAIN):
            return False
        forecast_keep_task.enqueue(company.code, day.isoformat(), currency, weeks)
    return True


@task()
def pack_run_task(company: str, as_of: str) -> dict[str, Any]:
    """Send the pack one company's (by code) schedule owes on ``as_of`` (ISO date), as the
    system."""
    run = pack_run(actor=None, company=company_get(company), as_of=date.fromisoformat(as_of),
                   send=True)
    return run.as_dict()


def _enqueue(company: Company, day: str) -> str:
    return str(pack_run_task.enqueue(company.code, day).id)


def packs_enqueue(*, now: datetime) -> list[Enqueued]:
    """One tick of the calendar for the packs: claim the day's job of each company whose
    month due is not sent, or enqueue it again when its task failed or was abandoned (the
    claim is marked done once its task succeeded). One query when no schedule is due."""
    schedules = list(PackSchedule.objects.filter(active=True).select_related("company")
                     .order_by("company__code"))
    due = {}
    for s in schedules:
        today = now_local(s.company, now)
        d = pack_due(s.day, starts_on=s.starts_on, as_of=today)
        if d is not None:
            due[s.company_id] = (s.company, today, d.month)
    if not due:
        return []
    sent = set(PackSending.objects.filter(company_id__in=list(due))
               .values_list("company_id", "month"))
    claimed = dict(((c, d), done) for c, d, done in DailyJob.objects.filter(
        job=JOB_PACK, company_id__in=list(due), day__in={t for _, t, _ in due.values()})
        .values_list("company_id", "day", "done"))
    out = []
    for cid, (company, today, month) in due.items():
        if (cid, month) in sent and (cid, today) not in claimed:
            continue  # sent on an earlier day (or by hand)
        if (cid, today) not in claimed:
            enqueued = daily_job_claim(company, job=JOB_PACK, day=today, now=now,
                                       enqueue=_enqueue)
        elif not claimed[(cid, today)]:
            # a task that failed or whose worker died is enqueued again after a while (it
            # sends nothing twice), until it succeeded and its job is marked done
            enqueued = daily_job_retry(company, job=JOB_PACK, day=today, now=now,
                                       enqueue=_enqueue)
        else:
            continue
        if enqueued is not None:
            out.append(enqueued)
    return out
