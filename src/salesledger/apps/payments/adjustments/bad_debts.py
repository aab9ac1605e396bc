"""Bad debts and their recovery (docs/design/adjustments.md, "Bad debts and their recovery").

``invoice_write_off`` writes off (part of) an invoice, ``customer_write_off`` all a customer owes;
``invoice_recover`` takes a later payment on a written-off invoice, and ``recoveries_lost``
writes off again what a recovery payment recovered when that payment is undone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import F, QuerySet

from salesledger.apps.core.actors import Actor
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import check_open_period, require_role
from salesledger.apps.customers.selectors import customer_get
from salesledger.apps.invoicing.models import DocKind, Invoice
from salesledger.domain.adjustments import (
    AdjustmentKind,
    split_recovery,
    tax_share,
)
from salesledger.domain.allocation import AllocationRequest, SourceKind, SourceRef
from salesledger.domain.errors import (
    CurrencyMismatch,
    ValidationFailed,
)
from salesledger.domain.policies import Policy
from salesledger.money import Money

from ..allocations import allocations_make
from ..models import Adjustment, Allocation, Receipt
from ..reads import open_on, receipt_locked
from ..services import Target, allocate
from .writer import (
    adjustment_write,
    amount_text,
    invoice_locked,
    invoice_to_adjust,
    positive_minor,
    reverse_adjustment,
)


def recovered_by(*, receipt_id: int, invoice_id: int) -> QuerySet[Adjustment]:
    """The bad debts of ``invoice_id`` that name ``receipt_id``: the write-offs a recovery by
    that receipt reversed (negative), what it did not recover, written off again, and what
    undoing it wrote off again (``recoveries_lost``; positive). Their sum, negated, is what
    the receipt's payment still recovers on the invoice."""
    return Adjustment.objects.filter(receipt_id=receipt_id, invoice_id=invoice_id,
                                     kind=AdjustmentKind.BAD_DEBT.value)


def recoveries_lost(*, company: Company, receipt_id: int, invoice_id: int, amount: int,
                    day: date, actor: Actor, reason: str) -> Adjustment | None:
    """Write off again what a recovery payment recovered on a written-off invoice, when
    ``amount`` of that payment's allocation there was just undone
    (``services.allocation_reverse``, and so a returned payment too, with the invoice's
    instalments locked): the debt was written off, the recovery failed, so it is written off
    again, with the same tax relief, as a bad debt naming the receipt. The payment paid
    what was open first and recovered last, so what is undone is the recovered part first:
    ``min(amount, what the receipt still recovers)``. What it paid that was open stays open.
    The entry (Dr bad debts, output tax / Cr receivable) undoes the recovery's (Dr
    receivable / Cr bad debts, output tax) for that part."""
    rows = list(recovered_by(receipt_id=receipt_id, invoice_id=invoice_id)
                .values_list("amount", "tax_amount"))
    still, still_tax = -sum(a for a, _ in rows), -sum(t for _, t in rows)
    again = min(amount, still)
    if again <= 0:
        return None
    inv = Invoice.objects.select_related("customer").get(pk=invoice_id)
    receipt = Receipt.objects.get(pk=receipt_id)
    # The VAT relief the recovery gave back, taken again in proportion; the last part takes
    # what is left of it, so that undoing the whole recovery restores the relief exactly.
    tax = (max(0, still_tax) if again == still else
           min(max(0, still_tax), tax_share(again, invoice_tax=inv.tax, invoice_total=inv.total))
           if still_tax > 0 else 0)
    return adjustment_write(company, inv, kind=AdjustmentKind.BAD_DEBT, amount=again, day=day,
                            actor=actor, receipt=receipt,
                            memo=f"recovery by {receipt.number} undone: {reason}", tax=tax)


def invoice_write_off(*, actor: Actor, company: Company, number: str, day: date, reason: str,
                      amount: Decimal | None = None, tax_relief: bool = False) -> Adjustment:
    """Write off (part of) an invoice as a bad debt: all that is open, or ``amount``. With
    ``tax_relief`` the VAT share is taken back from output tax (bad-debt relief, where the
    law of the company's country allows it: EU VAT directive art. 90)."""
    require_role(company, actor, Role.MANAGER)
    if not reason.strip():
        raise ValidationFailed("say why the debt is written off (--reason)", field="reason")
    check_open_period(company, day)
    with transaction.atomic():
        inv, minor = invoice_to_adjust(company, number, amount, what=" to write off")
        return adjustment_write(company, inv, kind=AdjustmentKind.BAD_DEBT, amount=minor,
                                day=day, actor=actor, memo=reason, with_tax=tax_relief)


def customer_write_off(*, actor: Actor, company: Company, code: str, day: date, reason: str,
                       apply_credits: bool = True, tax_relief: bool = False
                       ) -> list[Adjustment]:
    """Write off all a customer owes, one bad-debt adjustment per open invoice. With
    ``apply_credits`` (the default) the customer's open credit notes and unapplied receipts
    are first allocated to their open invoices, oldest due first: only what is left after
    them is a loss."""
    require_role(company, actor, Role.MANAGER)
    if not reason.strip():
        raise ValidationFailed("say why the debt is written off (--reason)", field="reason")
    customer = customer_get(company, code)
    check_open_period(company, day)
    with transaction.atomic():
        if apply_credits:
            # One batch, credit notes first, each source spread oldest due first over what
            # the earlier ones left; one that finds nothing open in its currency writes nothing.
            credits = [SourceRef(SourceKind.CREDIT_NOTE, number=cn) for cn in Invoice.objects
                       .filter(company=company, customer=customer, kind=DocKind.CREDIT_NOTE,
                               status="posted", allocated__lt=F("total"), issue_date__lte=day)
                       .order_by("issue_date", "id").values_list("number", flat=True)]
            credits += [SourceRef(SourceKind.RECEIPT, number=number) for number in Receipt.objects
                        .filter(company=company, customer=customer, allocated__lt=F("amount"),
                                date__lte=day)
                        .order_by("date", "id").values_list("number", flat=True)]
            allocations_make(actor=actor, company=company, requests=[
                AllocationRequest(source, day, policy=Policy.OLDEST_FIRST) for source in credits])
        numbers = [number for number, _ in Invoice.objects.filter(
            company=company, customer=customer, kind=DocKind.INVOICE, status="posted",
            issue_date__lte=day, instalments__settled__lt=F("instalments__amount"))
            .order_by("issue_date", "number").values_list("number", "issue_date").distinct()]
        if not numbers:
            raise ValidationFailed(f"customer {code} has nothing open to write off",
                                   customer=code)
        out = []
        for number in numbers:
            inv = invoice_locked(company, number)
            out.append(adjustment_write(company, inv, kind=AdjustmentKind.BAD_DEBT,
                                        amount=open_on(inv), day=day, actor=actor, memo=reason,
                                        with_tax=tax_relief))
        audit(company, actor, "customer.write_off", "customer", customer.pk, customer=code,
              reason=reason, adjustments=[a.pk for a in out],
              invoices=[{"invoice": n, "amount": amount_text(a.amount, a.currency),
                         "currency": a.currency} for n, a in zip(numbers, out, strict=True)])
    return out


@dataclass
class Recovered:
    reversed: list[Adjustment]  # the write-offs undone
    allocations: list[Allocation]  # the payment
    written_off_again: Adjustment | None  # what the payment did not recover
    recovered: int


def invoice_recover(*, actor: Actor, company: Company, number: str, receipt: str, day: date,
                    amount: Decimal | None = None) -> Recovered:
    """A payment on a written-off invoice: its bad-debt write-offs are reversed, the payment
    is allocated (to what was open first, then to what was written off), and what it does
    not recover is written off again, with the same tax relief. The net effect in the books:
    Dr unapplied cash / Cr bad debts for the part recovered. The reversals and the write-off
    again name the receipt: the recovery stands only while the payment does
    (``recoveries_lost``)."""
    require_role(company, actor, Role.CLERK)
    check_open_period(company, day)
    with transaction.atomic():
        src = receipt_locked(company, receipt)
        inv = invoice_locked(company, number)
        if src.currency != inv.currency:
            raise CurrencyMismatch(f"{inv.number} is in {inv.currency}; recover it with a "
                                   f"payment in {inv.currency}", invoice=inv.number)
        if src.customer_id != inv.customer_id:
            raise ValidationFailed(f"{src.number} was paid by another customer than "
                                   f"{inv.number}'s", invoice=inv.number)
        live = list(Adjustment.objects.filter(invoice=inv, kind=AdjustmentKind.BAD_DEBT,
                                              amount__gt=0, reversed_by__isnull=True)
                    .order_by("id"))
        if not live:
            raise ValidationFailed(f"{inv.number} has no bad-debt write-off to recover: "
                                   "allocate the payment to it", invoice=inv.number)
        written_off, open_before = sum(a.amount for a in live), open_on(inv)
        paid = (min(src.amount - src.allocated, open_before + written_off) if amount is None
                else positive_minor(amount, inv.currency))
        split = split_recovery(paid=paid, open_before=open_before, written_off=written_off,
                               currency=inv.currency)
        tax_relief = any(a.tax_amount for a in live)
        reversed_ = [reverse_adjustment(company, a, day, actor,
                                        reason=f"recovered: paid by {src.number}",
                                        recovering=src)
                     for a in live]
        rows = allocate(actor=actor, company=company, day=day, receipt=src.number,
                        targets=[Target(inv.number or "",
                                        Money.from_minor(paid, inv.currency).amount)])
        again = None
        if split.written_off_again:
            again = adjustment_write(company, inv, kind=AdjustmentKind.BAD_DEBT,
                                     amount=split.written_off_again, day=day, actor=actor,
                                     with_tax=tax_relief, memo=f"not recovered by {src.number}",
                                     receipt=src)
        audit(company, actor, "invoice.recover", "invoice", inv.pk, invoice=inv.number,
              receipt=src.number, paid=amount_text(paid, inv.currency), currency=inv.currency,
              recovered=amount_text(split.recovered, inv.currency),
              written_off_again=amount_text(split.written_off_again, inv.currency))
    return Recovered(reversed_, rows, again, split.recovered)
