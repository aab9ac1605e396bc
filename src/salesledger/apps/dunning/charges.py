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


def fee_invoice(*, actor: Actor, company: Company, customer: Customer, as_of: date,
                plan: CustomerPlan, rows: list[DunningItem]) -> Invoice | None:
    """Post the run's charges to ``customer`` (None when there are none)."""
    fee = sum(r.fee for r in rows)
    interest = sum(r.interest for r in rows)
    compensation = sum(r.compensation for r in rows)
    cur = customer.currency
    lines = []
    for text, minor in ((f"Reminder fee, level {plan.top_level.number}", fee),
                        (f"Late-payment interest to {as_of.isoformat()}", interest),
                        ("Fixed compensation for recovery costs", compensation)):
        if minor:
            lines.append(LineInput(text, Decimal(1), Money.from_minor(minor, cur).amount,
                                   Decimal(0), Decimal(0), VatCategory.NOT_SUBJECT.value,
                                   EXEMPTION))
    if not lines:
        return None
    due_now = PaymentTerms.objects.filter(company=company, code="DUE").exists()
    draft = invoice_create(actor=actor, company=company, data=InvoiceInput(
        customer_code=customer.code, issue_date=as_of, currency=cur,
        terms_code="DUE" if due_now else "", lines=lines,
        # Never held by credit control: a customer on hold is still charged (credit app).
        purpose=Purpose.FEE if fee or compensation else Purpose.INTEREST,
        notes=f"Charges of the reminder of {as_of.isoformat()}"))
    inv = invoice_post(actor=actor, company=company, invoice_id=draft.pk)
    revenue = (JournalLine.objects.filter(entry_id=inv.journal_entry_id,
                                          account__role="revenue")
               .aggregate(base=Sum("amount"), cur=Sum("amount_currency")))
    journal_write(company=company, day=as_of, kind="fee_reclass", actor=actor,
                  source_type="invoice", source_id=inv.pk, memo=f"{inv.number} fee income",
                  lines=fee_reclass_entry(currency=inv.currency, net=-(revenue["cur"] or 0),
                                          base_net=-(revenue["base"] or 0)))
    return inv
