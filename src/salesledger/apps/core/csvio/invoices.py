"""Invoices and credit notes from and to CSV: one row per line.

Rows with the same ``number`` form one document (without numbers, rows with the same
``ref``; a row with neither is a one-line document). A document given a number keeps it
(series IMP: the open invoices of a business moving from another system); without one it
takes the next gapless number of its series. Documents are posted by
``documents_post_bulk``'s two halves (check everything, then write), so every rule of
``invoice_post`` applies and every broken one is reported. A credit note may correct an
invoice of the company or one of the same file; it is then applied to that invoice, as
``invoice_post`` does.
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from typing import Any, TextIO

from salesledger.apps.customers.models import Customer, PaymentTerms
from salesledger.apps.invoicing.bulk import (
    BulkDoc,
    credit_notes_apply_to_corrected_bulk,
    documents_prepare,
    documents_write,
)
from salesledger.apps.invoicing.models import DocKind, Invoice, InvoiceLine
from salesledger.apps.invoicing.services import resolve_rate
from salesledger.domain.errors import LedgerError
from salesledger.domain.lifecycle import DocStatus
from salesledger.formats.csv_rows import INVOICES, DocumentRows, group_documents, invoice_row

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
    prepared = documents_prepare(company=ctx.company, docs=[d for _, d in first],
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
        prepared = documents_prepare(company=ctx.company, docs=[d for _, d in second],
                                     allow_future_date=ctx.allow_future_date)
        _report(ctx, second, prepared.problems)
        ctx.fail_if_problems()
        ids += documents_write(actor=ctx.actor, prepared=prepared, import_batch=batch)
    docs = [d for _, d in first + second]
    # Documents numbered here are issued here: their PDFs are frozen in the background.
    # Those that keep the number another system gave them were issued there.
    from salesledger.apps.documents.services import pdfs_freeze_later

    numbered_here = [pk for (g, _), pk in zip(first + second, ids, strict=True) if not g.number]
    pdfs_freeze_later(ctx.company, numbered_here)
    credits = [pk for d, pk in zip(docs, ids, strict=True) if d.corrects_id]
    applied = credit_notes_apply_to_corrected_bulk(actor=ctx.actor, company=ctx.company,
                                                   credit_note_ids=credits)
    n_credit = sum(1 for d in docs if d.kind == DocKind.CREDIT_NOTE)
    return {"rows": reader.rows, "batch": batch.pk, "documents": len(docs),
            "invoices": len(docs) - n_credit, "credit_notes": n_credit,
            "allocations": applied}


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
            ctx.problem(g.line, "customer", f"no customer with code {code!r}")
            ok = False
        kind = g.value("kind") or DocKind.INVOICE
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
                if (target.value("kind") or DocKind.INVOICE) != DocKind.INVOICE:
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
            number=g.number or None, corrects_id=corrects_id)


# ---------------------------------------------------------------------------- export
def export_invoices(*, company: Any, out: TextIO, as_of: date | None = None) -> int:
    """One row per line of every posted document, in the import's columns."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(INVOICES.columns)
    qs = InvoiceLine.objects.filter(company=company, invoice__status=DocStatus.POSTED)
    if as_of is not None:
        qs = qs.filter(invoice__issue_date__lte=as_of)
    rows = (qs.order_by("invoice__issue_date", "invoice_id", "position").values_list(
        "invoice__kind", "invoice__number", "invoice__customer__code", "invoice__issue_date",
        "invoice__currency", "invoice__rate", "invoice__terms__code", "invoice__po_number",
        "invoice__buyer_reference", "invoice__notes", "invoice__corrects__number",
        "description", "quantity", "unit_price", "tax_rate", "discount_percent", "tax_category",
    ).iterator(chunk_size=2000))
    count = 0
    for (kind, number, customer, issue, currency, rate, terms, po, buyer, notes, corrects,
         description, quantity, price, tax_rate, discount, category) in rows:
        writer.writerow([
            kind, number, "", customer, issue.isoformat(), currency, _text(rate), terms or "",
            po, buyer, notes, corrects or "", description, _text(quantity), _text(price),
            _text(tax_rate), _text(discount), category,
        ])
        count += 1
    return count


def _text(value: Decimal | str) -> str:
    return format(Decimal(value), "f")
