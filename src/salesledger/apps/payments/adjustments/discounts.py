"""Early-payment discounts: an instalment that a payment in time leaves open by exactly its
discount earns it (docs/design/adjustments.md, "Early-payment discounts").

``discounts_earned`` takes them after any allocation of receipts (one command or a bulk path:
the handler of ``AllocationsMade``); ``discounts_lost`` reverses the discount of an instalment
whose payment is undone (the handler of ``AllocationsReversed``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any, Protocol

from django.db.models import F

from salesledger.apps.core.actors import Actor
from salesledger.apps.core.models import Company
from salesledger.apps.invoicing.models import Instalment
from salesledger.domain.adjustment_plan import (
    AdjustedInvoice,
    AdjustedItem,
    DiscountCandidate,
    Payment,
    plan_discounts,
)
from salesledger.domain.adjustments import AdjustmentKind, DiscountTaxPolicy

from ..models import Adjustment, Allocation, Receipt
from ..reads import relieved_bases
from .settings import settlement_settings
from .writer import adjustments_write, reverse_adjustment


class PaymentShare(Protocol):
    """What ``discounts_earned`` reads of an allocation just made (``events.MadeAllocation``)."""

    instalment_id: int
    amount: int


def discounts_earned(*, company_id: int, actor: Actor,
                     payments: Sequence[tuple[int, Sequence[PaymentShare], date]]
                     ) -> list[Adjustment]:
    """Take the early-payment discount of every instalment that a payment leaves open by
    exactly its discount, when every payment on it was received on or before the discount's
    last day. ``payments`` are (receipt id, its allocations just written, their day), in the
    order written: one receipt allocated by a command, or many by a bulk run or an import.
    Called by the handler of ``AllocationsMade`` (payments/handlers.py), inside the
    allocation's transaction, with the instalments locked. Read (:func:`discount_books`),
    plan (``domain.adjustment_plan.plan_discounts``), write (``writer.adjustments_write``)."""
    wanted = [(receipt_id, tuple(sorted({r.instalment_id for r in rows if r.amount > 0})), day)
              for receipt_id, rows, day in payments]
    books = discount_books(company_id, wanted)
    if books is None:
        return []
    company, paid, candidates, with_tax = books
    return adjustments_write(company=company, actor=actor, planned=plan_discounts(
        paid, candidates, with_tax=with_tax, base_currency=company.base_currency))


def discount_books(company_id: int, wanted: Sequence[tuple[int, tuple[int, ...], date]]
                   ) -> tuple[Company, list[Payment], list[DiscountCandidate], bool] | None:
    """What ``plan_discounts`` needs for the instalments ``wanted`` touched (receipt id,
    instalment ids, day): those with their discount open (None if there is none, after one
    query), their live payments and whether their discount is taken, the receipts, the
    company and its tax policy; a few queries per 5,000 instalments."""
    ids = sorted({i for _, inst_ids, _ in wanted for i in inst_ids})
    rows: list[tuple[Any, ...]] = []
    for i in range(0, len(ids), 5000):
        rows.extend(Instalment.objects.filter(
            pk__in=ids[i:i + 5000], discount_amount__gt=0, discount_date__isnull=False,
            settled=F("amount") - F("discount_amount")).order_by("pk").values_list(
                "id", "due_date", "amount", "settled", "base_amount", "discount_amount",
                "discount_date", "invoice_id", "invoice__number", "invoice__customer_id",
                "invoice__currency", "invoice__rate", "invoice__tax", "invoice__total",
                "invoice__issue_date"))
    if not rows:
        return None
    found = [r[0] for r in rows]
    done = relieved_bases(instalment_ids=found)
    # Live payments on each: the receipts whose allocations there net above zero, by day.
    per: dict[tuple[int, date], int] = defaultdict(int)
    taken: set[int] = set()
    for i in range(0, len(found), 5000):
        chunk = found[i:i + 5000]
        for inst_id, received, amount in (Allocation.objects
                                          .filter(instalment_id__in=chunk, receipt__isnull=False)
                                          .values_list("instalment_id", "receipt__date",
                                                       "amount")):
            per[(inst_id, received)] += amount
        taken.update(Adjustment.objects.filter(
            allocations__instalment_id__in=chunk, kind=AdjustmentKind.DISCOUNT, amount__gt=0,
            reversed_by__isnull=True).values_list("allocations__instalment_id", flat=True))
    paid_on: dict[int, list[date]] = defaultdict(list)
    for (inst_id, received), amount in per.items():
        if amount > 0:
            paid_on[inst_id].append(received)
    candidates = [DiscountCandidate(
        AdjustedItem(pk, due, amount, settled, base, done.get(("instalment", pk), 0)),
        AdjustedInvoice(inv_id, number or "", customer_id, currency, rate, tax, total, issued),
        discount, last_day, tuple(paid_on[pk]), pk in taken)
        for (pk, due, amount, settled, base, discount, last_day, inv_id, number, customer_id,
             currency, rate, tax, total, issued) in rows]
    touched = set(found)
    receipts = {pk: (number, received) for pk, number, received in Receipt.objects.filter(
        pk__in=sorted({receipt_id for receipt_id, inst_ids, _ in wanted
                       if touched.intersection(inst_ids)})).values_list("id", "number", "date")}
    paid = [Payment(receipt_id, *receipts[receipt_id], day, inst_ids)
            for receipt_id, inst_ids, day in wanted if receipt_id in receipts]
    company = Company.objects.get(pk=company_id)
    policy = settlement_settings(company).discount_tax_policy
    return company, paid, candidates, policy == DiscountTaxPolicy.ADJUST_VAT


def discounts_lost(*, company: Company, instalment_id: int, day: date, actor: Actor,
                   reason: str) -> list[Adjustment]:
    """Reverse the live early-payment discount of an instalment whose payment was just
    undone (``services.allocation_reverse``, with the instalment locked): the discount was
    earned by paying the rest in time, and that payment is no longer there. Paid again in
    time, the instalment earns it again. A discount written after ``day`` (earned by a later
    payment) is reversed on its own day."""
    return [reverse_adjustment(company, adj, max(day, adj.date), actor, reason=reason)
            for adj in Adjustment.objects.filter(
                allocations__instalment_id=instalment_id, kind=AdjustmentKind.DISCOUNT,
                amount__gt=0, reversed_by__isnull=True).distinct().order_by("id")]
