"""Write-offs of payment differences and deductions: the residual a short payment leaves
(docs/design/adjustments.md, "Short payments").

``receipt_allocate_short`` allocates a payment that does not cover an invoice and settles the
residual: written off as a payment difference within the company's tolerance, or recorded as a
deduction with a reason code (optionally flagged for a dispute). ``invoice_adjust`` does the
same for an invoice already paid short. A write-off or deduction made with a payment names its
receipt and stands only while that payment does (``residuals_lost``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import QuerySet

from salesledger.apps.core.actors import Actor
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import check_open_period, require_role
from salesledger.apps.invoicing.models import Invoice
from salesledger.domain.adjustment_plan import AdjustedItem, plan_adjustment
from salesledger.domain.adjustments import (
    AdjustmentKind,
    check_tolerance,
    parse_kind,
    parse_reason,
)
from salesledger.domain.allocation import AllocationRequest, SourceKind, SourceRef, ToInvoice
from salesledger.domain.errors import (
    CurrencyMismatch,
    NotFound,
    ValidationFailed,
)
from salesledger.domain.journal import to_base
from salesledger.money import Money

from ..allocations import allocations_make
from ..models import Adjustment, Allocation, Receipt
from ..reads import open_on, receipt_locked
from ..services import Target, allocate
from .settings import settlement_settings
from .writer import (
    adjusted_invoice,
    adjusted_items_of,
    adjustment_write,
    adjustments_write,
    invoice_locked,
    invoice_to_adjust,
    reverse_adjustment,
)


@dataclass
class ShortPayment:
    allocations: list[Allocation]
    residual: int  # open on the invoice after the payment, before the adjustment
    adjustment: Adjustment | None  # None when the payment left nothing open


def _residual_adjustment(company: Company, inv: Invoice, residual: int, *, day: date,
                         actor: Actor, write_off: bool, reason_code: str, memo: str,
                         receipt: Receipt | None, dispute_requested: bool) -> Adjustment:
    if write_off:
        if dispute_requested:
            raise ValidationFailed("only a deduction can be disputed, not a write-off")
        [adj] = _residuals_write_off(company, actor, [
            (inv, residual, day, memo, (receipt.pk, receipt.number) if receipt else None)],
            adjusted_items_of([inv.pk]))
        return adj
    return adjustment_write(company, inv, kind=AdjustmentKind.DEDUCTION, amount=residual,
                            day=day, actor=actor, reason_code=parse_reason(reason_code).value,
                            memo=memo, receipt=receipt, dispute_requested=dispute_requested)


def _residuals_write_off(company: Company, actor: Actor,
                         items: Sequence[tuple[Invoice, int, date, str, tuple[int, str] | None]],
                         adjusted: dict[int, list[AdjustedItem]]) -> list[Adjustment]:
    """Write off residuals (each invoice locked by the caller, its residual what is open on
    it; its instalments, locked and read, in ``adjusted``, and the receipt it is written off
    with as its id and number), each refused beyond the company's tolerance: one
    ``adjustments_write``."""
    tolerance = settlement_settings(company).tolerance
    planned = []
    for inv, residual, day, memo, receipt in items:
        check_tolerance(residual, invoice_total=inv.total, tolerance=tolerance,
                        base_residual=to_base(residual, inv.currency, company.base_currency,
                                              Decimal(inv.rate)), where=inv.number or "",
                        currency=inv.currency, base_currency=company.base_currency)
        planned.append(plan_adjustment(
            kind=AdjustmentKind.WRITE_OFF, invoice=adjusted_invoice(inv),
            items=adjusted[inv.pk], amount=residual, day=day,
            base_currency=company.base_currency, receipt_id=receipt[0] if receipt else None,
            receipt_number=receipt[1] if receipt else "", memo=memo))
    return adjustments_write(company=company, actor=actor, planned=planned)


@dataclass(frozen=True)
class ShortPaid:
    """A recorded receipt (``receipt``, its id) that pays ``amount`` (minor units) of
    ``invoice`` (its number) on ``day``, the residual to be written off."""

    receipt: int
    invoice: str
    day: date
    amount: int
    memo: str = ""


def short_payments_write_off(*, actor: Actor, company: Company, items: Sequence[ShortPaid]
                             ) -> list[Adjustment]:
    """:func:`receipt_allocate_short` with ``write_off`` for many receipts at once: their
    allocations in one ``allocations_make``, the residuals written off, each within the
    company's tolerance, in one ``adjustments_write``; one transaction, all or nothing. An
    invoice appears once. A writer that allocates other payments in the same transaction
    (bank matching) makes one ``allocations_make`` of them all with the three steps."""
    require_role(company, actor, Role.CLERK)
    if not items:
        return []
    with transaction.atomic():
        invoices = short_paid_invoices(company, items)
        allocations_make(actor=actor, company=company,
                         requests=short_paid_requests(items, invoices))
        return short_residuals_write_off(actor=actor, company=company, items=items,
                                         invoices=invoices)


def short_paid_invoices(company: Company, items: Sequence[ShortPaid]) -> dict[str, Invoice]:
    """The invoices that ``items`` pay short, by number, locked (before the allocation
    locks their instalments, as ``receipt_allocate_short`` does); refused if one is paid
    short twice, is not found or is in a closed period. Inside the writer's transaction."""
    if not items:
        return {}
    numbers = [i.invoice for i in items]
    if len(set(numbers)) != len(numbers):
        raise ValidationFailed("an invoice is paid short twice in one batch", field="invoice")
    check_open_period(company, min(i.day for i in items))
    locked = Invoice.objects.select_for_update().filter(company=company,
                                                        number__in=sorted(numbers))
    if connection.vendor == "postgresql":
        # Row locks, taken in ascending id (docs/design/concurrency.md), exist only there.
        # SQLite's writer holds the whole database; asked for that order, its planner
        # without statistics reads every invoice of the company by the company's index
        # rather than the numbers' (a tenth of a bank batch's CPU at 100,000 invoices).
        locked = locked.order_by("pk")
    invoices = {inv.number or "": inv for inv in sorted(locked, key=lambda inv: inv.pk)}
    missing = [n for n in numbers if n not in invoices]
    if missing:
        raise NotFound(f"no invoice {missing[0]}", field="invoice")
    return invoices


def short_paid_requests(items: Sequence[ShortPaid], invoices: dict[str, Invoice]
                        ) -> list[AllocationRequest]:
    """The allocation request of each short payment (its amount in the invoice's currency),
    for ``allocations_make`` to write with the batch's others."""
    return [AllocationRequest(SourceRef(SourceKind.RECEIPT, id=i.receipt), i.day, (ToInvoice(
        i.invoice, Money.from_minor(i.amount, invoices[i.invoice].currency).amount),))
        for i in items]


def short_residuals_write_off(*, actor: Actor, company: Company, items: Sequence[ShortPaid],
                              invoices: dict[str, Invoice]) -> list[Adjustment]:
    """After their allocations: the residual each short payment left on its invoice
    (``invoices``, from :func:`short_paid_invoices`) written off, each within the company's
    tolerance, in one ``adjustments_write``; the instalments of all of them read in one
    query, whatever their number."""
    if not items:
        return []
    adjusted = adjusted_items_of([invoices[i.invoice].pk for i in items])
    left = {pk: sum(item.amount - item.settled for item in its)
            for pk, its in adjusted.items()}
    receipts = dict(Receipt.objects.filter(pk__in=sorted({i.receipt for i in items}))
                    .values_list("pk", "number"))
    return _residuals_write_off(company, actor, [
        (invoices[i.invoice], left[invoices[i.invoice].pk], i.day, i.memo,
         (i.receipt, receipts[i.receipt])) for i in items
        if left.get(invoices[i.invoice].pk)], adjusted)


def _residual_mode(write_off: bool, deduction: str) -> None:
    if write_off == bool(deduction.strip()):
        raise ValidationFailed("either write the residual off (within the company's "
                               "tolerance) or record it as a deduction with a reason code")
    if deduction.strip():
        parse_reason(deduction)


def receipt_allocate_short(*, actor: Actor, company: Company, receipt: str, invoice: str,
                           day: date, amount: Decimal | None = None, write_off: bool = False,
                           deduction: str = "", memo: str = "",
                           dispute_requested: bool = False) -> ShortPayment:
    """Allocate a payment that does not cover an invoice, then settle the residual: with
    ``write_off`` as a payment difference (refused beyond the company's tolerance), or with
    ``deduction`` (a reason code) as a deduction the customer took, optionally flagged for a
    dispute. ``amount`` (in the invoice's currency) defaults to what the receipt has
    unallocated, up to what is open. One transaction: all of it or nothing."""
    require_role(company, actor, Role.CLERK)
    _residual_mode(write_off, deduction)
    check_open_period(company, day)
    with transaction.atomic():
        src = receipt_locked(company, receipt)
        inv = invoice_locked(company, invoice)
        if amount is None:
            if src.currency != inv.currency:
                raise CurrencyMismatch(f"{inv.number} is in {inv.currency} and {src.number} in "
                                       f"{src.currency}: give the amount paid on the invoice",
                                       invoice=inv.number)
            paid = min(src.amount - src.allocated, open_on(inv))
            if paid <= 0:
                raise ValidationFailed(f"{src.number} has nothing unallocated or {inv.number} "
                                       "nothing open", receipt=src.number)
            amount = Money.from_minor(paid, inv.currency).amount
        rows = allocate(actor=actor, company=company, day=day, receipt=src.number,
                        targets=[Target(inv.number or "", amount)])
        residual = open_on(inv)
        adj = None
        if residual:
            adj = _residual_adjustment(company, inv, residual, day=day, actor=actor,
                                       write_off=write_off, reason_code=deduction, memo=memo,
                                       receipt=src, dispute_requested=dispute_requested)
    return ShortPayment(rows, residual, adj)


def invoice_adjust(*, actor: Actor, company: Company, number: str, kind: str, day: date,
                   amount: Decimal | None = None, reason_code: str = "", memo: str = "",
                   dispute_requested: bool = False) -> Adjustment:
    """Write off a payment difference (``kind`` write_off, within tolerance) or record a
    deduction (with ``reason_code``) on an invoice, for ``amount`` or all that is open."""
    require_role(company, actor, Role.CLERK)
    chosen = parse_kind(kind)
    if chosen not in (AdjustmentKind.WRITE_OFF, AdjustmentKind.DEDUCTION):
        raise ValidationFailed(
            f"{chosen.value} is not made by hand here: early-payment discounts are taken when "
            "a payment qualifies, bad debts with `invoice write-off`", field="kind")
    if chosen == AdjustmentKind.DEDUCTION:
        _residual_mode(False, reason_code)
    elif reason_code:
        raise ValidationFailed("a reason code is for deductions", field="reason_code")
    check_open_period(company, day)
    with transaction.atomic():
        inv, minor = invoice_to_adjust(company, number, amount)
        return _residual_adjustment(company, inv, minor, day=day, actor=actor,
                                    write_off=chosen == AdjustmentKind.WRITE_OFF,
                                    reason_code=reason_code, memo=memo, receipt=None,
                                    dispute_requested=dispute_requested)


def made_with_payment(*, receipt_id: int, invoice_id: int) -> QuerySet[Adjustment]:
    """The live write-offs and deductions of ``invoice_id`` made with a payment from
    ``receipt_id`` (``receipt_allocate_short`` records the receipt on the adjustment): they
    settle the residual that payment left, and stand only while it does. A write-off or
    deduction recorded on its own (``invoice_adjust``) and a bad debt have no receipt."""
    return Adjustment.objects.filter(
        receipt_id=receipt_id, invoice_id=invoice_id, amount__gt=0, reversed_by__isnull=True,
        kind__in=[AdjustmentKind.WRITE_OFF.value, AdjustmentKind.DEDUCTION.value])


def residuals_lost(*, company: Company, receipt_id: int, invoice_id: int, day: date,
                   actor: Actor, reason: str) -> list[Adjustment]:
    """Reverse the write-offs and deductions made with a payment on an invoice, whose
    allocation there was just undone (``services.allocation_reverse``, with the instalments
    of both locked): the residual they settled was what that payment left, and the payment
    is no longer there, so what it and they settled is open again. One written after
    ``day`` is reversed on its own day."""
    return [reverse_adjustment(company, adj, max(day, adj.date), actor, reason=reason)
            for adj in made_with_payment(receipt_id=receipt_id, invoice_id=invoice_id)
            .order_by("id")]
