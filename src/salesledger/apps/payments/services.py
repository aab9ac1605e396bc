"""Recording receipts and allocating receipts and credit notes to open instalments.

Locking order, the same everywhere so that two writers cannot deadlock: the source row (a
receipt or a credit note) first, then the instalments in ascending id. Rows are locked FOR NO
KEY UPDATE (``no_key=True``): writers still queue, but inserting a row that refers to a locked
one (a reversing adjustment naming its receipt and invoice) does not wait for its lock, which
would deadlock against a writer that holds it and waits for our instalment. The cached
``settled`` and ``allocated`` columns are changed in the same transaction as the
allocation rows, and CHECK constraints in the schema refuse any over-allocation even if a
service had a bug.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F

from salesledger.apps.core import events
from salesledger.apps.core.actors import Actor, actor_row
from salesledger.apps.core.audit import EventSpec, audit, audit_many
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import (
    check_open_period,
    number_format,
    number_take,
    require_role,
)
from salesledger.apps.customers.services import customer_get
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice
from salesledger.apps.invoicing.services import document_currency, resolve_rate
from salesledger.apps.ledger.selectors import entry_lines
from salesledger.apps.ledger.services import journal_write
from salesledger.domain.allocation import OpenSide, allocation_step
from salesledger.domain.amounts import amount_minor, check_recordable
from salesledger.domain.errors import (
    AllocationCustomerMismatch,
    AlreadyReversed,
    CurrencyMismatch,
    DocumentNotPosted,
    NegativeAmount,
    NotFound,
    ValidationFailed,
)
from salesledger.domain.fx import parse_rate, source_amounts
from salesledger.domain.journal import (
    negate,
    receipt_entry,
    to_base,
)
from salesledger.domain.settlement import (
    OpenInstalment,
    Share,
    check_allocation,
    check_allocation_date,
    settle_oldest_first,
)
from salesledger.money import Money

from .models import Allocation, Method, Receipt
from .reads import (
    credit_notes_locked,
    open_on,
    receipt_locked,
    receipts_locked,
    relieved_bases,
    source_side,
)


@dataclass
class ReceiptInput:
    customer_code: str
    date: date
    amount: Decimal
    currency: str = ""
    rate: Decimal | None = None
    method: str = Method.BANK_TRANSFER
    payer_reference: str = ""
    bank_reference: str = ""
    memo: str = ""


def receipt_record(*, actor: Actor, company: Company, data: ReceiptInput) -> Receipt:
    """Record money received from a customer. It sits as unapplied cash until allocated."""
    require_role(company, actor, Role.CLERK)
    customer = customer_get(company, data.customer_code)
    currency = document_currency(company, customer, data.currency)
    # A typed rate is held to the range of the rate table (1e400 is a typing mistake).
    rate = resolve_rate(company, currency,
                        None if data.rate is None else parse_rate(data.rate), data.date)
    amount = amount_minor(data.amount, currency)
    base = receipt_check(company, currency=currency, rate=rate, amount=amount,
                         method=data.method, day=data.date)
    with transaction.atomic():
        fy, seq, prefix = number_take(company, "RCT", data.date)
        entry = journal_write(
            company=company, day=data.date, kind="receipt", actor=actor, source_type="receipt",
            memo=f"receipt from {customer.name}",
            lines=receipt_entry(customer_id=customer.pk, currency=currency, amount=amount,
                                base_amount=base))
        receipt = Receipt.objects.create(
            company=company, customer=customer, number=number_format(prefix, fy, seq),
            date=data.date, currency=currency, amount=amount, rate=rate, base_amount=base,
            method=data.method, payer_reference=data.payer_reference,
            bank_reference=data.bank_reference, memo=data.memo, journal_entry=entry,
            created_by=actor_row(actor))
        audit_many(company, actor, [receipt_event(
            receipt_id=receipt.pk, number=receipt.number, customer_code=customer.code,
            amount=amount, currency=currency, method=data.method)])
    return receipt


def receipt_check(company: Company, *, currency: str, rate: Decimal, amount: int, method: str,
                  day: date, period: Callable[[date], None] | None = None) -> int:
    """Refuse a receipt that breaks a rule; return its amount in base currency. ``period``
    replaces ``check_open_period`` for bulk work that checked all dates at once."""
    if amount <= 0:
        raise NegativeAmount(
            f"a receipt must be positive, not {Money.from_minor(amount, currency)}",
            field="amount")
    check_recordable(amount, currency)
    if method not in Method.values:
        raise ValidationFailed(f"unknown payment method {method!r}; use one of "
                               f"{', '.join(Method.values)}", field="method")
    (period or (lambda d: check_open_period(company, d)))(day)
    return to_base(amount, currency, company.base_currency, rate)


def receipt_event(*, receipt_id: int, number: str, customer_code: str, amount: int,
                  currency: str, method: str) -> EventSpec:
    """The audit event of a recorded receipt (single or bulk)."""
    return EventSpec("receipt.record", "receipt", str(receipt_id), {"after": {
        "number": number, "customer": customer_code,
        "amount": Money.from_minor(amount, currency).format_plain(), "currency": currency,
        "method": method}})


@dataclass(frozen=True)
class Target:
    """An explicit allocation request: an invoice (its oldest open instalments first) or one
    instalment, and an amount in the document currency."""

    invoice_number: str
    amount: Decimal


def _source_locked(company: Company, receipt_number: str | None, credit_number: str | None
                   ) -> Receipt | Invoice:
    if receipt_number:
        return receipt_locked(company, receipt_number)
    src_cn = credit_notes_locked(company, number=credit_number).first()
    if src_cn is None:
        raise NotFound(f"no credit note {credit_number!r}", credit_note=credit_number)
    if src_cn.status != "posted":
        raise DocumentNotPosted(f"credit note {credit_number} is not posted")
    return src_cn


def _unallocated(src: Receipt | Invoice) -> int:
    return src.amount - src.allocated if isinstance(src, Receipt) else src.total - src.allocated


def allocate(
    *, actor: Actor, company: Company, day: date, receipt: str | None = None,
    credit_note: str | None = None, targets: list[Target] | None = None, auto: bool = False,
    rate: Decimal | None = None,
) -> list[Allocation]:
    """Allocate a receipt or a credit note: to the named invoices (``targets``), or with
    ``auto`` to the customer's open instalments oldest due first. Returns the new rows.

    A receipt may pay an invoice in another currency (docs/design/multi-currency.md): at
    ``rate`` (units of the invoice's currency per unit of the receipt's) or else at the
    cross rate of the rate table on ``day``; target amounts are in the invoice's currency."""
    require_role(company, actor, Role.CLERK)
    if bool(receipt) == bool(credit_note):
        raise ValidationFailed("name either a receipt or a credit note to allocate")
    if bool(targets) == auto:
        raise ValidationFailed("give invoices to allocate to, or ask for automatic allocation")
    check_open_period(company, day)
    with transaction.atomic():
        src = _source_locked(company, receipt, credit_note)
        check_allocation_date(day, source=src.number or f"document {src.pk}",
                              source_date=_source_date(src))
        _check_owner(company, src, targets or [])
        rates = cross_rates(company, src, targets or [], day, rate)
        shares = _plan(company, src, targets or [], auto, day, rates=rates)
        rows = _apply(company, src, shares, day, actor, rates=rates)
        audit(company, actor, "allocation.create", "receipt" if receipt else "invoice", src.pk,
              source=receipt or credit_note, allocations=[allocation_event_row(r) for r in rows])
    return rows


def _source_date(src: Receipt | Invoice) -> date:
    return src.date if isinstance(src, Receipt) else src.issue_date


def allocation_event_row(r: Allocation) -> dict[str, Any]:
    """How an allocation is described in its audit event."""
    out: dict[str, Any] = {"instalment": r.instalment_id,
                           "amount": str(Money.from_minor(r.amount, r.currency).amount)}
    if r.source_amount is not None:
        out.update(currency=r.currency, source_currency=r.source_currency,
                   source_amount=str(Money.from_minor(r.source_amount, r.source_currency)
                                     .amount), rate=format(r.fx_rate, "f"))
    return out


def _check_owner(company: Company, src: Receipt | Invoice, targets: list[Target]) -> None:
    """A payment pays its own customer's invoices: checked first, before any rate is looked
    for, as the bulk path does."""
    numbers = sorted({t.invoice_number for t in targets})
    for number in (Invoice.objects.filter(company=company, number__in=numbers)
                   .exclude(customer_id=src.customer_id).values_list("number", flat=True)):
        raise AllocationCustomerMismatch(
            f"{number} belongs to another customer than the payment", invoice=number)


def cross_rates(company: Company, src: Receipt | Invoice, targets: list[Target], day: date,
                rate: Decimal | None) -> dict[str, Decimal]:
    """The rate for each currency of the ``targets`` that is not the source's: units of that
    currency per unit of the source's. ``rate`` if given (one other currency only), else the
    cross rate of the rate table on ``day``. A credit note pays only its own currency."""
    from salesledger.apps.fx.selectors import cross_rate_on
    from salesledger.domain.errors import ExchangeRateMissing
    from salesledger.domain.fx import normalise, parse_rate

    numbers = sorted({t.invoice_number for t in targets})
    currencies = sorted(set(Invoice.objects.filter(company=company, number__in=numbers)
                            .exclude(currency=src.currency)
                            .values_list("currency", flat=True)))
    if rate is not None and not currencies:
        raise ValidationFailed("a rate is only for paying an invoice in another currency "
                               "than the payment's", field="rate")
    if not currencies:
        return {}
    if not isinstance(src, Receipt):
        raise CurrencyMismatch(f"a credit note pays invoices in its own currency "
                               f"({src.currency}) only")
    if rate is not None:
        if len(currencies) > 1:
            raise ValidationFailed(f"one rate cannot convert to {', '.join(currencies)}; "
                                   "allocate to one currency at a time", field="rate")
        return {currencies[0]: normalise(parse_rate(rate))}
    out = {}
    for cur in currencies:
        try:
            out[cur] = cross_rate_on(company, src.currency, cur, day)
        except ExchangeRateMissing as exc:
            raise CurrencyMismatch(
                f"the payment is in {src.currency} and the invoice in {cur}: {exc.message}; "
                "or give the rate used", currency=cur) from None
    return out


def _plan(company: Company, src: Receipt | Invoice, targets: list[Target], auto: bool,
          day: date, rates: dict[str, Decimal] | None = None) -> list[Share]:
    # An allocation is never dated before the invoice it settles: as of any earlier day the
    # payment would look used on an invoice that did not exist yet.
    available = _unallocated(src)
    if auto:
        items = (Instalment.objects.filter(company=company, customer_id=src.customer_id,
                                           currency=src.currency, settled__lt=F("amount"),
                                           invoice__issue_date__lte=day)
                 .select_related("invoice").order_by("due_date", "invoice__number", "id"))
        return settle_oldest_first(available, [
            OpenInstalment(i.id, i.due_date, i.amount - i.settled, i.invoice.number or "")
            for i in items])
    shares: list[Share] = []
    # (amount, currency, rate) of each share: for what a cross-currency share takes
    shares_fx: list[tuple[int, str, Decimal]] = []
    for t in targets:
        inv = Invoice.objects.filter(company=company, number=t.invoice_number,
                                     kind=DocKind.INVOICE).first()
        if inv is None:
            raise NotFound(f"no invoice {t.invoice_number!r}", invoice=t.invoice_number)
        if inv.status != "posted":
            raise DocumentNotPosted(f"invoice {inv.pk} is a draft; post it first")
        cross = (rates or {}).get(inv.currency) if inv.currency != src.currency else None
        if inv.currency != src.currency and cross is None:
            raise CurrencyMismatch(
                f"{inv.number} is in {inv.currency} but the payment is in {src.currency}",
                invoice=inv.number)
        check_allocation_date(day, source=src.number or f"document {src.pk}",
                              source_date=_source_date(src), invoice=inv.number or "",
                              issue_date=inv.issue_date)
        minor = amount_minor(t.amount, inv.currency)
        if minor <= 0:
            raise NegativeAmount(f"allocation to {inv.number} must be a positive amount in "
                                 f"{inv.currency}, not {t.amount}")
        open_rows = [OpenInstalment(i.id, i.due_date, i.amount - i.settled)
                     for i in inv.instalments.filter(settled__lt=F("amount"))]
        open_total = sum(o.open for o in open_rows)
        same = sum(a for a, cur, _ in shares_fx if cur == src.currency)
        check_allocation(minor, open_amount=open_total,
                         unallocated=minor if cross else available - same,
                         currency=inv.currency)
        part = settle_oldest_first(minor, open_rows)
        shares.extend(part)
        shares_fx.extend((p.amount, inv.currency, cross or Decimal(1)) for p in part)
    if len({cur for _, cur, _ in shares_fx}) > 1 or any(c != src.currency
                                                       for _, c, _ in shares_fx):
        # What the receipt pays across currencies: refused here, before anything is written.
        source_amounts(shares_fx, remaining=available, source_currency=src.currency)
    return shares


def _apply(company: Company, src: Receipt | Invoice, shares: list[Share], day: date,
           actor: Actor, rates: dict[str, Decimal] | None = None) -> list[Allocation]:
    if not shares:
        return []
    ids = sorted({s.instalment_id for s in shares})
    locked = {i.pk: i for i in Instalment.objects.select_for_update(of=("self",), no_key=True)
              .select_related("invoice").filter(pk__in=ids).order_by("pk")}
    is_receipt = isinstance(src, Receipt)
    kind = "receipt" if is_receipt else "credit_note"
    done = relieved_bases(instalment_ids=ids, **{f"{kind}_ids": [src.pk]})
    source = source_side(src, done.get((kind, src.pk), 0))
    sides = {i.pk: OpenSide(i.amount - i.settled, i.base_amount, Decimal(i.invoice.rate),
                            done.get(("instalment", i.pk), 0)) for i in locked.values()}
    rows = []
    # What each share takes from the source, in the source's currency (the share itself,
    # unless the instalment is in another currency: see domain/fx.py source_amounts).
    taken = source_amounts(
        [(s.amount, locked[s.instalment_id].currency,
          (rates or {}).get(locked[s.instalment_id].currency, Decimal(1))) for s in shares],
        remaining=_unallocated(src), source_currency=src.currency)
    for share, take in zip(shares, taken, strict=True):
        inst = locked[share.instalment_id]
        cross = inst.currency != src.currency
        base_src, base_recv, lines = allocation_step(
            base_currency=company.base_currency, is_receipt=is_receipt,
            customer_id=src.customer_id, currency=inst.currency, amount=share.amount,
            source=source, instalment=sides[inst.pk], source_currency=src.currency,
            source_amount=take)
        entry = None
        if lines is not None:
            entry = journal_write(company=company, day=day, kind="allocation", actor=actor,
                                  source_type="allocation", lines=lines,
                                  memo=f"{getattr(src, 'number', '')} -> {inst.invoice.number}")
        row = Allocation.objects.create(
            company=company, customer_id=src.customer_id,
            receipt=src if is_receipt else None, credit_note=None if is_receipt else src,
            instalment=inst, date=day, currency=inst.currency, amount=share.amount,
            source_currency=src.currency if cross else "",
            source_amount=take if cross else None,
            fx_rate=(rates or {})[inst.currency] if cross else None,
            base_unapplied=base_src, base_receivable=base_recv, journal_entry=entry,
            created_by=actor_row(actor))
        Instalment.objects.filter(pk=inst.pk).update(settled=F("settled") + share.amount)
        inst.settled += share.amount
        rows.append(row)
    total = sum(taken)
    type(src).objects.filter(pk=src.pk).update(allocated=F("allocated") + total)
    src.allocated += total
    # What follows from these allocations is the business of the modules above (an
    # early-payment discount earned: adjustments/discounts.py, by payments/handlers.py).
    events.publish(events.AllocationsMade(company_id=company.pk, actor=actor, allocations=tuple(
        events.MadeAllocation(id=r.pk, instalment_id=r.instalment_id, amount=r.amount,
                              day=day, receipt_id=r.receipt_id, credit_note_id=r.credit_note_id)
        for r in rows)))
    return rows


def allocation_reverse(*, actor: Actor, company: Company, allocation_id: int, day: date,
                       reason: str = "") -> Allocation:
    """Undo an allocation with a reversing row; the original stays in the history. What
    stood only with it (a discount it earned, a residual written off with it, a bad debt it
    recovered) is undone by the handlers of ``AllocationsReversed`` (payments/handlers.py)."""
    require_role(company, actor, Role.CLERK)
    check_open_period(company, day)
    with transaction.atomic():
        orig = Allocation.objects.filter(company=company, pk=allocation_id).first()
        if orig is None:
            raise NotFound(f"no allocation {allocation_id}")
        if orig.adjustment_id:
            raise ValidationFailed(f"allocation {allocation_id} belongs to adjustment "
                                   f"{orig.adjustment_id}: reverse the adjustment instead "
                                   f"(`adjustment reverse {orig.adjustment_id}`)")
        if orig.amount < 0:
            raise ValidationFailed("a reversal cannot itself be reversed")
        if day < orig.date:
            raise ValidationFailed(f"cannot reverse on {day} an allocation dated {orig.date}")
        src_model = Receipt if orig.receipt_id else Invoice
        src = (receipts_locked(company, pk=orig.receipt_id) if orig.receipt_id
               else credit_notes_locked(company, pk=orig.credit_note_id)).get()
        invoice_id = Instalment.objects.values_list("invoice_id", flat=True).get(
            pk=orig.instalment_id)
        # Every instalment of the invoice, locked together in ascending id, as every
        # allocation locks them: what the handlers undo with the payment (an adjustment made
        # with it, a recovery it paid) settles instalments of this invoice only.
        list(Instalment.objects.select_for_update(no_key=True).filter(invoice_id=invoice_id)
             .order_by("pk").values_list("pk"))
        if Allocation.objects.filter(reversal_of=orig).exists():
            raise AlreadyReversed(f"allocation {allocation_id} is already reversed")
        entry = None
        if orig.journal_entry_id:
            entry = journal_write(company=company, day=day, kind="allocation_reversal",
                                  actor=actor, source_type="allocation", source_id=orig.pk,
                                  lines=negate(entry_lines(orig.journal_entry_id)),
                                  memo=f"reverse allocation {orig.pk}")
        # A cross-currency allocation gives back to the receipt what it took, in its currency.
        taken = orig.amount if orig.source_amount is None else orig.source_amount
        rev = Allocation.objects.create(
            company=company, customer_id=orig.customer_id, receipt_id=orig.receipt_id,
            credit_note_id=orig.credit_note_id, instalment_id=orig.instalment_id, date=day,
            currency=orig.currency, amount=-orig.amount, base_unapplied=-orig.base_unapplied,
            source_currency=orig.source_currency,
            source_amount=None if orig.source_amount is None else -orig.source_amount,
            fx_rate=orig.fx_rate,
            base_receivable=-orig.base_receivable, reversal_of=orig, journal_entry=entry,
            created_by=actor_row(actor))
        Instalment.objects.filter(pk=orig.instalment_id).update(settled=F("settled") - orig.amount)
        src_model.objects.filter(pk=src.pk).update(allocated=F("allocated") - taken)
        events.publish(events.AllocationsReversed(company_id=company.pk, actor=actor, reversals=(
            events.ReversedAllocation(
                id=orig.pk, reversal_id=rev.pk, instalment_id=orig.instalment_id,
                invoice_id=invoice_id, amount=orig.amount, day=day, receipt_id=orig.receipt_id,
                credit_note_id=orig.credit_note_id),)))
        audit(company, actor, "allocation.reverse", "allocation", orig.pk,
              amount=str(Money.from_minor(orig.amount, orig.currency).amount), reason=reason)
    return rev


def credit_note_apply_to_corrected(*, actor: Actor, company: Company,
                                   credit_note: Invoice) -> list[Allocation]:
    """A credit note that corrects an invoice is applied to it at once, up to what is open."""
    corrected = credit_note.corrects
    assert corrected is not None
    amount = min(open_on(corrected), credit_note.total)
    if amount <= 0:
        return []
    return allocate(actor=actor, company=company, day=credit_note.issue_date,
                    credit_note=credit_note.number,
                    targets=[Target(corrected.number or "",
                                    Money.from_minor(amount, credit_note.currency).amount)])
