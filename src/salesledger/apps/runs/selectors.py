"""Reading batch runs."""

from __future__ import annotations

from typing import Any

from salesledger.apps.core.models import Company
from salesledger.domain.errors import NotFound

from .models import AllocationRun


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
