"""Helpers for the import and bulk-posting tests (plain functions, so that test modules in
other apps can build the same books without sharing fixtures)."""

from __future__ import annotations

import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

# A fixed day in the books: never "today".
DAY = date(2025, 3, 10)


def make_owner(username: str = "csv-owner") -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username, email=f"{username}@example.com")


def make_company(owner: Any, code: str = "csvco", **kw: Any) -> Any:
    from salesledger.apps.core.services import company_create

    kw.setdefault("name", f"Company {code}")
    return company_create(actor=owner, code=code, owner=owner, **kw)


def make_customer(company: Any, owner: Any, code: str, **kw: Any) -> Any:
    from salesledger.apps.customers.services import CustomerInput, customer_create

    kw.setdefault("name", f"Customer {code}")
    kw.setdefault("country", company.country)  # posting needs it (EN 16931 BR-10/BR-11)
    return customer_create(actor=owner, company=company, data=CustomerInput(code=code, **kw))


def line(description: str, quantity: str, price: str, tax: str = "0", discount: str = "0",
         category: str = "S") -> Any:
    from salesledger.domain.invoicing import LineInput

    return LineInput(description, Decimal(quantity), Decimal(price), Decimal(tax),
                     Decimal(discount), category)


def write_csv(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def post_single(company: Any, owner: Any, customer: str, lines: list[Any], *,
                issue_date: date = DAY, kind: str = "invoice", **kw: Any) -> Any:
    """An invoice or credit note written and posted through the single-document services."""
    from salesledger.apps.invoicing.services import InvoiceInput, invoice_create, invoice_post

    draft = invoice_create(actor=owner, company=company, data=InvoiceInput(
        customer_code=customer, issue_date=issue_date, lines=lines, kind=kind, **kw))
    inv = invoice_post(actor=owner, company=company, invoice_id=draft.pk)
    inv.refresh_from_db()
    return inv


def ledger_problems(company: Any) -> list[str]:
    from salesledger.apps.core.invariants import check_company

    return [str(p) for p in check_company(company)]
