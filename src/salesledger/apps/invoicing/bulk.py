"""Posting many invoices and credit notes at once: imports, migrations, demo data.

The rules are those of ``invoice_post`` (see ``services.py``) and the helpers are shared with
it: totals by the pure core with the company's tax rounding and rounding policy, instalments
by the payment terms, a balanced journal entry per document, a frozen and hashed snapshot,
one audit event per document, gapless numbers per series and fiscal year. What changes is
how rows reach the database: every table is written in batches of multi-row INSERTs (COPY on
PostgreSQL, see ``core/bulkinsert.py``: ``bulk_create`` spent most of a large import building
model objects), a series takes all its numbers with one ``number_take(count=k)``, and nothing
is read per document. Everything happens in one transaction (the caller may wrap a larger
one). ``documents_prepare`` checks, ``documents_write`` writes: a batch import calls the two
halves itself, to report every broken document before writing anything.

Documents go in as drafts with their number and totals, their lines are added, then one
``UPDATE`` per batch marks them posted: the immutability guards refuse lines added to a
posted document (``core/guards.py``), and inside the transaction nobody sees the drafts.

Numbers. A document without a number takes the next ones of its series (INV, CN) for the
fiscal year of its issue date, in order of issue date, then input order. A document given a
number keeps it in series ``IMP``, outside every counter (the open invoices of a business
moving from another system). One exception keeps the books sound: a kept number written
like this company's own (``INV2026-00042``, as an export of salesledger writes it) would
collide with a number the INV counter gives later, so such a number must continue its own
series without a gap; it is then stored in that series and moves the counter on.

The bulk writer publishes no event: its caller says what the documents are. The CSV import
publishes ``DocumentsPosted`` as ``invoice_post`` does, so that the apps above act on them
(PDFs frozen for documents numbered here, credit notes applied to the invoices they correct);
the demo plans its own allocations.

E-invoice rules. A document numbered here is issued here: it must be a valid EN 16931
e-invoice, and is checked by the same function as ``invoice_post`` (``einvoice_check``). A
document that keeps the number another system (or an earlier salesledger) gave it was
issued there: it is history, and is not checked again. Migrated history may also give its
own due dates (``BulkDoc.due``) and come as opening items (``BulkDoc.opening``: known by
its total, booked against the opening-balances account; docs/design/opening-items.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from salesledger.apps.core import events
from salesledger.apps.core.actors import Actor, actor_id
from salesledger.apps.core.audit import audit_many
from salesledger.apps.core.bulkinsert import insert_rows
from salesledger.apps.core.models import Company, ImportBatch, NumberCounter, Role
from salesledger.apps.core.services import (
    SERIES_PREFIX,
    check_open_period,
    document_date_check,
    number_format,
    number_take,
    require_role,
)
from salesledger.apps.customers.models import Address, Customer, PaymentTerms
from salesledger.apps.ledger.bulk import EntrySpec, journal_write_many
from salesledger.apps.ledger.services import accounts_by_role
from salesledger.domain.errors import (
    CreditExceedsInvoice,
    CurrencyMismatch,
    DocumentNotPosted,
    DuplicateCode,
    LedgerError,
    NotFound,
    PeriodClosed,
    UnknownCustomer,
    ValidationFailed,
)
from salesledger.domain.invoicing import LineInput, Totals, VatCategory, check_purchase_order
from salesledger.domain.journal import document_entry, to_base
from salesledger.domain.lifecycle import DocStatus
from salesledger.domain.numbering import fiscal_year
from salesledger.domain.references import creditor_reference
from salesledger.domain.snapshot import build_snapshot, snapshot_hash, snapshot_json
from salesledger.domain.terms import ScheduledInstalment, Terms, given_schedule
from salesledger.money import Money, is_currency

from .einvoice import einvoice_check
from .issuing import compute_invoice_totals, issued_customer
from .models import DocKind, Instalment, Invoice, InvoiceLine
from .services import document_terms, posted_event, posting_schedule, resolve_rate, split_base

KEPT_SERIES = "IMP"
_KINDS = frozenset(DocKind.values)
_CHUNK = 5000  # ids per IN (...) list


@dataclass
class BulkDoc:
    customer_id: int
    kind: str  # "invoice" | "credit_note"
    issue_date: date
    currency: str
    lines: list[LineInput]
    rate: Decimal = Decimal(1)
    terms_id: int | None = None  # None -> the customer's terms -> company.default_terms -> NET 30
    po_number: str = ""
    buyer_reference: str = ""
    notes: str = ""
    # Given: kept as is, in series "IMP" (no counter); None: gapless number from INV/CN.
    number: str | None = None
    corrects_id: int | None = None  # credit note correcting this posted invoice id
    # Due dates given instead of computed from the terms: (date, amount in the document
    # currency; None with a single date: the whole total), in order. Invoices only.
    due: list[tuple[date, Decimal | None]] | None = None
    # An opening item of a migration: an invoice of another system known by its total, one
    # line of VAT category O (not subject); needs its kept number. See the module docstring.
    opening: bool = False


@dataclass
class PreparedDoc:
    """A document that passed every check, with what posting it needs."""

    index: int
    doc: BulkDoc
    customer: Customer
    currency: str
    rate: Decimal
    totals: Totals
    terms: Terms
    series: str
    fiscal_year: int
    number: str | None = None  # kept number
    seq: int | None = None  # kept number that continues its own series
    corrects_number: str | None = None
    given: list[ScheduledInstalment] | None = None  # the instalments of ``doc.due``


@dataclass
class PreparedDocs:
    company: Company
    docs: list[PreparedDoc] = field(default_factory=list)
    # (input index, the error the single-document service would raise)
    problems: list[tuple[int, LedgerError]] = field(default_factory=list)
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)  # issued customer data


def documents_post_bulk(*, actor: Actor, company: Company, docs: list[BulkDoc],
                        import_batch: ImportBatch | None = None, batch_size: int = 2000,
                        allow_future_date: bool = False) -> list[int]:
    """Post every document in one transaction; return their ids in input order. The first
    broken rule raises the error ``invoice_post`` would raise, and nothing is written."""
    require_role(company, actor, Role.CLERK)
    with transaction.atomic():
        prepared = documents_prepare(company=company, docs=docs, actor=actor,
                                     allow_future_date=allow_future_date)
        if prepared.problems:
            raise prepared.problems[0][1]
        return documents_write(actor=actor, prepared=prepared, import_batch=import_batch,
                               batch_size=batch_size)


# ---------------------------------------------------------------------------- checks
def open_period_check(company: Company, days: Iterable[date]) -> Callable[[date], None]:
    """``check_open_period`` for many dates with one query: only a date in a closed period
    goes back to it (to raise its error)."""
    try:
        check_open_period(company, min(days, default=date.max))
    except PeriodClosed as exc:
        lock_date = exc.fields["lock_date"]
        return lambda day: check_open_period(company, day) if day <= lock_date else None
    return lambda day: None


def documents_prepare(*, company: Company, docs: list[BulkDoc], actor: Actor = None,
                      allow_future_date: bool = False) -> PreparedDocs:
    """Check every document and compute what posting it needs, reading the database a fixed
    number of times whatever the number of documents. Collects a problem per broken document
    instead of stopping at the first (batch imports report them all). Call inside the
    transaction that will write: the corrected invoices are locked until it ends. A new
    document (no number of its own) dated beyond the future-date horizon is refused unless
    ``allow_future_date``; one that keeps its number is history, not checked."""
    checker = DocumentChecker(company, actor=actor, allow_future_date=allow_future_date)
    out = checker.check(docs)
    out.problems.extend(checker.finish())
    bad = {i for i, _ in out.problems}
    out.docs = [p for p in out.docs if p.index not in bad]
    out.problems.sort(key=lambda p: p[0])
    return out


@dataclass(frozen=True)
class _Kept:
    index: int
    seq: int
    number: str


class DocumentChecker:
    """:func:`documents_prepare` in parts, for documents that come as a stream (an import
    reads its file in chunks): :meth:`check` each chunk, then :meth:`finish` for the one rule
    that needs every document (kept numbers that continue an own series). What it keeps
    between chunks is small: the customers, terms and corrected invoices met so far, what
    has been credited on each, and the kept numbers of own series. ``unique_numbers``: the
    caller has made sure no two documents share a kept number (an import groups its rows by
    number), so the numbers seen are not kept. ``actor``: who posts, as the vetoes of the
    apps above see it; ``allow_future_date``: new documents beyond the future-date horizon
    are confirmed."""

    def __init__(self, company: Company, *, unique_numbers: bool = False, actor: Actor = None,
                 allow_future_date: bool = False) -> None:
        self.company = company
        self.actor = actor
        self.future = document_date_check(company, confirmed=allow_future_date)
        self.customers: dict[int, Customer] = {}
        self.issued: dict[int, dict[str, Any]] = {}  # issued customer data, by customer id
        self.terms = {t.pk: t.to_domain() for t in PaymentTerms.objects.filter(company=company)}
        # Corrected invoices by id, with what has been credited on them: read from the
        # database, or given by the caller (``corrected``) for invoices not written yet.
        self.corrected: dict[int, dict[str, Any]] = {}
        self.counters = _counters(company)
        self._seen: set[str] | None = None if unique_numbers else set()
        self._own: dict[tuple[str, int], list[_Kept]] = defaultdict(list)
        self._count = 0

    def check(self, docs: list[BulkDoc], indexes: list[int] | None = None) -> PreparedDocs:
        """Check ``docs``; a problem or a prepared document carries its index, that of
        ``indexes`` (default: the position among every document checked so far)."""
        if indexes is None:
            indexes = list(range(self._count, self._count + len(docs)))
        self._count += len(docs)
        company = self.company
        out = PreparedDocs(company, customers=self.issued)
        new = {d.customer_id for d in docs} - set(self.customers)
        # With contacts and addresses: a document numbered here is checked as an e-invoice.
        found = _customers(company, new, issued_here=True)
        self.customers.update(found)
        self.issued.update(_issued(company, found))
        self.corrected.update(_corrected(company, {
            d.corrects_id for d in docs if d.corrects_id and d.corrects_id not in self.corrected}))
        taken = _numbers_taken(company, [d.number for d in docs if d.number])
        period = open_period_check(company, {d.issue_date for d in docs})
        for index, doc in zip(indexes, docs, strict=True):
            try:
                prep = _prepare_one(company, index, doc, self.customers, self.terms,
                                    self.corrected, period,
                                    self.future if doc.number is None else None)
                if doc.number is not None:
                    _keep_number(prep, doc.number, taken, self._seen)
                    if prep.seq is not None:
                        self._own[(prep.series, prep.fiscal_year)].append(
                            _Kept(index, prep.seq, prep.number or ""))
                else:  # issued here: every rule of invoice_post, the e-invoice ones too
                    _check_einvoice(company, prep, self.issued[prep.customer.pk])
                # What the apps above may refuse, as for a document posted by hand.
                events.check(events.DocumentPosting(
                    company_id=company.pk, actor=self.actor, kind=doc.kind,
                    customer_id=doc.customer_id, currency=prep.currency,
                    total=prep.totals.total,
                    base_total=to_base(prep.totals.total, prep.currency,
                                       company.base_currency, prep.rate),
                    issue_date=doc.issue_date, kept_number=doc.number is not None))
            except LedgerError as exc:
                out.problems.append((index, exc))
                continue
            if doc.corrects_id:  # the next credit note of the same invoice sees this one
                original = self.corrected[doc.corrects_id]
                original["credited"] = original.get("credited", 0) + prep.totals.total
            out.docs.append(prep)
        return out

    def finish(self) -> list[tuple[int, LedgerError]]:
        """The problems that only every document together shows."""
        problems = []
        for key, group in self._own.items():
            problems.extend(_check_continues(key, group, self.counters.get(key)))
        return problems

    def kept_seqs(self, key: tuple[str, int]) -> int:
        """How many kept numbers continue the own series ``key`` (series, fiscal year)."""
        return len(self._own.get(key, ()))

    def correction(self, *, customer_id: int, currency: str, total: int,
                   corrects_id: int) -> LedgerError | None:
        """The rules of a credit note correcting ``corrects_id`` (one of ``corrected``),
        checked after the credit note itself (an import meets a credit note before the
        invoice it corrects when the invoice comes later in the file)."""
        doc = BulkDoc(customer_id=customer_id, kind=DocKind.CREDIT_NOTE.value, issue_date=date.min,
                      currency=currency, lines=[], corrects_id=corrects_id)
        try:
            _check_corrects(doc, self.customers[customer_id], currency, total, self.corrected)
        except LedgerError as exc:
            return exc
        original = self.corrected[corrects_id]
        original["credited"] = original.get("credited", 0) + total
        return None


def _customers(company: Company, ids: set[int], issued_here: bool = False
               ) -> dict[int, Customer]:
    """The customers, with (for documents issued here, whose e-invoice is checked) their
    contacts and addresses read in the same few queries."""
    found: dict[int, Customer] = {}
    id_list = sorted(ids)
    for i in range(0, len(id_list), _CHUNK):
        qs = Customer.objects.filter(company=company, pk__in=id_list[i:i + _CHUNK])
        if issued_here:
            qs = qs.prefetch_related("contacts", "addresses")
        found.update((c.pk, c) for c in qs)
    return found


def _issued(company: Company, customers: dict[int, Customer]) -> dict[int, dict[str, Any]]:
    billing: dict[int, dict[str, str]] = {}
    ids = sorted(customers)
    for i in range(0, len(ids), _CHUNK):
        for a in Address.objects.filter(company=company, kind="billing",
                                        customer_id__in=ids[i:i + _CHUNK]):
            billing[a.customer_id] = a.as_dict()
    return {pk: issued_customer(c, billing.get(pk)) for pk, c in customers.items()}


def _corrected(company: Company, ids: set[int]) -> dict[int, dict[str, Any]]:
    """Invoices that credit notes correct, locked, with what has been credited already."""
    if not ids:
        return {}
    rows = {r["id"]: r for r in (
        Invoice.objects.select_for_update().filter(company=company, pk__in=sorted(ids))
        .order_by("pk").values("id", "kind", "status", "number", "customer_id", "currency",
                               "total"))}
    for r in (Invoice.objects.filter(corrects_id__in=list(rows), kind=DocKind.CREDIT_NOTE,
                                     status=DocStatus.POSTED)
              .values("corrects_id").annotate(s=Sum("total")).order_by()):
        rows[r["corrects_id"]]["credited"] = r["s"]
    return rows


def _numbers_taken(company: Company, numbers: list[str]) -> set[str]:
    taken: set[str] = set()
    for i in range(0, len(numbers), _CHUNK):
        taken.update(Invoice.objects.filter(company=company, number__in=numbers[i:i + _CHUNK])
                     .values_list("number", flat=True))
    return taken


def _counters(company: Company) -> dict[tuple[str, int], NumberCounter]:
    return {(c.series, c.fiscal_year): c for c in NumberCounter.objects.filter(
        company=company, series__in=["INV", "CN"])}


def _prepare_one(company: Company, index: int, doc: BulkDoc, customers: dict[int, Customer],
                 terms: dict[int, Terms], corrected: dict[int, dict[str, Any]],
                 period: Callable[[date], None], future: Callable[[date], None] | None
                 ) -> PreparedDoc:
    # The rules in the order writing a draft and posting it apply them (invoice_create, then
    # invoice_post), so that a document that breaks several gets the same first refusal.
    customer = customers.get(doc.customer_id)
    if customer is None:
        raise UnknownCustomer(f"no customer with id {doc.customer_id}",
                              customer=doc.customer_id)
    if doc.kind not in _KINDS:
        raise ValidationFailed(f"unknown document kind {doc.kind!r}; use invoice or "
                               "credit_note", field="kind")
    currency = (doc.currency or "").upper()
    if not is_currency(currency):
        raise ValidationFailed(f"unknown currency {doc.currency!r}", field="currency")
    rate = resolve_rate(company, currency, doc.rate)
    credit = doc.kind == DocKind.CREDIT_NOTE
    if doc.opening:
        _check_opening(doc, currency)
    totals = compute_invoice_totals(company, currency, doc.lines)
    if doc.opening and totals.tax:
        raise ValidationFailed("an opening item carries no VAT of its own",
                               field="tax_category")
    corrects_number = None
    if doc.corrects_id:
        corrects_number = _check_corrects(doc, customer, currency, totals.total, corrected)
    if doc.terms_id and doc.terms_id not in terms:
        raise NotFound(f"no payment terms with id {doc.terms_id}", field="terms")
    given = None
    if doc.due is not None:
        given = _given_schedule(doc, currency, totals.total)
    period(doc.issue_date)
    if future is not None:  # a document numbered here, not history that keeps its number
        future(doc.issue_date)
    check_purchase_order(is_invoice=not credit, po_required=customer.po_required,
                         po_number=doc.po_number, customer_code=customer.code)
    return PreparedDoc(
        index=index, doc=doc, customer=customer, currency=currency, rate=rate, totals=totals,
        terms=document_terms((doc.terms_id, customer.payment_terms_id,
                              company.default_terms_id), terms.__getitem__),
        series="CN" if credit else "INV",
        fiscal_year=fiscal_year(doc.issue_date, company.fiscal_year_start),
        corrects_number=corrects_number, given=given)


def _check_opening(doc: BulkDoc, currency: str) -> None:
    """An opening item is an invoice with a kept number, lines of category O at 0 % whose
    amounts are exact in the currency (its stated total is not rounded)."""
    if doc.kind != DocKind.INVOICE:
        raise ValidationFailed("an opening item is an invoice; bring an open credit of the "
                               "old system in as a credit note", field="kind")
    if doc.number is None or not doc.number.strip():
        raise ValidationFailed("an opening item keeps the number its own system gave it; "
                               "give its number", field="number")
    for li in doc.lines:
        if li.tax_category != VatCategory.NOT_SUBJECT or li.tax_rate or li.discount_percent:
            raise ValidationFailed("an opening item carries no VAT of its own: its lines are "
                                   "of VAT category O at 0 %", field="tax_category")
        try:
            Money.of(li.quantity * li.unit_price, currency).minor()
        except ValueError:
            raise ValidationFailed(f"total {li.quantity * li.unit_price} has more decimals "
                                   f"than {currency} has", field="total") from None


def _given_schedule(doc: BulkDoc, currency: str, total: int) -> list[ScheduledInstalment]:
    """The instalments of due dates given with the document (pure rule: ``given_schedule``)."""
    if doc.kind != DocKind.INVOICE:
        raise ValidationFailed("a credit note falls due at once; it has no due dates",
                               field="due_date")
    if doc.terms_id:
        raise ValidationFailed("give payment terms or due dates, not both", field="due_date")
    parts: list[tuple[date, int | None]] = []
    for day, amount in doc.due or []:
        minor = None
        if amount is not None:
            try:
                minor = Money.of(amount, currency).minor()
            except ValueError:
                raise ValidationFailed(f"amount due {amount} has more decimals than {currency} "
                                       "has", field="due_amount") from None
        parts.append((day, minor))
    return given_schedule(total, currency, doc.issue_date, parts)


def _check_einvoice(company: Company, prep: PreparedDoc, issued: dict[str, Any]) -> None:
    """``einvoice_check`` of ``invoice_post``, on the document as posting will freeze it (an
    unsaved ``Invoice``: nothing is written, the customer's contacts and addresses are those
    read with it)."""
    doc = prep.doc
    inv = Invoice(company=company, customer=prep.customer, kind=doc.kind,
                  issue_date=doc.issue_date, currency=prep.currency, rate=prep.rate,
                  terms_id=doc.terms_id, po_number=doc.po_number.strip(),
                  buyer_reference=doc.buyer_reference.strip(), notes=doc.notes,
                  # An invoice of the same file, not written yet, has no id to point to.
                  corrects_id=doc.corrects_id if (doc.corrects_id or 0) > 0 else None)
    einvoice_check(company=company, invoice=inv, snapshot=build_snapshot(
        number=None, kind=doc.kind, issue_date=doc.issue_date, currency=prep.currency,
        rate=prep.rate, customer=issued, po_number=doc.po_number.strip(),
        buyer_reference=doc.buyer_reference.strip(), corrects=prep.corrects_number,
        lines=doc.lines, totals=prep.totals))


def _check_corrects(doc: BulkDoc, customer: Customer, currency: str, total: int,
                    corrected: dict[int, dict[str, Any]]) -> str:
    if doc.kind != DocKind.CREDIT_NOTE:
        raise ValidationFailed("only a credit note can correct an invoice", field="corrects")
    original = corrected.get(doc.corrects_id or 0)
    if original is None or original["kind"] != DocKind.INVOICE:
        raise NotFound(f"no invoice with id {doc.corrects_id}", field="corrects")
    if original["status"] != DocStatus.POSTED:
        raise DocumentNotPosted(f"invoice {doc.corrects_id} is not posted; delete or edit "
                                "the draft instead", field="corrects")
    if original["customer_id"] != customer.pk:
        raise ValidationFailed(f"{original['number']} belongs to another customer",
                               field="corrects")
    if original["currency"] != currency:
        raise CurrencyMismatch(f"the credit note is in {currency} but {original['number']} "
                               f"is in {original['currency']}", field="currency")
    already = original.get("credited", 0)
    if already + total > original["total"]:
        left = Money.from_minor(original["total"] - already, currency)
        raise CreditExceedsInvoice(
            f"credit notes would exceed {original['number']}: at most {left} can still be "
            "credited", invoice=original["number"], field="corrects")
    return str(original["number"])


def own_number(number: str) -> tuple[str, int, int] | None:
    """(series, fiscal year, seq) when ``number`` is written exactly as this company's own
    INV or CN series would write it, else None."""
    head, sep, tail = number.rpartition("-")
    if not sep or not tail.isdigit() or len(head) < 5 or not head[-4:].isdigit():
        return None
    prefix, year = head[:-4], int(head[-4:])
    for series in ("INV", "CN"):
        if prefix == SERIES_PREFIX[series] and number_format(prefix, year, int(tail)) == number:
            return series, year, int(tail)
    return None


def _keep_number(prep: PreparedDoc, number: str, taken: set[str],
                 seen: set[str] | None) -> None:
    number = number.strip()
    if not number:
        raise ValidationFailed("a kept number cannot be empty", field="number")
    if number in taken:
        raise DuplicateCode(f"number {number} is already used in this company", field="number")
    if seen is not None:
        if number in seen:
            raise DuplicateCode(f"number {number} is given to two documents", field="number")
        seen.add(number)
    prep.number = number
    own = own_number(number)
    if own is None:
        prep.series = KEPT_SERIES
        return
    series, year, seq = own
    if series != prep.series or year != prep.fiscal_year:
        raise ValidationFailed(
            f"{number} is written like this company's own {series} numbers of {year}, but "
            f"this {prep.doc.kind.replace('_', ' ')} belongs to series {prep.series} of "
            f"{prep.fiscal_year}; it would collide with a number given later. Leave the "
            "number empty to take a new one, or rename it", field="number")
    prep.seq = seq


def _check_continues(key: tuple[str, int], group: list[_Kept],
                     counter: NumberCounter | None) -> list[tuple[int, LedgerError]]:
    """Kept numbers of an own series must be exactly the next ones of its counter."""
    last = counter.last if counter else 0
    expected = set(range(last + 1, last + len(group) + 1))
    series, year = key
    nxt = number_format(counter.prefix if counter else SERIES_PREFIX[series], year, last + 1)
    return [(p.index, ValidationFailed(
        f"{p.number} is written like this company's own {series} numbers but does not "
        f"continue that series without a gap (its next number is {nxt}); it would collide "
        "with a number given later. Leave the number empty to take a new one, or rename it",
        field="number")) for p in group if p.seq not in expected]


# ---------------------------------------------------------------------------- writing
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


_INVOICE_COLUMNS = (
    "company_id", "customer_id", "kind", "status", "series", "fiscal_year", "seq", "number",
    "issue_date", "due_date", "currency", "rate", "terms_id", "po_number", "buyer_reference",
    "corrects_id", "notes", "net", "tax", "total", "base_total", "snapshot", "snapshot_hash",
    "posted_at", "posted_by_id", "import_batch_id", "created_at", "payment_reference",
    "opening")
_LINE_COLUMNS = (
    "company_id", "invoice_id", "position", "description", "quantity", "unit_price",
    "discount_percent", "tax_rate", "tax_category", "exemption_reason", "unit_code", "net",
    "tax")
_INSTALMENT_COLUMNS = (
    "company_id", "invoice_id", "customer_id", "seq", "due_date", "currency", "amount",
    "base_amount", "discount_date", "discount_amount")
class DocumentWriter:
    """Writes batches of prepared documents with multi-row INSERTs (``insert_rows``: the
    ORM's per-object work is most of the cost of ``bulk_create`` at this size). Each
    document has its number already (:func:`documents_write` gives them; an import that
    writes in chunks reserves them first with :func:`numbers_reserve`)."""

    def __init__(self, company: Company, actor: Actor, import_batch: ImportBatch | None,
                 customers: dict[int, dict[str, Any]]) -> None:
        self.company = company
        self.actor = actor
        self.user_id = actor_id(actor)
        self.batch_id = import_batch.pk if import_batch is not None else None
        self.customers = customers
        self.account_ids = {role: a.pk for role, a in accounts_by_role(company).items()}
        self.now = timezone.now()

    def write(self, chunk: list[PreparedDoc]) -> list[int]:
        company, base, cid = self.company, self.company.base_currency, self.company.pk
        invoices, schedules, events = [], [], []
        for p in chunk:
            doc, totals = p.doc, p.totals
            credit = doc.kind == DocKind.CREDIT_NOTE
            base_total = to_base(totals.total, p.currency, base, p.rate)
            if p.given is not None:
                schedule = p.given
                base_parts = split_base(base_total, [s.amount for s in schedule])
            else:
                schedule, base_parts = posting_schedule(
                    company, credit=credit, total=totals.total, currency=p.currency,
                    issue=doc.issue_date, base_total=base_total, terms=lambda p=p: p.terms)
            reference = creditor_reference(p.number or "")  # ISO 11649, as invoice_post
            snap = snapshot_json(build_snapshot(
                number=p.number, kind=doc.kind, issue_date=doc.issue_date, currency=p.currency,
                rate=p.rate, customer=self.customers[p.customer.pk],
                po_number=doc.po_number.strip(), buyer_reference=doc.buyer_reference.strip(),
                corrects=p.corrects_number, lines=doc.lines, totals=totals,
                payment_reference=reference))
            digest = snapshot_hash(snap)
            invoices.append((
                cid, p.customer.pk, doc.kind, DocStatus.DRAFT.value, p.series, p.fiscal_year,
                p.seq, p.number, doc.issue_date,
                schedule[-1].due_date if schedule else doc.issue_date, p.currency, p.rate,
                doc.terms_id, doc.po_number.strip(), doc.buyer_reference.strip(),
                doc.corrects_id, doc.notes, totals.net, totals.tax, totals.total, base_total,
                snap, digest, self.now, self.user_id, self.batch_id, self.now, reference,
                doc.opening))
            schedules.append((schedule, base_parts))
            events.append((p, digest))
        ids = insert_rows(Invoice, _INVOICE_COLUMNS, invoices, returning=True)
        lines, instalments, entries = [], [], []
        for p, pk, (schedule, base_parts) in zip(chunk, ids, schedules, strict=True):
            day = p.doc.issue_date
            lines.extend(
                (cid, pk, n, li.description, li.quantity, li.unit_price, li.discount_percent,
                 li.tax_rate, li.tax_category, li.exemption_reason, li.unit_code, lt.net,
                 lt.tax)
                for n, (li, lt) in enumerate(zip(p.doc.lines, p.totals.lines, strict=True), 1))
            instalments.extend(
                (cid, pk, p.customer.pk, s.seq, s.due_date, p.currency, s.amount, b,
                 s.discount_date, s.discount_amount)
                for s, b in zip(schedule, base_parts, strict=True))
            entries.append(EntrySpec(
                day=day, kind=p.doc.kind, memo=f"{p.number} {p.customer.name}",
                source_type="invoice", source_id=pk, lines=document_entry(
                    credit_note=p.doc.kind == DocKind.CREDIT_NOTE, customer_id=p.customer.pk,
                    currency=p.currency, base_currency=base, rate=p.rate, net=p.totals.net,
                    tax=p.totals.tax, opening=p.doc.opening)))
        insert_rows(InvoiceLine, _LINE_COLUMNS, lines)
        insert_rows(Instalment, _INSTALMENT_COLUMNS, instalments)
        entry_ids = journal_write_many(company=company, actor=self.actor, entries=entries,
                                       account_ids=self.account_ids)
        _mark_posted(list(zip(ids, entry_ids, strict=True)))
        audit_many(company, self.actor, [posted_event(
            invoice_id=pk, kind=p.doc.kind, number=p.number or "",
            customer_code=p.customer.code, currency=p.currency, total=p.totals.total,
            snapshot_hash=digest) for pk, (p, digest) in zip(ids, events, strict=True)])
        return ids


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
