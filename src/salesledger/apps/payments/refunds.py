"""Money that goes back: refunds of unapplied cash, and receipts reversed because the bank
returned them (docs/design/adjustments.md).

A :class:`Refund` pays back (part of) what a receipt still has unapplied: numbered gapless in
series RFD, journaled Dr unapplied cash / Cr bank, and counted in the receipt's ``allocated``
(what has been used of the receipt), so that the unapplied amount every report reads
(``amount - allocated``) is right without knowing about refunds. ``refund_reverse`` undoes
one (the payment out failed) with a reversing row.

``receipt_reverse`` handles a returned direct debit or a bounced cheque: it reverses every
adjustment that came with the payment (an early-payment discount it earned, a residual it
wrote off), every live allocation of the receipt (reopening what it paid), then the receipt's
own entry (Dr unapplied cash / Cr bank), records the :class:`ReceiptReversal` that makes the
receipt "reversed", optionally charges the customer a fee (a posted invoice whose revenue is
moved to fee income), and notes it on the customer's timeline. One transaction.

Locking order: the receipt first, then instalments (through the allocation services).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from salesledger.apps.core.actors import Actor, actor_row
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import (
    check_open_period,
    number_format,
    number_take,
    require_role,
)
from salesledger.apps.customers.models import Channel, Communication, PaymentTerms
from salesledger.apps.invoicing.models import Instalment, Invoice, Purpose
from salesledger.apps.invoicing.services import InvoiceInput, invoice_create, invoice_post
from salesledger.apps.ledger.models import Account, JournalLine
from salesledger.apps.ledger.selectors import entry_lines
from salesledger.apps.ledger.services import accounts_by_role, journal_write
from salesledger.domain.adjustments import AdjustmentKind, fee_reclass_entry, refund_entry
from salesledger.domain.amounts import amount_minor
from salesledger.domain.errors import (
    AlreadyReversed,
    NegativeAmount,
    NotFound,
    ReceiptReversed,
    RefundExceedsUnapplied,
    ValidationFailed,
)
from salesledger.domain.invoicing import LineInput, VatCategory
from salesledger.domain.journal import AccountRole, negate, receipt_entry
from salesledger.money import Money, format_minor

from .adjustments.writer import reverse_adjustment
from .models import Adjustment, Allocation, Method, Receipt, ReceiptReversal, Refund
from .reads import receipt_locked, relieved_bases, source_side
from .services import allocation_reverse

# Why a returned-payment fee bears no VAT: it compensates a loss and pays for no supply
# (outside the scope of VAT: EU VAT directive art. 2; CJEU C-277/05 Société thermale).
FEE_EXEMPTION = "VATEX-EU-O Not subject to VAT: compensation for a returned payment"



def _accounts_of(company: Company, rc: Receipt) -> dict[str, Account]:
    """The accounts an entry about ``rc`` posts to: its money moves through the bank account
    it arrived in (a refund pays out of it, a reversal takes it back out of it), not the
    company's main one."""
    accounts = accounts_by_role(company)
    if rc.bank_account_id:
        accounts[AccountRole.BANK.value] = Account.objects.get(
            bank_account__pk=rc.bank_account_id)
    return accounts

def _text(minor: int, currency: str) -> str:
    return Money.from_minor(minor, currency).format_plain()


def _source_base(rc: Receipt, amount: int, base_currency: str) -> int:
    """The base amount that taking ``amount`` off the receipt relieves: at its booking rate,
    the last part taking whatever base is left."""
    done = relieved_bases(receipt_ids=[rc.pk]).get(("receipt", rc.pk), 0)
    return source_side(rc, done).relieve(amount, rc.currency, base_currency)


# ---------------------------------------------------------------- refunds
def receipt_refund(*, actor: Actor, company: Company, number: str, day: date,
                   amount: Decimal | None = None, method: str = Method.BANK_TRANSFER,
                   reference: str = "", memo: str = "") -> Refund:
    """Pay back ``amount`` (default: all) of what receipt ``number`` has unapplied."""
    require_role(company, actor, Role.MANAGER)
    if method not in Method.values:
        raise ValidationFailed(f"unknown payment method {method!r}; use one of "
                               f"{', '.join(Method.values)}", field="method")
    check_open_period(company, day)
    with transaction.atomic():
        rc = receipt_locked(company, number)
        if ReceiptReversal.objects.filter(receipt=rc).exists():
            raise ReceiptReversed(f"{rc.number} was reversed: there is nothing to refund",
                                  receipt=rc.number)
        if day < rc.date:
            raise ValidationFailed(f"cannot refund on {day} a payment received on {rc.date}")
        unapplied = rc.amount - rc.allocated
        if amount is None:
            minor = unapplied
        else:
            minor = amount_minor(amount, rc.currency)
            if minor <= 0:
                raise NegativeAmount(f"a refund must be positive, not {amount}", field="amount")
        if minor <= 0 or minor > unapplied:
            raise RefundExceedsUnapplied(
                f"refunding {format_minor(minor, rc.currency)} exceeds the "
                f"{format_minor(unapplied, rc.currency)} still unapplied on {rc.number}",
                receipt=rc.number, amount=_text(minor, rc.currency),
                unapplied=_text(unapplied, rc.currency), currency=rc.currency)
        base = _source_base(rc, minor, company.base_currency)
        fy, seq, prefix = number_take(company, "RFD", day)
        refund_number = number_format(prefix, fy, seq)
        entry = journal_write(
            company=company, day=day, kind="refund", actor=actor, source_type="receipt",
            source_id=rc.pk, memo=f"{refund_number} refund of {rc.number} to {rc.customer.name}",
            accounts=_accounts_of(company, rc),
            lines=refund_entry(customer_id=rc.customer_id, currency=rc.currency, amount=minor,
                               base_amount=base))
        refund = Refund.objects.create(
            company=company, customer_id=rc.customer_id, receipt=rc, fiscal_year=fy, seq=seq,
            number=refund_number, date=day, currency=rc.currency, amount=minor,
            base_amount=base, method=method, reference=reference[:140], memo=memo[:255],
            journal_entry=entry, created_by=actor_row(actor))
        Receipt.objects.filter(pk=rc.pk).update(allocated=F("allocated") + minor)
        audit(company, actor, "refund.create", "refund", refund.pk, after={
            "number": refund_number, "receipt": rc.number, "customer": rc.customer.code,
            "amount": _text(minor, rc.currency), "currency": rc.currency, "method": method,
            "reference": reference, "date": day.isoformat()})
    return refund


def refund_reverse(*, actor: Actor, company: Company, number: str, day: date,
                   reason: str = "") -> Refund:
    """Undo a refund (the payment out was returned): the money is unapplied cash again."""
    require_role(company, actor, Role.MANAGER)
    check_open_period(company, day)
    with transaction.atomic():
        orig = Refund.objects.filter(company=company, number=number).first()
        if orig is None:
            raise NotFound(f"no refund {number!r}", refund=number)
        rc = receipt_locked(company, orig.receipt.number)
        orig = Refund.objects.select_for_update(no_key=True).get(pk=orig.pk)
        if Refund.objects.filter(reversal_of=orig).exists():
            raise AlreadyReversed(f"refund {number} is already reversed", refund=number)
        if day < orig.date:
            raise ValidationFailed(f"cannot reverse on {day} a refund dated {orig.date}")
        entry = journal_write(
            company=company, day=day, kind="refund_reversal", actor=actor,
            source_type="refund", source_id=orig.pk, memo=f"reverse refund {number}",
            accounts=_accounts_of(company, rc),
            lines=negate(entry_lines(orig.journal_entry_id)))
        rev = Refund.objects.create(
            company=company, customer_id=orig.customer_id, receipt=rc, date=day,
            currency=orig.currency, amount=-orig.amount, base_amount=-orig.base_amount,
            method=orig.method, reference=orig.reference, memo=reason[:255],
            journal_entry=entry, reversal_of=orig, created_by=actor_row(actor))
        Receipt.objects.filter(pk=rc.pk).update(allocated=F("allocated") - orig.amount)
        audit(company, actor, "refund.reverse", "refund", orig.pk, number=number,
              receipt=rc.number, amount=_text(orig.amount, orig.currency),
              currency=orig.currency, reason=reason)
    return rev


# ---------------------------------------------------------------- bounced payments
def receipt_reverse(*, actor: Actor, company: Company, number: str, day: date, reason: str,
                    fee: Decimal | None = None) -> ReceiptReversal:
    """Reverse a receipt the bank returned (see the module docstring), optionally charging
    the customer ``fee`` in the receipt's currency."""
    require_role(company, actor, Role.CLERK)
    if not reason.strip():
        raise ValidationFailed("say why the payment was reversed (--reason)", field="reason")
    check_open_period(company, day)
    with transaction.atomic():
        rc = receipt_locked(company, number)
        if ReceiptReversal.objects.filter(receipt=rc).exists():
            raise AlreadyReversed(f"receipt {number} is already reversed", receipt=number)
        if day < rc.date:
            raise ValidationFailed(f"cannot reverse on {day} a payment received on {rc.date}")
        live_refunds = list(Refund.objects.filter(receipt=rc, amount__gt=0,
                                                  reversed_by__isnull=True)
                            .values_list("number", flat=True))
        if live_refunds:
            raise ValidationFailed(
                f"{', '.join(live_refunds)} paid money back out of {number}: reverse "
                "the refund first (`refund reverse`)", receipt=number)
        fee_minor = _fee_minor(rc, fee)
        why = f"receipt {number} reversed: {reason}"
        # Every instalment this undoes something on (its allocations, the adjustments made
        # with it), locked at once in ascending id, as every allocation locks them: locked
        # one adjustment or allocation at a time, they would not be in order.
        touched = set(Allocation.objects.filter(
            Q(receipt=rc, amount__gt=0, reversed_by__isnull=True)
            | Q(adjustment__receipt=rc, adjustment__amount__gt=0,
                adjustment__reversed_by__isnull=True)).values_list("instalment_id", flat=True))
        # and every instalment of an invoice this payment recovered from a bad debt, which
        # undoing the payment writes off again (adjustments.bad_debts.recoveries_lost).
        touched.update(Instalment.objects.filter(
            invoice__adjustments__receipt=rc, invoice__adjustments__kind=AdjustmentKind.BAD_DEBT)
            .values_list("pk", flat=True))
        list(Instalment.objects.select_for_update(no_key=True).filter(pk__in=touched)
             .order_by("pk").values_list("pk"))
        # A bad debt naming the receipt is not made with the payment but with its recovery
        # of a written-off invoice: undoing the payment writes it off again
        # (allocation_reverse -> adjustments.bad_debts.recoveries_lost) rather than reversing it.
        undone = [reverse_adjustment(company, adj, day, actor, reason=why)
                  for adj in Adjustment.objects.filter(receipt=rc, amount__gt=0,
                                                       reversed_by__isnull=True)
                  .exclude(kind=AdjustmentKind.BAD_DEBT).order_by("id")]
        live = list(Allocation.objects.filter(receipt=rc, amount__gt=0,
                                              reversed_by__isnull=True)
                    .order_by("id").values_list("id", "instalment_id"))
        # Discounts that other payments earned on the instalments this one paid are lost
        # with it (allocation_reverse -> adjustments.discounts.discounts_lost).
        discounts = set(Adjustment.objects.filter(
            kind="discount", amount__gt=0, reversed_by__isnull=True,
            allocations__instalment_id__in=[i for _, i in live]).values_list("id", flat=True))
        reopened = [allocation_reverse(actor=actor, company=company, allocation_id=a_id,
                                       day=day, reason=why) for a_id, _ in live]
        lost = sorted(Adjustment.objects.filter(pk__in=discounts, reversed_by__isnull=False)
                      .values_list("id", flat=True))
        rc.refresh_from_db(fields=["allocated"])
        remaining = rc.amount - rc.allocated
        base = _source_base(rc, remaining, company.base_currency)
        entry = journal_write(
            company=company, day=day, kind="receipt_reversal", actor=actor,
            source_type="receipt", source_id=rc.pk, memo=f"{number} reversed: {reason}",
            accounts=_accounts_of(company, rc),
            lines=negate(receipt_entry(customer_id=rc.customer_id, currency=rc.currency,
                                       amount=remaining, base_amount=base)))
        fee_invoice = _fee_invoice(company, rc, fee_minor, day, actor) if fee_minor else None
        rev = ReceiptReversal.objects.create(
            company=company, customer_id=rc.customer_id, receipt=rc, date=day,
            reason=reason[:255], amount=remaining, fee_invoice=fee_invoice, journal_entry=entry,
            created_by=actor_row(actor))
        Receipt.objects.filter(pk=rc.pk).update(allocated=F("allocated") + remaining)
        note = [f"Payment {number} of {_text(rc.amount, rc.currency)} {rc.currency} received "
                f"on {rc.date} was reversed on {day}: {reason}."]
        if reopened:
            note.append(f"{len(reopened)} allocation(s) reversed; what it paid is open again.")
        if fee_invoice is not None:
            note.append(f"Fee of {_text(fee_minor, rc.currency)} {rc.currency} charged on "
                        f"{fee_invoice.number}.")
        Communication.objects.create(
            company=company, customer_id=rc.customer_id, at=timezone.now(),
            channel=Channel.NOTE, direction="in", subject=f"Payment {number} reversed",
            body=" ".join(note), status="logged", created_by=actor_row(actor))
        audit(company, actor, "receipt.reverse", "receipt", rc.pk, number=number,
              customer=rc.customer.code, amount=_text(remaining, rc.currency),
              currency=rc.currency, reason=reason, allocations_reversed=[r.reversal_of_id
                                                                         for r in reopened],
              adjustments_reversed=[a.reversal_of_id for a in undone] + lost,
              fee_invoice=fee_invoice.number if fee_invoice else None)
    return rev


def _fee_minor(rc: Receipt, fee: Decimal | None) -> int:
    if fee is None:
        return 0
    minor = amount_minor(fee, rc.currency, field="fee")
    if minor <= 0:
        raise NegativeAmount(f"a fee must be positive, not {fee}", field="fee")
    if rc.customer.po_required:
        raise ValidationFailed(
            f"customer {rc.customer.code} requires a purchase order number on every invoice: "
            "reverse the payment without --fee and charge the fee on an invoice of its own",
            field="fee")
    return minor


def _fee_invoice(company: Company, rc: Receipt, fee: int, day: date, actor: Actor) -> Invoice:
    """A posted invoice of ``fee`` to the payer, due at once, not subject to VAT, whose
    revenue is moved to the fee income account by a second entry (the invoice posting books
    every line to sales revenue; a returned-payment fee is not a sale)."""
    due_now = PaymentTerms.objects.filter(company=company, code="DUE").exists()
    draft = invoice_create(actor=actor, company=company, data=InvoiceInput(
        customer_code=rc.customer.code, issue_date=day, currency=rc.currency,
        rate=None if rc.currency == company.base_currency else Decimal(rc.rate),
        terms_code="DUE" if due_now else "",
        notes=f"Fee for the returned payment {rc.number} of {rc.date}",
        lines=[LineInput(f"Fee for returned payment {rc.number}", Decimal(1),
                         Money.from_minor(fee, rc.currency).amount, Decimal(0), Decimal(0),
                         VatCategory.NOT_SUBJECT.value, FEE_EXEMPTION)],
        purpose=Purpose.FEE))
    inv = invoice_post(actor=actor, company=company, invoice_id=draft.pk)
    revenue = (JournalLine.objects.filter(entry_id=inv.journal_entry_id,
                                          account__role="revenue")
               .aggregate(base=Sum("amount"), cur=Sum("amount_currency")))
    journal_write(company=company, day=day, kind="fee_reclass", actor=actor,
                  source_type="invoice", source_id=inv.pk, memo=f"{inv.number} fee income",
                  lines=fee_reclass_entry(currency=inv.currency, net=-(revenue["cur"] or 0),
                                          base_net=-(revenue["base"] or 0)))
    return inv
