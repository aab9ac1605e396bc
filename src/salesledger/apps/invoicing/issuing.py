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
    SupplyDetails,
    TaxRounding,
    Totals,
    compute_totals,
)
from salesledger.domain.receipts import document_currency_of
from salesledger.domain.snapshot import build_snapshot
from salesledger.money import Money, Rounding

from .models import Invoice
from .payee import company_payee


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
                  li.discount_percent, li.tax_category, li.exemption_reason, li.unit_code,
                  li.seller_item_id, li.standard_item_id, li.standard_item_scheme)
        for li in inv.lines.all()
    ]


def charge_inputs(inv: Invoice) -> list[DocumentChargeInput]:
    """The document allowances and charges of a stored document, as the pure core takes
    them (amounts back from minor units)."""
    return [
        DocumentChargeInput(c.is_charge, Money.from_minor(c.amount, inv.currency).amount,
                            c.reason, c.reason_code, Decimal(c.tax_rate), c.tax_category,
                            None if c.percent is None else Decimal(c.percent))
        for c in inv.charges.all()
    ]


def supply_details(inv: Invoice) -> SupplyDetails:
    """What a stored document says about its supply (delivery date, period, contract,
    project, nature of the operation), as the pure core takes it."""
    return SupplyDetails(inv.delivery_date, inv.period_start, inv.period_end,
                         inv.contract_reference, inv.project_reference, inv.supply_type)


def issued_customer(customer: Customer, billing: dict[str, str] | None,
                    debit_iban: str = "") -> dict[str, Any]:
    """The customer as printed on a document: frozen into its snapshot at posting (with the
    language the document is written in, docs/design/documents.md). How e-invoices identify
    it (registration number BT-47, electronic address BT-49) and its direct-debit mandate
    (BT-89) with the account debited (BT-91, ``debit_iban``: its first bank account) are
    frozen only when the customer has them, so that others keep the shape they had."""
    issued: dict[str, Any] = {
        "code": customer.code, "name": customer.name, "legal_name": customer.legal_name,
        "tax_id": customer.tax_id, "country": customer.country, "billing_address": billing,
        "language": customer.language}
    if customer.legal_id:
        issued["legal_id"] = {"scheme": customer.legal_id_scheme, "id": customer.legal_id}
    if customer.endpoint_id:
        issued["endpoint"] = {"scheme": customer.endpoint_scheme, "id": customer.endpoint_id}
    if customer.mandate_reference:
        issued["mandate"] = {"reference": customer.mandate_reference, "iban": debit_iban}
    return issued


def debit_iban_of(customer: Customer) -> str:
    """The account a direct debit takes from: the customer's first bank account (prefetch
    ``bank_accounts`` to read it without a query)."""
    accounts = sorted(customer.bank_accounts.all(), key=lambda a: a.pk)
    return accounts[0].iban if accounts else ""


def issued_customer_of(customer: Customer) -> dict[str, Any]:
    """``issued_customer`` with the billing address and debited account read from the
    customer's (prefetched) addresses and bank accounts."""
    billing = next((a.as_dict() for a in customer.addresses.all() if a.kind == "billing"),
                   None)
    return issued_customer(customer, billing,
                           debit_iban_of(customer) if customer.mandate_reference else "")


def document_snapshot(inv: Invoice, totals: Totals, lines: list[LineInput],
                      charges: Sequence[DocumentChargeInput] = (), payment_reference: str = ""
                      ) -> dict[str, Any]:
    """The snapshot of stored document ``inv`` with ``totals``: what posting freezes (a
    draft has no number yet)."""
    return build_snapshot(
        number=inv.number, kind=inv.kind, issue_date=inv.issue_date, currency=inv.currency,
        rate=Decimal(inv.rate), customer=issued_customer_of(inv.customer),
        po_number=inv.po_number, buyer_reference=inv.buyer_reference,
        corrects=inv.corrects.number if inv.corrects_id and inv.corrects else None,
        lines=lines, totals=totals, charges=charges, payment_reference=payment_reference,
        supply=supply_details(inv), payee=company_payee(inv.company))
