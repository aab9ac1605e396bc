"""Books built through the services, up to posted invoices and credit notes, for the tests of
invoicing and of the apps above it (payments, interchange, the stories in ``tests/``): plain
functions, so that test modules in other apps can build the same books without sharing
fixtures. They live here, in the lowest app whose services they call, so that every test that
uses them imports downward only."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model

from salesledger.apps.core.invariants import check_company
from salesledger.apps.core.services import company_create
from salesledger.apps.customers.services import CustomerInput, customer_create
from salesledger.apps.invoicing.services import InvoiceInput, invoice_create, invoice_post
from salesledger.domain.invoicing import LineInput

# A fixed day in the books: never "today".
DAY = date(2025, 3, 10)


def make_owner(username: str = "csv-owner") -> Any:
    return get_user_model().objects.create_user(username, email=f"{username}@example.com")


def make_company(owner: Any, code: str = "csvco", **kw: Any) -> Any:
    kw.setdefault("name", f"Company {code}")
    return company_create(actor=owner, code=code, owner=owner, **kw)


def make_customer(company: Any, owner: Any, code: str, **kw: Any) -> Any:
    kw.setdefault("name", f"Customer {code}")
    kw.setdefault("country", company.country)  # posting needs it (EN 16931 BR-10/BR-11)
    return customer_create(actor=owner, company=company, data=CustomerInput(code=code, **kw))


def line(description: str, quantity: str, price: str, tax: str = "0", discount: str = "0",
         category: str = "S") -> Any:
    return LineInput(description, Decimal(quantity), Decimal(price), Decimal(tax),
                     Decimal(discount), category)


def post_single(company: Any, owner: Any, customer: str, lines: list[Any], *,
                issue_date: date = DAY, kind: str = "invoice", **kw: Any) -> Any:
    """An invoice or credit note written and posted through the single-document services."""
    draft = invoice_create(actor=owner, company=company, data=InvoiceInput(
        customer_code=customer, issue_date=issue_date, lines=lines, kind=kind, **kw))
    inv = invoice_post(actor=owner, company=company, invoice_id=draft.pk)
    inv.refresh_from_db()
    return inv


def ledger_problems(company: Any) -> list[str]:
    return [str(p) for p in check_company(company)]
