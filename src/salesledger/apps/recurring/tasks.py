"""Background tasks (django-tasks): thin shells that resolve the company and the day and
call one service. They run in ``salesledger worker`` (the database-backed queue).

Tasks take plain JSON arguments (ids, ISO dates), as the queue stores them. The acting
user of a scheduled task is the system (``actor=None``), which the audit trail records as
``system``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone
from django_tasks import task

from salesledger.apps.core.selectors import companies_all, company_get


@task()
def recurring_run_task(company: str, as_of: str) -> dict[str, Any]:
    """Issue the due recurring invoices of one company (by code) up to ``as_of`` (ISO date)."""
    from .services import recurring_run

    summary = recurring_run(actor=None, company=company_get(company),
                            as_of=date.fromisoformat(as_of))
    return summary.as_dict()


@task()
def recurring_run_all_task() -> dict[str, Any]:
    """Issue the due recurring invoices of every company, each up to its own local today."""
    from .services import now_local, recurring_run

    now = timezone.now()
    out = {}
    for company in companies_all():
        summary = recurring_run(actor=None, company=company, as_of=now_local(company, now))
        out[company.code] = summary.as_dict()
    return out


@task()
def invoice_send_task(company: str, run_id: int, as_of: str) -> str:
    """Send the invoice of an issued recurring period (documents app's ``invoice_send``)."""
    from .delivery import recurring_deliver

    return recurring_deliver(actor=None, company=company_get(company), run_id=run_id,
                             as_of=date.fromisoformat(as_of))
