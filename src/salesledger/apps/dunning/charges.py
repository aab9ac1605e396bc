"""What a reminder charges, as an invoice in the ledger (docs/design/dunning.md).

One invoice per customer per run, posted through the invoicing services, due at once, with a
line per kind of charge: the levels' fees, the late-payment interest and the fixed
compensation for recovery costs. None of them is consideration for a supply, so none bears
VAT: they are outside its scope (category O, EU VAT directive art. 2; for the interest and the
compensation, Directive 2011/7/EU; CJEU C-277/05 for compensation). A second entry moves
their revenue to fee income, as for a returned payment's fee (payments/refunds.py).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Sum

from salesledger.apps.core.actors import Actor
from salesledger.apps.core.models import Company
from salesledger.apps.customers.models import Customer, PaymentTerms
from salesledger.apps.invoicing.models import Invoice, Purpose
from salesledger.apps.invoicing.services import InvoiceInput, invoice_create, invoice_post
from salesledger.apps.ledger.models import JournalLine
from salesledger.apps.ledger.services import journal_write
from salesledger.domain.adjustments import fee_reclass_entry
from salesledger.domain.dunning import CustomerPlan
from salesledger.domain.invoicing import LineInput, VatCategory
from salesledger.money import Money

from .models import DunningItem

EXEMPTION = "VATEX-EU-O Not subject to VAT: late-payment charges compensate, they pay for no supply"


def fee_invoices(*, actor: Actor, company: Company, customer: Customer, as_of: date,
                 plan: CustomerPlan, rows: list[DunningItem],
                 fee_vat_rate: Decimal | None = None) -> tuple[Invoice | None, Invoice | None]:
    """Post the run's charges to ``customer``: (the invoice of the charges not subject to
    VAT, the fee's own invoice when it bears VAT at ``fee_vat_rate``), None where there is
    nothing to charge. A fee that bears VAT is its net amount, the VAT added (standard
    category, the rate set for the customer's country); the interest and the compensation
    never bear it. An EN 16931 invoice with a line not subject to VAT may have no other
    category (BR-O-11 to BR-O-14), hence a second invoice."""
    fee = sum(r.fee for r in rows)
    interest = sum(r.interest for r in rows)
    compensation = sum(r.compensation for r in rows)
    cur = customer.currency
    fee_text = f"Reminder fee, level {plan.top_level.number}"
    outside = []
    taxed = []
    if fee and fee_vat_rate is not None:
        taxed.append(LineInput(fee_text, Decimal(1), Money.from_minor(fee, cur).amount,
                               fee_vat_rate, Decimal(0), VatCategory.STANDARD.value))
        fee = 0
    for text, minor in ((fee_text, fee),
                        (f"Late-payment interest to {as_of.isoformat()}", interest),
                        ("Fixed compensation for recovery costs", compensation)):
        if minor:
            outside.append(LineInput(text, Decimal(1), Money.from_minor(minor, cur).amount,
                                     Decimal(0), Decimal(0), VatCategory.NOT_SUBJECT.value,
                                     EXEMPTION))
    return (_post(actor, company, customer, as_of, outside,
                  Purpose.FEE if fee or compensation else Purpose.INTEREST),
            _post(actor, company, customer, as_of, taxed, Purpose.FEE))


def _post(actor: Actor, company: Company, customer: Customer, as_of: date,
          lines: list[LineInput], purpose: str) -> Invoice | None:
    """One invoice of charges, posted, its net revenue moved to fee income."""
    if not lines:
        return None
    cur = customer.currency
    due_now = PaymentTerms.objects.filter(company=company, code="DUE").exists()
    draft = invoice_create(actor=actor, company=company, data=InvoiceInput(
        customer_code=customer.code, issue_date=as_of, currency=cur,
        terms_code="DUE" if due_now else "", lines=lines,
        # Never held by credit control: a customer on hold is still charged (credit app).
        purpose=purpose, notes=f"Charges of the reminder of {as_of.isoformat()}"))
    inv = invoice_post(actor=actor, company=company, invoice_id=draft.pk)
    revenue = (JournalLine.objects.filter(entry_id=inv.journal_entry_id,
                                          account__role="revenue")
               .aggregate(base=Sum("amount"), cur=Sum("amount_currency")))
    journal_write(company=company, day=as_of, kind="fee_reclass", actor=actor,
                  source_type="invoice", source_id=inv.pk, memo=f"{inv.number} fee income",
                  lines=fee_reclass_entry(currency=inv.currency, net=-(revenue["cur"] or 0),
                                          base_net=-(revenue["base"] or 0)))
    return inv
