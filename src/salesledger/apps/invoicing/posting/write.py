"""Writing checked documents as posted: the one writer of posting.

Every path posts through here (a draft posted from the command line is a batch of one):
``documents_write`` gives the documents their numbers (a series takes all its numbers with one
``number_take(count=k)``), then ``DocumentWriter`` writes them a batch at a time. What each
document gets is planned by the pure core (``domain.posting.plan_document``: instalments,
payment reference, snapshot and hash, journal lines); the writer puts the plans in the
database with a fixed number of statements per batch: new documents in multi-row INSERTs (COPY
on PostgreSQL, ``core/bulkinsert.py``: ``bulk_create`` spent most of a large import building
model objects) with their lines and charges, stored drafts updated in place, then the
instalments, the journal entries (``ledger.bulk``), one ``UPDATE`` that marks them posted, and
their audit events.

Documents go in as drafts with their number and totals, their lines are added, then the
``UPDATE`` marks them posted: the immutability guards refuse lines added to a posted document
(``core/guards.py``), and inside the transaction nobody sees the drafts.

The writer publishes no event: the service that called it says what the documents are
(``documents_posted`` builds ``DocumentsPosted``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import connection
from django.utils import timezone

from salesledger.apps.core import events
from salesledger.apps.core.actors import Actor, actor_id
from salesledger.apps.core.audit import EventSpec, audit_many
from salesledger.apps.core.bulkinsert import insert_rows
from salesledger.apps.core.models import Company, ImportBatch
from salesledger.apps.core.services import number_format, number_take
from salesledger.apps.ledger.bulk import EntrySpec, journal_write_many
from salesledger.apps.ledger.services import accounts_by_role
from salesledger.domain.errors import DuplicateCode, LedgerError
from salesledger.domain.lifecycle import DocStatus
from salesledger.domain.posting import DocumentToWrite, plan_document
from salesledger.money import Money, Rounding

from ..models import DocumentCharge, Instalment, Invoice, InvoiceLine
from ..payee import company_payee
from .check import DocumentChecker, PreparedDoc, PreparedDocs


def documents_write(*, actor: Actor, prepared: PreparedDocs,
                    import_batch: ImportBatch | None = None,
                    batch_size: int = 2000) -> list[int]:
    """Post documents that :func:`documents_prepare` accepted (inside its transaction)."""
    if prepared.problems:
        raise prepared.problems[0][1]
    company = prepared.company
    docs = sorted(prepared.docs, key=lambda p: (p.doc.issue_date, p.index))
    _assign_numbers(company, docs)
    ids: dict[int, int] = {}
    ctx = DocumentWriter(company, actor, import_batch, prepared.customers)
    for start in range(0, len(docs), batch_size):
        chunk = docs[start:start + batch_size]
        for prep, pk in zip(chunk, ctx.write(chunk), strict=True):
            ids[prep.index] = pk
    return [ids[p.index] for p in sorted(prepared.docs, key=lambda p: p.index)]


def _assign_numbers(company: Company, docs: list[PreparedDoc]) -> None:
    groups: dict[tuple[str, int], list[PreparedDoc]] = defaultdict(list)
    for p in docs:
        if p.number is None or p.seq is not None:
            groups[(p.series, p.fiscal_year)].append(p)
    for (series, _), group in groups.items():
        kept = sorted(p.seq for p in group if p.seq is not None)
        fresh = [p for p in group if p.seq is None]
        fy, first, prefix = number_take(company, series, group[0].doc.issue_date,
                                        count=len(group))
        if kept and kept != list(range(first, first + len(kept))):
            # Another writer took numbers of this series since the documents were checked.
            raise DuplicateCode(f"the {series} {fy} series moved on while posting; try again",
                                field="number")
        for offset, p in enumerate(fresh, start=first + len(kept)):
            p.seq, p.number = offset, number_format(prefix, fy, offset)


def numbers_reserve(company: Company, groups: dict[tuple[str, int], tuple[date, int, int]],
                    checker: DocumentChecker) -> dict[tuple[str, int], tuple[int, str]]:
    """Take the numbers of documents that will be written in several batches, before the
    first: ``groups`` maps (series, fiscal year) to (a day of that fiscal year, how many
    documents take a new number, how many keep one that continues the series, as
    ``checker`` checked them against the counter). Returns (first new seq, prefix) per
    group: its new documents take ``first``, ``first + 1``... in order of issue date, then
    input order, as :func:`documents_write` gives them."""
    out = {}
    for (series, fy), (day, fresh, kept) in groups.items():
        counter = checker.counters.get((series, fy))
        taken_fy, first, prefix = number_take(company, series, day, count=fresh + kept)
        if taken_fy != fy or (kept and first != (counter.last if counter else 0) + 1):
            # Another writer took numbers of this series since the documents were checked.
            raise DuplicateCode(f"the {series} {fy} series moved on while posting; try again",
                                field="number")
        out[(series, fy)] = (first + kept, prefix)
    return out


def documents_posted(company: Company, actor: Actor, docs: Sequence[PreparedDoc],
                 ids: Sequence[int]) -> events.DocumentsPosted:
    """``DocumentsPosted`` for written documents (``ids`` in the order of ``docs``): what
    the apps above act on, in the posting's transaction (docs/design/events.md)."""
    return events.DocumentsPosted(company_id=company.pk, actor=actor, documents=tuple(
        events.PostedDocument(id=pk, kind=p.doc.kind, customer_id=p.doc.customer_id,
                              kept_number=p.doc.number is not None,
                              corrects_id=p.doc.corrects_id)
        for p, pk in zip(docs, ids, strict=True)))


def _audit_event(pk: int, p: PreparedDoc, digest: str) -> EventSpec:
    """The audit event of a posting, one per document."""
    return EventSpec(f"{p.doc.kind}.post", "invoice", str(pk), {
        "after": {"number": p.number, "customer": p.customer.code, "currency": p.currency,
                  "total": str(Money.from_minor(p.totals.total, p.currency).amount),
                  "snapshot_hash": digest}})


_INVOICE_COLUMNS = (
    "company_id", "customer_id", "kind", "status", "series", "fiscal_year", "seq", "number",
    "issue_date", "due_date", "currency", "rate", "terms_id", "po_number", "buyer_reference",
    "corrects_id", "notes", "net", "tax", "total", "base_total", "snapshot", "snapshot_hash",
    "posted_at", "posted_by_id", "import_batch_id", "created_at", "payment_reference",
    "opening", "delivery_date", "period_start", "period_end", "contract_reference",
    "project_reference", "supply_type", "purpose")
_LINE_COLUMNS = (
    "company_id", "invoice_id", "position", "description", "quantity", "unit_price",
    "discount_percent", "tax_rate", "tax_category", "exemption_reason", "unit_code", "net",
    "tax", "seller_item_id", "standard_item_id", "standard_item_scheme")
_CHARGE_COLUMNS = (
    "company_id", "invoice_id", "position", "is_charge", "reason", "reason_code", "amount",
    "tax_category", "tax_rate", "percent")
_INSTALMENT_COLUMNS = (
    "company_id", "invoice_id", "customer_id", "seq", "issue_date", "due_date", "currency",
    "amount", "base_amount", "discount_date", "discount_amount")


class DocumentWriter:
    """Writes batches of prepared documents with a fixed number of statements per batch
    (``insert_rows``: the ORM's per-object work is most of the cost of ``bulk_create`` at
    this size). Each document has its number already (:func:`documents_write` gives them;
    an import that writes in chunks reserves them first with :func:`numbers_reserve`)."""

    def __init__(self, company: Company, actor: Actor, import_batch: ImportBatch | None,
                 customers: dict[int, dict[str, Any]]) -> None:
        self.company = company
        self.actor = actor
        self.user_id = actor_id(actor)
        self.batch_id = import_batch.pk if import_batch is not None else None
        self.customers = customers
        self.account_ids = {role: a.pk for role, a in accounts_by_role(company).items()}
        self.rounding = Rounding(company.rounding)
        self.payee = company_payee(company)  # the accounts invoices name, read once
        self.now = timezone.now()

    def write(self, chunk: list[PreparedDoc]) -> list[int]:
        """Write ``chunk`` as posted; return the documents' ids in its order."""
        plans = [self._plan(p) for p in chunk]
        ids = self._new_documents(chunk, plans)
        for p, plan in zip(chunk, plans, strict=True):
            if p.doc.draft_id is not None:
                self._stored_draft(p, plan)
        cid = self.company.pk
        insert_rows(Instalment, _INSTALMENT_COLUMNS, [
            (cid, pk, p.customer.pk, s.seq, p.doc.issue_date, s.due_date, p.currency,
             s.amount, b, s.discount_date, s.discount_amount)
            for p, pk, plan in zip(chunk, ids, plans, strict=True)
            for s, b in zip(plan.instalments, plan.base_amounts, strict=True)])
        entry_ids = journal_write_many(company=self.company, actor=self.actor, entries=[
            EntrySpec(day=p.doc.issue_date, kind=p.doc.kind, memo=f"{p.number} {p.customer.name}",
                      source_type="invoice", source_id=pk, lines=plan.entry)
            for p, pk, plan in zip(chunk, ids, plans, strict=True)],
            account_ids=self.account_ids)
        _mark_posted(list(zip(ids, entry_ids, strict=True)))
        audit_many(self.company, self.actor, [
            _audit_event(pk, p, plan.snapshot_hash)
            for p, pk, plan in zip(chunk, ids, plans, strict=True)])
        return ids

    def _plan(self, p: PreparedDoc) -> DocumentToWrite:
        doc = p.doc
        return plan_document(
            number=p.number or "", kind=doc.kind, issue_date=doc.issue_date,
            currency=p.currency, rate=p.rate, base_currency=self.company.base_currency,
            customer_id=p.customer.pk, customer=self.customers[p.customer.pk],
            po_number=doc.po_number.strip(), buyer_reference=doc.buyer_reference.strip(),
            corrects=p.corrects_number, lines=doc.lines, charges=doc.charges, totals=p.totals,
            terms=p.terms, given=p.given, rounding=self.rounding, opening=doc.opening,
            supply=doc.supply, payee=self.payee)

    def _new_documents(self, chunk: list[PreparedDoc], plans: list[DocumentToWrite]
                       ) -> list[int]:
        """Insert the new documents of ``chunk`` (as drafts) with their lines and charges;
        return the ids of every document of ``chunk``, the stored drafts' their own."""
        cid = self.company.pk
        new = [(p, plan) for p, plan in zip(chunk, plans, strict=True) if p.doc.draft_id is None]
        inserted = iter(insert_rows(Invoice, _INVOICE_COLUMNS, [
            (cid, p.customer.pk, p.doc.kind, DocStatus.DRAFT.value, p.series, p.fiscal_year,
             p.seq, p.number, p.doc.issue_date, plan.due_date, p.currency, p.rate,
             p.doc.terms_id, p.doc.po_number.strip(), p.doc.buyer_reference.strip(),
             p.doc.corrects_id, p.doc.notes, p.totals.net, p.totals.tax, p.totals.total,
             plan.base_total, plan.snapshot_text, plan.snapshot_hash, self.now, self.user_id,
             self.batch_id, self.now, plan.payment_reference, p.doc.opening,
             s.delivery_date, s.period_start, s.period_end, s.contract_reference,
             s.project_reference, s.supply_type, p.doc.purpose)
            for p, plan in new for s in (p.doc.supply,)], returning=True) if new else [])
        ids = [p.doc.draft_id if p.doc.draft_id is not None else next(inserted)
               for p in chunk]
        lines, charges = [], []
        for p, pk in zip(chunk, ids, strict=True):
            if p.doc.draft_id is not None:
                continue
            lines.extend(
                (cid, pk, n, li.description, li.quantity, li.unit_price, li.discount_percent,
                 li.tax_rate, li.tax_category, li.exemption_reason, li.unit_code, lt.net,
                 lt.tax, li.seller_item_id, li.standard_item_id, li.standard_item_scheme)
                for n, (li, lt) in enumerate(zip(p.doc.lines, p.totals.lines, strict=True), 1))
            charges.extend(
                (cid, pk, n, c.is_charge, c.reason, c.reason_code, ct.amount, c.tax_category,
                 c.tax_rate, c.percent)
                for n, (c, ct) in enumerate(zip(p.doc.charges, p.totals.charges, strict=True),
                                            1))
        insert_rows(InvoiceLine, _LINE_COLUMNS, lines)
        if charges:
            insert_rows(DocumentCharge, _CHARGE_COLUMNS, charges)
        return ids

    def _stored_draft(self, p: PreparedDoc, plan: DocumentToWrite) -> None:
        """Number a stored draft and store what posting computed: its totals, and each
        line's net and tax (the company's rounding may have changed since it was written)."""
        pk = p.doc.draft_id
        for n, lt in enumerate(p.totals.lines, 1):
            InvoiceLine.objects.filter(invoice_id=pk, position=n).update(net=lt.net, tax=lt.tax)
        updated = Invoice.objects.filter(pk=pk, status=DocStatus.DRAFT).update(
            series=p.series, fiscal_year=p.fiscal_year, seq=p.seq, number=p.number,
            due_date=plan.due_date, net=p.totals.net, tax=p.totals.tax, total=p.totals.total,
            base_total=plan.base_total, snapshot=plan.snapshot, snapshot_hash=plan.snapshot_hash,
            posted_at=self.now, posted_by_id=self.user_id, import_batch_id=self.batch_id,
            payment_reference=plan.payment_reference)
        if updated != 1:
            raise LedgerError(f"draft {pk} is no longer a draft")


def _mark_posted(pairs: list[tuple[int, int]]) -> None:
    """Post the drafts of a batch, now that their lines exist: status and journal entry,
    one statement (UPDATE ... FROM VALUES: SQLite 3.33+ and PostgreSQL). The immutability
    guards let a draft become posted; from then on they refuse any change."""
    if not pairs:
        return
    table = Invoice._meta.db_table
    values = ", ".join(["(%s, %s)"] * len(pairs))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, journal_entry_id = v.column2 "
            f"FROM (VALUES {values}) AS v WHERE {table}.id = v.column1 AND {table}.status = %s",
            [DocStatus.POSTED.value, *(x for pair in pairs for x in pair),
             DocStatus.DRAFT.value])
        if cursor.rowcount != len(pairs):
            raise LedgerError(f"posted {cursor.rowcount} of {len(pairs)} documents")
