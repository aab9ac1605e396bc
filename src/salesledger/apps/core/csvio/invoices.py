"""Invoices and credit notes from and to CSV: one row per line.

Rows with the same ``number`` form one document (without numbers, rows with the same
``ref``; a row with neither is a one-line document). A document given a number keeps it
(series IMP: the open invoices of a business moving from another system); without one it
takes the next gapless number of its series. Documents are posted by
``documents_post_bulk``'s two halves (check everything, then write), so every rule of
``invoice_post`` applies and every broken one is reported (the EN 16931 e-invoice rules to
the documents numbered here; those that keep their numbers are history). Migrated history
may give its own due dates (``due_date``, ``due_amount``) and come as opening items (kind
``opening``, given by its ``total``). A credit note may correct an
invoice of the company or one of the same file; it is then applied to that invoice, as
``invoice_post`` does.
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from itertools import zip_longest
from typing import Any, TextIO

from salesledger.apps.core import events
from salesledger.apps.customers.models import Customer, PaymentTerms
from salesledger.apps.invoicing.bulk import (
    BulkDoc,
    documents_prepare,
    documents_write,
)
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice, InvoiceLine
from salesledger.apps.invoicing.services import resolve_rate
from salesledger.apps.payments.models import Allocation
from salesledger.domain.errors import LedgerError, UnknownCustomer
from salesledger.domain.lifecycle import DocStatus
from salesledger.formats.csv_rows import (
    INVOICES,
    LIST_SEPARATOR,
    OPENING,
    DocumentRows,
    group_documents,
    invoice_row,
)
from salesledger.money import Money

from .common import ImportContext, in_chunks, limits

LIMITS = limits({
    "number": (Invoice, "number"), "customer": (Customer, "code"),
    "terms": (PaymentTerms, "code"), "po_number": (Invoice, "po_number"),
    "buyer_reference": (Invoice, "buyer_reference"), "corrects": (Invoice, "number"),
    "description": (InvoiceLine, "description"),
})


def import_rows(ctx: ImportContext, reader: Any) -> dict[str, Any]:
    ctx.date_column = "issue_date"
    rows = [invoice_row(line, cells, ctx.problems) for line, cells in reader]
    ctx.rows_read(reader)
    groups = group_documents(rows, ctx.problems)
    refs = _References(ctx, groups)
    first: list[tuple[DocumentRows, BulkDoc]] = []
    second: list[tuple[DocumentRows, BulkDoc]] = []  # credit notes of invoices in the file
    for g in groups:
        doc = refs.document(g)
        if doc is not None:
            (second if g.value("corrects") in refs.in_file else first).append((g, doc))
    prepared = documents_prepare(company=ctx.company, actor=ctx.actor,
                                 docs=[d for _, d in first],
                                 allow_future_date=ctx.allow_future_date)
    _report(ctx, first, prepared.problems)
    ctx.fail_if_problems()

    batch = ctx.batch(reader.rows)
    ids = documents_write(actor=ctx.actor, prepared=prepared, import_batch=batch)
    by_number = {g.number: pk for (g, _), pk in zip(first, ids, strict=True) if g.number}
    if second:
        # Their invoices exist now: check them (every problem again) and post them.
        for g, doc in second:
            doc.corrects_id = by_number[g.value("corrects")]
        prepared = documents_prepare(company=ctx.company, actor=ctx.actor,
                                     docs=[d for _, d in second],
                                     allow_future_date=ctx.allow_future_date)
        _report(ctx, second, prepared.problems)
        ctx.fail_if_problems()
        ids += documents_write(actor=ctx.actor, prepared=prepared, import_batch=batch)
    docs = [d for _, d in first + second]
    numbered = [g.number for g, _ in first + second]
    # The apps above act on them as on a document posted by hand (docs/design/events.md):
    # PDFs frozen for those numbered here, credit notes applied to what they correct.
    events.publish(events.DocumentsPosted(
        company_id=ctx.company.pk, actor=ctx.actor, documents=tuple(
            events.PostedDocument(id=pk, kind=d.kind, customer_id=d.customer_id,
                                  kept_number=bool(number), corrects_id=d.corrects_id)
            for d, pk, number in zip(docs, ids, numbered, strict=True))))
    applied = Allocation.objects.filter(
        company=ctx.company, credit_note_id__in=[pk for d, pk in zip(docs, ids, strict=True)
                                                 if d.corrects_id]).count()
    n_credit = sum(1 for d in docs if d.kind == DocKind.CREDIT_NOTE)
    return {"rows": reader.rows, "batch": batch.pk, "documents": len(docs),
            "invoices": len(docs) - n_credit, "credit_notes": n_credit,
            "opening_items": sum(1 for d in docs if d.opening), "allocations": applied}


def _report(ctx: ImportContext, items: list[tuple[DocumentRows, BulkDoc]],
            problems: list[tuple[int, LedgerError]]) -> None:
    for index, exc in problems:
        g = items[index][0]
        line = g.line
        line_no = exc.fields.get("line")  # a line of the document (pure core's numbering)
        if isinstance(line_no, int) and 1 <= line_no <= len(g.rows):
            line = g.rows[line_no - 1].line
        ctx.error(line, exc)


class _References:
    """Customer codes, terms codes and corrected invoice numbers, read once each."""

    def __init__(self, ctx: ImportContext, groups: list[DocumentRows]) -> None:
        self.ctx = ctx
        company = ctx.company
        self.customers: dict[str, tuple[int, str]] = {}
        for chunk in in_chunks(g.value("customer") for g in groups):
            self.customers.update(
                (c["code"], (c["id"], c["currency"])) for c in Customer.objects.filter(
                    company=company, code__in=chunk).values("id", "code", "currency"))
        self.terms = dict(PaymentTerms.objects.filter(company=company)
                          .values_list("code", "id"))
        self.in_file = {g.number: g for g in groups if g.number}
        self.corrected: dict[str, dict[str, Any]] = {}
        wanted = {g.value("corrects") for g in groups} - {""} - set(self.in_file)
        for chunk in in_chunks(wanted):
            self.corrected.update((r["number"], r) for r in Invoice.objects.filter(
                company=company, number__in=chunk).values("id", "number", "kind", "status"))

    def document(self, g: DocumentRows) -> BulkDoc | None:
        ctx, ok = self.ctx, g.ok
        code = g.value("customer")
        customer = self.customers.get(code)
        if customer is None and code:
            ctx.problem(g.line, "customer", f"no customer with code {code!r}",
                        code=UnknownCustomer.code)
            ok = False
        kind = g.value("kind") or DocKind.INVOICE
        opening = kind == OPENING
        if opening:
            kind = DocKind.INVOICE
        terms_id = None
        if g.value("terms"):
            terms_id = self.terms.get(g.value("terms"))
            if terms_id is None:
                ctx.problem(g.line, "terms", f"no payment terms {g.value('terms')!r}; known: "
                                             f"{', '.join(sorted(self.terms))}")
                ok = False
        corrects = g.value("corrects")
        corrects_id = None
        if corrects:
            if kind != DocKind.CREDIT_NOTE:
                ctx.problem(g.line, "corrects", "only a credit note can correct an invoice")
                ok = False
            elif corrects in self.in_file:
                target = self.in_file[corrects]
                if (target.value("kind") or DocKind.INVOICE) not in (DocKind.INVOICE, OPENING):
                    ctx.problem(g.line, "corrects", f"{corrects} is a credit note, not an "
                                                    "invoice")
                    ok = False
            else:
                found = self.corrected.get(corrects)
                if found is None or found["kind"] != DocKind.INVOICE:
                    ctx.problem(g.line, "corrects", f"no invoice {corrects!r} in this file or "
                                                    "in the company")
                    ok = False
                elif found["status"] != DocStatus.POSTED:
                    ctx.problem(g.line, "corrects", f"invoice {corrects} is a draft; post it "
                                                    "first")
                    ok = False
                else:
                    corrects_id = found["id"]
        if customer is None or not ok:
            return None
        currency = g.value("currency") or customer[1]
        rate = g.head.get("rate")
        if rate is None:
            try:
                rate = resolve_rate(ctx.company, currency, None, g.head["issue_date"])
            except LedgerError as exc:
                ctx.error(g.line, exc)
                return None
        return BulkDoc(
            customer_id=customer[0], kind=kind, issue_date=g.head["issue_date"],
            currency=currency, lines=[r.item for r in g.rows if r.item is not None], rate=rate,
            terms_id=terms_id, po_number=g.value("po_number"),
            buyer_reference=g.value("buyer_reference"), notes=g.value("notes"),
            number=g.number or None, corrects_id=corrects_id, opening=opening,
            due=list(zip_longest(g.value("due_date", ()), g.value("due_amount", ())))
            if g.value("due_date", ()) else None)


# ---------------------------------------------------------------------------- export
def export_invoices(*, company: Any, out: TextIO, as_of: date | None = None) -> int:
    """One row per line of every posted document, in the import's columns. An invoice that
    falls due by its own terms keeps them (``terms``); one that fell due by the customer's or
    the company's terms without an early-payment discount is written with its due dates,
    which an import keeps exactly. An opening item is written as one row with its total."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(INVOICES.columns)
    qs = InvoiceLine.objects.filter(company=company, invoice__status=DocStatus.POSTED)
    if as_of is not None:
        qs = qs.filter(invoice__issue_date__lte=as_of)
    rows = (qs.order_by("invoice__issue_date", "invoice_id", "position").values_list(
        "invoice_id", "invoice__kind", "invoice__opening", "invoice__number",
        "invoice__customer__code", "invoice__issue_date", "invoice__currency", "invoice__rate",
        "invoice__terms__code", "invoice__po_number", "invoice__buyer_reference",
        "invoice__notes", "invoice__corrects__number", "invoice__total", "description",
        "quantity", "unit_price", "tax_rate", "discount_percent", "tax_category",
        "exemption_reason",
    ).iterator(chunk_size=2000))
    dues = _due_dates(company, as_of)
    count = 0
    for (pk, kind, opening, number, customer, issue, currency, rate, terms, po, buyer, notes,
         corrects, total, description, quantity, price, tax_rate, discount, category,
         reason) in rows:
        due_date, due_amount = ("", "") if terms else dues.get(pk, currency)
        if opening:
            head = [OPENING, number, "", customer, issue.isoformat(), currency, _text(rate),
                    terms or "", due_date, due_amount, po, buyer, notes, "",
                    Money.from_minor(total, currency).format_plain(), description]
            writer.writerow(head + [""] * 6)
        else:
            writer.writerow([
                kind, number, "", customer, issue.isoformat(), currency, _text(rate),
                terms or "", due_date, due_amount, po, buyer, notes, corrects or "", "",
                description, _text(quantity), _text(price), _text(tax_rate), _text(discount),
                category, reason,
            ])
        count += 1
    return count


class _DueDates:
    """The due dates and amounts of posted invoices, read alongside the lines (both in order
    of issue date, then id): ``get(invoice id)`` moves forward to that invoice."""

    def __init__(self, rows: Any) -> None:
        self.rows, self.current = rows, next(rows, None)
        self.last: tuple[int | None, tuple[str, str]] = (None, ("", ""))

    def get(self, invoice_id: int, currency: str) -> tuple[str, str]:
        found: list[tuple[date, int, int]] = []
        while self.current is not None and self.current[0] == invoice_id:
            found.append(self.current[1:])
            self.current = next(self.rows, None)
        if not found:
            return self.last[1] if self.last[0] == invoice_id else ("", "")
        if any(discount for _, _, discount in found):
            text = ("", "")  # the terms' early-payment discount: the terms say it all
        else:
            text = (LIST_SEPARATOR.join(d.isoformat() for d, _, _ in found),
                    LIST_SEPARATOR.join(Money.from_minor(a, currency).format_plain()
                                        for _, a, _ in found) if len(found) > 1 else "")
        self.last = (invoice_id, text)
        return text


def _due_dates(company: Any, as_of: date | None) -> _DueDates:
    qs = Instalment.objects.filter(company=company, invoice__status=DocStatus.POSTED,
                                   invoice__terms__isnull=True)
    if as_of is not None:
        qs = qs.filter(invoice__issue_date__lte=as_of)
    return _DueDates(qs.order_by("invoice__issue_date", "invoice_id", "seq").values_list(
        "invoice_id", "due_date", "amount", "discount_amount").iterator(chunk_size=2000))


def _text(value: Decimal | str) -> str:
    return format(Decimal(value), "f")
