"""A quote's PDF prints its document-level allowances and charges (EN 16931 BG-20/BG-21)
as an invoice's does, and totals after them."""

from __future__ import annotations

from decimal import Decimal

from conftest import DAY, line_inputs

from salesledger.apps.documents.services import quote_context
from salesledger.apps.quotes.services import QuoteInput, quote_create
from salesledger.domain.invoicing import DocumentChargeInput

CHARGES = [DocumentChargeInput(False, Decimal(0), "Loyalty", "", Decimal(20), "S",
                               Decimal(5)),
           DocumentChargeInput(True, Decimal("25.00"), "Freight", "FC", Decimal(20))]


def test_the_quotes_pdf_prints_its_allowances_and_charges(company, owner, customer):
    q = quote_create(actor=owner, company=company, as_of=DAY, data=QuoteInput(
        customer_code="C001", charges=CHARGES, lines=line_inputs(
            [("Design", "3", "400.00", "20"), ("Hosting", "12", "10.00", "20", "10")])))
    context = quote_context(company, q)
    assert [(c["label"], c["amount"]) for c in context["charges"]] == [
        ("Allowance: Loyalty", "-65,40\xa0€"), ("Charge: Freight", "25,00\xa0€")]
    # 1,308.00 - 65.40 + 25.00 = 1,267.60 net, and 20 % on it
    assert context["total"] == "1\u202f521,12\xa0€"  # the customer in France
