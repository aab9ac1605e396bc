"""Checking documents before posting: every rule, for a batch, with a fixed number of reads.

``documents_prepare`` (or ``DocumentChecker`` a chunk at a time, for an import that streams its
file) reads what the rules need for a whole batch at once (customers with their contacts and
addresses, payment terms, the corrected invoices, locked, with what has been credited on them,
the numbers already taken, the lock date and the future-date horizon), then checks each
document with the pure rules (``domain/posting.py``, ``domain/invoicing.py``,
``domain/dating.py``), the EN 16931 rules of a document numbered here (``einvoice_check``) and
the vetoes of the apps above (``DocumentPosting``). A broken document is a problem, with the
error the single command gives; the others are prepared: their totals, terms, series and
fiscal year, for ``write.py``.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from salesledger.apps.core import events
from salesledger.apps.core.actors import Actor
from salesledger.apps.core.models import Company, NumberCounter
from salesledger.apps.core.services import (
    SERIES_PREFIX,
    document_date_check,
    open_period_check,
    prefix_of,
)
from salesledger.apps.customers.models import Customer, PaymentTerms
from salesledger.domain.bank_accounts import Payee
from salesledger.domain.errors import (
    DuplicateCode,
    LedgerError,
    NotFound,
    UnknownCustomer,
    ValidationFailed,
)
from salesledger.domain.invoicing import (
    DocumentChargeInput,
    LineInput,
    SupplyDetails,
    Totals,
    check_purchase_order,
    check_supply,
)
from salesledger.domain.journal import to_base
from salesledger.domain.lifecycle import DocStatus
from salesledger.domain.numbering import fiscal_year
from salesledger.domain.posting import (
    SERIES,
    check_correction,
    check_credit_room,
    check_opening,
    document_terms,
    given_due_dates,
    kept_number_series,
    kept_numbers_continue,
)
from salesledger.domain.snapshot import build_snapshot
from salesledger.domain.terms import ScheduledInstalment, Terms
from salesledger.money import is_currency

from ..einvoice import einvoice_check
from ..issuing import compute_invoice_totals, issued_customer_of, resolve_rate
from ..models import DocKind, Invoice
from ..payee import company_payee

_KINDS = frozenset(DocKind.values)
_BATCHES = itertools.count(1)  # the batch number of each checker's proposals
_CHUNK = 5000  # ids per IN (...) list


@dataclass
class BulkDoc:
    """A document to post: a new one (``draft_id`` None) or a stored draft."""

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
    # Document allowances and charges (EN 16931 BG-20/BG-21), in order.
    charges: list[DocumentChargeInput] = field(default_factory=list)
    # The stored draft this document is: posting it numbers and posts that row, whose lines
    # and charges are stored already (``services.invoices_post``).
    draft_id: int | None = None
    # Delivery date, invoicing period, contract and project, nature of the operation.
    supply: SupplyDetails = field(default_factory=SupplyDetails)
    # What it charges for (``models.Purpose``): a fee or interest is never credit-held.
    purpose: str = "sale"


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


def documents_prepare(*, company: Company, docs: list[BulkDoc], actor: Actor = None,
                      allow_future_date: bool = False, credit_override: str = ""
                      ) -> PreparedDocs:
    """Check every document and compute what posting it needs, reading the database a fixed
    number of times whatever the number of documents. Collects a problem per broken document
    instead of stopping at the first (batch imports report them all). Call inside the
    transaction that will write: the corrected invoices are locked until it ends. A new
    document (no number of its own) dated beyond the future-date horizon is refused unless
    ``allow_future_date``; one that keeps its number is history, not checked.
    ``credit_override``: the comment of a user who overrides a credit hold or limit (the
    vetoes above decide whether it may)."""
    checker = DocumentChecker(company, actor=actor, allow_future_date=allow_future_date,
                              credit_override=credit_override)
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
    are confirmed; ``credit_override``: the comment that overrides a credit refusal, passed
    to the vetoes with every document. The proposals of one checker share a ``batch``
    number, so that a veto can count what the batch proposed before."""

    def __init__(self, company: Company, *, unique_numbers: bool = False, actor: Actor = None,
                 allow_future_date: bool = False, credit_override: str = "") -> None:
        self.company = company
        self.actor = actor
        self.credit_override = credit_override
        self.batch = next(_BATCHES)
        self.future = document_date_check(company, confirmed=allow_future_date)
        self.customers: dict[int, Customer] = {}
        self.issued: dict[int, dict[str, Any]] = {}  # issued customer data, by customer id
        self.terms = {t.pk: t.to_domain() for t in PaymentTerms.objects.filter(company=company)}
        # Corrected invoices by id, with what has been credited on them: read from the
        # database, or given by the caller (``corrected``) for invoices not written yet.
        self.corrected: dict[int, dict[str, Any]] = {}
        self.counters = _counters(company)
        self.payee = company_payee(company)  # the accounts invoices name, read once
        self.prefix_of = prefix_of({key: c.prefix for key, c in self.counters.items()})
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
        found = _customers(company, new)
        self.customers.update(found)
        self.issued.update(_issued(found))
        # The locks in posting's order: the company row (shared), then corrected invoices.
        period = open_period_check(company, {d.issue_date for d in docs})
        self.corrected.update(_corrected(company, {
            d.corrects_id for d in docs if d.corrects_id and d.corrects_id not in self.corrected}))
        taken = _numbers_taken(company, [d.number for d in docs if d.number])
        for index, doc in zip(indexes, docs, strict=True):
            try:
                prep = _prepare_one(company, index, doc, self.customers, self.terms,
                                    self.corrected, period,
                                    self.future if doc.number is None else None)
                if doc.number is not None:
                    self._keep_number(prep, doc.number, taken)
                else:  # issued here: every rule of posting, the e-invoice ones too
                    _check_einvoice(company, prep, self.issued[prep.customer.pk], self.payee)
                # What the apps above may refuse, as for a document posted by hand.
                events.check(events.DocumentPosting(
                    company_id=company.pk, actor=self.actor, kind=doc.kind,
                    customer_id=doc.customer_id, currency=prep.currency,
                    total=prep.totals.total,
                    base_total=to_base(prep.totals.total, prep.currency,
                                       company.base_currency, prep.rate),
                    issue_date=doc.issue_date, kept_number=doc.number is not None,
                    purpose=doc.purpose, credit_override=self.credit_override,
                    batch=self.batch))
            except LedgerError as exc:
                out.problems.append((index, exc))
                continue
            if doc.corrects_id:  # the next credit note of the same invoice sees this one
                original = self.corrected[doc.corrects_id]
                original["credited"] = original.get("credited", 0) + prep.totals.total
            out.docs.append(prep)
        return out

    def _keep_number(self, prep: PreparedDoc, number: str, taken: set[str]) -> None:
        number = number.strip()
        if not number:
            raise ValidationFailed("a kept number cannot be empty", field="number")
        if number in taken:
            raise DuplicateCode(f"number {number} is already used in this company",
                                field="number")
        if self._seen is not None:
            if number in self._seen:
                raise DuplicateCode(f"number {number} is given to two documents",
                                    field="number")
            self._seen.add(number)
        prep.number = number
        prep.series, prep.seq = kept_number_series(
            number, kind=prep.doc.kind, series=prep.series, fiscal_year=prep.fiscal_year,
            prefix_of=self.prefix_of)
        if prep.seq is not None:
            self._own[(prep.series, prep.fiscal_year)].append(_Kept(prep.index, prep.seq,
                                                                    number))

    def finish(self) -> list[tuple[int, LedgerError]]:
        """The problems that only every document together shows."""
        problems = []
        for (series, year), group in self._own.items():
            counter = self.counters.get((series, year))
            problems.extend(kept_numbers_continue(
                series, year, [(k.index, k.seq, k.number) for k in group],
                counter.last if counter else 0,
                counter.prefix if counter else SERIES_PREFIX[series]))
        return problems

    def kept_seqs(self, key: tuple[str, int]) -> int:
        """How many kept numbers continue the own series ``key`` (series, fiscal year)."""
        return len(self._own.get(key, ()))

    def correction(self, *, customer_id: int, currency: str, total: int,
                   corrects_id: int) -> LedgerError | None:
        """The rules of a credit note correcting ``corrects_id`` (one of ``corrected``),
        checked after the credit note itself (an import meets a credit note before the
        invoice it corrects when the invoice comes later in the file)."""
        original = self.corrected.get(corrects_id)
        try:
            check_correction(kind=DocKind.CREDIT_NOTE, corrects_id=corrects_id,
                             original=original, customer_id=customer_id, currency=currency)
            assert original is not None
            check_credit_room(original=original, credited=original.get("credited", 0),
                              total=total)
        except LedgerError as exc:
            return exc
        original["credited"] = original.get("credited", 0) + total
        return None


# ---------------------------------------------------------------------------- reads
def _customers(company: Company, ids: set[int]) -> dict[int, Customer]:
    """The customers, with their contacts and addresses (the e-invoice check of a document
    numbered here reads them) in the same few queries."""
    found: dict[int, Customer] = {}
    id_list = sorted(ids)
    for i in range(0, len(id_list), _CHUNK):
        qs = (Customer.objects.filter(company=company, pk__in=id_list[i:i + _CHUNK])
              .prefetch_related("contacts", "addresses", "bank_accounts"))
        found.update((c.pk, c) for c in qs)
    return found


def _issued(customers: dict[int, Customer]) -> dict[int, dict[str, Any]]:
    """The customers as documents print them, with their billing address (one at most) and
    the account a direct debit takes from."""
    return {pk: issued_customer_of(c) for pk, c in customers.items()}


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
        company=company, series__in=list(SERIES.values()))}


# ---------------------------------------------------------------------------- one document
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
        check_opening(kind=doc.kind, number=doc.number, lines=doc.lines, currency=currency)
    totals = compute_invoice_totals(company, currency, doc.lines, doc.charges)
    if doc.opening and totals.tax:
        raise ValidationFailed("an opening item carries no VAT of its own",
                               field="tax_category")
    original, corrects_number = None, None
    if doc.corrects_id:
        original = corrected.get(doc.corrects_id)
        corrects_number = check_correction(kind=doc.kind, corrects_id=doc.corrects_id,
                                           original=original, customer_id=customer.pk,
                                           currency=currency)
    if doc.terms_id and doc.terms_id not in terms:
        raise NotFound(f"no payment terms with id {doc.terms_id}", field="terms")
    given = None
    if doc.due is not None:
        given = given_due_dates(kind=doc.kind, terms_id=doc.terms_id, due=doc.due,
                                currency=currency, issue=doc.issue_date, total=totals.total)
    # Posting's own rules.
    period(doc.issue_date)
    if future is not None:  # a document numbered here, not history that keeps its number
        future(doc.issue_date)
    check_purchase_order(is_invoice=not credit, po_required=customer.po_required,
                         po_number=doc.po_number, customer_code=customer.code)
    doc.supply = check_supply(doc.supply)
    if original is not None:
        check_credit_room(original=original, credited=original.get("credited", 0),
                          total=totals.total)
    return PreparedDoc(
        index=index, doc=doc, customer=customer, currency=currency, rate=rate, totals=totals,
        terms=document_terms((doc.terms_id, customer.payment_terms_id,
                              company.default_terms_id), terms.__getitem__),
        series=SERIES[doc.kind],
        fiscal_year=fiscal_year(doc.issue_date, company.fiscal_year_start),
        corrects_number=corrects_number, given=given)


def _check_einvoice(company: Company, prep: PreparedDoc, issued: dict[str, Any],
                    payee: Payee) -> None:
    """``einvoice_check`` on the document as posting will freeze it (an unsaved ``Invoice``:
    nothing is written, the customer's contacts and addresses are those read with it)."""
    doc = prep.doc
    inv = Invoice(company=company, customer=prep.customer, kind=doc.kind,
                  issue_date=doc.issue_date, currency=prep.currency, rate=prep.rate,
                  terms_id=doc.terms_id, po_number=doc.po_number.strip(),
                  buyer_reference=doc.buyer_reference.strip(), notes=doc.notes,
                  # An invoice of the same file, not written yet, has no id to point to.
                  corrects_id=doc.corrects_id if (doc.corrects_id or 0) > 0 else None,
                  delivery_date=doc.supply.delivery_date)
    einvoice_check(company=company, invoice=inv, snapshot=build_snapshot(
        number=None, kind=doc.kind, issue_date=doc.issue_date, currency=prep.currency,
        rate=prep.rate, customer=issued, po_number=doc.po_number.strip(),
        buyer_reference=doc.buyer_reference.strip(), corrects=prep.corrects_number,
        lines=doc.lines, totals=prep.totals, charges=doc.charges, supply=doc.supply,
        payee=payee))
