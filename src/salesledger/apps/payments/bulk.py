"""Recording many receipts and applying many allocations at once (imports, demo data).

The rules are those of ``receipt_record`` and ``allocate`` in ``services.py``, and so are the
helpers that carry them (``receipt_check``, ``allocation_step``): a receipt is positive,
dated in an open period, takes a gapless RCT number and books bank against unapplied cash;
an allocation never exceeds what is open on the instalment nor what is unallocated on the
receipt or credit note, both in the same currency and for the same customer, and relieves
the receivable at the invoice's booking rate (the last part taking the base residue). Rows
are written with multi-row INSERTs (``core/bulkinsert.py``); the cached ``settled`` and
``allocated`` columns are updated in the same transaction; one audit event per receipt, and
per source document allocated.

Locking order, as in ``services.py``: receipts, then credit notes, then instalments, each in
ascending id.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from salesledger.apps.core.actors import Actor, actor_id
from salesledger.apps.core.audit import audit_many
from salesledger.apps.core.bulkinsert import insert_rows
from salesledger.apps.core.models import Company, ImportBatch, Role
from salesledger.apps.core.services import (
    number_format,
    number_take,
    require_role,
)
from salesledger.apps.customers.models import Customer
from salesledger.apps.invoicing.bulk import open_period_check
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice
from salesledger.apps.invoicing.services import resolve_rate
from salesledger.apps.ledger.bulk import EntrySpec, journal_write_many
from salesledger.apps.ledger.services import accounts_by_role
from salesledger.domain.allocation import (
    SourceKind,
)
from salesledger.domain.errors import (
    LedgerError,
    UnknownCustomer,
    ValidationFailed,
)
from salesledger.domain.journal import receipt_entry
from salesledger.domain.lifecycle import DocStatus
from salesledger.domain.numbering import fiscal_year
from salesledger.domain.settlement import (
    OpenInstalment,
    settle_oldest_first,
)
from salesledger.money import is_currency

from .allocations import allocations_make, requests_by_source
from .models import Method, Receipt
from .services import receipt_check, receipt_event

_CHUNK = 5000  # ids per IN (...) list
_RECEIPT_COLUMNS = (
    "company_id", "customer_id", "number", "date", "currency", "amount", "rate", "base_amount",
    "method", "payer_reference", "bank_reference", "memo", "journal_entry_id",
    "import_batch_id", "created_by_id", "created_at")

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


@dataclass
class PreparedReceipts:
    company: Company
    receipts: list[tuple[int, BulkReceipt, Customer, str, Decimal, int]] = field(
        default_factory=list)  # (index, input, customer, currency, rate, base amount)
    problems: list[tuple[int, LedgerError]] = field(default_factory=list)


# ---------------------------------------------------------------------------- receipts
def receipts_record_bulk(*, actor: Actor, company: Company, receipts: list[BulkReceipt],
                         import_batch: ImportBatch | None = None) -> list[int]:
    """Record every receipt in one transaction; return their ids in input order. The first
    broken rule raises the error ``receipt_record`` would raise, and nothing is written."""
    require_role(company, actor, Role.CLERK)
    with transaction.atomic():
        prepared = receipts_prepare(company=company, receipts=receipts)
        if prepared.problems:
            raise prepared.problems[0][1]
        return receipts_write(actor=actor, prepared=prepared, import_batch=import_batch)


def receipts_prepare(*, company: Company, receipts: list[BulkReceipt]) -> PreparedReceipts:
    """Check every receipt; collect one problem per broken receipt (batch imports report
    them all). Reads the database once."""
    out = PreparedReceipts(company)
    ids = sorted({r.customer_id for r in receipts})
    customers: dict[int, Customer] = {}
    for i in range(0, len(ids), _CHUNK):
        customers.update((c.pk, c) for c in Customer.objects.filter(
            company=company, pk__in=ids[i:i + _CHUNK]))
    period = open_period_check(company, {r.date for r in receipts})
    for index, r in enumerate(receipts):
        try:
            customer = customers.get(r.customer_id)
            if customer is None:
                raise UnknownCustomer(f"no customer with id {r.customer_id}",
                                      customer=r.customer_id)
            currency = (r.currency or "").upper()
            if not is_currency(currency):
                raise ValidationFailed(f"unknown currency {r.currency!r}", field="currency")
            if isinstance(r.amount, bool) or not isinstance(r.amount, int):
                raise ValidationFailed("a bulk receipt amount is an int of minor units",
                                       field="amount")
            rate = resolve_rate(company, currency, r.rate)
            base = receipt_check(company, currency=currency, rate=rate, amount=r.amount,
                                 method=r.method, day=r.date, period=period)
        except LedgerError as exc:
            out.problems.append((index, exc))
            continue
        out.receipts.append((index, r, customer, currency, rate, base))
    return out


def receipts_write(*, actor: Actor, prepared: PreparedReceipts,
                   import_batch: ImportBatch | None = None, batch_size: int = 2000) -> list[int]:
    """Write receipts that :func:`receipts_prepare` accepted (inside its transaction)."""
    if prepared.problems:
        raise prepared.problems[0][1]
    company = prepared.company
    user_id = actor_id(actor)
    batch_id = import_batch.pk if import_batch is not None else None
    account_ids = {role: a.pk for role, a in accounts_by_role(company).items()}
    now = timezone.now()
    todo = sorted(prepared.receipts, key=lambda x: (x[1].date, x[0]))
    by_year: dict[int, list[Any]] = defaultdict(list)
    for item in todo:
        by_year[fiscal_year(item[1].date, company.fiscal_year_start)].append(item)
    numbers: dict[int, str] = {}
    for group in by_year.values():
        fy, first, prefix = number_take(company, "RCT", group[0][1].date, count=len(group))
        for seq, item in enumerate(group, start=first):
            numbers[item[0]] = number_format(prefix, fy, seq)
    ids: dict[int, int] = {}
    for start in range(0, len(todo), batch_size):
        chunk = todo[start:start + batch_size]
        entries = [EntrySpec(day=r.date, kind="receipt", source_type="receipt",
                             memo=f"receipt from {customer.name}",
                             lines=receipt_entry(customer_id=customer.pk, currency=currency,
                                                 amount=r.amount, base_amount=base))
                   for _, r, customer, currency, _, base in chunk]
        entry_ids = journal_write_many(company=company, actor=actor, entries=entries,
                                       account_ids=account_ids)
        pks = insert_rows(Receipt, _RECEIPT_COLUMNS, [
            (company.pk, customer.pk, numbers[index], r.date, currency, r.amount, rate, base,
             r.method, r.payer_reference, r.bank_reference, r.memo, entry_id, batch_id,
             user_id, now)
            for (index, r, customer, currency, rate, base), entry_id
            in zip(chunk, entry_ids, strict=True)], returning=True)
        audit_many(company, actor, [
            receipt_event(receipt_id=pk, number=numbers[index], customer_code=customer.code,
                          amount=r.amount, currency=currency, method=r.method)
            for (index, r, customer, currency, _, _), pk in zip(chunk, pks, strict=True)])
        ids.update((item[0], pk) for item, pk in zip(chunk, pks, strict=True))
    return [ids[i] for i in sorted(ids)]


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
