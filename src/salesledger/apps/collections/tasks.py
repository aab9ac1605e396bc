"""The worklist's nightly ranking as a background task (django-tasks), enqueued once a day
per company by the worker's calendar (``recurring.scheduler.daily_jobs_enqueue``, job
``worklist_rank``). Re-running is safe: a ranking replaces the one kept before
(``ranking.worklist_rank_build``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django_tasks import task

from salesledger.apps.core.models import Company
from salesledger.apps.core.selectors import company_get

from .ranking import worklist_rank_build

JOB_WORKLIST = "worklist_rank"


@task()
def worklist_rank_task(company: str, day: str) -> dict[str, Any]:
    """Rank the worklist of one company (by code) on ``day`` (ISO date) and keep it."""
    ranked = worklist_rank_build(company_get(company), day=date.fromisoformat(day))
    return {"company": company, "day": day, "customers": ranked}


def worklist_rank_enqueue(company: Company, day: str) -> str:
    """The calendar's hook: enqueue the day's ranking, return the task's id."""
    return str(worklist_rank_task.enqueue(company.code, day).id)
