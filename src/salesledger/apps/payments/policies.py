"""Allocating one receipt by a policy, or previewing what a policy would do.

``receipt_allocate_policy`` spreads what is unallocated on a receipt over the customer's
open instalments in the receipt's currency (issued on or before the day) by one of the
policies of docs/design/allocation-policies.md: ``oldest_first``, ``by_reference`` (the
invoices named in the payer reference, the bank reference or the memo, by number or by
structured creditor reference, in the order named), ``proportional``, or ``manual`` (the
``targets`` say which invoice gets how much; the only policy that may pay an invoice in
another currency). The plan is made by the pure core (``domain/allocation_plan.py``) and
written by the same code as every allocation (``services._apply``). With ``dry_run``
nothing is written: the result says what would be allocated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F

from salesledger.apps.core.actors import Actor
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import check_open_period, require_role
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice
from salesledger.domain.allocation_plan import parse_policy, policy_shares, references_in
from salesledger.domain.errors import ValidationFailed
from salesledger.domain.fx import source_amounts
from salesledger.domain.policies import Policy
from salesledger.domain.settlement import OpenInstalment, Share

from .models import Allocation, Receipt
from .reads import receipt_locked
from .services import (
    Target,
    _apply,
    _plan,
    allocation_event_row,
    cross_rates,
)


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


def open_instalments(company: Company, customer_id: int, currency: str, day: date
                     ) -> list[OpenInstalment]:
    """The customer's instalments open now in ``currency``, of invoices issued by ``day``,
    oldest due first, with the document number as ``sort_key``."""
    rows = (Instalment.objects.filter(company=company, customer_id=customer_id,
                                      currency=currency, settled__lt=F("amount"),
                                      invoice__issue_date__lte=day)
            .order_by("due_date", "invoice__number", "id")
            .values_list("id", "due_date", "amount", "settled", "invoice__number"))
    return [OpenInstalment(i, due, amount - settled, number or "")
            for i, due, amount, settled, number in rows]


def document_aliases(company: Company, customer_id: int, day: date) -> dict[str, str]:
    """Every name by which a payer may refer to one of the customer's posted invoices:
    its number and its structured creditor reference, each mapped to the number."""
    out: dict[str, str] = {}
    for number, ref in (Invoice.objects.filter(company=company, customer_id=customer_id,
                                               kind=DocKind.INVOICE, status="posted",
                                               issue_date__lte=day)
                        .values_list("number", "payment_reference")):
        out[number] = number
        if ref:
            out[ref] = number
    return out


def receipt_allocate_policy(*, actor: Actor, company: Company, receipt: str, policy: str,
                            day: date, targets: list[Target] | None = None,
                            dry_run: bool = False, rate: Decimal | None = None
                            ) -> PolicyResult:
    """Allocate ``receipt`` on ``day`` by ``policy`` (or, with ``dry_run``, say what that
    would allocate). ``targets`` (and ``rate``) are for the manual policy only."""
    require_role(company, actor, Role.CLERK)
    chosen = parse_policy(policy)
    if chosen == Policy.MANUAL and not targets:
        raise ValidationFailed("the manual policy needs the invoices and amounts to allocate",
                               field="targets")
    if chosen != Policy.MANUAL and (targets or rate is not None):
        raise ValidationFailed(f"the {chosen.value} policy chooses the invoices itself; give "
                               "invoices and amounts (or a rate) with the manual policy only",
                               field="policy")
    check_open_period(company, day)
    with transaction.atomic():
        src = receipt_locked(company, receipt)
        if day < src.date:
            raise ValidationFailed(f"cannot allocate before the receipt's date {src.date}")
        result = PolicyResult(src.number, src.currency, chosen.value, dry_run,
                              src.amount - src.allocated)
        rates: dict[str, Decimal] = {}
        if chosen == Policy.MANUAL:
            rates = cross_rates(company, src, targets or [], day, rate)
            shares = _plan(company, src, targets or [], False, day, rates=rates)
        else:
            items = open_instalments(company, src.customer_id, src.currency, day)
            if chosen == Policy.BY_REFERENCE:
                aliases = document_aliases(company, src.customer_id, day)
                result.references = references_in(receipt_text(src), aliases)
            shares = policy_shares(chosen, result.unallocated_before, items, result.references)
        result.planned = _describe(src, shares, rates)
        if dry_run or not shares:
            return result
        result.allocations = _apply(company, src, shares, day, actor, rates=rates)
        audit(company, actor, "allocation.create", "receipt", src.pk, source=src.number,
              policy=chosen.value, references=result.references,
              allocations=[allocation_event_row(r) for r in result.allocations])
    return result


def _describe(src: Receipt, shares: list[Share], rates: dict[str, Decimal]
              ) -> list[PlannedAllocation]:
    if not shares:
        return []
    info = {i["id"]: i for i in Instalment.objects.filter(
        pk__in=[s.instalment_id for s in shares]).values(
            "id", "seq", "due_date", "currency", "invoice__number")}
    taken = source_amounts(
        [(s.amount, info[s.instalment_id]["currency"],
          rates.get(info[s.instalment_id]["currency"], Decimal(1))) for s in shares],
        remaining=src.amount - src.allocated, source_currency=src.currency)
    out = []
    for share, take in zip(shares, taken, strict=True):
        i = info[share.instalment_id]
        out.append(PlannedAllocation(
            i["invoice__number"], share.instalment_id, i["seq"], i["due_date"], i["currency"],
            share.amount, take, rates.get(i["currency"])))
    return out
