"""The portfolio of the companies a user belongs to: each company's receivable, overdue and
over-90 parts, unapplied cash and DSO in its own currency, in a fixed number of queries per
company; another user's companies are not in it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from salesledger.apps.core.services import company_create
from salesledger.apps.customers.services import CustomerInput, customer_create
from salesledger.apps.fx.services import rate_add
from salesledger.apps.invoicing.services import InvoiceInput, invoice_create, invoice_post
from salesledger.apps.payments.services import ReceiptInput, receipt_record
from salesledger.apps.reporting.selectors import portfolio, portfolio_total
from salesledger.domain.errors import ExchangeRateMissing, ValidationFailed
from salesledger.domain.invoicing import LineInput

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 6, 30)


def _books(owner: Any, code: str, currency: str, invoices: list[tuple[date, str]],
           receipt: str) -> Any:
    company = company_create(actor=owner, code=code, name=f"{code} Ltd", base_currency=currency,
                             country="FR", owner=owner)
    customer_create(actor=owner, company=company, data=CustomerInput(
        code="C1", name="Dupont", country="FR"))
    for day, amount in invoices:
        inv = invoice_create(actor=owner, company=company, data=InvoiceInput(
            customer_code="C1", issue_date=day, terms_code="NET30",
            lines=[LineInput("Work", Decimal(1), Decimal(amount), Decimal(0))]))
        invoice_post(actor=owner, company=company, invoice_id=inv.pk)
    receipt_record(actor=owner, company=company, data=ReceiptInput(
        customer_code="C1", amount=Decimal(receipt), date=AS_OF))
    return company


def test_each_company_in_its_currency(owner: Any,
                                      django_assert_max_num_queries: Any) -> None:
    # A: 100.00 due 31 January (150 days late on 30 June), 200.00 due 30 May (31 days late),
    # 400.00 not yet due; B: one invoice not yet due, in GBP
    _books(owner, "a", "EUR", [(date(2026, 1, 1), "100"), (date(2026, 4, 30), "200"),
                               (date(2026, 6, 20), "400")], "50")
    _books(owner, "b", "GBP", [(date(2026, 6, 25), "80")], "10")
    other = get_user_model().objects.create_user("other")
    _books(other, "c", "EUR", [(date(2026, 6, 1), "999")], "1")
    with django_assert_max_num_queries(1 + 2 * 12):
        rows = portfolio(owner, as_of=AS_OF)
    assert [(r.code, r.role, r.currency) for r in rows] == [("a", "owner", "EUR"),
                                                            ("b", "owner", "GBP")]
    a, b = rows
    assert (a.receivable, a.overdue, a.over_90, a.unapplied) == (70000, 30000, 10000, 5000)
    assert a.over_90_share == Decimal("14.3")
    # June: 700.00 owed at its end, 400.00 sold in its 30 days
    assert a.dso == Decimal("52.5")
    assert (b.receivable, b.overdue, b.over_90, b.unapplied) == (8000, 0, 0, 1000)
    assert b.dso == Decimal("30.0")
    assert [r.code for r in portfolio(other, as_of=AS_OF)] == ["c"]


def test_the_portfolio_converted_to_one_currency(owner: Any,
                                                 django_assert_max_num_queries: Any) -> None:
    _books(owner, "a", "EUR", [(date(2026, 1, 1), "100"), (date(2026, 4, 30), "200"),
                               (date(2026, 6, 20), "400")], "50")
    b = _books(owner, "b", "GBP", [(date(2026, 6, 25), "80")], "10")
    # b has no EUR rate yet: refused, naming the company and the currency
    with pytest.raises(ExchangeRateMissing) as refused:
        portfolio(owner, as_of=AS_OF, currency="EUR")
    assert "no EUR exchange rate" in refused.value.message and " b" in refused.value.message
    # 0.85 GBP per EUR in b's rates on 29 June (the latest on or before the day)
    rate_add(actor=owner, company=b, currency="EUR", rate="0.85", day=date(2026, 6, 29))
    with django_assert_max_num_queries(1 + 2 * 13):
        a, gbp = portfolio(owner, as_of=AS_OF, currency="eur")
    assert a.converted == (70000, 30000, 10000, 5000) and a.rate == 1
    # 80.00 GBP ÷ 0.85 = 94.117… → 94.12 EUR; 10.00 GBP → 11.76 EUR
    assert gbp.rate == Decimal("0.85") and gbp.converted == (9412, 0, 0, 1176)
    assert (gbp.receivable, gbp.currency) == (8000, "GBP")  # its own figures unchanged
    assert portfolio_total([a, gbp]) == (79412, 30000, 10000, 6176)
    with pytest.raises(Exception, match="ISO 4217"):
        portfolio(owner, as_of=AS_OF, currency="EURO")


def test_only_the_companies_that_need_attention(owner: Any) -> None:
    """``only``: the companies with something overdue, over 90 days, or cash to apply; with
    a currency to convert to, the total is of those kept."""
    # a: 150 and 31 days late, 50.00 unapplied; b: nothing due yet, 10.00 unapplied;
    # e: 31 days late only, 1.00 unapplied
    _books(owner, "a", "EUR", [(date(2026, 1, 1), "100"), (date(2026, 4, 30), "200"),
                               (date(2026, 6, 20), "400")], "50")
    _books(owner, "b", "EUR", [(date(2026, 6, 25), "80")], "10")
    _books(owner, "e", "EUR", [(date(2026, 4, 30), "300")], "1")
    assert [r.code for r in portfolio(owner, as_of=AS_OF, only="overdue")] == ["a", "e"]
    assert [r.code for r in portfolio(owner, as_of=AS_OF, only="over-90")] == ["a"]
    assert [r.code for r in portfolio(owner, as_of=AS_OF, only="unapplied")] == ["a", "b", "e"]
    kept = portfolio(owner, as_of=AS_OF, currency="EUR", only="overdue")
    assert portfolio_total(kept) == (70000 + 30000, 30000 + 30000, 10000, 5000 + 100)
    # on 1 January nothing is due yet anywhere, nor received: no company is kept
    assert portfolio(owner, as_of=date(2026, 1, 1), only="overdue") == []
    with pytest.raises(ValidationFailed, match="--only 'late': write 'overdue', 'over-90', "
                                               "'unapplied'"):
        portfolio(owner, as_of=AS_OF, only="late")
