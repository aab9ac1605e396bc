"""Reading batch runs."""

from __future__ import annotations

from typing import Any

from salesledger.apps.core.models import Company
from salesledger.apps.customers.models import Customer
from salesledger.domain.errors import NotFound

from .models import AllocationRun, RunStatus


def allocation_run_get(company: Company, run_id: int) -> AllocationRun:
    run = AllocationRun.objects.filter(company=company, pk=run_id).first()
    if run is None:
        raise NotFound(f"no allocation run {run_id} in {company.code}", run=run_id)
    return run


def allocation_run_list(company: Company, *, limit: int = 20) -> list[dict[str, Any]]:
    return [{"run": r.pk, "day": r.day, "policy": r.policy, "status": r.status,
             "last_customer_id": r.last_customer_id, "customers": r.customers,
             "receipts": r.receipts, "allocations": r.allocations, "totals": r.totals,
             "started_at": r.started_at, "finished_at": r.finished_at}
            for r in AllocationRun.objects.filter(company=company).order_by("-pk")[:limit]]


def allocation_progress(company: Company) -> dict[str, int]:
    """How far the company's running automatic allocation has got: the customers up to the
    last one whose work is committed (a run walks them in ascending id), of all the
    company's customers; 0 done while no run is running yet. Three small queries."""
    total = Customer.objects.filter(company=company).count()
    last = (AllocationRun.objects.filter(company=company, status=RunStatus.RUNNING)
            .values_list("last_customer_id", flat=True).first())
    done = Customer.objects.filter(company=company, pk__lte=last).count() if last else 0
    return {"done": done, "total": total}
