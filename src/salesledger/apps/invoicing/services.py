"""Writing and posting invoices and credit notes.

``invoice_create`` writes a draft; ``invoice_post`` turns it into a posted document in one
transaction: lock, check the lifecycle and the period, compute totals with the pure core,
take a gapless number, build the instalment schedule, write a balanced journal entry,
freeze a snapshot of what was issued and write the audit event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from salesledger.apps.core import events
from salesledger.apps.core.actors import Actor, actor_row
from salesledger.apps.core.audit import EventSpec, audit, audit_many
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import (
    check_open_period,
    document_date_check,
    number_format,
    number_take,
    require_role,
)
from salesledger.apps.customers.models import Customer, PaymentTerms
from salesledger.apps.customers.selectors import customer_get
from salesledger.apps.customers.services import payment_terms_find
from salesledger.apps.ledger.services import journal_write
from salesledger.domain import lifecycle
from salesledger.domain.errors import (
    CreditExceedsInvoice,
    CurrencyMismatch,
    DocumentNotPosted,
    NotFound,
    ValidationFailed,
)
from salesledger.domain.invoicing import (
    DocumentChargeInput,
    LineInput,
    Totals,
    check_purchase_order,
)
from salesledger.domain.journal import document_entry, to_base
from salesledger.domain.references import creditor_reference
from salesledger.domain.snapshot import snapshot_hash
from salesledger.domain.terms import NET_30, ScheduledInstalment, Terms, build_schedule
from salesledger.money import Money, Rounding, is_currency

from .einvoice import einvoice_check
from .issuing import charge_inputs, compute_invoice_totals, document_snapshot, line_inputs
from .models import DocKind, DocumentCharge, Instalment, Invoice, InvoiceLine
from .selectors import invoice_get


@dataclass
class InvoiceInput:
    customer_code: str
    issue_date: date
    lines: list[LineInput]
    currency: str = ""
    rate: Decimal | None = None
    terms_code: str = ""
    po_number: str = ""
    buyer_reference: str = ""
    notes: str = ""
    kind: str = DocKind.INVOICE
    corrects_number: str = ""
    exemption_reasons: list[str] = field(default_factory=list)
    # Document-level allowances and charges (EN 16931 BG-20/BG-21), in order.
    charges: list[DocumentChargeInput] = field(default_factory=list)


def resolve_rate(company: Company, currency: str, rate: Decimal | None,
                 day: date | None = None) -> Decimal:
    """The document's rate: the one given, else (with ``day``) the company's rate table on
    that day (``fx.selectors.rate_on``), else refused."""
    if currency == company.base_currency:
        if rate not in (None, Decimal(1)):
            raise ValidationFailed("a document in the base currency has rate 1", field="rate")
        return Decimal(1)
    if rate is None and day is not None:
        from salesledger.apps.fx.selectors import rate_on
        from salesledger.domain.errors import ExchangeRateMissing

        try:
            return rate_on(company, currency, day)
        except ExchangeRateMissing:
            raise ValidationFailed(
                f"a {currency} document needs an exchange rate to {company.base_currency}: "
                f"none was given and the rate table has none on or before {day.isoformat()} "
                f"(add one with `salesledger fx rate add {currency} RATE`)", field="rate",
            ) from None
    if rate is None:
        raise ValidationFailed(
            f"a {currency} document needs an exchange rate to {company.base_currency}",
            field="rate",
        )
    from salesledger.domain.fx import parse_rate

    return parse_rate(rate)  # positive, finite, in the rate table's range


def document_currency(company: Company, customer: Customer, currency: str) -> str:
    cur = (currency or customer.currency or company.base_currency).upper()
    if not is_currency(cur):
        raise ValidationFailed(f"unknown currency {currency!r}", field="currency")
    return cur


def invoice_create(*, actor: Actor, company: Company, data: InvoiceInput) -> Invoice:
    """Write a draft invoice or credit note. Nothing is numbered or journaled yet."""
    require_role(company, actor, Role.CLERK)
    customer = customer_get(company, data.customer_code)
    currency = document_currency(company, customer, data.currency)
    rate = resolve_rate(company, currency, data.rate, data.issue_date)
    # Refuses bad lines now; the draft shows what it would total (posting computes again).
    totals = compute_invoice_totals(company, currency, data.lines, data.charges)
    corrects = None
    if data.corrects_number:
        if data.kind != DocKind.CREDIT_NOTE:
            raise ValidationFailed("only a credit note can correct an invoice")
        corrects = invoice_get(company, data.corrects_number)
        if corrects.customer_id != customer.pk:
            raise ValidationFailed(
                f"{corrects.number} belongs to another customer", field="corrects")
        if corrects.currency != currency:
            raise CurrencyMismatch(
                f"the credit note is in {currency} but {corrects.number} is in {corrects.currency}")
    terms = payment_terms_find(company, data.terms_code)
    with transaction.atomic():
        inv = Invoice.objects.create(
            company=company, customer=customer, kind=data.kind,
            series="CN" if data.kind == DocKind.CREDIT_NOTE else "INV",
            issue_date=data.issue_date, currency=currency, rate=rate, terms=terms,
            po_number=data.po_number.strip(), buyer_reference=data.buyer_reference.strip(),
            notes=data.notes, corrects=corrects, net=totals.net, tax=totals.tax,
            total=totals.total,
            base_total=to_base(totals.total, currency, company.base_currency, rate),
        )
        InvoiceLine.objects.bulk_create(
            InvoiceLine(company=company, invoice=inv, position=i, description=li.description,
                        quantity=li.quantity, unit_price=li.unit_price,
                        discount_percent=li.discount_percent, tax_rate=li.tax_rate,
                        tax_category=li.tax_category, exemption_reason=li.exemption_reason,
                        unit_code=li.unit_code, net=lt.net, tax=lt.tax)
            for i, (li, lt) in enumerate(zip(data.lines, totals.lines, strict=True), start=1)
        )
        DocumentCharge.objects.bulk_create(
            DocumentCharge(company=company, invoice=inv, position=i, is_charge=c.is_charge,
                           reason=c.reason.strip(), reason_code=c.reason_code,
                           amount=Money.of(c.amount, currency).minor(),
                           tax_category=c.tax_category, tax_rate=c.tax_rate)
            for i, c in enumerate(data.charges, start=1)
        )
        audit(company, actor, f"{data.kind}.create", "invoice", inv.pk,
              customer=customer.code, lines=len(data.lines))
    return inv


def invoice_delete_draft(*, actor: Actor, company: Company, invoice_id: int) -> None:
    require_role(company, actor, Role.CLERK)
    with transaction.atomic():
        inv = Invoice.objects.select_for_update().filter(company=company, pk=invoice_id).first()
        if inv is None:
            raise NotFound(f"no invoice or credit note {invoice_id!r}", document=invoice_id)
        lifecycle.transition(inv.status, lifecycle.Action.DELETE)
        InvoiceLine.objects.filter(invoice=inv).delete()
        DocumentCharge.objects.filter(invoice=inv).delete()
        inv.delete()
        audit(company, actor, f"{inv.kind}.delete_draft", "invoice", invoice_id)


def document_terms(term_ids: tuple[int | None, ...], load: Callable[[int], Terms]) -> Terms:
    """The terms a document falls due by: the first of its own terms, the customer's and the
    company's default that is set (``term_ids`` in that order), else 30 days net."""
    for term_id in term_ids:
        if term_id:
            return load(term_id)
    return NET_30


def _terms_for(company: Company, inv: Invoice) -> Terms:
    return document_terms((inv.terms_id, inv.customer.payment_terms_id, company.default_terms_id),
                          lambda term_id: PaymentTerms.objects.get(pk=term_id).to_domain())


def posting_schedule(company: Company, *, credit: bool, total: int, currency: str, issue: date,
                     base_total: int, terms: Callable[[], Terms]
                     ) -> tuple[list[ScheduledInstalment], list[int]]:
    """Instalments of a document being posted and their base-currency amounts. A credit note
    (or an invoice of zero) has none: it is an open item as a whole."""
    if credit or total <= 0:
        return [], []
    schedule = build_schedule(Money.from_minor(total, currency), issue, terms(),
                              Rounding(company.rounding))
    return schedule, split_base(base_total, [s.amount for s in schedule])


def split_base(base_total: int, amounts: list[int]) -> list[int]:
    """Base-currency amounts of the instalments, in proportion, summing to ``base_total``."""
    if not amounts:
        return []
    total = sum(amounts)
    parts = [base_total * a // total for a in amounts[:-1]]
    return parts + [base_total - sum(parts)]


def posted_event(*, invoice_id: int, kind: str, number: str, customer_code: str, currency: str,
                 total: int, snapshot_hash: str) -> EventSpec:
    """The audit event of a posting (one per document, single or bulk)."""
    return EventSpec(f"{kind}.post", "invoice", str(invoice_id), {
        "after": {"number": number, "customer": customer_code, "currency": currency,
                  "total": str(Money.from_minor(total, currency).amount),
                  "snapshot_hash": snapshot_hash}})


def invoice_post(*, actor: Actor, company: Company, invoice_id: int,
                 as_of: date | None = None, allow_future_date: bool = False) -> Invoice:
    """Post a draft invoice or credit note (see the module docstring for what that does).
    A date beyond the company's future-date horizon is refused unless
    ``allow_future_date`` confirms it (``domain/dating.py``)."""
    require_role(company, actor, Role.CLERK)
    with transaction.atomic():
        # Lock the document row only: PostgreSQL refuses FOR UPDATE on the nullable side of
        # the outer join to ``corrects``.
        inv = (Invoice.objects.select_for_update(of=("self",))
               .select_related("customer", "corrects").filter(company=company, pk=invoice_id)
               .first())
        if inv is None:
            raise NotFound(f"no invoice or credit note {invoice_id!r}", document=invoice_id)
        lifecycle.transition(inv.status, lifecycle.Action.POST)
        check_open_period(company, inv.issue_date)
        document_date_check(company, confirmed=allow_future_date)(inv.issue_date)
        check_purchase_order(is_invoice=inv.kind == DocKind.INVOICE,
                             po_required=inv.customer.po_required, po_number=inv.po_number,
                             customer_code=inv.customer.code)
        lines, charges = line_inputs(inv), charge_inputs(inv)
        totals = compute_invoice_totals(company, inv.currency, lines, charges)
        credit = inv.kind == DocKind.CREDIT_NOTE
        if credit and inv.corrects_id:
            _check_credit_within_invoice(inv, totals.total)
        # Refuse what would be an invalid EN 16931 e-invoice (docs/design/e-invoicing.md).
        einvoice_check(company=company, invoice=inv,
                       snapshot=document_snapshot(inv, totals, lines, charges))
        # What the apps above may refuse (a credit hold, say), before anything is written.
        events.check(events.DocumentPosting(
            company_id=company.pk, actor=actor, kind=inv.kind, customer_id=inv.customer_id,
            currency=inv.currency, total=totals.total,
            base_total=to_base(totals.total, inv.currency, company.base_currency,
                               Decimal(inv.rate)),
            issue_date=inv.issue_date))
        fy, seq, prefix = number_take(company, inv.series, inv.issue_date)
        inv.fiscal_year, inv.seq, inv.number = fy, seq, number_format(prefix, fy, seq)
        finish_posting(company, inv, totals, lines, actor, charges)
        # In this transaction, the apps above act on it: the documents app queues the
        # freezing of its PDF, payments applies a credit note to the invoice it corrects.
        events.publish(events.DocumentsPosted(company_id=company.pk, actor=actor, documents=(
            events.PostedDocument(id=inv.pk, kind=inv.kind, customer_id=inv.customer_id,
                                  corrects_id=inv.corrects_id),)))
    return inv


def finish_posting(company: Company, inv: Invoice, totals: Totals, lines: list[LineInput],
                   actor: Actor, charges: Sequence[DocumentChargeInput] = ()) -> None:
    """The part of posting shared with imports that keep their own numbers: schedule,
    journal, snapshot, audit. ``inv.number`` is already set."""
    credit = inv.kind == DocKind.CREDIT_NOTE
    base_total = to_base(totals.total, inv.currency, company.base_currency, Decimal(inv.rate))
    for line_row, lt in zip(inv.lines.all(), totals.lines, strict=True):
        InvoiceLine.objects.filter(pk=line_row.pk).update(net=lt.net, tax=lt.tax)
    schedule, base_parts = posting_schedule(
        company, credit=credit, total=totals.total, currency=inv.currency, issue=inv.issue_date,
        base_total=base_total, terms=lambda: _terms_for(company, inv))
    entry = journal_write(
        company=company, day=inv.issue_date, kind=inv.kind, actor=actor,
        source_type="invoice", source_id=inv.pk, memo=f"{inv.number} {inv.customer.name}",
        lines=document_entry(credit_note=credit, customer_id=inv.customer_id,
                             currency=inv.currency, base_currency=company.base_currency,
                             rate=Decimal(inv.rate), net=totals.net, tax=totals.tax),
    )
    # The structured payment reference (ISO 11649) derives from the company-unique number.
    inv.payment_reference = creditor_reference(inv.number or "")
    snap = document_snapshot(inv, totals, lines, charges, inv.payment_reference)
    inv.net, inv.tax, inv.total, inv.base_total = totals.net, totals.tax, totals.total, base_total
    inv.due_date = schedule[-1].due_date if schedule else inv.issue_date
    inv.status = lifecycle.DocStatus.POSTED
    inv.snapshot, inv.snapshot_hash = snap, snapshot_hash(snap)
    inv.posted_at, inv.posted_by = timezone.now(), actor_row(actor)
    inv.journal_entry = entry
    inv.save()
    Instalment.objects.bulk_create(
        Instalment(company=company, invoice=inv, customer_id=inv.customer_id, seq=s.seq,
                   due_date=s.due_date, currency=inv.currency, amount=s.amount, base_amount=b,
                   discount_date=s.discount_date, discount_amount=s.discount_amount)
        for s, b in zip(schedule, base_parts, strict=True)
    )
    audit_many(company, actor, [posted_event(
        invoice_id=inv.pk, kind=inv.kind, number=inv.number or "",
        customer_code=inv.customer.code, currency=inv.currency, total=totals.total,
        snapshot_hash=inv.snapshot_hash)])


def _check_credit_within_invoice(cn: Invoice, total: int) -> None:
    original = cn.corrects
    assert original is not None
    if original.status != "posted":
        raise DocumentNotPosted(f"{original} is not posted; delete or edit the draft instead")
    # Lock the corrected invoice until commit, so that two credit notes posted at once do
    # not both see the same room left on it (the second waits, then sums the first).
    Invoice.objects.select_for_update().filter(pk=original.pk).values_list("pk").first()
    already = (Invoice.objects.filter(corrects=original, kind=DocKind.CREDIT_NOTE, status="posted")
               .aggregate(s=Sum("total"))["s"] or 0)
    if already + total > original.total:
        left = Money.from_minor(original.total - already, original.currency)
        raise CreditExceedsInvoice(
            f"credit notes would exceed {original.number}: at most {left} can still be credited",
            invoice=original.number)


def parse_decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValidationFailed(f"{what} {text!r} is not a number", field=what) from None
    if not value.is_finite():
        raise ValidationFailed(f"{what} {text!r} is not a number", field=what)
    return value if value else abs(value)  # -0 is 0
