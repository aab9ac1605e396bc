"""Allocating one receipt by a policy, or previewing what a policy would do.

``receipt_allocate_policy`` spreads what is unallocated on a receipt over the customer's
open instalments in the receipt's currency (issued on or before the day) by one of the
policies of docs/design/allocation-policies.md: ``oldest_first``, ``by_reference`` (the
invoices named in the payer reference, the bank reference or the memo, by number or by
structured creditor reference, in the order named), ``proportional``, or ``manual`` (the
``targets`` say which invoice gets how much; the only policy that may pay an invoice in
another currency). The plan is made by the pure core (``domain/allocation.py``, with the
policies of ``domain/allocation_plan.py``) and written by the one allocation writer
(``allocations.py``), as every allocation is. With ``dry_run`` nothing is written: the result
says what would be allocated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from salesledger.apps.core.actors import Actor
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import require_role
from salesledger.domain.allocation import AllocationRequest, SourceKind, SourceRef
from salesledger.domain.allocation_plan import parse_policy
from salesledger.domain.errors import ValidationFailed
from salesledger.domain.policies import Policy

from .allocations import allocations_make
from .models import Allocation, Receipt
from .services import Target


@dataclass(frozen=True)
class PlannedAllocation:
    invoice: str
    instalment_id: int
    seq: int
    due_date: date
    currency: str
    amount: int  # minor units of the instalment's currency
    source_amount: int  # what it takes from the receipt, in the receipt's currency
    rate: Decimal | None = None  # cross rate, when the currencies differ


@dataclass
class PolicyResult:
    receipt: str
    currency: str
    policy: str
    dry_run: bool
    unallocated_before: int
    planned: list[PlannedAllocation] = field(default_factory=list)
    allocations: list[Allocation] = field(default_factory=list)  # empty for a dry run
    references: list[str] = field(default_factory=list)  # invoices the receipt names

    @property
    def total(self) -> int:
        return sum(p.source_amount for p in self.planned)

    @property
    def unallocated_after(self) -> int:
        return self.unallocated_before - self.total


def receipt_text(r: Receipt | dict[str, Any]) -> str:
    """The text of a receipt that may name invoices: payer reference, bank reference, memo."""
    get = r.get if isinstance(r, dict) else (lambda k: getattr(r, k))
    return " ".join(str(get(k) or "") for k in ("payer_reference", "bank_reference", "memo"))


def receipt_allocate_policy(*, actor: Actor, company: Company, receipt: str, policy: str,
                            day: date, targets: list[Target] | None = None,
                            dry_run: bool = False, rate: Decimal | None = None
                            ) -> PolicyResult:
    """Allocate ``receipt`` on ``day`` by ``policy`` (or, with ``dry_run``, say what that
    would allocate). ``targets`` (and ``rate``) are for the manual policy only. A batch of
    one for the one allocation writer (``allocations.allocations_make``), which records the
    policy in the audit event."""
    require_role(company, actor, Role.CLERK)
    chosen = parse_policy(policy)
    if chosen == Policy.MANUAL and not targets:
        raise ValidationFailed("the manual policy needs the invoices and amounts to allocate",
                               field="targets")
    if chosen != Policy.MANUAL and (targets or rate is not None):
        raise ValidationFailed(f"the {chosen.value} policy chooses the invoices itself; give "
                               "invoices and amounts (or a rate) with the manual policy only",
                               field="policy")
    made = allocations_make(actor=actor, company=company, dry_run=dry_run, requests=[
        AllocationRequest(SourceRef(SourceKind.RECEIPT, number=receipt), day,
                          lines=tuple(targets or ()), policy=chosen, rate=rate)])
    [src] = made.plan.sources
    return PolicyResult(
        src.number, src.currency, chosen.value, dry_run, src.unallocated,
        planned=[PlannedAllocation(
            r.instalment.invoice_number, r.instalment.id, r.instalment.seq,
            r.instalment.due_date, r.currency, r.amount,
            r.amount if r.source_amount is None else r.source_amount, r.fx_rate)
            for r in made.plan.rows],
        allocations=made.rows(company, actor), references=made.plan.references.get(0, []))
