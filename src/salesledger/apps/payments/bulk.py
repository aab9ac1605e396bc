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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from salesledger.apps.core import events
from salesledger.apps.core.actors import Actor, actor_id
from salesledger.apps.core.audit import EventSpec, audit_many
from salesledger.apps.core.bulkinsert import insert_rows, update_column
from salesledger.apps.core.models import Company, ImportBatch, Role
from salesledger.apps.core.services import (
    check_open_period,
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
from salesledger.domain.allocation import OpenSide, allocation_step
from salesledger.domain.errors import (
    AllocationCustomerMismatch,
    CurrencyMismatch,
    DocumentNotPosted,
    LedgerError,
    NegativeAmount,
    NotFound,
    UnknownCustomer,
    ValidationFailed,
)
from salesledger.domain.journal import receipt_entry
from salesledger.domain.lifecycle import DocStatus
from salesledger.domain.numbering import fiscal_year
from salesledger.domain.settlement import (
    OpenInstalment,
    check_allocation_date,
    settle_oldest_first,
)
from salesledger.money import Money, is_currency

from .models import Allocation, Method, Receipt
from .reads import credit_notes_locked, receipts_locked, relieved_bases
from .services import receipt_check, receipt_event

_CHUNK = 5000  # ids per IN (...) list
_RECEIPT_COLUMNS = (
    "company_id", "customer_id", "number", "date", "currency", "amount", "rate", "base_amount",
    "method", "payer_reference", "bank_reference", "memo", "journal_entry_id",
    "import_batch_id", "created_by_id", "created_at")
_ALLOCATION_COLUMNS = (
    "company_id", "customer_id", "receipt_id", "credit_note_id", "instalment_id", "date",
    "currency", "amount", "base_unapplied", "base_receivable", "journal_entry_id",
    "created_by_id", "created_at")


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
    broken rule raises, and nothing is written."""
    require_role(company, actor, Role.CLERK)
    if not allocations:
        return 0
    for a in allocations:
        if (a.receipt_id is None) == (a.credit_note_id is None):
            raise ValidationFailed("an allocation names either a receipt or a credit note")
        if a.amount <= 0:
            raise NegativeAmount(f"an allocation to instalment {a.instalment_id} must be a "
                                 "positive amount",
                                 field="amount")
    with transaction.atomic():
        # Inside the transaction: on PostgreSQL the lock date is read FOR SHARE, so that a
        # period close waits for this write. The earliest date decides for all.
        check_open_period(company, min(a.date for a in allocations))
        return _Allocator(company, actor, allocations).run()


class _Allocator:
    def __init__(self, company: Company, actor: Actor, allocations: list[BulkAllocation]) -> None:
        self.company, self.actor, self.allocations = company, actor, allocations
        self.user_id = actor_id(actor)

    def run(self) -> int:
        receipts, credit_notes, instalments = self._lock()
        done = relieved_bases(instalment_ids=sorted(instalments), receipt_ids=sorted(receipts),
                              credit_note_ids=sorted(credit_notes))
        sources: dict[tuple[str, int], tuple[dict[str, Any], OpenSide]] = {}
        for pk, r in receipts.items():
            sources[("receipt", pk)] = (r, OpenSide(r["amount"] - r["allocated"],
                                                    r["base_amount"], r["rate"],
                                                    done.get(("receipt", pk), 0)))
        for pk, c in credit_notes.items():
            sources[("credit_note", pk)] = (c, OpenSide(c["total"] - c["allocated"],
                                                        c["base_total"], c["rate"],
                                                        done.get(("credit_note", pk), 0)))
        sides = {pk: OpenSide(i["amount"] - i["settled"], i["base_amount"], i["invoice__rate"],
                              done.get(("instalment", pk), 0))
                 for pk, i in instalments.items()}
        rows, entries = [], []
        per_source: dict[tuple[str, int], list[BulkAllocation]] = defaultdict(list)
        for a in self.allocations:
            key = ("receipt", a.receipt_id) if a.receipt_id else ("credit_note",
                                                                   a.credit_note_id or 0)
            src, source = sources[key]
            inst = instalments[a.instalment_id]
            self._check(a, key[0], src, inst)
            base_src, base_recv, entry_lines = allocation_step(
                base_currency=self.company.base_currency, is_receipt=key[0] == "receipt",
                customer_id=src["customer_id"], currency=src["currency"], amount=a.amount,
                source=source, instalment=sides[a.instalment_id])
            entry = None
            if entry_lines is not None:
                entry = len(entries)
                entries.append(EntrySpec(
                    day=a.date, kind="allocation", source_type="allocation", lines=entry_lines,
                    memo=f"{src['number']} -> {inst['invoice__number']}"))
            rows.append((src["customer_id"], a, base_src, base_recv, entry))
            per_source[key].append(a)
        entry_ids = journal_write_many(company=self.company, actor=self.actor, entries=entries)
        now = timezone.now()
        ids = insert_rows(Allocation, _ALLOCATION_COLUMNS, [
            (self.company.pk, customer_id, a.receipt_id, a.credit_note_id, a.instalment_id,
             a.date, instalments[a.instalment_id]["currency"], a.amount, base_src, base_recv,
             None if entry is None else entry_ids[entry], self.user_id, now)
            for customer_id, a, base_src, base_recv, entry in rows], returning=True)
        self._update_caches(sources, sides, instalments)
        audit_many(self.company, self.actor, [
            EventSpec("allocation.create", "receipt" if kind == "receipt" else "invoice",
                      str(pk), {"source": sources[(kind, pk)][0]["number"], "allocations": [
                          {"instalment": a.instalment_id, "amount": str(Money.from_minor(
                              a.amount, sources[(kind, pk)][0]["currency"]).amount)}
                          for a in made]})
            for (kind, pk), made in per_source.items()])
        # What follows from them (early-payment discounts earned) is for the modules above.
        events.publish(events.AllocationsMade(
            company_id=self.company.pk, actor=self.actor, allocations=tuple(
                events.MadeAllocation(id=pk, instalment_id=a.instalment_id, amount=a.amount,
                                      day=a.date, receipt_id=a.receipt_id,
                                      credit_note_id=a.credit_note_id)
                for pk, a in zip(ids, self.allocations, strict=True))))
        return len(rows)

    def _lock(self) -> tuple[dict[int, Any], dict[int, Any], dict[int, Any]]:
        company = self.company
        receipts = _locked(lambda ids: receipts_locked(company, pk__in=ids),
                           {a.receipt_id for a in self.allocations if a.receipt_id},
                           ("id", "number", "customer_id", "currency", "amount", "allocated",
                            "base_amount", "rate", "date"))
        credit_notes = _locked(lambda ids: credit_notes_locked(company, pk__in=ids),
                               {a.credit_note_id for a in self.allocations if a.credit_note_id},
                               ("id", "number", "kind", "status", "customer_id", "currency",
                                "total", "allocated", "base_total", "rate", "issue_date"))
        instalments = _locked(lambda ids: Instalment.objects.select_for_update(
                                  of=("self",), no_key=True).filter(company=company, pk__in=ids),
                              {a.instalment_id for a in self.allocations},
                              ("id", "customer_id", "currency", "amount", "settled",
                               "base_amount", "invoice__rate", "invoice__number",
                               "invoice__issue_date"))
        for a in self.allocations:
            if a.receipt_id and a.receipt_id not in receipts:
                raise NotFound(f"no receipt with id {a.receipt_id}", receipt=a.receipt_id)
            if a.credit_note_id:
                cn = credit_notes.get(a.credit_note_id)
                if cn is None or cn["kind"] != DocKind.CREDIT_NOTE:
                    raise NotFound(f"no credit note with id {a.credit_note_id}",
                                   credit_note=a.credit_note_id)
                if cn["status"] != "posted":
                    raise DocumentNotPosted(f"credit note {a.credit_note_id} is not posted")
            if a.instalment_id not in instalments:
                raise NotFound(f"no instalment with id {a.instalment_id}",
                               instalment=a.instalment_id)
        return receipts, credit_notes, instalments

    def _check(self, a: BulkAllocation, kind: str, src: dict[str, Any],
               inst: dict[str, Any]) -> None:
        # In the order ``allocate`` checks them, so that both paths refuse alike.
        source_date = src["date"] if kind == "receipt" else src["issue_date"]
        check_allocation_date(a.date, source=src["number"], source_date=source_date)
        if inst["customer_id"] != src["customer_id"]:
            raise AllocationCustomerMismatch(
                f"{inst['invoice__number']} belongs to another customer than {src['number']}",
                invoice=inst["invoice__number"])
        if inst["currency"] != src["currency"]:
            raise CurrencyMismatch(
                f"{inst['invoice__number']} is in {inst['currency']} but {src['number']} is in "
                f"{src['currency']}", invoice=inst["invoice__number"])
        check_allocation_date(a.date, source=src["number"], source_date=source_date,
                              invoice=inst["invoice__number"],
                              issue_date=inst["invoice__issue_date"])

    def _update_caches(self, sources: dict[tuple[str, int], tuple[dict[str, Any], OpenSide]],
                       sides: dict[int, OpenSide], instalments: dict[int, Any]) -> None:
        # Locked rows, new absolute values: the CHECK constraints still refuse any excess.
        update_column(Instalment, "settled", [
            (pk, instalments[pk]["amount"] - side.open) for pk, side in sides.items()])
        update_column(Receipt, "allocated", [
            (pk, src["amount"] - side.open)
            for (kind, pk), (src, side) in sources.items() if kind == "receipt"])
        update_column(Invoice, "allocated", [
            (pk, src["total"] - side.open)
            for (kind, pk), (src, side) in sources.items() if kind == "credit_note"])


def _locked(locked: Callable[[list[int]], Any], ids: set[int], fields: tuple[str, ...]
            ) -> dict[int, dict[str, Any]]:
    """The rows with these ids as dicts, locked (``locked(ids)``) in ascending id order."""
    out: dict[int, dict[str, Any]] = {}
    ordered = sorted(ids)
    for i in range(0, len(ordered), _CHUNK):
        rows = locked(ordered[i:i + _CHUNK]).order_by("pk").values(*fields)
        out.update((r["id"], r) for r in rows)
    return out


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
