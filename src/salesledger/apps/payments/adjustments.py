"""Adjustments: settling (part of) an invoice without money, and the short payments, early
payments and bad debts that call for it (docs/design/adjustments.md).

An :class:`Adjustment` is a settlement source like a receipt or a credit note, except that it
is applied in full the moment it is made: its allocations (``Allocation.adjustment``) settle
the invoice's open instalments oldest due first, and its journal entry credits the
receivable against the account of its kind (``domain/adjustments.py``). Nothing is changed
or deleted afterwards: ``adjustment_reverse`` writes a reversing adjustment whose
allocations reverse the original's and whose entry is the opposite of the original's.

    receipt_allocate_short   a payment that leaves a residual: allocate it, then write the
                             residual off (within the company's tolerance) or record it as a
                             deduction with a reason code
    invoice_adjust           the same for an invoice already paid short
    discounts_earned         called by every allocation of a receipt (services._apply): the
                             early-payment discount of an instalment paid in time
    discounts_lost,          called when a payment's allocation is undone
    residuals_lost           (services.allocation_reverse): the discount it earned, and the
                             residual written off or deducted with it, are reversed
    recoveries_lost          ... and what it recovered of a bad debt is written off again
    invoice_write_off        a bad debt; customer_write_off for all a customer owes
    invoice_recover          a later payment on a written-off invoice
    adjustment_reverse       undo any of them

Locking order, as everywhere (services.py): the receipt first, then the invoice row, then
its instalments in ascending id. Every service writes its audit event in its transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from salesledger.apps.core.actors import Actor, actor_row
from salesledger.apps.core.audit import EventSpec, audit, audit_many
from salesledger.apps.core.bulkinsert import insert_rows, update_column
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import check_open_period, require_role
from salesledger.apps.customers.selectors import customer_get
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice
from salesledger.apps.ledger.bulk import EntrySpec, journal_write_many
from salesledger.apps.ledger.selectors import entry_lines
from salesledger.apps.ledger.services import journal_write
from salesledger.domain.adjustments import (
    AdjustmentKind,
    DiscountTaxPolicy,
    Tolerance,
    adjustment_entry,
    check_tolerance,
    discount_earned,
    parse_kind,
    parse_reason,
    parse_tax_policy,
    split_recovery,
    tax_share,
    vat_shares,
)
from salesledger.domain.amounts import amount_minor
from salesledger.domain.errors import (
    AllocationExceedsOpenAmount,
    AlreadyReversed,
    CurrencyMismatch,
    DocumentNotPosted,
    NegativeAmount,
    NotFound,
    ValidationFailed,
)
from salesledger.domain.journal import negate, to_base
from salesledger.domain.settlement import OpenInstalment, settle_oldest_first
from salesledger.money import Money, format_minor

from .models import Adjustment, Allocation, Receipt
from .services import (
    OpenSide,
    Target,
    allocate,
    open_on,
    receipt_locked,
    relieved_bases,
)


def _minor(amount: Decimal, currency: str, what: str = "amount") -> int:
    minor = amount_minor(amount, currency, field=what)
    if minor <= 0:
        raise NegativeAmount(f"the {what} must be positive, not {amount}", field=what)
    return minor


def _text(minor: int, currency: str) -> str:
    return Money.from_minor(minor, currency).format_plain()


# ---------------------------------------------------------------- company settings
@dataclass(frozen=True)
class SettlementSettings:
    tolerance: Tolerance
    discount_tax_policy: DiscountTaxPolicy


def settlement_settings(company: Company) -> SettlementSettings:
    """The company's settlement settings as stored now (not as the caller's copy has them)."""
    row = (Company.objects.filter(pk=company.pk)
           .values("writeoff_tolerance_amount", "writeoff_tolerance_percent",
                   "discount_tax_policy").get())
    return SettlementSettings(
        Tolerance(row["writeoff_tolerance_amount"], Decimal(row["writeoff_tolerance_percent"])),
        DiscountTaxPolicy(row["discount_tax_policy"]))


def settlement_settings_set(*, actor: Actor, company: Company,
                            writeoff_tolerance_amount: Decimal | None = None,
                            writeoff_tolerance_percent: Decimal | None = None,
                            discount_tax_policy: str | None = None) -> Company:
    """Set the write-off tolerance (an amount in the base currency and a percentage of the
    invoice) and the tax policy of early-payment discounts. Unset arguments stay as they are."""
    require_role(company, actor, Role.MANAGER)
    with transaction.atomic():
        locked = Company.objects.select_for_update().get(pk=company.pk)
        before = settlement_settings(locked)
        amount = before.tolerance.amount
        if writeoff_tolerance_amount is not None:
            amount = amount_minor(writeoff_tolerance_amount, locked.base_currency,
                                  field="writeoff_tolerance_amount")
        percent = (before.tolerance.percent if writeoff_tolerance_percent is None
                   else writeoff_tolerance_percent)
        policy = (before.discount_tax_policy if discount_tax_policy is None
                  else parse_tax_policy(discount_tax_policy))
        Tolerance(amount, percent)  # refuses a negative amount or a percentage beyond 0..100
        locked.writeoff_tolerance_amount = amount
        locked.writeoff_tolerance_percent = percent
        locked.discount_tax_policy = policy.value
        locked.save(update_fields=["writeoff_tolerance_amount", "writeoff_tolerance_percent",
                                   "discount_tax_policy"])
        audit(locked, actor, "company.settlement_settings", "company", locked.pk,
              before=_settings_json(locked, before),
              after=_settings_json(locked, settlement_settings(locked)))
    return locked


def _settings_json(company: Company, s: SettlementSettings) -> dict[str, str]:
    return {"writeoff_tolerance_amount": _text(s.tolerance.amount, company.base_currency),
            "writeoff_tolerance_percent": format(s.tolerance.percent, "f"),
            "discount_tax_policy": s.discount_tax_policy.value}


# ---------------------------------------------------------------- the writer
def _invoice_locked(company: Company, number: str) -> Invoice:
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


def _check_day(inv: Invoice, day: date) -> None:
    if day < inv.issue_date:
        raise ValidationFailed(f"cannot adjust {inv.number} on {day}, before its issue date "
                               f"{inv.issue_date}", invoice=inv.number)


def _adjust(company: Company, inv: Invoice, *, kind: AdjustmentKind, amount: int, day: date,
            actor: Actor, reason_code: str = "", memo: str = "", receipt: Receipt | None = None,
            with_tax: bool = False, dispute_requested: bool = False,
            instalment_ids: list[int] | None = None, tax: int | None = None) -> Adjustment:
    """Write one adjustment of ``amount`` on ``inv`` (locked by the caller), settling its open
    instalments (or only ``instalment_ids``) oldest due first. Its VAT share is ``tax`` when
    given, else with ``with_tax`` the invoice's proportion of it."""
    _check_day(inv, day)
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
            invoice=inv.number, amount=_text(amount, inv.currency),
            open=_text(open_total, inv.currency), currency=inv.currency)
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
        "kind": adj.kind, "invoice": invoice, "amount": _text(adj.amount, cur),
        "currency": cur, "date": adj.date.isoformat(),
        "allocations": [{"instalment": i, "amount": _text(a, cur)} for i, a in shares]}
    if adj.tax_amount:
        data["tax"] = _text(adj.tax_amount, cur)
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


# ---------------------------------------------------------------- short payments
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
        tolerance = settlement_settings(company).tolerance
        check_tolerance(residual, invoice_total=inv.total, tolerance=tolerance,
                        base_residual=to_base(residual, inv.currency, company.base_currency,
                                              Decimal(inv.rate)), where=inv.number or "",
                        currency=inv.currency, base_currency=company.base_currency)
        return _adjust(company, inv, kind=AdjustmentKind.WRITE_OFF, amount=residual, day=day,
                       actor=actor, memo=memo, receipt=receipt)
    return _adjust(company, inv, kind=AdjustmentKind.DEDUCTION, amount=residual, day=day,
                   actor=actor, reason_code=parse_reason(reason_code).value, memo=memo,
                   receipt=receipt, dispute_requested=dispute_requested)


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
        inv = _invoice_locked(company, invoice)
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
        inv = _invoice_locked(company, number)
        minor = open_on(inv) if amount is None else _minor(amount, inv.currency)
        if minor <= 0:
            raise ValidationFailed(f"{inv.number} has nothing open", invoice=inv.number)
        return _residual_adjustment(company, inv, minor, day=day, actor=actor,
                                    write_off=chosen == AdjustmentKind.WRITE_OFF,
                                    reason_code=reason_code, memo=memo, receipt=None,
                                    dispute_requested=dispute_requested)


# ---------------------------------------------------------------- early-payment discounts
class PaymentShare(Protocol):
    """What ``discounts_earned`` reads of an allocation just made: an ``Allocation``, or a
    planned bulk one (``bulk.BulkAllocation``, ``allocation_plan.Planned``)."""

    instalment_id: int
    amount: int


def discounts_earned(*, company: Company, receipt: Receipt, rows: Sequence[PaymentShare],
                     day: date, actor: Actor) -> list[Adjustment]:
    """Take the early-payment discount of every instalment that ``rows`` (allocations of
    ``receipt`` just written) leave open by exactly its discount, when every payment on it
    was received on or before the discount's last day. Called inside the allocation's
    transaction, with the instalments locked. Each discount is written by ``_adjust``."""
    return [_adjust(company, e.inst.invoice, kind=AdjustmentKind.DISCOUNT,
                    amount=e.inst.discount_amount, day=e.day, actor=actor, receipt=e.receipt,
                    instalment_ids=[e.inst.pk], with_tax=e.with_tax, memo=e.memo)
            for e in _discounts_due(company, [(receipt, rows, day)])]


def discounts_earned_many(*, company: Company,
                          payments: Sequence[tuple[Receipt, Sequence[PaymentShare], date]],
                          actor: Actor) -> list[Adjustment]:
    """``discounts_earned`` for many receipts at once (the auto-allocation run, the CSV
    import): each (receipt, its allocations just written, the day), in the order given, the
    books read in a few queries for all of them. An instalment earns its discount once.
    The discounts are written in batches (``_discounts_write``): the same rows, entries and
    audit events as ``_adjust`` writes one at a time, in the same order."""
    due = _discounts_due(company, payments)
    return _discounts_write(company, due, actor) if due else []


@dataclass(frozen=True)
class _Due:
    """An early-payment discount earned: the instalment (its invoice loaded), the receipt
    that earned it, the day it is written, and its memo and VAT treatment."""

    receipt: Receipt
    inst: Instalment
    day: date
    with_tax: bool
    memo: str


def _discounts_due(company: Company,
                   payments: Sequence[tuple[Receipt, Sequence[PaymentShare], date]]
                   ) -> list[_Due]:
    """The discounts that ``payments`` earn, in the order given (``discounts_earned_many``)."""
    wanted = [(receipt, sorted({r.instalment_id for r in rows if r.amount > 0}), day)
              for receipt, rows, day in payments]
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
    with_tax = settlement_settings(company).discount_tax_policy == DiscountTaxPolicy.ADJUST_VAT
    out = []
    for receipt, inst_ids, day in wanted:
        for pk in inst_ids:
            inst = candidates.get(pk)
            if inst is None or pk in taken or inst.discount_date < receipt.date:
                continue
            dates = [d for d, v in paid.get(pk, {}).items() if v > 0]
            if not discount_earned(
                    open_after=inst.amount - inst.settled, discount_amount=inst.discount_amount,
                    discount_date=inst.discount_date, payment_dates=dates):
                continue
            out.append(_Due(receipt, inst, day, with_tax,
                            f"paid by {receipt.number} on {receipt.date}, discount until "
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
    """Write the discounts ``due`` as ``_adjust`` would one by one (each settles the whole of
    what is left on its one instalment, which therefore takes the base that is left), with
    multi-row INSERTs: the entries and their lines, the adjustments, their allocations, the
    ``settled`` caches (new absolute values of the locked rows: the CHECK constraints still
    refuse an excess) and the audit events, appended to the chain in the same order."""
    ids = sorted(e.inst.pk for e in due)
    if len(set(ids)) != len(ids):  # _discounts_due takes each instalment once
        raise ValidationFailed("an instalment earns its discount once")
    for i in range(0, len(ids), 5000):  # as _adjust and every allocation lock them
        list(Instalment.objects.select_for_update(of=("self",), no_key=True)
             .filter(pk__in=ids[i:i + 5000]).order_by("pk").values_list("pk"))
    done = relieved_bases(instalment_ids=ids)
    user = actor_row(actor)
    now = timezone.now()
    entries, adjs = [], []
    for e in due:
        inst, inv, amount = e.inst, e.inst.invoice, e.inst.discount_amount
        _check_day(inv, e.day)
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
            base_amount=base, tax_amount=tax, receipt=e.receipt, created_by=user,
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
            a, e.inst.invoice.number or "", [(e.inst.pk, a.amount)], e.receipt.number))
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


# ---------------------------------------------------------------- undoing a payment
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
    return _adjust(company, inv, kind=AdjustmentKind.BAD_DEBT, amount=again, day=day,
                   actor=actor, receipt=receipt, memo=f"recovery by {receipt.number} undone: "
                   f"{reason}", tax=tax)


# ---------------------------------------------------------------- bad debts
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
        inv = _invoice_locked(company, number)
        minor = open_on(inv) if amount is None else _minor(amount, inv.currency)
        if minor <= 0:
            raise ValidationFailed(f"{inv.number} has nothing open to write off",
                                   invoice=inv.number)
        return _adjust(company, inv, kind=AdjustmentKind.BAD_DEBT, amount=minor, day=day,
                       actor=actor, memo=reason, with_tax=tax_relief)


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
            # Only a source with something open in its currency is allocated: one with
            # nothing to pay would write an allocation event that allocates nothing.
            for cn, currency in (Invoice.objects.filter(
                    company=company, customer=customer, kind=DocKind.CREDIT_NOTE,
                    status="posted", allocated__lt=F("total"), issue_date__lte=day)
                    .order_by("issue_date", "id").values_list("number", "currency")):
                if _open_in(company, customer.pk, currency, day):
                    allocate(actor=actor, company=company, day=day, credit_note=cn, auto=True)
            for number, currency in (Receipt.objects.filter(
                    company=company, customer=customer, allocated__lt=F("amount"),
                    date__lte=day).order_by("date", "id").values_list("number", "currency")):
                if _open_in(company, customer.pk, currency, day):
                    allocate(actor=actor, company=company, day=day, receipt=number, auto=True)
        numbers = [number for number, _ in Invoice.objects.filter(
            company=company, customer=customer, kind=DocKind.INVOICE, status="posted",
            issue_date__lte=day, instalments__settled__lt=F("instalments__amount"))
            .order_by("issue_date", "number").values_list("number", "issue_date").distinct()]
        if not numbers:
            raise ValidationFailed(f"customer {code} has nothing open to write off",
                                   customer=code)
        out = []
        for number in numbers:
            inv = _invoice_locked(company, number)
            out.append(_adjust(company, inv, kind=AdjustmentKind.BAD_DEBT, amount=open_on(inv),
                               day=day, actor=actor, memo=reason, with_tax=tax_relief))
        audit(company, actor, "customer.write_off", "customer", customer.pk, customer=code,
              reason=reason, adjustments=[a.pk for a in out],
              invoices=[{"invoice": n, "amount": _text(a.amount, a.currency),
                         "currency": a.currency} for n, a in zip(numbers, out, strict=True)])
    return out


def _open_in(company: Company, customer_id: int, currency: str, day: date) -> bool:
    """Whether the customer has an instalment open in ``currency``, of an invoice issued by
    ``day``: what an automatic allocation (``services._plan``) would pay."""
    return Instalment.objects.filter(company=company, customer_id=customer_id,
                                     currency=currency, settled__lt=F("amount"),
                                     invoice__issue_date__lte=day).exists()


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
        inv = _invoice_locked(company, number)
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
                else _minor(amount, inv.currency))
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
            again = _adjust(company, inv, kind=AdjustmentKind.BAD_DEBT,
                            amount=split.written_off_again, day=day, actor=actor,
                            with_tax=tax_relief, memo=f"not recovered by {src.number}",
                            receipt=src)
        audit(company, actor, "invoice.recover", "invoice", inv.pk, invoice=inv.number,
              receipt=src.number, paid=_text(paid, inv.currency), currency=inv.currency,
              recovered=_text(split.recovered, inv.currency),
              written_off_again=_text(split.written_off_again, inv.currency))
    return Recovered(reversed_, rows, again, split.recovered)
