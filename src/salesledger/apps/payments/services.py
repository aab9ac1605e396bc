"""The commands that record a receipt, allocate a receipt or a credit note, and undo an
allocation: a receipt and an allocation are each a batch of one for their one writer
(``receipts.py``, ``allocations.py``).

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

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import F

from salesledger.apps.core import events
from salesledger.apps.core.actors import Actor, actor_row
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import check_open_period, require_role
from salesledger.apps.invoicing.models import Instalment, Invoice
from salesledger.apps.ledger.selectors import entry_lines
from salesledger.apps.ledger.services import journal_write
from salesledger.domain.allocation import (
    AllocationRequest,
    SourceKind,
    SourceRef,
    ToInvoice,
    allocation_lines,
)
from salesledger.domain.errors import AlreadyReversed, NotFound, ValidationFailed
from salesledger.domain.journal import Line, negate
from salesledger.domain.policies import Policy
from salesledger.domain.receipts import ReceiptRequest
from salesledger.money import Money

from .allocations import allocations_make
from .models import Allocation, Method, Receipt
from .reads import credit_notes_locked, receipts_locked
from .receipts import receipts_record
from .settlement_keep import settlement_keep


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
    bank_account: str = ""  # its code; empty for the main bank account


def receipt_record(*, actor: Actor, company: Company, data: ReceiptInput) -> Receipt:
    """Record money received from a customer. It sits as unapplied cash until allocated. A
    batch of one for the one receipts writer (``receipts.receipts_record``)."""
    _, [pk] = receipts_record(actor=actor, company=company, requests=[ReceiptRequest(
        data.date, data.amount, customer_code=data.customer_code, currency=data.currency,
        rate=data.rate, method=data.method, payer_reference=data.payer_reference,
        bank_reference=data.bank_reference, memo=data.memo, bank_account=data.bank_account)])
    return Receipt.objects.select_related("customer", "bank_account").get(pk=pk)


# What the commands call an invoice to pay (its number, and an amount in its currency).
Target = ToInvoice


def allocate(
    *, actor: Actor, company: Company, day: date, receipt: str | None = None,
    credit_note: str | None = None, targets: list[Target] | None = None, auto: bool = False,
    rate: Decimal | None = None,
) -> list[Allocation]:
    """Allocate a receipt or a credit note: to the named invoices (``targets``), or with
    ``auto`` to the customer's open instalments oldest due first. Returns the new rows.

    A receipt may pay an invoice in another currency (docs/design/multi-currency.md): at
    ``rate`` (units of the invoice's currency per unit of the receipt's) or else at the
    cross rate of the rate table on ``day``; target amounts are in the invoice's currency.
    A batch of one for the one allocation writer (``allocations.allocations_make``)."""
    if bool(receipt) == bool(credit_note):
        raise ValidationFailed("name either a receipt or a credit note to allocate")
    if bool(targets) == auto:
        raise ValidationFailed("give invoices to allocate to, or ask for automatic allocation")
    source = (SourceRef(SourceKind.RECEIPT, number=receipt) if receipt
              else SourceRef(SourceKind.CREDIT_NOTE, number=credit_note))
    made = allocations_make(actor=actor, company=company, requests=[AllocationRequest(
        source, day, lines=tuple(targets or ()), policy=Policy.OLDEST_FIRST if auto else None,
        rate=rate)])
    return made.rows(company, actor)


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
        invoice_id, owner_id = Instalment.objects.values_list("invoice_id", "customer_id").get(
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
                                  lines=negate(_own_lines(orig, owner_id)),
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
        settlement_keep([invoice_id] + ([src.pk] if src_model is Invoice else []))
        audit(company, actor, "allocation.reverse", "allocation", orig.pk,
              amount=str(Money.from_minor(orig.amount, orig.currency).amount), reason=reason)
        # What stood only with the payment is undone by the modules above (handlers.py).
        events.publish(events.AllocationsReversed(company_id=company.pk, actor=actor, reversals=(
            events.ReversedAllocation(
                id=orig.pk, reversal_id=rev.pk, instalment_id=orig.instalment_id,
                invoice_id=invoice_id, amount=orig.amount, day=day, receipt_id=orig.receipt_id,
                credit_note_id=orig.credit_note_id),)))
    return rev


def _own_lines(orig: Allocation, owner_id: int) -> list[Line]:
    """The journal lines ``orig`` booked: its entry's, when the entry is its own (every
    allocation written before the entries were shared, and a batch of one); else, when the
    other allocations of its request share the entry, the lines its row gives
    (``allocation_lines``, which planned them: the entry holds them, its source's side
    summed with the others'). Either way exactly what it moved."""
    # by its source (indexed): the entry's own index is not kept
    siblings = (Allocation.objects.filter(receipt_id=orig.receipt_id) if orig.receipt_id
                else Allocation.objects.filter(credit_note_id=orig.credit_note_id))
    if not siblings.filter(journal_entry_id=orig.journal_entry_id).exclude(
            pk=orig.pk).exists():
        return entry_lines(orig.journal_entry_id)
    lines = allocation_lines(
        orig.receipt_id is not None, orig.customer_id, orig.currency, orig.amount,
        orig.base_unapplied, orig.base_receivable, orig.source_currency or None,
        orig.source_amount, owner_id)
    assert lines is not None, "an allocation sharing an entry moved something"
    return lines
