"""A document as posting issues it: its totals, its inputs, the customer and the snapshot.

The pieces that posting (``services``, ``bulk``), the e-invoice builder (``einvoice``) and the
documents app share, below all of them so that they depend on it one way: the totals of a
document under the company's tax rounding and rounding policy (the pure core computes them,
``domain/invoicing.py``), the lines and allowances or charges of a stored document as the core
takes them, the customer as the document prints it, and the snapshot posting would freeze of a
stored document (``domain/snapshot.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from salesledger.apps.core.models import Company
from salesledger.apps.customers.models import Customer
from salesledger.domain.invoicing import (
    DocumentChargeInput,
    LineInput,
    TaxRounding,
    Totals,
    compute_totals,
)
from salesledger.domain.snapshot import build_snapshot
from salesledger.money import Money, Rounding

from .models import Invoice


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
