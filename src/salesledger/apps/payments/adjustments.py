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
from django.db.models import F, QuerySet, Sum

from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import check_open_period, require_role
from salesledger.apps.customers.services import customer_get
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice
from salesledger.apps.ledger.models import JournalLine
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
)
from salesledger.domain.errors import (
    AllocationExceedsOpenAmount,
    AlreadyReversed,
    CurrencyMismatch,
    DocumentNotPosted,
    NegativeAmount,
    NotFound,
    ValidationFailed,
)
from salesledger.domain.journal import AccountRole, Line, negate, to_base
from salesledger.domain.settlement import OpenInstalment, settle_oldest_first
from salesledger.money import Money

from .models import Adjustment, Allocation, Receipt
from .services import OpenSide, Target, allocate, amount_minor, relieved_bases


def _actor_row(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


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


def settlement_settings_set(*, actor: Any, company: Company,
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


def open_on(inv: Invoice) -> int:
    """What is open on an invoice now (minor units), from the cached ``settled``."""
    return (Instalment.objects.filter(invoice=inv)
            .aggregate(s=Sum(F("amount") - F("settled")))["s"] or 0)


def _adjust(company: Company, inv: Invoice, *, kind: AdjustmentKind, amount: int, day: date,
            actor: Any, reason_code: str = "", memo: str = "", receipt: Receipt | None = None,
            with_tax: bool = False, dispute_requested: bool = False,
            instalment_ids: list[int] | None = None) -> Adjustment:
    """Write one adjustment of ``amount`` on ``inv`` (locked by the caller), settling its open
    instalments (or only ``instalment_ids``) oldest due first."""
    if day < inv.issue_date:
        raise ValidationFailed(f"cannot adjust {inv.number} on {day}, before its issue date "
                               f"{inv.issue_date}", invoice=inv.number)
    qs = Instalment.objects.select_for_update(no_key=True).filter(invoice=inv)
    if instalment_ids is not None:
        qs = qs.filter(pk__in=instalment_ids)
    insts = {i.pk: i for i in qs.order_by("pk")}
    open_rows = [OpenInstalment(i.pk, i.due_date, i.amount - i.settled)
                 for i in insts.values() if i.amount > i.settled]
    open_total = sum(o.open for o in open_rows)
    if amount <= 0:
        raise NegativeAmount(f"an adjustment must be positive, not {amount}")
    if amount > open_total:
        raise AllocationExceedsOpenAmount(
            f"a {kind.value} of {_text(amount, inv.currency)} {inv.currency} exceeds the "
            f"{_text(open_total, inv.currency)} still open on {inv.number}",
            invoice=inv.number, amount=amount, open=open_total)
    shares = settle_oldest_first(amount, open_rows)
    done = relieved_bases(instalment_ids=[s.instalment_id for s in shares])
    bases = []
    for share in shares:
        i = insts[share.instalment_id]
        side = OpenSide(i.amount - i.settled, i.base_amount, Decimal(inv.rate),
                        done.get(("instalment", i.pk), 0))
        bases.append(side.relieve(share.amount, inv.currency, company.base_currency))
    base = sum(bases)
    tax = tax_share(amount, invoice_tax=inv.tax, invoice_total=inv.total) if with_tax else 0
    # The base VAT share in the same proportion; none when there is no VAT share at all.
    base_tax = (0 if tax == 0 else base if tax == amount
                else tax_share(base, invoice_tax=inv.tax, invoice_total=inv.total))
    entry = journal_write(
        company=company, day=day, kind="adjustment", actor=actor, source_type="invoice",
        source_id=inv.pk, memo=f"{kind.value} {inv.number} {memo}".strip(),
        lines=adjustment_entry(kind=kind, customer_id=inv.customer_id, currency=inv.currency,
                               amount=amount, base_amount=base, tax=tax, base_tax=base_tax))
    adj = Adjustment.objects.create(
        company=company, customer_id=inv.customer_id, invoice=inv, kind=kind.value,
        reason_code=reason_code, memo=memo[:255], dispute_requested=dispute_requested,
        date=day, currency=inv.currency, amount=amount, base_amount=base, tax_amount=tax,
        receipt=receipt, journal_entry=entry, created_by=_actor_row(actor))
    for share, share_base in zip(shares, bases, strict=True):
        Allocation.objects.create(
            company=company, customer_id=inv.customer_id, adjustment=adj,
            instalment_id=share.instalment_id, date=day, currency=inv.currency,
            amount=share.amount, base_unapplied=share_base, base_receivable=share_base,
            journal_entry=entry, created_by=_actor_row(actor))
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


def entry_lines(entry_id: int) -> list[Line]:
    """The lines of a stored journal entry, as the pure core writes them."""
    return [Line(AccountRole(li.account.role), li.amount, li.amount_currency, li.currency,
                 li.customer_id)
            for li in JournalLine.objects.filter(entry_id=entry_id).select_related("account")
            .order_by("id")]


def reverse_adjustment(company: Company, orig: Adjustment, day: date, actor: Any,
                       reason: str = "") -> Adjustment:
    """Write the reversal of ``orig`` (inside the caller's transaction; no role check).
    Locks its instalments before the adjustment row, the order of every allocation (an
    allocation reversed loses the discount on its instalment: ``discounts_lost``)."""
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
        tax_amount=-orig.tax_amount, receipt_id=orig.receipt_id, journal_entry=entry,
        reversal_of=orig, created_by=_actor_row(actor))
    for a in allocs:
        Allocation.objects.create(
            company=company, customer_id=a.customer_id, adjustment=rev,
            instalment_id=a.instalment_id, date=day, currency=a.currency, amount=-a.amount,
            base_unapplied=-a.base_unapplied, base_receivable=-a.base_receivable,
            reversal_of=a, journal_entry=entry, created_by=_actor_row(actor))
        Instalment.objects.filter(pk=a.instalment_id).update(settled=F("settled") - a.amount)
    data = adjustment_event(rev, orig.invoice.number or "",
                            [(a.instalment_id, -a.amount) for a in allocs], None)
    audit(company, actor, "adjustment.reverse", "adjustment", orig.pk, reverses=orig.pk,
          reason=reason, **data)
    return rev


def adjustment_reverse(*, actor: Any, company: Company, adjustment_id: int, day: date,
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
                         actor: Any, write_off: bool, reason_code: str, memo: str,
                         receipt: Receipt | None, dispute_requested: bool) -> Adjustment:
    if write_off:
        if dispute_requested:
            raise ValidationFailed("only a deduction can be disputed, not a write-off")
        tolerance = settlement_settings(company).tolerance
        check_tolerance(residual, invoice_total=inv.total, tolerance=tolerance,
                        base_residual=to_base(residual, inv.currency, company.base_currency,
                                              Decimal(inv.rate)), where=inv.number or "")
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


def receipt_allocate_short(*, actor: Any, company: Company, receipt: str, invoice: str,
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
        src = (Receipt.objects.select_for_update(no_key=True)
               .filter(company=company, number=receipt).first())
        if src is None:
            raise NotFound(f"no receipt {receipt!r}", receipt=receipt)
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


def invoice_adjust(*, actor: Any, company: Company, number: str, kind: str, day: date,
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
                     day: date, actor: Any) -> list[Adjustment]:
    """Take the early-payment discount of every instalment that ``rows`` (allocations of
    ``receipt`` just written) leave open by exactly its discount, when every payment on it
    was received on or before the discount's last day. Called inside the allocation's
    transaction, with the instalments locked."""
    return discounts_earned_many(company=company, payments=[(receipt, rows, day)], actor=actor)


def discounts_earned_many(*, company: Company,
                          payments: Sequence[tuple[Receipt, Sequence[PaymentShare], date]],
                          actor: Any) -> list[Adjustment]:
    """``discounts_earned`` for many receipts at once (the auto-allocation run, the CSV
    import): each (receipt, its allocations just written, the day), in the order given, the
    books read in a few queries for all of them. An instalment earns its discount once."""
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
    policy = settlement_settings(company).discount_tax_policy
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
            out.append(_adjust(
                company, inst.invoice, kind=AdjustmentKind.DISCOUNT,
                amount=inst.discount_amount, day=day, actor=actor, receipt=receipt,
                instalment_ids=[pk], with_tax=policy == DiscountTaxPolicy.ADJUST_VAT,
                memo=f"paid by {receipt.number} on {receipt.date}, discount until "
                     f"{inst.discount_date}"))
            taken.add(pk)
    return out


def discounts_lost(*, company: Company, instalment_id: int, day: date, actor: Any,
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
                   actor: Any, reason: str) -> list[Adjustment]:
    """Reverse the write-offs and deductions made with a payment on an invoice, whose
    allocation there was just undone (``services.allocation_reverse``, with the instalments
    of both locked): the residual they settled was what that payment left, and the payment
    is no longer there, so what it and they settled is open again. One written after
    ``day`` is reversed on its own day."""
    return [reverse_adjustment(company, adj, max(day, adj.date), actor, reason=reason)
            for adj in made_with_payment(receipt_id=receipt_id, invoice_id=invoice_id)
            .order_by("id")]


# ---------------------------------------------------------------- bad debts
def invoice_write_off(*, actor: Any, company: Company, number: str, day: date, reason: str,
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


def customer_write_off(*, actor: Any, company: Company, code: str, day: date, reason: str,
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
            for cn in (Invoice.objects.filter(
                    company=company, customer=customer, kind=DocKind.CREDIT_NOTE,
                    status="posted", allocated__lt=F("total"), issue_date__lte=day)
                    .order_by("issue_date", "id").values_list("number", flat=True)):
                allocate(actor=actor, company=company, day=day, credit_note=cn, auto=True)
            for number in (Receipt.objects.filter(
                    company=company, customer=customer, allocated__lt=F("amount"),
                    date__lte=day).order_by("date", "id").values_list("number", flat=True)):
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


@dataclass
class Recovered:
    reversed: list[Adjustment]  # the write-offs undone
    allocations: list[Allocation]  # the payment
    written_off_again: Adjustment | None  # what the payment did not recover
    recovered: int


def invoice_recover(*, actor: Any, company: Company, number: str, receipt: str, day: date,
                    amount: Decimal | None = None) -> Recovered:
    """A payment on a written-off invoice: its bad-debt write-offs are reversed, the payment
    is allocated (to what was open first, then to what was written off), and what it does
    not recover is written off again, with the same tax relief. The net effect in the books:
    Dr unapplied cash / Cr bad debts for the part recovered."""
    require_role(company, actor, Role.CLERK)
    check_open_period(company, day)
    with transaction.atomic():
        src = (Receipt.objects.select_for_update(no_key=True)
               .filter(company=company, number=receipt).first())
        if src is None:
            raise NotFound(f"no receipt {receipt!r}", receipt=receipt)
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
        split = split_recovery(paid=paid, open_before=open_before, written_off=written_off)
        tax_relief = any(a.tax_amount for a in live)
        reversed_ = [reverse_adjustment(company, a, day, actor,
                                        reason=f"recovered: paid by {src.number}")
                     for a in live]
        rows = allocate(actor=actor, company=company, day=day, receipt=src.number,
                        targets=[Target(inv.number or "",
                                        Money.from_minor(paid, inv.currency).amount)])
        again = None
        if split.written_off_again:
            again = _adjust(company, inv, kind=AdjustmentKind.BAD_DEBT,
                            amount=split.written_off_again, day=day, actor=actor,
                            with_tax=tax_relief, memo=f"not recovered by {src.number}")
        audit(company, actor, "invoice.recover", "invoice", inv.pk, invoice=inv.number,
              receipt=src.number, paid=_text(paid, inv.currency), currency=inv.currency,
              recovered=_text(split.recovered, inv.currency),
              written_off_again=_text(split.written_off_again, inv.currency))
    return Recovered(reversed_, rows, again, split.recovered)
