"""Books for the workspace tests, written through the services: company acme with two
customers, posted invoices, a receipt allocated to one of them; a second company, globex,
whose user is a stranger to acme; and acme's clerk."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client

DAY = date(2025, 3, 10)
AS_OF = "2025-05-15"


@pytest.fixture
def books(company: Any, owner: Any, make_customer: Callable[..., Any],
          post_invoice: Callable[..., Any], record_receipt: Callable[..., Any],
          allocate_to: Callable[..., Any], django_user_model: Any) -> dict[str, Any]:
    from conftest import line_inputs

    from salesledger.apps.core.services import (
        company_create,
        company_profile_update,
        membership_set,
    )
    from salesledger.apps.customers.services import CustomerInput, customer_create
    from salesledger.apps.invoicing.services import InvoiceInput, invoice_create, invoice_post

    company_profile_update(actor=owner, company=company, tax_id="FR40303265045",
                           registration_id="303265045", address_line1="12 rue de la Paix",
                           postal_code="75002", city="Paris")
    make_customer("C001", name="Dupont et Fils")
    make_customer("C002", name="Martin SA")
    first = post_invoice("C001", lines=(("Consulting", 2, "500.00", "20"),))
    second = post_invoice("C002", lines=(("Audit", 1, "250.00", "20"),))
    receipt = record_receipt("C002", "300.00", DAY)
    allocate_to(receipt.number, {second.number: "300.00"}, DAY)
    clerk = django_user_model.objects.create_user("claude")
    membership_set(actor=owner, company=company, username="claude", role="clerk")

    stranger = django_user_model.objects.create_user("sam")
    other = company_create(actor=stranger, code="globex", name="Globex GmbH",
                           base_currency="EUR", country="DE", owner=stranger)
    customer_create(actor=stranger, company=other,
                    data=CustomerInput(code="G001", name="Hans AG", country="DE"))
    draft = invoice_create(actor=stranger, company=other, data=InvoiceInput(
        customer_code="G001", issue_date=DAY, lines=line_inputs((("Bolts", 3, "10", "19"),))))
    theirs = invoice_post(actor=stranger, company=other, invoice_id=draft.pk)
    return {"company": company, "owner": owner, "clerk": clerk, "stranger": stranger,
            "other": other, "first": first, "second": second, "receipt": receipt,
            "theirs": theirs}


@pytest.fixture
def as_user() -> Callable[[Any], Client]:
    def sign_in(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return sign_in
