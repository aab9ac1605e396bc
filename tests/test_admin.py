"""The back office: every list opens, staff see only their companies, posted is read-only."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from salesledger.apps.core.models import AuditEvent, Membership, Role
from salesledger.apps.core.services import company_create
from salesledger.apps.customers.services import CustomerInput, customer_create
from salesledger.apps.invoicing.admin import InvoiceAdmin
from salesledger.apps.invoicing.models import Invoice
from salesledger.apps.invoicing.services import InvoiceInput, invoice_create, invoice_post
from salesledger.apps.payments.services import ReceiptInput, Target, allocate, receipt_record
from salesledger.domain.invoicing import LineInput

APPS = ("core", "customers", "ledger", "invoicing", "payments")
DAY = date(2025, 3, 10)


def changelists() -> list[str]:
    return [reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist")
            for m in admin.site._registry if m._meta.app_label in APPS]


def books(code: str, customer_name: str, owner: Any) -> dict[str, Any]:
    """A company with a customer, a posted invoice, a draft, a receipt and an allocation."""
    company = company_create(actor=owner, code=code, name=f"{code.title()} SARL", owner=owner)
    customer = customer_create(actor=owner, company=company, data=CustomerInput(
        code="C001", name=customer_name, country="FR"))
    lines = [LineInput("Consulting", Decimal(1), Decimal("100.00"), Decimal(20))]
    posted = invoice_post(actor=owner, company=company, invoice_id=invoice_create(
        actor=owner, company=company, data=InvoiceInput("C001", DAY, lines)).pk)
    draft = invoice_create(actor=owner, company=company, data=InvoiceInput("C001", DAY, lines))
    receipt = receipt_record(actor=owner, company=company, data=ReceiptInput(
        "C001", DAY, Decimal("50.00")))
    allocate(actor=owner, company=company, day=DAY, receipt=receipt.number,
             targets=[Target(posted.number, Decimal("50.00"))])
    return {"company": company, "customer": customer, "posted": posted, "draft": draft}


@pytest.fixture
def two_companies(db: None, django_user_model: Any) -> dict[str, Any]:
    owner = django_user_model.objects.create_user("boss")
    return {"a": books("alpha", "Alpha Customer", owner),
            "b": books("beta", "Beta Customer", owner)}


@pytest.fixture
def superuser_client(db: None, django_user_model: Any) -> Client:
    user = django_user_model.objects.create_superuser("root", "root@example.com", "x")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def staff_client(two_companies: dict[str, Any], django_user_model: Any) -> Client:
    """A clerk of company alpha only, allowed to view everything and change drafts."""
    user = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(
        content_type__app_label__in=APPS, codename__regex=r"^(view|change|delete)_"))
    Membership.objects.create(company=two_companies["a"]["company"], user=user,
                              role=Role.CLERK)
    client = Client()
    client.force_login(user)
    return client


def test_every_model_of_the_ledger_is_registered() -> None:
    registered = {m._meta.label for m in admin.site._registry}
    for label in ("core.Company", "core.Membership", "core.AuditEvent", "customers.Customer",
                  "customers.PaymentTerms", "ledger.Account", "ledger.JournalEntry",
                  "ledger.JournalLine", "invoicing.Invoice", "invoicing.Instalment",
                  "payments.Receipt", "payments.Allocation"):
        assert label in registered, label


def test_superuser_opens_every_changelist(superuser_client: Client,
                                          two_companies: dict[str, Any]) -> None:
    for url in changelists():
        response = superuser_client.get(url)
        assert response.status_code == 200, url
    page = superuser_client.get(reverse("admin:customers_customer_changelist")).content
    assert b"Alpha Customer" in page and b"Beta Customer" in page


def test_staff_sees_only_their_companies(staff_client: Client,
                                         two_companies: dict[str, Any]) -> None:
    for url in changelists():
        response = staff_client.get(url)
        assert response.status_code == 200, url
        assert b"beta" not in response.content.lower(), url
    page = staff_client.get(reverse("admin:customers_customer_changelist")).content
    assert b"Alpha Customer" in page and b"Beta Customer" not in page
    other = two_companies["b"]["customer"]
    response = staff_client.get(reverse("admin:customers_customer_change", args=[other.pk]))
    assert response.status_code == 302  # "does not exist" for this user: back to the index
    response = staff_client.get(reverse("admin:customers_customer_changelist"),
                                {"q": "Beta"})
    assert b"Beta Customer" not in response.content


def test_posted_documents_are_read_only_and_drafts_editable(
        superuser_client: Client, two_companies: dict[str, Any]) -> None:
    a = two_companies["a"]
    posted_url = reverse("admin:invoicing_invoice_change", args=[a["posted"].pk])
    response = superuser_client.get(posted_url)
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert superuser_client.post(posted_url, {"notes": "edited"}).status_code == 403
    delete_url = reverse("admin:invoicing_invoice_delete", args=[a["posted"].pk])
    assert superuser_client.post(delete_url, {"post": "yes"}).status_code == 403
    draft = superuser_client.get(reverse("admin:invoicing_invoice_change",
                                         args=[a["draft"].pk]))
    assert draft.status_code == 200 and draft.context["has_change_permission"] is True
    for name in ("ledger_journalentry", "ledger_journalline", "payments_allocation",
                 "payments_receipt", "core_auditevent"):
        assert superuser_client.get(reverse(f"admin:{name}_add")).status_code == 403, name


def test_staff_cannot_edit_another_companys_draft(staff_client: Client,
                                                  two_companies: dict[str, Any]) -> None:
    own = reverse("admin:invoicing_invoice_change", args=[two_companies["a"]["draft"].pk])
    other = reverse("admin:invoicing_invoice_change", args=[two_companies["b"]["draft"].pk])
    assert staff_client.get(own).status_code == 200
    assert staff_client.get(other).status_code == 302


def test_a_draft_cannot_point_at_another_companys_customer(
        superuser_client: Client, two_companies: dict[str, Any]) -> None:
    draft = two_companies["a"]["draft"]
    request = superuser_client.get(reverse("admin:index")).wsgi_request
    form_class = InvoiceAdmin(Invoice, admin.site).get_form(request, draft, change=True)
    data = {"customer": two_companies["b"]["customer"].pk, "issue_date": "2025-03-11",
            "currency": "EUR", "rate": "1", "notes": "moved"}
    form = form_class(data=data, instance=draft)
    assert not form.is_valid()
    assert "another company" in str(form.errors["customer"])
    data["customer"] = two_companies["a"]["customer"].pk
    assert form_class(data=data, instance=draft).is_valid()


def test_editing_a_draft_saves_it_and_writes_the_audit_log(
        superuser_client: Client, two_companies: dict[str, Any]) -> None:
    a = two_companies["a"]
    draft, line = a["draft"], a["draft"].lines.get()
    management = {"TOTAL_FORMS": "1", "INITIAL_FORMS": "1", "MIN_NUM_FORMS": "0",
                  "MAX_NUM_FORMS": "1000"}
    data = {"customer": a["customer"].pk, "issue_date": "2025-03-11", "currency": "EUR",
            "rate": "1", "po_number": "PO-7", "notes": "edited in the back office",
            **{f"lines-{k}": v for k, v in management.items()},
            "lines-0-id": line.pk, "lines-0-invoice": draft.pk, "lines-0-position": "1",
            "lines-0-description": "Consulting", "lines-0-quantity": "2",
            "lines-0-unit_price": "100.00", "lines-0-discount_percent": "0",
            "lines-0-tax_rate": "20", "lines-0-tax_category": "S",
            **{f"instalments-{k}": "0" for k in management}}
    url = reverse("admin:invoicing_invoice_change", args=[draft.pk])
    response = superuser_client.post(url, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    draft.refresh_from_db()
    assert (draft.notes, draft.po_number, draft.issue_date) == (
        "edited in the back office", "PO-7", date(2025, 3, 11))
    assert draft.lines.get().quantity == Decimal(2)
    event = AuditEvent.objects.filter(company=a["company"], action="admin.change").get()
    assert event.entity == "invoice" and "notes" in event.data["fields"]


def test_money_is_shown_in_major_units_with_its_currency_and_records_by_their_number(
        superuser_client: Client, two_companies: dict[str, Any]) -> None:
    from salesledger.apps.payments.models import Allocation, Receipt

    acme = two_companies["a"]
    posted = acme["posted"]
    receipt = Receipt.objects.get(company=acme["company"])
    allocation = Allocation.objects.get(receipt=receipt)
    pages = {
        reverse("admin:invoicing_invoice_change", args=[posted.pk]): ["120.00 EUR", "50.00 EUR"],
        reverse("admin:payments_receipt_change", args=[receipt.pk]): ["50.00 EUR"],
        reverse("admin:payments_allocation_change", args=[allocation.pk]): ["50.00 EUR"],
        reverse("admin:invoicing_instalment_change",
                args=[posted.instalments.get().pk]): ["120.00 EUR", "50.00 EUR"],
    }
    for url, amounts in pages.items():
        text = superuser_client.get(url).content.decode()
        for amount in amounts:
            assert amount in text, (url, amount)
        assert ">12000<" not in text and ">5000<" not in text, url
    assert str(receipt) == receipt.number
    assert str(allocation) == f"{receipt.number} to {posted.number} #1"


def test_the_credit_limit_is_shown_not_typed_in_cents(
        superuser_client: Client, two_companies: dict[str, Any]) -> None:
    from salesledger.apps.customers.models import Customer

    customer = two_companies["a"]["customer"]
    Customer.objects.filter(pk=customer.pk).update(credit_limit=500_000)
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    page = superuser_client.get(url).content.decode()
    assert "5000.00 EUR" in page
    assert 'name="credit_limit"' not in page
