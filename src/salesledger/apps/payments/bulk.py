"""Recording many receipts and applying many allocations at once (imports, demo data, the
credit notes a posting applies): the bulk commands, in minor units and by id, of the one
receipts writer (``receipts.py``) and the one allocation writer (``allocations.py``) that
the single commands use too, so that both follow the same rules in the same order.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import F

from salesledger.apps.core.actors import Actor
from salesledger.apps.core.models import Company, ImportBatch
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice
from salesledger.domain.allocation import SourceKind
from salesledger.domain.errors import ValidationFailed
from salesledger.domain.lifecycle import DocStatus
from salesledger.domain.receipts import ReceiptRequest
from salesledger.domain.settlement import OpenInstalment, settle_oldest_first

from .allocations import allocations_make, requests_by_source
from .models import Method
from .receipts import receipts_record

_CHUNK = 5000  # ids per IN (...) list


@dataclass
class BulkReceipt:
    customer_id: int
    date: date
    amount: int  # minor units, > 0
    currency: str
    rate: Decimal = Decimal(1)
    method: str = Method.BANK_TRANSFER
    payer_reference: str = ""
    bank_reference: str = ""
    memo: str = ""


@dataclass
class BulkAllocation:
    instalment_id: int
    amount: int  # minor units, > 0
    date: date
    receipt_id: int | None = None
    credit_note_id: int | None = None


# ---------------------------------------------------------------------------- receipts
def receipts_record_bulk(*, actor: Actor, company: Company, receipts: list[BulkReceipt],
                         import_batch: ImportBatch | None = None) -> list[int]:
    """Record every receipt in one transaction; return their ids in input order. The first
    broken rule raises the error ``receipt_record`` would raise, and nothing is written. The
    one receipts writer (``receipts.receipts_record``) with amounts in minor units."""
    for r in receipts:
        if isinstance(r.amount, bool) or not isinstance(r.amount, int):
            raise ValidationFailed("a bulk receipt amount is an int of minor units",
                                   field="amount")
    return receipts_record(actor=actor, company=company, import_batch=import_batch, requests=[
        ReceiptRequest(r.date, r.amount, customer_id=r.customer_id, currency=r.currency,
                       rate=r.rate, method=r.method, payer_reference=r.payer_reference,
                       bank_reference=r.bank_reference, memo=r.memo) for r in receipts])[1]


# ---------------------------------------------------------------------------- allocations
def allocations_apply_bulk(*, actor: Actor, company: Company,
                           allocations: list[BulkAllocation]) -> int:
    """Apply every allocation in one transaction, in input order, each checked against what
    the previous ones left open and unallocated; return the number of rows written. The first
    broken rule raises, and nothing is written. The one allocation writer
    (``allocations.allocations_make``) with a request per run of lines of one source and day."""
    for a in allocations:
        if (a.receipt_id is None) == (a.credit_note_id is None):
            raise ValidationFailed("an allocation names either a receipt or a credit note")
    requests = requests_by_source(
        (SourceKind.RECEIPT, a.receipt_id, a.date, a.instalment_id, a.amount)
        if a.receipt_id is not None else
        (SourceKind.CREDIT_NOTE, a.credit_note_id or 0, a.date, a.instalment_id, a.amount)
        for a in allocations)
    return len(allocations_make(actor=actor, company=company, requests=requests).ids)


# ---------------------------------------------------------------------------- credit notes
def credit_notes_apply_to_corrected_bulk(*, actor: Actor, company: Company,
                                         credit_note_ids: list[int]) -> int:
    """Apply each credit note that corrects an invoice to that invoice, up to what is open
    on it, oldest instalment first, dated the credit note's issue date: what ``invoice_post``
    does for one credit note. Returns the number of allocations written."""
    cns = []
    for i in range(0, len(credit_note_ids), _CHUNK):
        cns.extend(Invoice.objects.filter(
            company=company, pk__in=credit_note_ids[i:i + _CHUNK], kind=DocKind.CREDIT_NOTE,
            status=DocStatus.POSTED, corrects__isnull=False)
            .values("id", "corrects_id", "issue_date", "total", "allocated"))
    if not cns:
        return 0
    targets = sorted({c["corrects_id"] for c in cns})
    open_items: dict[int, list[OpenInstalment]] = defaultdict(list)
    for i in range(0, len(targets), _CHUNK):
        for r in (Instalment.objects.filter(invoice_id__in=targets[i:i + _CHUNK],
                                            settled__lt=F("amount"))
                  .values("id", "invoice_id", "due_date", "amount", "settled")):
            open_items[r["invoice_id"]].append(
                OpenInstalment(r["id"], r["due_date"], r["amount"] - r["settled"]))
    plan: list[BulkAllocation] = []
    for cn in sorted(cns, key=lambda c: (c["issue_date"], c["id"])):
        items = open_items[cn["corrects_id"]]
        amount = min(sum(o.open for o in items), cn["total"] - cn["allocated"])
        if amount <= 0:
            continue
        shares = settle_oldest_first(amount, items)
        taken = {s.instalment_id: s.amount for s in shares}
        open_items[cn["corrects_id"]] = [
            OpenInstalment(o.id, o.due_date, o.open - taken.get(o.id, 0)) for o in items]
        plan.extend(BulkAllocation(instalment_id=s.instalment_id, amount=s.amount,
                                   date=cn["issue_date"], credit_note_id=cn["id"])
                    for s in shares)
    return allocations_apply_bulk(actor=actor, company=company, allocations=plan)
