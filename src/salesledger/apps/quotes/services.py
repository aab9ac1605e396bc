"""Writing quotes and moving them through their lifecycle; converting one into an invoice.

Each service locks the quote it changes, asks the pure lifecycle table
(``domain/quotes.py``) whether the action is allowed on that day, computes totals with the
same core as invoices (so the invoice of an accepted quote has the quoted totals), and
writes its audit event in the same transaction. A quote is numbered from the gapless
``QUO`` series when it is written: nothing deletes a quote, so the series has no gaps.

A quote has document-level allowances and charges (EN 16931 BG-20/BG-21) as an invoice
has: the same ``DocumentChargeInput``, checked and totalled by the same pure core
(``compute_invoice_totals``), carried over to each revision and to the invoice it becomes,
so that the invoice's totals are the quote's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction

from salesledger.apps.core import events
from salesledger.apps.core.actors import Actor, actor_row
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import (
    number_format,
    number_take,
    posting_locks,
    require_role,
)
from salesledger.apps.customers.selectors import customer_effective
from salesledger.apps.customers.services import payment_terms_find
from salesledger.apps.invoicing.issuing import compute_invoice_totals, document_currency
from salesledger.apps.invoicing.models import Invoice
from salesledger.apps.invoicing.services import InvoiceInput, invoice_create, invoice_post
from salesledger.domain.errors import NotFound, ValidationFailed
from salesledger.domain.invoicing import DocumentChargeInput, LineInput, Totals
from salesledger.domain.quotes import (
    QuoteAction,
    QuoteStatus,
    transition,
)
from salesledger.money import Money

from .models import Quote, QuoteCharge, QuoteLine
from .selectors import quote_revisions

SERIES = "QUO"
DEFAULT_VALIDITY_DAYS = 30


@dataclass
class QuoteInput:
    customer_code: str
    lines: list[LineInput]
    issue_date: date | None = None  # default: the day of the action
    valid_until: date | None = None  # default: 30 days after the issue date
    currency: str = ""
    terms_code: str = ""
    po_number: str = ""
    buyer_reference: str = ""
    notes: str = ""
    # Document-level allowances and charges (EN 16931 BG-20/BG-21), in order.
    charges: list[DocumentChargeInput] = field(default_factory=list)


def _amount(minor: int, currency: str) -> str:
    return str(Money.from_minor(minor, currency).amount)


def _check_validity(issue: date, valid_until: date) -> None:
    if valid_until < issue:
        raise ValidationFailed(
            f"the validity date {valid_until.isoformat()} is before the quote date "
            f"{issue.isoformat()}", field="valid_until")


def _write_lines(company: Company, quote: Quote, lines: list[LineInput],
                 charges: Sequence[DocumentChargeInput], totals: Totals) -> None:
    """The lines and the allowances or charges of a quote, with their computed amounts."""
    QuoteLine.objects.bulk_create(
        QuoteLine(company=company, quote=quote, position=i, description=li.description,
                  quantity=li.quantity, unit_price=li.unit_price,
                  discount_percent=li.discount_percent, tax_rate=li.tax_rate,
                  tax_category=li.tax_category, exemption_reason=li.exemption_reason,
                  unit_code=li.unit_code, net=lt.net, tax=lt.tax)
        for i, (li, lt) in enumerate(zip(lines, totals.lines, strict=True), start=1)
    )
    QuoteCharge.objects.bulk_create(
        QuoteCharge(company=company, quote=quote, position=i, is_charge=c.is_charge,
                    reason=c.reason.strip(), reason_code=c.reason_code, amount=ct.amount,
                    tax_category=c.tax_category, tax_rate=c.tax_rate, percent=c.percent)
        for i, (c, ct) in enumerate(zip(charges, totals.charges, strict=True), start=1)
    )


def quote_charges(quote: Quote) -> list[DocumentChargeInput]:
    """A quote's allowances and charges as the pure core takes them (amounts back from minor
    units; one given as a percentage stays a percentage)."""
    return [
        DocumentChargeInput(c.is_charge, Money.from_minor(c.amount, quote.currency).amount,
                            c.reason, c.reason_code, Decimal(c.tax_rate), c.tax_category,
                            None if c.percent is None else Decimal(c.percent))
        for c in quote.charges.all()
    ]


def quote_lines(quote: Quote) -> list[LineInput]:
    return [
        LineInput(li.description, li.quantity, li.unit_price, li.tax_rate, li.discount_percent,
                  li.tax_category, exemption_reason=li.exemption_reason, unit_code=li.unit_code)
        for li in quote.lines.all()
    ]


def _state(quote: Quote) -> dict[str, Any]:
    return {"quote": quote.label, "status": quote.status, "customer": quote.customer.code,
            "valid_until": quote.valid_until.isoformat(), "currency": quote.currency,
            "total": _amount(quote.total, quote.currency)}


def quote_create(*, actor: Actor, company: Company, data: QuoteInput, as_of: date) -> Quote:
    """Write a draft quote, numbered from the ``QUO`` series."""
    require_role(company, actor, Role.CLERK)
    customer = customer_effective(company, data.customer_code)
    currency = document_currency(company, customer, data.currency)
    totals = compute_invoice_totals(company, currency, data.lines, data.charges)
    issue = data.issue_date or as_of
    valid_until = data.valid_until or issue + timedelta(days=DEFAULT_VALIDITY_DAYS)
    _check_validity(issue, valid_until)
    terms = payment_terms_find(company, data.terms_code)
    with transaction.atomic():
        fy, seq, prefix = number_take(company, SERIES, issue)
        quote = Quote.objects.create(
            company=company, customer=customer, series=SERIES, fiscal_year=fy, seq=seq,
            number=number_format(prefix, fy, seq), issue_date=issue, valid_until=valid_until,
            currency=currency, terms=terms, po_number=data.po_number.strip(),
            buyer_reference=data.buyer_reference.strip(), notes=data.notes,
            net=totals.net, tax=totals.tax, total=totals.total,
            created_by=actor_row(actor))
        _write_lines(company, quote, data.lines, data.charges, totals)
        audit(company, actor, "quote.create", "quote", quote.pk, after=_state(quote),
              lines=len(data.lines))
    return quote


def _quote_locked(company: Company, label: str) -> Quote:
    """``quote_get``, its row locked until the transaction ends (the service changes it)."""
    # Only the quote row: PostgreSQL refuses FOR UPDATE on the nullable side of a join.
    quote = quote_revisions(company, label).select_for_update(of=("self",)).first()
    if quote is None:
        raise NotFound(f"no quote {label!r}", quote=label)
    return quote


def _move(*, actor: Actor, company: Company, label: str, action: QuoteAction, as_of: date,
          stamp: str, credit_override: str = "", **data: Any) -> Quote:
    require_role(company, actor, Role.CLERK)
    with transaction.atomic():
        quote = _quote_locked(company, label)
        before = quote.status
        quote.status = transition(quote.status, action, valid_until=quote.valid_until,
                                  as_of=as_of)
        if action == QuoteAction.ACCEPT:
            # What the apps above may refuse (a credit hold, say), before anything is written.
            events.check(events.QuoteAccepting(
                company_id=company.pk, actor=actor, quote_id=quote.pk,
                customer_id=quote.customer_id, currency=quote.currency, total=quote.total,
                as_of=as_of, credit_override=credit_override))
        setattr(quote, stamp, as_of)
        quote.save(update_fields=["status", stamp])
        audit(company, actor, f"quote.{action.value}", "quote", quote.pk,
              before={"status": before}, after=_state(quote), as_of=as_of.isoformat(), **data)
    return quote


def quote_send(*, actor: Actor, company: Company, number: str, as_of: date) -> Quote:
    """Mark a draft quote as sent. The documents app's ``quote_send`` e-mails it too, in
    the same transaction (a refused e-mail leaves the quote a draft)."""
    return _move(actor=actor, company=company, label=number, action=QuoteAction.SEND,
                 as_of=as_of, stamp="sent_on")


def quote_accept(*, actor: Actor, company: Company, number: str, as_of: date,
                 credit_override: str = "") -> Quote:
    """The customer accepted the quote (refused once it has expired on ``as_of``, or by
    a veto of the apps above: a credit hold, unless ``credit_override`` overrides it)."""
    return _move(actor=actor, company=company, label=number, action=QuoteAction.ACCEPT,
                 as_of=as_of, stamp="decided_on", credit_override=credit_override)


def quote_decline(*, actor: Actor, company: Company, number: str, as_of: date,
                  reason: str = "") -> Quote:
    """The customer declined the quote."""
    return _move(actor=actor, company=company, label=number, action=QuoteAction.DECLINE,
                 as_of=as_of, stamp="decided_on", reason=reason)


def quote_revise(*, actor: Actor, company: Company, number: str, as_of: date,
                 lines: list[LineInput] | None = None, valid_until: date | None = None,
                 terms_code: str | None = None, po_number: str | None = None,
                 buyer_reference: str | None = None, notes: str | None = None,
                 charges: list[DocumentChargeInput] | None = None) -> Quote:
    """Change a quote. A draft is edited in place. A sent (or declined) quote gets a new
    draft revision dated ``as_of`` with the changes, and the sent one is superseded and
    kept. What is not given is carried over (its lines, its allowances and charges: an
    empty ``charges`` removes them); the validity keeps its length unless given."""
    require_role(company, actor, Role.CLERK)
    with transaction.atomic():
        old = _quote_locked(company, number)
        if old.status == QuoteStatus.DRAFT:
            return _edit_draft(actor=actor, company=company, quote=old, lines=lines,
                               valid_until=valid_until, terms_code=terms_code,
                               po_number=po_number, buyer_reference=buyer_reference,
                               notes=notes, charges=charges)
        after = transition(old.status, QuoteAction.REVISE, valid_until=old.valid_until,
                           as_of=as_of)
        new_lines = lines if lines is not None else quote_lines(old)
        new_charges = charges if charges is not None else quote_charges(old)
        totals = compute_invoice_totals(company, old.currency, new_lines, new_charges)
        validity = valid_until or as_of + (old.valid_until - old.issue_date)
        _check_validity(as_of, validity)
        new = Quote.objects.create(
            company=company, customer=old.customer, series=old.series,
            fiscal_year=old.fiscal_year, seq=old.seq, number=old.number,
            revision=old.revision + 1, replaces=old, issue_date=as_of, valid_until=validity,
            currency=old.currency,
            terms=payment_terms_find(company, terms_code) if terms_code is not None else old.terms,
            po_number=(po_number if po_number is not None else old.po_number).strip(),
            buyer_reference=(buyer_reference if buyer_reference is not None
                             else old.buyer_reference).strip(),
            notes=notes if notes is not None else old.notes,
            net=totals.net, tax=totals.tax, total=totals.total,
            created_by=actor_row(actor))
        _write_lines(company, new, new_lines, new_charges, totals)
        if after != old.status:
            old.status = after
            old.save(update_fields=["status"])
        audit(company, actor, "quote.revise", "quote", new.pk, replaces=old.label,
              before=_state(old), after=_state(new), as_of=as_of.isoformat())
    return new


def _edit_draft(*, actor: Actor, company: Company, quote: Quote, lines: list[LineInput] | None,
                valid_until: date | None, terms_code: str | None, po_number: str | None,
                buyer_reference: str | None, notes: str | None,
                charges: list[DocumentChargeInput] | None) -> Quote:
    transition(quote.status, QuoteAction.EDIT, valid_until=quote.valid_until,
               as_of=quote.issue_date)
    before = _state(quote)
    if lines is not None or charges is not None:
        lines = lines if lines is not None else quote_lines(quote)
        charges = charges if charges is not None else quote_charges(quote)
        totals = compute_invoice_totals(company, quote.currency, lines, charges)
        QuoteLine.objects.filter(quote=quote).delete()
        QuoteCharge.objects.filter(quote=quote).delete()
        _write_lines(company, quote, lines, charges, totals)
        quote.net, quote.tax, quote.total = totals.net, totals.tax, totals.total
    if valid_until is not None:
        _check_validity(quote.issue_date, valid_until)
        quote.valid_until = valid_until
    if terms_code is not None:
        quote.terms = payment_terms_find(company, terms_code)
    if po_number is not None:
        quote.po_number = po_number.strip()
    if buyer_reference is not None:
        quote.buyer_reference = buyer_reference.strip()
    if notes is not None:
        quote.notes = notes
    quote.save()
    audit(company, actor, "quote.edit", "quote", quote.pk, before=before, after=_state(quote))
    return quote


def quote_convert(*, actor: Actor, company: Company, number: str, post: bool, as_of: date,
                  rate: Decimal | None = None, credit_override: str = "") -> Invoice:
    """Turn an accepted quote into an invoice dated ``as_of`` (posted when ``post``): its
    lines, allowances and charges, terms, PO number, buyer reference, currency and notes
    are carried over (so the invoice totals what the quote did) through
    the invoicing services, and the quote keeps the invoice. All or nothing: a refused
    posting leaves the quote unconverted. A quote is converted once."""
    require_role(company, actor, Role.CLERK)
    with transaction.atomic():
        quote = _quote_locked(company, number)
        transition(quote.status, QuoteAction.CONVERT, valid_until=quote.valid_until,
                   as_of=as_of, converted=quote.invoice_id is not None)
        if post:
            # The locks of posting first, in posting's order, before any audit event.
            posting_locks(company, "INV", as_of)
        invoice = invoice_create(actor=actor, company=company, data=InvoiceInput(
            customer_code=quote.customer.code, issue_date=as_of, lines=quote_lines(quote),
            charges=quote_charges(quote), currency=quote.currency, rate=rate,
            terms_code=quote.terms.code if quote.terms_id and quote.terms else "",
            po_number=quote.po_number, buyer_reference=quote.buyer_reference,
            notes=quote.notes))
        # The quote keeps its invoice before the invoice is posted: an accepted quote that
        # has its invoice no longer counts in the customer's credit exposure, which the
        # posting's credit check then sees once, as the invoice.
        quote.invoice = invoice
        quote.save(update_fields=["invoice"])
        if post:
            invoice = invoice_post(actor=actor, company=company, invoice_id=invoice.pk,
                                   credit_override=credit_override)
        audit(company, actor, "quote.convert", "quote", quote.pk, after={
            **_state(quote), "invoice": invoice.number or f"draft #{invoice.pk}",
            "posted": post}, as_of=as_of.isoformat())
    return invoice
