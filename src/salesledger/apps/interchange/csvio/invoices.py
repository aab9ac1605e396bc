"""Invoices and credit notes from and to CSV: one row per line.

Rows with the same ``number`` form one document (without numbers, rows with the same
``ref``; a row with neither is a one-line document). A document given a number keeps it
(series IMP: the open invoices of a business moving from another system); without one it
takes the next gapless number of its series. Documents are posted by the bulk poster's
parts (``DocumentChecker`` checks, ``DocumentWriter`` writes), so every rule of
``invoice_post`` applies and every broken one is reported (the EN 16931 e-invoice rules to
the documents numbered here; those that keep their numbers are history). Migrated history
may give its own due dates (``due_date``, ``due_amount``) and come as opening items (kind
``opening``, given by its ``total``). A credit note may correct an
invoice of the company or one of the same file; it is then applied to that invoice, as
``invoice_post`` does.

Memory does not grow with the size of the file (see ``docs/design/posting-and-numbering.md``,
"Imports in bounded memory"). The file is read twice:

1. **Scan** (``_scan``): only the columns that place a document (number, ref, kind,
   issue_date, corrects) — which rows form each document (and which documents have rows
   apart in the file), how many rows, and the place of each new number: a series' numbers
   go in order of issue date, then file order.
2. **Check and write** (``_Import``): rows are grouped into documents one document at a
   time (``DocumentStream``); each chunk of ``CHUNK`` documents is checked by every rule
   (``DocumentChecker``) and, while the file has shown no problem, written at once
   (``DocumentWriter``: documents, lines, instalments, journal entries, audit events, PDF
   tasks) in the import's one transaction. What the rules across documents need is kept in
   compact form: the numbers met, and per document a few integers in arrays (first line,
   kind, customer, currency, total). After the first problem nothing more is written but
   every document is still checked; at the end a file with problems raises
   ``ImportFailed`` with all of them, which undoes what was written. Credit notes that
   correct an invoice of the same file are set aside (a temporary file) and written last,
   once that invoice has an id.
"""

from __future__ import annotations

import pickle
import tempfile
from array import array
from collections import Counter, defaultdict
from collections.abc import Container, Iterable, Iterator
from datetime import date
from decimal import Decimal
from itertools import zip_longest
from typing import IO, Any, TextIO

from salesledger.apps.core import events
from salesledger.apps.core.services import (
    SERIES_PREFIX,
    number_format,
    prefix_of,
    series_prefixes,
)
from salesledger.apps.customers.models import Customer, PaymentTerms
from salesledger.apps.invoicing.issuing import resolve_rate
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice, InvoiceLine
from salesledger.apps.invoicing.posting.check import BulkDoc, DocumentChecker, PreparedDoc
from salesledger.apps.invoicing.posting.write import (
    DocumentWriter,
    documents_posted,
    numbers_reserve,
)
from salesledger.apps.payments.models import Allocation
from salesledger.domain.errors import LedgerError, UnknownCustomer, ValidationFailed
from salesledger.domain.invoicing import SupplyDetails
from salesledger.domain.lifecycle import DocStatus
from salesledger.domain.numbering import fiscal_year
from salesledger.domain.posting import own_number
from salesledger.formats.csv_rows import (
    INVOICES,
    LIST_SEPARATOR,
    OPENING,
    CellError,
    CsvWriter,
    DocumentRows,
    DocumentStream,
    InvoiceRow,
    Scattered,
    document_key,
    invoice_row,
    parse_date,
)
from salesledger.money import Money

from .common import CsvSource, ImportContext, in_chunks, limits

# The file is read twice: checked a chunk at a time, then written (import_file's progress).
READINGS = 2
LIMITS = limits({
    "number": (Invoice, "number"), "customer": (Customer, "code"),
    "terms": (PaymentTerms, "code"), "po_number": (Invoice, "po_number"),
    "buyer_reference": (Invoice, "buyer_reference"), "corrects": (Invoice, "number"),
    "description": (InvoiceLine, "description"),
    "seller_item_id": (InvoiceLine, "seller_item_id"),
})  # contract and project: their length is check_supply's, with the document's other rules
# Fields named by the posting checks' errors -> CSV columns.
_RENAME = {"period": "period_end", "standard_id": "standard_item_id"}
CHUNK = 2000  # documents checked, then written, together
_INVOICE, _CREDIT_NOTE = 1, 2  # kinds in the compact arrays (0: not known)


def import_rows(ctx: ImportContext, source: CsvSource) -> dict[str, Any]:
    ctx.date_column = "issue_date"
    layout = _scan(source, ctx.company)
    return _Import(ctx, source, layout).run()


def _report(ctx: ImportContext, g: DocumentRows, exc: LedgerError) -> None:
    line = g.line
    line_no = exc.fields.get("line")  # a line of the document (pure core's numbering)
    if isinstance(line_no, int) and 1 <= line_no <= len(g.rows):
        line = g.rows[line_no - 1].line
    ctx.error(line, exc, rename=_RENAME)


def _chunks(stream: DocumentStream, rows: Iterable[InvoiceRow]
            ) -> Iterator[list[DocumentRows]]:
    """The documents of ``rows``, CHUNK at a time."""
    chunk: list[DocumentRows] = []
    for r in rows:
        chunk.extend(stream.add(r))
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    chunk.extend(stream.close())
    if chunk:
        yield chunk


def _spill(fh: IO[bytes], docs: list[PreparedDoc]) -> None:
    """Append checked documents to ``fh``, without their customer (the checker keeps each
    customer once)."""
    for p in docs:
        p.customer = None  # type: ignore[assignment]
    pickle.dump(docs, fh, protocol=pickle.HIGHEST_PROTOCOL)


def _spilled(fh: IO[bytes], customers: dict[int, Customer]) -> Iterator[list[PreparedDoc]]:
    """The chunks that :func:`_spill` wrote to ``fh``, in order, with their customers."""
    fh.seek(0)
    while True:
        try:
            docs: list[PreparedDoc] = pickle.load(fh)  # noqa: S301 - our own temporary file
        except EOFError:
            return
        for p in docs:
            p.customer = customers[p.doc.customer_id]
        yield docs


def _zeros(typecode: str, n: int) -> array:  # type: ignore[type-arg]
    return array(typecode, bytes(n * array(typecode).itemsize))


# ---------------------------------------------------------------------------- the scan
class _Layout:
    """What the scan learns of a file: its rows and documents, the documents whose rows are
    apart, and the place of each document taking a new number in its series."""

    def __init__(self) -> None:
        self.rows = 0
        self.documents = 0
        self.scattered: dict[str, int] = {}  # document key -> line of its last row
        # Numbering groups (series, fiscal year, phase); phase 1: credit notes correcting an
        # invoice of the file, written last, which take their numbers after the others.
        self.group_keys: list[tuple[str, int, int]] = []
        self.groups = array("H")  # 1 + group of each document taking a new number, else 0
        self.rank = array("i")  # its place in its group: by issue date, then file order
        self.fresh: dict[tuple[str, int, int], int] = {}  # documents per group
        self.days: dict[tuple[str, int], date] = {}  # a day of each (series, fiscal year)
        self.kept: dict[tuple[str, int], int] = {}  # kept numbers continuing a series


def _scan(source: CsvSource, company: Any) -> _Layout:
    """Read the file once, only the columns that place a document (number, ref, kind,
    issue_date, corrects): which rows form each document, and the order of the new numbers.
    A document the check will refuse may be placed wrongly here: the import then fails and
    no number is used."""
    layout = _Layout()
    prefixes = series_prefixes(company)
    own_prefix = prefix_of(prefixes)
    # a number that starts with no prefix's letter cannot be one of the company's own
    initials = frozenset(p[:1] for p in (*SERIES_PREFIX.values(), *prefixes.values()))
    numbers: dict[str, int] = {}  # number -> document index
    refs: dict[str, int] = {}
    last: dict[str, int] = {}  # scattered documents -> line of their last row
    kinds = array("b")  # 1 invoice, 2 credit note, 0 not given yet
    days = array("i")  # issue date (ordinal) of the first row; 0: none or unreadable
    numbered = bytearray()  # 1: the document keeps a number
    corrections: list[tuple[int, str]] = []  # (credit note or not yet known, number)
    current, index = None, -1
    with source.read() as reader:
        for n, (line, row) in enumerate(reader):
            number, ref = row.get("number", ""), row.get("ref", "")
            key = document_key(number, ref, n)
            if key == current:
                i = index
                if key in last:
                    last[key] = line
            else:
                known = numbers.get(number) if number else refs.get(ref) if ref else None
                if known is not None:  # a document met before: its rows are apart
                    last[key] = line
                    i = known
                else:
                    i = index = len(kinds)
                    if number:
                        numbers[number] = i
                    elif ref:
                        refs[ref] = i
                    kinds.append(0)
                    numbered.append(1 if number else 0)
                    try:
                        days.append(parse_date(row.get("issue_date", "")).toordinal())
                    except CellError:
                        days.append(0)
                current = key
            if not kinds[i] and (kind := row.get("kind", "").lower()):
                kinds[i] = _CREDIT_NOTE if kind == DocKind.CREDIT_NOTE else _INVOICE
            if corrects := row.get("corrects", ""):
                corrections.append((i, corrects))
        layout.rows = reader.rows
    layout.documents, layout.scattered = len(kinds), last
    del refs, last
    later = {i for i, target in corrections if target in numbers}
    del corrections
    start = company.fiscal_year_start
    group_of: dict[tuple[str, int, int], int] = {}
    layout.groups = groups = _zeros("H", len(kinds))
    counts: dict[int, Counter[int]] = defaultdict(Counter)
    for i, day in enumerate(days):
        if day and not numbered[i]:
            on = date.fromordinal(day)
            series = "CN" if kinds[i] == _CREDIT_NOTE else "INV"
            key = (series, fiscal_year(on, start), 1 if i in later else 0)
            g = group_of.get(key)
            if g is None:
                g = group_of[key] = len(group_of) + 1
                layout.group_keys.append(key)
                layout.days.setdefault(key[:2], on)
            groups[i] = g
            counts[g][day] += 1
    for number, i in numbers.items():  # kept numbers that continue an own series
        own = own_number(number, own_prefix) if number[:1] in initials else None
        if own and days[i]:
            on = date.fromordinal(days[i])
            series = "CN" if kinds[i] == _CREDIT_NOTE else "INV"
            if (series, fiscal_year(on, start)) == own[:2]:
                layout.kept[own[:2]] = layout.kept.get(own[:2], 0) + 1
                layout.days.setdefault(own[:2], on)
    starts: dict[tuple[int, int], int] = {}
    for g, by_day in counts.items():
        total = 0
        for day in sorted(by_day):
            starts[(g, day)] = total
            total += by_day[day]
        layout.fresh[layout.group_keys[g - 1]] = total
    layout.rank = _zeros("i", len(groups))
    for i, g in enumerate(groups):
        if g:
            at = (g, days[i])
            layout.rank[i] = starts[at]
            starts[at] += 1
    return layout


# ---------------------------------------------------------------------------- check, write
class _Import:
    """Every rule on every document, a chunk at a time; each chunk written as soon as it is
    checked while the file has shown no problem. Keeps per document a few integers in
    arrays (by index, the order of first rows), not the document. At the end a file with a
    problem raises ``ImportFailed``, which undoes whatever was written."""

    def __init__(self, ctx: ImportContext, source: CsvSource, layout: _Layout) -> None:
        self.ctx, self.source, self.layout = ctx, source, layout
        self.stream = DocumentStream(ctx.problems, scattered=layout.scattered)
        self.refs = _References(ctx)
        self.checker = DocumentChecker(ctx.company, unique_numbers=True, actor=ctx.actor,
                                       allow_future_date=ctx.allow_future_date,
                                       credit_override=ctx.credit_override)
        n = layout.documents
        self.lines = _zeros("i", n)  # first line
        self.kinds = _zeros("b", n)  # kind given (_INVOICE, _CREDIT_NOTE; 0: not read yet)
        self.ok = bytearray(n)  # 1: passed every check
        self.customer_ids = _zeros("i", n)
        self.currencies = _zeros("B", n)  # index in currency_codes
        self.totals = _zeros("q", n)
        self.currency_codes: list[str] = []
        self.pending: list[tuple[int, str]] = []  # credit notes of numbers not met yet
        self.waiting_for: set[int] = set()  # their indexes
        # Credit notes correcting an invoice of the file: written last (from ``later``).
        self.deferred: dict[int, str] = {}  # index -> number of the invoice
        self.targets: dict[str, int] = {}  # those numbers -> ids, once written
        self.later = tempfile.TemporaryFile()
        self.waiting = False
        self.batch: Any = None
        self.writer: DocumentWriter | None = None
        self.first: dict[int, tuple[int, str]] = {}  # group -> (first seq, prefix)
        self.counts = Counter[str]()
        self.credits: list[int] = []  # credit notes that correct an invoice

    def run(self) -> dict[str, Any]:
        ctx, layout = self.ctx, self.layout
        with self.later, self.source.read() as reader:
            rows = (invoice_row(line, cells, ctx.problems) for line, cells in reader)
            try:
                for chunk in _chunks(self.stream, rows):
                    self.check(chunk)
            except Scattered:
                raise self._changed() from None
            ctx.rows_read(reader)
            if (reader.rows, self.stream.count) != (layout.rows, layout.documents):
                raise self._changed()
            self.finish()
            ctx.fail_if_problems()  # undoes what was written
            if self.waiting:
                self._target_ids()
                batch: list[PreparedDoc] = []  # set aside a few per chunk: write CHUNK at once
                for chunk in _spilled(self.later, self.checker.customers):
                    for p in chunk:
                        p.corrects_number = self.deferred[p.index]
                        p.doc.corrects_id = self.targets[p.corrects_number]
                    batch.extend(chunk)
                    if len(batch) >= CHUNK:
                        self.write(batch)
                        batch = []
                self.write(batch)
        if self.writer is None:  # a file whose every document corrects one of the file
            self.start()
        applied = 0
        for chunk in in_chunks(self.credits):
            applied += Allocation.objects.filter(company=ctx.company,
                                                 credit_note_id__in=chunk).count()
        documents = self.counts["invoice"] + self.counts["credit_note"]
        return {"rows": layout.rows, "batch": self.batch.pk, "documents": documents,
                "invoices": self.counts["invoice"], "credit_notes": self.counts["credit_note"],
                "opening_items": self.counts["opening"], "allocations": applied}

    def _target_ids(self) -> None:
        """The ids of the invoices of the file that credit notes correct, written before a
        credit note named them."""
        missing = [number for number, pk in self.targets.items() if not pk]
        for chunk in in_chunks(missing):
            self.targets.update(Invoice.objects.filter(
                company=self.ctx.company, number__in=chunk).values_list("number", "id"))

    def _changed(self) -> ValidationFailed:
        return ValidationFailed(f"{self.ctx.name} changed while it was imported; import it "
                                "again", file=self.ctx.name)

    # ------------------------------------------------------------------------ checking
    def check(self, chunk: list[DocumentRows]) -> None:
        ctx, numbers = self.ctx, self.stream.numbers
        self.refs.load(chunk, numbers)
        docs: list[BulkDoc] = []
        items: dict[int, DocumentRows] = {}
        for g in chunk:
            if g.index >= len(self.lines):  # more documents than the scan saw
                raise self._changed()
            self.lines[g.index] = g.line
            self.kinds[g.index] = (_CREDIT_NOTE if g.value("kind") == DocKind.CREDIT_NOTE
                                   else _INVOICE)
            doc = self.refs.document(g, numbers)
            if doc is None:
                continue
            corrects = g.value("corrects")
            if corrects and doc.corrects_id is None:  # of this file, or not met yet
                target = numbers.get(corrects)
                if target is not None and self.ok[target]:
                    if self.kinds[target] == _CREDIT_NOTE:
                        ctx.problem(g.line, "corrects", f"{corrects} is a credit note, not "
                                                        "an invoice")
                        continue
                    doc.corrects_id = self._original(target, corrects)
                    self._defer(g.index, corrects)
                else:  # later in the file, in this chunk, or broken: looked at at the end
                    self.pending.append((g.index, corrects))
                    self.waiting_for.add(g.index)
            docs.append(doc)
            items[g.index] = g
        prepared = self.checker.check(docs, list(items))
        for index, exc in prepared.problems:
            _report(ctx, items[index], exc)
        for p in prepared.docs:
            self._keep(p)
        if ctx.problems:  # the import will fail: nothing more is written
            return
        held = [p for p in prepared.docs if p.index in self.deferred
                or p.index in self.waiting_for]
        if held:
            self.later.seek(0, 2)
            _spill(self.later, held)
            self.waiting = True
            ids = {p.index for p in held}
            self.write([p for p in prepared.docs if p.index not in ids])
        else:
            self.write(prepared.docs)

    def _keep(self, p: PreparedDoc) -> None:
        i = p.index
        self.ok[i] = 1
        self.customer_ids[i] = p.customer.pk
        self.totals[i] = p.totals.total
        if p.currency not in self.currency_codes:
            self.currency_codes.append(p.currency)
        self.currencies[i] = self.currency_codes.index(p.currency)

    def _defer(self, index: int, number: str) -> None:
        self.deferred[index] = number
        self.targets[number] = 0

    def _original(self, target: int, number: str) -> int:
        """The invoice ``target`` of this file as ``DocumentChecker`` sees a corrected
        invoice, under an id that no stored invoice has."""
        key = -(target + 1)
        self.checker.corrected.setdefault(key, {
            "id": key, "kind": DocKind.INVOICE, "status": DocStatus.POSTED, "number": number,
            "customer_id": self.customer_ids[target],
            "currency": self.currency_codes[self.currencies[target]],
            "total": self.totals[target]})
        return key

    def finish(self) -> None:
        ctx, numbers = self.ctx, self.stream.numbers
        for index, number in self.pending:
            target = numbers.get(number)
            if target is None:
                ctx.problem(self.lines[index], "corrects", f"no invoice {number!r} in this "
                                                           "file or in the company")
            elif self.kinds[target] == _CREDIT_NOTE:
                ctx.problem(self.lines[index], "corrects", f"{number} is a credit note, not "
                                                           "an invoice")
            elif self.ok[target] and self.ok[index]:
                self._defer(index, number)
                exc = self.checker.correction(
                    customer_id=self.customer_ids[index],
                    currency=self.currency_codes[self.currencies[index]],
                    total=self.totals[index], corrects_id=self._original(target, number))
                if exc is not None:
                    ctx.error(self.lines[index], exc)
        for index, exc in self.checker.finish():
            ctx.error(self.lines[index], exc)

    # ------------------------------------------------------------------------ writing
    def start(self) -> None:
        """Before the first write: the batch record, and every new number of the file
        (the credit notes written last take theirs after the others of their series)."""
        layout = self.layout
        self.batch = self.ctx.batch(layout.rows)
        self.writer = DocumentWriter(self.ctx.company, self.ctx.actor, self.batch,
                                     self.checker.issued)
        wanted: dict[tuple[str, int], tuple[date, int, int]] = {}
        for (series, fy, _), n in layout.fresh.items():
            day, fresh, _ = wanted.get((series, fy), (layout.days[(series, fy)], 0, 0))
            wanted[(series, fy)] = (day, fresh + n, layout.kept.get((series, fy), 0))
        for key, kept in layout.kept.items():
            if kept and key not in wanted:
                wanted[key] = (layout.days[key], 0, kept)
        reserved = numbers_reserve(self.ctx.company, wanted, self.checker)
        offset: Counter[tuple[str, int]] = Counter()
        for g, (series, fy, phase) in sorted(enumerate(layout.group_keys, start=1),
                                             key=lambda item: item[1][2]):
            first, prefix = reserved[(series, fy)]
            self.first[g] = (first + offset[(series, fy)], prefix)
            offset[(series, fy)] += layout.fresh[(series, fy, phase)]

    def write(self, docs: list[PreparedDoc]) -> None:
        if self.writer is None:
            self.start()
        if not docs:
            return
        assert self.writer is not None
        layout = self.layout
        for p in docs:
            g = layout.groups[p.index]
            if p.number is None:
                if not g:  # placed otherwise by the scan: only a changed file does this
                    raise self._changed()
                first, prefix = self.first[g]
                p.seq = first + layout.rank[p.index]
                p.number = number_format(prefix, p.fiscal_year, p.seq)
        ids = self.writer.write(docs)
        for p, pk in zip(docs, ids, strict=True):
            self.counts[p.doc.kind] += 1
            self.counts["opening"] += p.doc.opening
            if p.doc.corrects_id:
                self.credits.append(pk)
            if p.number in self.targets:
                self.targets[p.number] = pk
        # The apps above act on each chunk as on a document posted by hand, in the import's
        # transaction (docs/design/events.md): the PDFs of the documents numbered here are
        # frozen in the background (those keeping another system's number were issued
        # there), credit notes are applied to the invoices they correct.
        events.publish(documents_posted(self.ctx.company, self.ctx.actor, docs, ids))


class _References:
    """Customer codes, terms codes and corrected invoice numbers, each read once (a chunk
    at a time, and kept: a file names far fewer customers than it has documents)."""

    def __init__(self, ctx: ImportContext) -> None:
        self.ctx = ctx
        self.customers: dict[str, tuple[int, str] | None] = {}
        self.terms = dict(PaymentTerms.objects.filter(company=ctx.company)
                          .values_list("code", "id"))
        self.corrected: dict[str, dict[str, Any] | None] = {}

    def load(self, groups: list[DocumentRows], in_file: Container[str]) -> None:
        company = self.ctx.company
        codes = {g.value("customer") for g in groups} - set(self.customers)
        for chunk in in_chunks(codes):
            # a document named for an alias is issued to its survivor (of the same currency)
            found = {c["code"]: (c["merged_into_id"] or c["id"], c["currency"])
                     for c in Customer.objects.filter(company=company, code__in=chunk).values(
                         "id", "code", "currency", "merged_into_id")}
            self.customers.update((code, found.get(code)) for code in chunk)
        wanted = {c for g in groups if (c := g.value("corrects")) and c not in in_file
                  and c not in self.corrected}
        for chunk in in_chunks(wanted):
            found = {r["number"]: r for r in Invoice.objects.filter(
                company=company, number__in=chunk).values("id", "number", "kind", "status")}
            self.corrected.update((number, found.get(number)) for number in chunk)

    def document(self, g: DocumentRows, in_file: Container[str]) -> BulkDoc | None:
        """The document of rows ``g``, or None after reporting its problems. A credit note
        correcting a number of the file (``in_file``), or one not found yet, comes without
        ``corrects_id``: the caller knows more."""
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
            found = self.corrected.get(corrects)
            if kind != DocKind.CREDIT_NOTE:
                ctx.problem(g.line, "corrects", "only a credit note can correct an invoice")
                ok = False
            elif corrects in in_file or found is None:
                pass
            elif found["kind"] != DocKind.INVOICE:
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
            if g.value("due_date", ()) else None,
            supply=SupplyDetails(
                g.value("delivery_date", None), g.value("period_start", None),
                g.value("period_end", None), g.value("contract_reference"),
                g.value("project_reference"), g.value("supply_type")))


# ---------------------------------------------------------------------------- export
def export_invoices(*, company: Any, out: TextIO, as_of: date | None = None) -> int:
    """One row per line of every posted document, in the import's columns. An invoice that
    falls due by its own terms keeps them (``terms``); one that fell due by the customer's or
    the company's terms without an early-payment discount is written with its due dates,
    which an import keeps exactly. An opening item is written as one row with its total."""
    writer = CsvWriter(out)
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
        "exemption_reason", "invoice__delivery_date", "invoice__period_start",
        "invoice__period_end", "invoice__contract_reference", "invoice__project_reference",
        "invoice__supply_type", "seller_item_id", "standard_item_scheme", "standard_item_id",
    ).iterator(chunk_size=2000))
    dues = _due_dates(company, as_of)
    count = 0
    for (pk, kind, opening, number, customer, issue, currency, rate, terms, po, buyer, notes,
         corrects, total, description, quantity, price, tax_rate, discount, category,
         reason, delivery, start, end, contract, project, supply_type, seller_item,
         item_scheme, item_id) in rows:
        due_date, due_amount = ("", "") if terms else dues.get(pk, currency)
        supply = [_day(delivery), _day(start), _day(end), contract, project, supply_type]
        if opening:
            head = [OPENING, number, "", customer, issue.isoformat(), currency, _text(rate),
                    terms or "", due_date, due_amount, po, buyer, notes, "",
                    Money.from_minor(total, currency).format_plain(), description]
            writer.writerow(head + [""] * 6 + supply + ["", ""])
        else:
            writer.writerow([
                kind, number, "", customer, issue.isoformat(), currency, _text(rate),
                terms or "", due_date, due_amount, po, buyer, notes, corrects or "", "",
                description, _text(quantity), _text(price), _text(tax_rate), _text(discount),
                category, reason, *supply, seller_item,
                f"{item_scheme}:{item_id}" if item_id else "",
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


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _text(value: Decimal | str) -> str:
    return format(Decimal(value), "f")
