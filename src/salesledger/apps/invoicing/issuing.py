"""A document as posting issues it: currency and rate, totals, inputs, customer, snapshot.

The pieces that posting (``services``, ``posting/``), the e-invoice builder (``einvoice``) and
the apps above (documents, quotes, recurring, imports) share, below all of them so that they
depend on it one way: the currency and exchange rate of a document, the totals of a
document under the company's tax rounding and rounding policy (the pure core computes them,
``domain/invoicing.py``), the lines and allowances or charges of a stored document as the core
takes them, the customer as the document prints it, and the snapshot posting would freeze of a
stored document (``domain/snapshot.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from salesledger.apps.core.models import Company
from salesledger.apps.customers.models import Customer
from salesledger.apps.fx.selectors import rate_on
from salesledger.domain.errors import ExchangeRateMissing, ValidationFailed
from salesledger.domain.fx import parse_rate
from salesledger.domain.invoicing import (
    DocumentChargeInput,
    LineInput,
    TaxRounding,
    Totals,
    compute_totals,
)
from salesledger.domain.receipts import document_currency_of
from salesledger.domain.snapshot import build_snapshot
from salesledger.money import Money, Rounding

from .models import Invoice


def resolve_rate(company: Company, currency: str, rate: Decimal | None,
                 day: date | None = None) -> Decimal:
    """The document's rate: the one given, else (with ``day``) the company's rate table on
    that day (``fx.selectors.rate_on``), else refused."""
    if currency == company.base_currency:
        if rate not in (None, Decimal(1)):
            raise ValidationFailed("a document in the base currency has rate 1", field="rate")
        return Decimal(1)
    if rate is None and day is not None:
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
    return parse_rate(rate)  # positive, finite, in the rate table's range


def document_currency(company: Company, customer: Customer, currency: str) -> str:
    """The document's currency: the one given, else the customer's, else the base one (the
    rule every document and receipt shares: ``domain.receipts.document_currency_of``)."""
    return document_currency_of(currency, customer.currency, company.base_currency)


def compute_invoice_totals(company: Company, currency: str, lines: list[LineInput],
                           charges: Sequence[DocumentChargeInput] = ()) -> Totals:
    """The totals of a document of ``company``: its tax rounding and rounding policy."""
    return compute_totals(
        lines, currency, tax_rounding=TaxRounding(company.tax_rounding),
        rounding=Rounding(company.rounding), charges=charges,
    )


def line_inputs(inv: Invoice) -> list[LineInput]:
    """The lines of a stored document, as the pure core takes them."""
    return [
        LineInput(li.description, li.quantity, li.unit_price, li.tax_rate,
                  li.discount_percent, li.tax_category, li.exemption_reason, li.unit_code)
        for li in inv.lines.all()
    ]


def charge_inputs(inv: Invoice) -> list[DocumentChargeInput]:
    """The document allowances and charges of a stored document, as the pure core takes
    them (amounts back from minor units)."""
    return [
        DocumentChargeInput(c.is_charge, Money.from_minor(c.amount, inv.currency).amount,
                            c.reason, c.reason_code, Decimal(c.tax_rate), c.tax_category)
        for c in inv.charges.all()
    ]


def issued_customer(customer: Customer, billing: dict[str, str] | None) -> dict[str, Any]:
    """The customer as printed on a document: frozen into its snapshot at posting (with the
    language the document is written in, docs/design/documents.md)."""
    return {"code": customer.code, "name": customer.name, "legal_name": customer.legal_name,
            "tax_id": customer.tax_id, "country": customer.country, "billing_address": billing,
            "language": customer.language}


def document_snapshot(inv: Invoice, totals: Totals, lines: list[LineInput],
                      charges: Sequence[DocumentChargeInput] = (), payment_reference: str = ""
                      ) -> dict[str, Any]:
    """The snapshot of stored document ``inv`` with ``totals``: what posting freezes (a
    draft has no number yet)."""
    c = inv.customer
    billing = next((a.as_dict() for a in c.addresses.all() if a.kind == "billing"), None)
    return build_snapshot(
        number=inv.number, kind=inv.kind, issue_date=inv.issue_date, currency=inv.currency,
        rate=Decimal(inv.rate), customer=issued_customer(c, billing), po_number=inv.po_number,
        buyer_reference=inv.buyer_reference,
        corrects=inv.corrects.number if inv.corrects_id and inv.corrects else None,
        lines=lines, totals=totals, charges=charges, payment_reference=payment_reference)
