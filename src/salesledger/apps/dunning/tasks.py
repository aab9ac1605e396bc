"""The daily dunning run as a background task (django-tasks), enqueued once a day per company
by the worker's calendar (``recurring.scheduler.daily_jobs_enqueue``, job ``dunning_run``), or
by a user from the workspace's run page (``services.dunning_run_queue``, as that user).
Re-running is safe: a run writes each customer's notice of the day once and sends what was
not handed to the mail server (``run.py``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django_tasks import task

from salesledger.apps.core.models import Company
from salesledger.apps.core.selectors import company_get, user_get

JOB_DUNNING = "dunning_run"


@task()
def dunning_run_task(company: str, as_of: str, username: str = "") -> dict[str, Any]:
    """Remind and charge the customers of one company (by code) on ``as_of`` (ISO date), as
    ``username`` (the calendar's run has none: the system)."""
    from .run import dunning_run

    summary = dunning_run(actor=user_get(username) if username else None,
                          company=company_get(company),
                          as_of=date.fromisoformat(as_of), send=True)
    return summary.as_dict()


def dunning_enqueue(company: Company, day: str) -> str:
    """The calendar's hook: enqueue the day's run, return the task's id."""
    return str(dunning_run_task.enqueue(company.code, day).id)


JOB_STATEMENTS = "statement_run"


# What a statement run's result keeps of its lists (the page shows them; the counts are whole).
RESULT_ROWS = 200


@task()
def statement_run_task(company: str, as_of: str, username: str = "",
                       send: bool = True) -> dict[str, Any]:
    """Send the statements of account the schedules of one company owe on ``as_of`` (as
    ``username``: the calendar's run has none, the system), or only list them (``send``
    False: ``customer statement --schedule run --dry-run``, queued from the workspace because
    it reads every customer with a balance). The result keeps the first ``RESULT_ROWS`` of
    what is planned and skipped, with their counts."""
    from .statements import statement_run

    summary = statement_run(actor=user_get(username) if username else None,
                            company=company_get(company), as_of=date.fromisoformat(as_of),
                            send=send)
    out = summary.as_dict()
    for key in ("planned", "skipped"):
        out[f"{key}_count"] = len(out[key])
        out[key] = out[key][:RESULT_ROWS]
    return out


def statements_enqueue(company: Company, day: str) -> str:
    """The calendar's hook for the statements of the day."""
    return str(statement_run_task.enqueue(company.code, day).id)
