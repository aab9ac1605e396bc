"""The background task of the automatic allocation of every receipt started from the
workspace (run by ``salesledger worker``): ``autoallocate.auto_allocate_all``, as
``receipt auto-allocate`` runs it. Resumable by design (each chunk of customers commits
with the run's progress), so a worker that died half-way may simply run it again."""

from __future__ import annotations

from datetime import date
from typing import Any

from django_tasks import task

from salesledger.apps.core.actors import Actor
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.selectors import company_get, user_get
from salesledger.apps.core.services import check_open_period, require_role
from salesledger.domain.allocation_plan import parse_policy
from salesledger.domain.errors import LedgerError

# The task functions the workspace follows for this app (core.selectors.queued_task).
PAYMENT_TASKS = frozenset({"auto_allocate_task"})


@task()
def auto_allocate_task(company: str, username: str, day: str,
                       policy: str = "oldest_first") -> dict[str, Any]:
    """Allocate every customer's unapplied cash on ``day`` by ``policy`` as ``username``.
    Returns the run's counts and totals (minor units by currency), or the refusal."""
    from .autoallocate import auto_allocate_all

    try:
        result = auto_allocate_all(actor=user_get(username) if username else None,
                                   company=company_get(company), day=date.fromisoformat(day),
                                   policy=policy)
    except LedgerError as exc:
        return {"ok": False, "code": exc.code, "message": str(exc)}
    return {"ok": True, "run": result.run.pk if result.run else None,
            "resumed": result.resumed, "policy": result.policy, "day": day,
            "customers": result.customers, "receipts": result.receipts,
            "allocations": result.allocations, "totals": dict(result.totals)}


def auto_allocate_later(*, actor: Actor, company: Company, day: date,
                        policy: str = "oldest_first") -> str:
    """Queue the automatic allocation (the role, the policy and the period are checked
    here, and again when it runs); returns the task's id."""
    require_role(company, actor, Role.CLERK)
    parse_policy(policy, automatic=True)
    check_open_period(company, day)
    return str(auto_allocate_task.enqueue(
        company=company.code, username=actor.get_username() if actor else "",
        day=day.isoformat(), policy=policy).id)
