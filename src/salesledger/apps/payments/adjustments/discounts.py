"""Early-payment discounts: an instalment that a payment in time leaves open by exactly its
discount earns it (docs/design/adjustments.md, "Early-payment discounts").

``discounts_earned`` takes them after any allocation of receipts (one command or a bulk path:
the handler of ``AllocationsMade``); ``discounts_lost`` reverses the discount of an instalment
whose payment is undone (the handler of ``AllocationsReversed``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from django.db.models import F
from django.utils import timezone

from salesledger.apps.core.actors import Actor, actor_row
from salesledger.apps.core.audit import EventSpec, audit_many
from salesledger.apps.core.bulkinsert import insert_rows, update_column
from salesledger.apps.core.models import Company
from salesledger.apps.invoicing.models import Instalment
from salesledger.apps.ledger.bulk import EntrySpec, journal_write_many
from salesledger.domain.adjustments import (
    AdjustmentKind,
    DiscountTaxPolicy,
    adjustment_entry,
    discount_earned,
    vat_shares,
)
from salesledger.domain.allocation import OpenSide
from salesledger.domain.errors import ValidationFailed

from ..models import Adjustment, Allocation, Receipt
from ..reads import relieved_bases
from .settings import settlement_settings
from .writer import adjustment_event, check_day, reverse_adjustment


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
    An instalment earns its discount once. Called by the handler of ``AllocationsMade``
    (payments/handlers.py), inside the allocation's transaction, with the instalments locked.
    The books are read in a few queries for all of them, and the discounts written in
    batches (``_discounts_write``)."""
    due = _discounts_due(company_id, payments)
    if not due:
        return []
    return _discounts_write(Company.objects.get(pk=company_id), due, actor)


@dataclass(frozen=True)
class _Due:
    """An early-payment discount earned: the instalment (its invoice loaded), the receipt
    that earned it, the day it is written, and its memo and VAT treatment."""

    receipt_id: int
    receipt_number: str
    inst: Instalment
    day: date
    with_tax: bool
    memo: str


def _discounts_due(company_id: int,
                   payments: Sequence[tuple[int, Sequence[PaymentShare], date]]) -> list[_Due]:
    """The discounts that ``payments`` earn, in the order given (``discounts_earned``)."""
    wanted = [(receipt_id, sorted({r.instalment_id for r in rows if r.amount > 0}), day)
              for receipt_id, rows, day in payments]
    ids = sorted({i for _, inst_ids, _ in wanted for i in inst_ids})
    candidates: dict[int, Instalment] = {}
    for i in range(0, len(ids), 5000):
        candidates.update((c.pk, c) for c in Instalment.objects.filter(
            pk__in=ids[i:i + 5000], discount_amount__gt=0, discount_date__isnull=False,
            settled=F("amount") - F("discount_amount")).select_related("invoice"))
    if not candidates:
        return []
    # Live payments on each candidate: the receipts whose allocations there net above zero.
    paid: dict[int, dict[date, int]] = {}
    taken: set[int] = set()
    found = sorted(candidates)
    for i in range(0, len(found), 5000):
        chunk = found[i:i + 5000]
        for inst_id, rdate, amount in (Allocation.objects
                                       .filter(instalment_id__in=chunk, receipt__isnull=False)
                                       .values_list("instalment_id", "receipt__date", "amount")):
            per = paid.setdefault(inst_id, {})
            per[rdate] = per.get(rdate, 0) + amount
        taken.update(Adjustment.objects.filter(
            allocations__instalment_id__in=chunk, kind=AdjustmentKind.DISCOUNT, amount__gt=0,
            reversed_by__isnull=True).values_list("allocations__instalment_id", flat=True))
    receipts = {r["id"]: r for r in Receipt.objects.filter(pk__in=sorted(
        {receipt_id for receipt_id, inst_ids, _ in wanted if candidates.keys() & inst_ids}))
        .values("id", "number", "date")}
    policy = settlement_settings(Company(pk=company_id)).discount_tax_policy
    with_tax = policy == DiscountTaxPolicy.ADJUST_VAT
    # The payment that earns a discount is the last of the batch on the instalment: the one
    # after which exactly the discount was left open, as if they were allocated one by one.
    last = {pk: n for n, (_, inst_ids, _) in enumerate(wanted) for pk in inst_ids}
    out = []
    for n, (receipt_id, inst_ids, day) in enumerate(wanted):
        receipt = receipts.get(receipt_id)
        for pk in inst_ids:
            inst = candidates.get(pk)
            if inst is None or receipt is None or pk in taken or last[pk] != n \
                    or inst.discount_date < receipt["date"]:
                continue
            dates = [d for d, v in paid.get(pk, {}).items() if v > 0]
            if not discount_earned(
                    open_after=inst.amount - inst.settled, discount_amount=inst.discount_amount,
                    discount_date=inst.discount_date, payment_dates=dates):
                continue
            out.append(_Due(receipt_id, receipt["number"], inst, day, with_tax,
                            f"paid by {receipt['number']} on {receipt['date']}, discount until "
                            f"{inst.discount_date}"))
            taken.add(pk)
    return out


_ADJUSTMENT_COLUMNS = (
    "company_id", "customer_id", "invoice_id", "kind", "reason_code", "memo",
    "dispute_requested", "date", "currency", "amount", "base_amount", "tax_amount",
    "receipt_id", "journal_entry_id", "created_by_id", "created_at")
_ADJUSTMENT_ALLOCATION_COLUMNS = (
    "company_id", "customer_id", "adjustment_id", "instalment_id", "date", "currency",
    "amount", "base_unapplied", "base_receivable", "journal_entry_id", "created_by_id",
    "created_at")


def _discounts_write(company: Company, due: list[_Due], actor: Actor) -> list[Adjustment]:
    """Write the discounts ``due`` as ``adjustment_write`` would one by one (each settles the
    whole of what is left on its one instalment, which therefore takes the base that is left), with
    multi-row INSERTs: the entries and their lines, the adjustments, their allocations, the
    ``settled`` caches (new absolute values of the locked rows: the CHECK constraints still
    refuse an excess) and the audit events, appended to the chain in the same order."""
    ids = sorted(e.inst.pk for e in due)
    if len(set(ids)) != len(ids):  # _discounts_due takes each instalment once
        raise ValidationFailed("an instalment earns its discount once")
    for i in range(0, len(ids), 5000):  # as adjustment_write and every allocation lock them
        list(Instalment.objects.select_for_update(of=("self",), no_key=True)
             .filter(pk__in=ids[i:i + 5000]).order_by("pk").values_list("pk"))
    done = relieved_bases(instalment_ids=ids)
    user = actor_row(actor)
    now = timezone.now()
    entries, adjs = [], []
    for e in due:
        inst, inv, amount = e.inst, e.inst.invoice, e.inst.discount_amount
        check_day(inv, e.day)
        side = OpenSide(inst.amount - inst.settled, inst.base_amount, Decimal(inv.rate),
                        done.get(("instalment", inst.pk), 0))
        base = side.relieve(amount, inv.currency, company.base_currency)
        tax, base_tax = (vat_shares(amount, base, invoice_tax=inv.tax, invoice_total=inv.total)
                         if e.with_tax else (0, 0))
        kind = AdjustmentKind.DISCOUNT
        entries.append(EntrySpec(
            day=e.day, kind="adjustment", source_type="invoice", source_id=inv.pk,
            memo=f"{kind.value} {inv.number} {e.memo}".strip(),
            lines=adjustment_entry(kind=kind, customer_id=inv.customer_id,
                                   currency=inv.currency, amount=amount, base_amount=base,
                                   tax=tax, base_tax=base_tax)))
        adjs.append(Adjustment(
            company=company, customer_id=inv.customer_id, invoice=inv, kind=kind.value,
            memo=e.memo[:255], date=e.day, currency=inv.currency, amount=amount,
            base_amount=base, tax_amount=tax, receipt_id=e.receipt_id, created_by=user,
            created_at=now))
    entry_ids = journal_write_many(company=company, actor=actor, entries=entries)
    pks = insert_rows(Adjustment, _ADJUSTMENT_COLUMNS, [
        (company.pk, a.customer_id, a.invoice_id, a.kind, a.reason_code, a.memo,
         a.dispute_requested, a.date, a.currency, a.amount, a.base_amount, a.tax_amount,
         a.receipt_id, entry_id, a.created_by_id, now)
        for a, entry_id in zip(adjs, entry_ids, strict=True)], returning=True)
    for a, pk, entry_id in zip(adjs, pks, entry_ids, strict=True):
        a.pk, a.journal_entry_id = pk, entry_id
        a._state.adding, a._state.db = False, Adjustment.objects.db
    insert_rows(Allocation, _ADJUSTMENT_ALLOCATION_COLUMNS, [
        (company.pk, a.customer_id, a.pk, e.inst.pk, a.date, a.currency, a.amount,
         a.base_amount, a.base_amount, a.journal_entry_id, a.created_by_id, now)
        for a, e in zip(adjs, due, strict=True)])
    update_column(Instalment, "settled", [(e.inst.pk, e.inst.settled + e.inst.discount_amount)
                                          for e in due])
    audit_many(company, actor, [
        EventSpec("adjustment.create", "adjustment", str(a.pk), adjustment_event(
            a, e.inst.invoice.number or "", [(e.inst.pk, a.amount)], e.receipt_number))
        for a, e in zip(adjs, due, strict=True)])
    return adjs


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
