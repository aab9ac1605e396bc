"""Invoices and credit notes from and to CSV: one row per line.

Rows with the same ``number`` form one document (without numbers, rows with the same
``ref``; a row with neither is a one-line document). A document given a number keeps it
(series IMP: the open invoices of a business moving from another system); without one it
takes the next gapless number of its series. Documents are posted by the bulk poster's
parts (``DocumentChecker`` checks, ``DocumentWriter`` writes), so every rule of
``invoice_post`` applies and every broken one is reported. A credit note may correct an
invoice of the company or one of the same file; it is then applied to that invoice, as
``invoice_post`` does.

Memory does not grow with the size of the file (see ``docs/design/posting-and-numbering.md``,
"Imports in bounded memory"):

1. **Check.** Rows are read and grouped into documents one document at a time; each chunk of
   ``CHUNK`` documents is checked by every rule (``DocumentChecker``). What the rules across
   documents need is kept in compact form: the numbers and refs met, and per document a few
   integers in arrays (first line, kind, customer, currency, total; series and issue date
   when it takes a new number). Every problem is collected; while there is none, each
   checked chunk is appended to a temporary spill file (pickled ``PreparedDoc``). If there is
   one, the import fails with every problem and nothing is written.
2. **Write.** The new numbers are taken, each series in order of issue date, then file order
   (the ranks were computed from the arrays), then the spill file is read back a chunk at a
   time and written (``DocumentWriter``: documents, lines, instalments, journal entries,
   audit events, PDF tasks), all in the import's one transaction. Credit notes that correct
   an invoice of the same file go last, once that invoice has an id.

A document whose rows are not next to each other in the file is noticed by the first reading
(``Scattered``); the file is then scanned for every such document and the line of its last
row, and the check starts again, holding each of those documents until that line.
"""

from __future__ import annotations

import csv
import dataclasses
import operator
import pickle
import tempfile
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Container, Iterable, Iterator
from datetime import date
from decimal import Decimal
from typing import IO, Any, TextIO

from salesledger.apps.core.services import number_format
from salesledger.apps.customers.models import Customer, PaymentTerms
from salesledger.apps.invoicing.bulk import (
    BulkDoc,
    DocumentChecker,
    DocumentWriter,
    PreparedDoc,
    credit_notes_apply_to_corrected_bulk,
    numbers_reserve,
)
from salesledger.apps.invoicing.models import DocKind, Invoice, InvoiceLine
from salesledger.apps.invoicing.services import resolve_rate
from salesledger.domain.errors import LedgerError
from salesledger.domain.lifecycle import DocStatus
from salesledger.formats.csv_rows import (
    INVOICES,
    DocumentRows,
    DocumentStream,
    InvoiceRow,
    Scattered,
    invoice_row,
    scattered_documents,
)

from .common import CsvSource, ImportContext, in_chunks, limits

LIMITS = limits({
    "number": (Invoice, "number"), "customer": (Customer, "code"),
    "terms": (PaymentTerms, "code"), "po_number": (Invoice, "po_number"),
    "buyer_reference": (Invoice, "buyer_reference"), "corrects": (Invoice, "number"),
    "description": (InvoiceLine, "description"),
})
CHUNK = 2000  # documents checked, then written, together
_INVOICE, _CREDIT_NOTE = 1, 2  # kinds in the compact arrays (0: not known)


def import_rows(ctx: ImportContext, source: CsvSource) -> dict[str, Any]:
    ctx.date_column = "issue_date"
    with tempfile.TemporaryFile() as spill:
        try:
            plan = _Check(ctx, source, spill, scattered={}).run()
        except Scattered:
            ctx.problems.clear()
            spill.seek(0)
            spill.truncate()
            with source.read() as reader:
                scattered = scattered_documents(reader)
            plan = _Check(ctx, source, spill, scattered=scattered).run()
        ctx.fail_if_problems()
        return _Write(ctx, plan, spill).run()


def _report(ctx: ImportContext, g: DocumentRows, exc: LedgerError) -> None:
    line = g.line
    line_no = exc.fields.get("line")  # a line of the document (pure core's numbering)
    if isinstance(line_no, int) and 1 <= line_no <= len(g.rows):
        line = g.rows[line_no - 1].line
    ctx.error(line, exc)


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
    _Pickler(fh, protocol=pickle.HIGHEST_PROTOCOL).dump(docs)


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


class _Pickler(pickle.Pickler):
    """Pickles the frozen, slotted dataclasses of the pure core (totals, lines, terms, money)
    as their field values: the generic way goes through ``dataclasses.fields`` for every
    object, a third of the import's time for the spill file."""

    _slots: dict[type, Callable[[Any], tuple[Any, ...]] | None] = {}

    def reducer_override(self, obj: Any) -> Any:
        cls = type(obj)
        getter = self._slots.get(cls, False)
        if getter is False:
            slots = cls.__dict__.get("__slots__") if dataclasses.is_dataclass(cls) else None
            getter = self._slots[cls] = operator.attrgetter(*slots) if slots else None
        if getter is None:
            return NotImplemented
        values = getter(obj)
        return _unpickle_slots, (cls, values if isinstance(values, tuple) else (values,))


def _unpickle_slots(cls: type, values: tuple[Any, ...]) -> Any:
    obj = object.__new__(cls)
    for name, value in zip(cls.__slots__, values, strict=True):  # type: ignore[attr-defined]
        object.__setattr__(obj, name, value)
    return obj


class _Plan:
    """What the check hands to the writing."""

    def __init__(self) -> None:
        self.rows = 0
        # Numbering groups (series, fiscal year, phase); phase 1: the credit notes written
        # last, which take their numbers after the others of their series, as before.
        self.group_keys: list[tuple[str, int, int]] = []
        self.groups = array("H")  # 1 + group of each document taking a new number, else 0
        self.rank = array("i")  # its place in its group: by issue date, then file order
        self.fresh: dict[tuple[str, int, int], int] = {}  # documents per group
        self.days: dict[tuple[str, int], date] = {}  # a day of each (series, fiscal year)
        self.kept: dict[tuple[str, int], int] = {}  # kept numbers continuing the series
        self.deferred: dict[int, str] = {}  # credit note -> the number of the file it corrects
        self.targets: dict[str, int] = {}  # those numbers -> ids, once written


def _zeros(typecode: str, n: int) -> array:  # type: ignore[type-arg]
    return array(typecode, bytes(n * array(typecode).itemsize))


class _Check:
    """The first reading: every rule, every problem, nothing written. Keeps per document a
    few integers in arrays (by index, the order of first rows), not the document; the
    checked documents go to the spill file while the file is clean."""

    def __init__(self, ctx: ImportContext, source: CsvSource, spill: IO[bytes],
                 scattered: dict[str, int]) -> None:
        self.ctx, self.source, self.spill = ctx, source, spill
        self.stream = DocumentStream(ctx.problems, scattered=scattered)
        self.refs = _References(ctx)
        self.checker = DocumentChecker(ctx.company, unique_numbers=True)
        self.plan = _Plan()
        self.lines = array("i")  # first line
        self.kinds = array("b")  # kind given (_INVOICE, _CREDIT_NOTE; 0: not read yet)
        self.ok = bytearray()  # 1: passed every check
        self.customer_ids = array("i")
        self.currencies = array("B")  # index in currency_codes
        self.totals = array("q")
        self.series = array("B")  # 1 + index in series_keys, for a document taking a number
        self.days = array("i")  # its issue date (ordinal)
        self.currency_codes: list[str] = []
        self.series_keys: list[tuple[str, int]] = []
        self.pending: list[tuple[int, str]] = []  # credit notes of numbers not met yet

    def run(self) -> tuple[_Plan, DocumentChecker]:
        ctx = self.ctx
        with self.source.read() as reader:
            rows = (invoice_row(line, cells, ctx.problems) for line, cells in reader)
            for chunk in _chunks(self.stream, rows):
                self.check(chunk)
            ctx.rows_read(reader)
            self.plan.rows = reader.rows
        self._grow()
        self.finish()
        return self.plan, self.checker

    def _grow(self) -> None:
        n = self.stream.count - len(self.lines)
        if n > 0:
            for arr in (self.lines, self.kinds, self.customer_ids, self.currencies,
                        self.totals, self.series, self.days):
                arr.extend(_zeros(arr.typecode, n))
            self.ok.extend(bytes(n))

    def check(self, chunk: list[DocumentRows]) -> None:
        self._grow()
        ctx, numbers = self.ctx, self.stream.numbers
        self.refs.load(chunk, numbers)
        docs: list[BulkDoc] = []
        items: dict[int, DocumentRows] = {}
        for g in chunk:
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
            docs.append(doc)
            items[g.index] = g
        prepared = self.checker.check(docs, list(items))
        for index, exc in prepared.problems:
            _report(ctx, items[index], exc)
        for p in prepared.docs:
            self._keep(p)
        if not ctx.problems:  # a broken file is only checked
            _spill(self.spill, prepared.docs)

    def _keep(self, p: PreparedDoc) -> None:
        i = p.index
        self.ok[i] = 1
        self.customer_ids[i] = p.customer.pk
        self.totals[i] = p.totals.total
        if p.currency not in self.currency_codes:
            self.currency_codes.append(p.currency)
        self.currencies[i] = self.currency_codes.index(p.currency)
        key = (p.series, p.fiscal_year)
        self.plan.days.setdefault(key, p.doc.issue_date)
        if p.number is None:  # takes a new number
            if key not in self.series_keys:
                self.series_keys.append(key)
            self.series[i] = self.series_keys.index(key) + 1
            self.days[i] = p.doc.issue_date.toordinal()

    def _defer(self, index: int, number: str) -> None:
        self.plan.deferred[index] = number
        self.plan.targets[number] = 0

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
        if not ctx.problems:
            self._numbering()

    def _numbering(self) -> None:
        """Each group's new numbers go in order of issue date, then file order."""
        plan = self.plan
        plan.groups = _zeros("H", len(self.series))
        counts: dict[int, Counter[int]] = defaultdict(Counter)
        for i, s in enumerate(self.series):
            if s:
                series, fy = self.series_keys[s - 1]
                group = (series, fy, 1 if i in plan.deferred else 0)
                if group not in plan.group_keys:
                    plan.group_keys.append(group)
                g = plan.groups[i] = plan.group_keys.index(group) + 1
                counts[g][self.days[i]] += 1
        starts: dict[tuple[int, int], int] = {}
        for g, by_day in counts.items():
            total = 0
            for day in sorted(by_day):
                starts[(g, day)] = total
                total += by_day[day]
            plan.fresh[plan.group_keys[g - 1]] = total
        plan.rank = _zeros("i", len(plan.groups))
        for i, g in enumerate(plan.groups):
            if g:
                at = (g, self.days[i])
                plan.rank[i] = starts[at]
                starts[at] += 1
        plan.kept = {key: self.checker.kept_seqs(key) for key in plan.days}


class _Write:
    """The writing: the new numbers are taken, then the checked documents are read back from
    the spill file a chunk at a time and written, in the same transaction; the credit notes
    correcting invoices of the file go last, once those have ids."""

    def __init__(self, ctx: ImportContext, checked: tuple[_Plan, DocumentChecker],
                 spill: IO[bytes]) -> None:
        self.ctx, self.spill = ctx, spill
        self.plan, self.checker = checked
        self.batch = ctx.batch(self.plan.rows)
        self.writer = DocumentWriter(ctx.company, ctx.actor, self.batch, self.checker.issued)
        self.first: dict[int, tuple[int, str]] = {}  # group -> (first seq, prefix)
        self.counts = Counter[str]()
        self.credits: list[int] = []  # credit notes that correct an invoice
        self.to_freeze: list[int] = []

    def run(self) -> dict[str, Any]:
        plan, ctx, customers = self.plan, self.ctx, self.checker.customers
        self.reserve()
        with tempfile.TemporaryFile() as later:
            waiting = False
            for chunk in _spilled(self.spill, customers):
                self.write([p for p in chunk if p.index not in plan.deferred])
                held = [p for p in chunk if p.index in plan.deferred]
                if held:
                    later.seek(0, 2)
                    _spill(later, held)
                    waiting = True
            for chunk in _spilled(later, customers) if waiting else ():
                for p in chunk:
                    p.corrects_number = plan.deferred[p.index]
                    p.doc.corrects_id = plan.targets[p.corrects_number]
                self.write(chunk)
        # Documents numbered here are issued here: their PDFs are frozen in the background.
        # Those that keep the number another system gave them were issued there.
        self.freeze(flush=True)
        applied = credit_notes_apply_to_corrected_bulk(
            actor=ctx.actor, company=ctx.company, credit_note_ids=self.credits)
        documents = self.counts["invoice"] + self.counts["credit_note"]
        return {"rows": plan.rows, "batch": self.batch.pk, "documents": documents,
                "invoices": self.counts["invoice"], "credit_notes": self.counts["credit_note"],
                "allocations": applied}

    def reserve(self) -> None:
        """Take every new number now; the credit notes written last (phase 1) take theirs
        after the others of their series."""
        plan = self.plan
        wanted: dict[tuple[str, int], tuple[date, int, int]] = {}
        for (series, fy, _), n in plan.fresh.items():
            day, fresh, _ = wanted.get((series, fy), (plan.days[(series, fy)], 0, 0))
            wanted[(series, fy)] = (day, fresh + n, plan.kept.get((series, fy), 0))
        for key, kept in plan.kept.items():
            if kept and key not in wanted:
                wanted[key] = (plan.days[key], 0, kept)
        reserved = numbers_reserve(self.ctx.company, wanted, self.checker)
        offset: Counter[tuple[str, int]] = Counter()
        for g, (series, fy, phase) in sorted(enumerate(plan.group_keys, start=1),
                                             key=lambda item: item[1][2]):
            first, prefix = reserved[(series, fy)]
            self.first[g] = (first + offset[(series, fy)], prefix)
            offset[(series, fy)] += plan.fresh[(series, fy, phase)]

    def write(self, docs: list[PreparedDoc]) -> None:
        if not docs:
            return
        plan = self.plan
        for p in docs:
            g = plan.groups[p.index]
            if g:
                first, prefix = self.first[g]
                p.seq = first + plan.rank[p.index]
                p.number = number_format(prefix, p.fiscal_year, p.seq)
        ids = self.writer.write(docs)
        for p, pk in zip(docs, ids, strict=True):
            self.counts[p.doc.kind] += 1
            if p.doc.number is None:
                self.to_freeze.append(pk)
            if p.doc.corrects_id:
                self.credits.append(pk)
            if p.number in plan.targets:
                plan.targets[p.number] = pk
        self.freeze()

    def freeze(self, *, flush: bool = False) -> None:
        from salesledger.apps.documents.services import FREEZE_CHUNK, pdfs_freeze_later

        n = len(self.to_freeze) if flush else len(self.to_freeze) // FREEZE_CHUNK * FREEZE_CHUNK
        if n:
            pdfs_freeze_later(self.ctx.company, self.to_freeze[:n])
            del self.to_freeze[:n]


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
            found = {c["code"]: (c["id"], c["currency"]) for c in Customer.objects.filter(
                company=company, code__in=chunk).values("id", "code", "currency")}
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
