"""The one writer of adjustments, and of their reversal (docs/design/adjustments.md).

``adjustment_write`` writes an adjustment of an invoice (locked by the caller) that settles its
open instalments oldest due first, with its journal entry, its allocations and its audit event;
``reverse_adjustment`` writes the reversal of one, and ``adjustment_reverse`` is the service
that undoes any adjustment by hand. Every feature of the package writes through them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F

from salesledger.apps.core.actors import Actor, actor_row
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import check_open_period, require_role
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice
from salesledger.apps.ledger.selectors import entry_lines
from salesledger.apps.ledger.services import journal_write
from salesledger.domain.adjustments import (
    AdjustmentKind,
    adjustment_entry,
    tax_share,
    vat_shares,
)
from salesledger.domain.allocation import OpenSide
from salesledger.domain.amounts import amount_minor
from salesledger.domain.errors import (
    AllocationExceedsOpenAmount,
    AlreadyReversed,
    DocumentNotPosted,
    NegativeAmount,
    NotFound,
    ValidationFailed,
)
from salesledger.domain.journal import negate
from salesledger.domain.settlement import OpenInstalment, settle_oldest_first
from salesledger.money import Money, format_minor

from ..models import Adjustment, Allocation, Receipt
from ..reads import relieved_bases


def positive_minor(amount: Decimal, currency: str, what: str = "amount") -> int:
    minor = amount_minor(amount, currency, field=what)
    if minor <= 0:
        raise NegativeAmount(f"the {what} must be positive, not {amount}", field=what)
    return minor


def amount_text(minor: int, currency: str) -> str:
    return Money.from_minor(minor, currency).format_plain()


def invoice_locked(company: Company, number: str) -> Invoice:
    inv = (Invoice.objects.select_for_update(of=("self",), no_key=True).select_related("customer")
           .filter(company=company, number=number).first())
    if inv is None:
        raise NotFound(f"no invoice {number!r}", invoice=number)
    if inv.kind != DocKind.INVOICE:
        raise ValidationFailed(f"{number} is a credit note: only an invoice is adjusted",
                               invoice=number)
    if inv.status != "posted":
        raise DocumentNotPosted(f"invoice {number} is not posted", invoice=number)
    return inv


def check_day(inv: Invoice, day: date) -> None:
    if day < inv.issue_date:
        raise ValidationFailed(f"cannot adjust {inv.number} on {day}, before its issue date "
                               f"{inv.issue_date}", invoice=inv.number)


def adjustment_write(company: Company, inv: Invoice, *, kind: AdjustmentKind, amount: int,
                     day: date, actor: Actor, reason_code: str = "", memo: str = "",
                     receipt: Receipt | None = None, with_tax: bool = False,
                     dispute_requested: bool = False, instalment_ids: list[int] | None = None,
                     tax: int | None = None) -> Adjustment:
    """Write one adjustment of ``amount`` on ``inv`` (locked by the caller), settling its open
    instalments (or only ``instalment_ids``) oldest due first. Its VAT share is ``tax`` when
    given, else with ``with_tax`` the invoice's proportion of it."""
    check_day(inv, day)
    qs = Instalment.objects.select_for_update(no_key=True).filter(invoice=inv)
    if instalment_ids is not None:
        qs = qs.filter(pk__in=instalment_ids)
    insts = {i.pk: i for i in qs.order_by("pk")}
    open_rows = [OpenInstalment(i.pk, i.due_date, i.amount - i.settled)
                 for i in insts.values() if i.amount > i.settled]
    open_total = sum(o.open for o in open_rows)
    if amount <= 0:
        raise NegativeAmount(
            f"an adjustment must be positive, not {format_minor(amount, inv.currency)}")
    if amount > open_total:
        raise AllocationExceedsOpenAmount(
            f"a {kind.value} of {format_minor(amount, inv.currency)} exceeds the "
            f"{format_minor(open_total, inv.currency)} still open on {inv.number}",
            invoice=inv.number, amount=amount_text(amount, inv.currency),
            open=amount_text(open_total, inv.currency), currency=inv.currency)
    shares = settle_oldest_first(amount, open_rows)
    done = relieved_bases(instalment_ids=[s.instalment_id for s in shares])
    bases = []
    for share in shares:
        i = insts[share.instalment_id]
        side = OpenSide(i.amount - i.settled, i.base_amount, Decimal(inv.rate),
                        done.get(("instalment", i.pk), 0))
        bases.append(side.relieve(share.amount, inv.currency, company.base_currency))
    base = sum(bases)
    if tax is None:
        tax, base_tax = (vat_shares(amount, base, invoice_tax=inv.tax, invoice_total=inv.total)
                         if with_tax else (0, 0))
    else:
        base_tax = (0 if tax == 0 else base if tax == amount else tax if base == amount
                    else tax_share(base, invoice_tax=tax, invoice_total=amount))
    entry = journal_write(
        company=company, day=day, kind="adjustment", actor=actor, source_type="invoice",
        source_id=inv.pk, memo=f"{kind.value} {inv.number} {memo}".strip(),
        lines=adjustment_entry(kind=kind, customer_id=inv.customer_id, currency=inv.currency,
                               amount=amount, base_amount=base, tax=tax, base_tax=base_tax))
    adj = Adjustment.objects.create(
        company=company, customer_id=inv.customer_id, invoice=inv, kind=kind.value,
        reason_code=reason_code, memo=memo[:255], dispute_requested=dispute_requested,
        date=day, currency=inv.currency, amount=amount, base_amount=base, tax_amount=tax,
        receipt=receipt, journal_entry=entry, created_by=actor_row(actor))
    for share, share_base in zip(shares, bases, strict=True):
        Allocation.objects.create(
            company=company, customer_id=inv.customer_id, adjustment=adj,
            instalment_id=share.instalment_id, date=day, currency=inv.currency,
            amount=share.amount, base_unapplied=share_base, base_receivable=share_base,
            journal_entry=entry, created_by=actor_row(actor))
        Instalment.objects.filter(pk=share.instalment_id).update(
            settled=F("settled") + share.amount)
    audit(company, actor, "adjustment.create", "adjustment", adj.pk, **adjustment_event(
        adj, inv.number or "", [(s.instalment_id, s.amount) for s in shares],
        receipt.number if receipt else None))
    return adj


def adjustment_event(adj: Adjustment, invoice: str, shares: list[tuple[int, int]],
                     receipt: str | None) -> dict[str, Any]:
    """How an adjustment (or its reversal) is described in its audit event."""
    cur = adj.currency
    data: dict[str, Any] = {
        "kind": adj.kind, "invoice": invoice, "amount": amount_text(adj.amount, cur),
        "currency": cur, "date": adj.date.isoformat(),
        "allocations": [{"instalment": i, "amount": amount_text(a, cur)} for i, a in shares]}
    if adj.tax_amount:
        data["tax"] = amount_text(adj.tax_amount, cur)
    if adj.reason_code:
        data["reason_code"] = adj.reason_code
    if adj.memo:
        data["memo"] = adj.memo
    if adj.dispute_requested:
        data["dispute_requested"] = True
    if receipt:
        data["receipt"] = receipt
    return data


def reverse_adjustment(company: Company, orig: Adjustment, day: date, actor: Actor,
                       reason: str = "", recovering: Receipt | None = None) -> Adjustment:
    """Write the reversal of ``orig`` (inside the caller's transaction; no role check).
    Locks its instalments before the adjustment row, the order of every allocation (an
    allocation reversed loses the discount on its instalment: ``discounts_lost``).

    The reversal names the receipt of the original (the payment it came with), except for a
    bad debt: the reversal of a bad debt names the receipt that recovered it
    (``recovering``, from ``invoice_recover``) or none (undone by hand), so that the bad
    debts naming a receipt tell what that receipt recovered (``recoveries_lost``)."""
    allocs = list(Allocation.objects.filter(adjustment_id=orig.pk)
                  .order_by("instalment_id", "id"))
    list(Instalment.objects.select_for_update(no_key=True)
         .filter(pk__in=[a.instalment_id for a in allocs]).order_by("pk").values_list("pk"))
    orig = (Adjustment.objects.select_for_update(of=("self",), no_key=True)
            .select_related("invoice").get(pk=orig.pk))
    if orig.amount < 0:
        raise ValidationFailed("a reversal cannot itself be reversed", adjustment=orig.pk)
    if Adjustment.objects.filter(reversal_of=orig).exists():
        raise AlreadyReversed(f"adjustment {orig.pk} is already reversed", adjustment=orig.pk)
    if day < orig.date:
        raise ValidationFailed(f"cannot reverse on {day} an adjustment dated {orig.date}")
    entry = journal_write(
        company=company, day=day, kind="adjustment_reversal", actor=actor,
        source_type="adjustment", source_id=orig.pk, lines=negate(entry_lines(
            orig.journal_entry_id)), memo=f"reverse {orig.kind} {orig.invoice.number}")
    rev = Adjustment.objects.create(
        company=company, customer_id=orig.customer_id, invoice_id=orig.invoice_id,
        kind=orig.kind, reason_code=orig.reason_code, memo=(reason or "")[:255],
        date=day, currency=orig.currency, amount=-orig.amount, base_amount=-orig.base_amount,
        tax_amount=-orig.tax_amount, journal_entry=entry,
        receipt_id=(orig.receipt_id if orig.kind != AdjustmentKind.BAD_DEBT
                    else recovering.pk if recovering is not None else None),
        reversal_of=orig, created_by=actor_row(actor))
    for a in allocs:
        Allocation.objects.create(
            company=company, customer_id=a.customer_id, adjustment=rev,
            instalment_id=a.instalment_id, date=day, currency=a.currency, amount=-a.amount,
            base_unapplied=-a.base_unapplied, base_receivable=-a.base_receivable,
            reversal_of=a, journal_entry=entry, created_by=actor_row(actor))
        Instalment.objects.filter(pk=a.instalment_id).update(settled=F("settled") - a.amount)
    data = adjustment_event(rev, orig.invoice.number or "",
                            [(a.instalment_id, -a.amount) for a in allocs], None)
    audit(company, actor, "adjustment.reverse", "adjustment", orig.pk, reverses=orig.pk,
          reason=reason, **data)
    return rev


def adjustment_reverse(*, actor: Actor, company: Company, adjustment_id: int, day: date,
                       reason: str = "") -> Adjustment:
    """Undo an adjustment: what it settled is open again. A bad-debt write-off needs the
    manager role to be undone, as to be made."""
    orig = Adjustment.objects.filter(company=company, pk=adjustment_id).first()
    if orig is None:
        raise NotFound(f"no adjustment {adjustment_id}", adjustment=adjustment_id)
    require_role(company, actor,
                 Role.MANAGER if orig.kind == AdjustmentKind.BAD_DEBT else Role.CLERK)
    check_open_period(company, day)
    with transaction.atomic():
        return reverse_adjustment(company, orig, day, actor, reason)
