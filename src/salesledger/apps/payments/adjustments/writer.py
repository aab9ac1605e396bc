"""The one writer of adjustments, and of their reversal (docs/design/adjustments.md).

``adjustments_write`` writes planned adjustments (``domain/adjustment_plan.py``) in a batch:
their journal entries, the adjustments, their allocations, the instalments' ``settled`` and
the audit events. ``adjustment_write`` is one adjustment of an invoice (locked by the caller)
read, planned and written through it; the early-payment discounts of a batch of payments are
another batch of it. ``reverse_adjustment`` writes the reversal of one, and
``adjustment_reverse`` is the service that undoes any adjustment by hand. Every feature of the
package writes through them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from salesledger.apps.core import events
from salesledger.apps.core.actors import Actor, actor_id, actor_row
from salesledger.apps.core.audit import EventSpec, audit, audit_many
from salesledger.apps.core.bulkinsert import insert_rows, update_column
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import check_open_period, require_role
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice
from salesledger.apps.ledger.bulk import EntrySpec, journal_write_many
from salesledger.apps.ledger.selectors import entry_lines
from salesledger.apps.ledger.services import journal_write
from salesledger.domain.adjustment_plan import (
    AdjustedInvoice,
    AdjustedItem,
    PlannedAdjustment,
    plan_adjustment,
)
from salesledger.domain.adjustments import AdjustmentKind
from salesledger.domain.amounts import amount_minor
from salesledger.domain.errors import (
    AlreadyReversed,
    DocumentNotPosted,
    NegativeAmount,
    NotFound,
    ValidationFailed,
)
from salesledger.domain.journal import negate
from salesledger.money import Money

from ..models import Adjustment, Allocation, Receipt
from ..reads import open_on, relieved_bases
from ..settlement_keep import settlement_keep


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


def invoice_to_adjust(company: Company, number: str, amount: Decimal | None, *,
                      what: str = "") -> tuple[Invoice, int]:
    """The invoice ``number``, locked, and what an adjustment made by hand takes of it:
    ``amount``, or all that is open; refused when that is nothing (``what`` says for what)."""
    inv = invoice_locked(company, number)
    minor = open_on(inv) if amount is None else positive_minor(amount, inv.currency)
    if minor <= 0:
        raise ValidationFailed(f"{inv.number} has nothing open{what}", invoice=inv.number)
    return inv, minor


def adjusted_invoice(inv: Invoice) -> AdjustedInvoice:
    return AdjustedInvoice(inv.pk, inv.number or "", inv.customer_id, inv.currency,
                           Decimal(inv.rate), inv.tax, inv.total, inv.issue_date)


def adjusted_items(instalment_ids: Sequence[int] = (), *, invoice_id: int | None = None
                   ) -> list[AdjustedItem]:
    """The instalments an adjustment may settle (``instalment_ids``, or all of the invoice),
    locked in ascending id as every allocation locks them, with the base already relieved."""
    qs = Instalment.objects.select_for_update(of=("self",), no_key=True).order_by("pk")
    qs = (qs.filter(invoice_id=invoice_id) if invoice_id is not None
          else qs.filter(pk__in=sorted(instalment_ids)))
    rows = list(qs.values_list("id", "due_date", "amount", "settled", "base_amount"))
    done = relieved_bases(instalment_ids=[r[0] for r in rows])
    return [AdjustedItem(*r, done.get(("instalment", r[0]), 0)) for r in rows]


def adjusted_items_of(invoice_ids: Sequence[int]) -> dict[int, list[AdjustedItem]]:
    """:func:`adjusted_items` of every instalment of many invoices at once, by invoice: one
    read (a few per 5,000 invoices), locked in ascending id, and one of the base relieved."""
    ids = sorted(set(invoice_ids))
    qs = Instalment.objects.select_for_update(of=("self",), no_key=True).order_by("pk")
    rows: list[tuple[Any, ...]] = []
    for i in range(0, len(ids), 5000):
        rows.extend(qs.filter(invoice_id__in=ids[i:i + 5000]).values_list(
            "invoice_id", "id", "due_date", "amount", "settled", "base_amount"))
    done = relieved_bases(instalment_ids=sorted(r[1] for r in rows))
    out: dict[int, list[AdjustedItem]] = {pk: [] for pk in ids}
    for invoice_id, *r in sorted(rows, key=lambda r: r[1]):
        out[invoice_id].append(AdjustedItem(*r, done.get(("instalment", r[0]), 0)))
    return out


def adjustment_write(company: Company, inv: Invoice, *, kind: AdjustmentKind, amount: int,
                     day: date, actor: Actor, reason_code: str = "", memo: str = "",
                     receipt: Receipt | None = None, with_tax: bool = False,
                     dispute_requested: bool = False, tax: int | None = None) -> Adjustment:
    """Write one adjustment of ``amount`` on ``inv`` (locked by the caller), settling its open
    instalments oldest due first: read, plan (``domain.adjustment_plan``), write (a batch of
    one for :func:`adjustments_write`). Its VAT share is ``tax`` when given, else with
    ``with_tax`` the invoice's proportion of it."""
    [adj] = adjustments_write(company=company, actor=actor, planned=[plan_adjustment(
        kind=kind, invoice=adjusted_invoice(inv), items=adjusted_items(invoice_id=inv.pk),
        amount=amount, day=day, base_currency=company.base_currency, with_tax=with_tax,
        tax=tax, receipt_id=receipt.pk if receipt else None,
        receipt_number=receipt.number if receipt else "", reason_code=reason_code, memo=memo,
        dispute_requested=dispute_requested)])
    return adj


_ADJUSTMENT_COLUMNS = (
    "company_id", "customer_id", "invoice_id", "kind", "reason_code", "memo",
    "dispute_requested", "date", "currency", "amount", "base_amount", "tax_amount",
    "receipt_id", "journal_entry_id", "created_by_id", "created_at")
_ALLOCATION_COLUMNS = (
    "company_id", "customer_id", "adjustment_id", "instalment_id", "date", "currency",
    "amount", "base_unapplied", "base_receivable", "journal_entry_id", "created_by_id",
    "created_at")


def adjustments_write(*, company: Company, actor: Actor, planned: Sequence[PlannedAdjustment]
                      ) -> list[Adjustment]:
    """The one writer of adjustments: write ``planned`` (their instalments locked by the
    caller) with multi-row INSERTs: the entries and their lines, the adjustments, their
    allocations, the ``settled`` caches (new absolute values of the locked rows: the CHECK
    constraints still refuse an excess) and the audit events, appended in order."""
    if not planned:
        return []
    touched = [s.instalment_id for p in planned for s in p.shares]
    if len(set(touched)) != len(touched):  # each plan saw the instalment as it was before
        raise ValidationFailed("one batch adjusts an instalment once")
    entry_ids = journal_write_many(company=company, actor=actor, entries=[EntrySpec(
        day=p.day, kind="adjustment", source_type="invoice", source_id=p.invoice.id,
        memo=f"{p.kind.value} {p.invoice.number} {p.memo}".strip(), lines=p.lines)
        for p in planned])
    user_id, now = actor_id(actor), timezone.now()
    adjs = [Adjustment(
        company=company, customer_id=p.invoice.customer_id, invoice_id=p.invoice.id,
        kind=p.kind.value, reason_code=p.reason_code, memo=p.memo,
        dispute_requested=p.dispute_requested, date=p.day, currency=p.invoice.currency,
        amount=p.amount, base_amount=p.base_amount, tax_amount=p.tax, receipt_id=p.receipt_id,
        journal_entry_id=entry_id, created_by_id=user_id, created_at=now)
        for p, entry_id in zip(planned, entry_ids, strict=True)]
    pks = insert_rows(Adjustment, _ADJUSTMENT_COLUMNS, [
        (company.pk, a.customer_id, a.invoice_id, a.kind, a.reason_code, a.memo,
         a.dispute_requested, a.date, a.currency, a.amount, a.base_amount, a.tax_amount,
         a.receipt_id, a.journal_entry_id, user_id, now) for a in adjs], returning=True)
    for a, pk in zip(adjs, pks, strict=True):
        a.pk = pk
        a._state.adding, a._state.db = False, Adjustment.objects.db
    insert_rows(Allocation, _ALLOCATION_COLUMNS, [
        (company.pk, a.customer_id, a.pk, s.instalment_id, a.date, a.currency, s.amount,
         s.base, s.base, a.journal_entry_id, user_id, now)
        for a, p in zip(adjs, planned, strict=True) for s in p.shares])
    update_column(Instalment, "settled", sorted(
        (s.instalment_id, s.settled_after) for p in planned for s in p.shares))
    settlement_keep({a.invoice_id for a in adjs})
    audit_many(company, actor, [EventSpec("adjustment.create", "adjustment", str(a.pk),
                                          adjustment_event(
        a, p.invoice.number, [(s.instalment_id, s.amount) for s in p.shares],
        p.receipt_number or None)) for a, p in zip(adjs, planned, strict=True)])
    events.publish(events.AdjustmentsWritten(
        company_id=company.pk, actor=actor, customer_ids=tuple({a.customer_id for a in adjs}),
        days=tuple({a.date for a in adjs})))
    disputed = tuple(a.pk for a in adjs if a.dispute_requested)
    if disputed:
        events.publish(events.DeductionsDisputed(company_id=company.pk, actor=actor,
                                                 adjustment_ids=disputed))
    return adjs


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
    settlement_keep([orig.invoice_id])
    events.publish(events.AdjustmentsWritten(company_id=company.pk, actor=actor,
                                             customer_ids=(rev.customer_id,), days=(day,)))
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
