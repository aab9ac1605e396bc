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


def test_documents_are_read_only_and_a_draft_is_deleted_through_its_service(
        superuser_client: Client, two_companies: dict[str, Any]) -> None:
    a = two_companies["a"]
    posted_url = reverse("admin:invoicing_invoice_change", args=[a["posted"].pk])
    response = superuser_client.get(posted_url)
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert superuser_client.post(posted_url, {"notes": "edited"}).status_code == 403
    delete_url = reverse("admin:invoicing_invoice_delete", args=[a["posted"].pk])
    assert superuser_client.post(delete_url, {"post": "yes"}).status_code == 403
    draft_url = reverse("admin:invoicing_invoice_change", args=[a["draft"].pk])
    draft = superuser_client.get(draft_url)
    assert draft.status_code == 200 and draft.context["has_change_permission"] is False
    # A draft's lines are the invoicing service's to compute: editing one here would leave
    # its totals stale.
    assert superuser_client.post(draft_url, {"notes": "edited"}).status_code == 403
    for name in ("ledger_journalentry", "ledger_journalline", "payments_allocation",
                 "payments_receipt", "core_auditevent", "invoicing_invoice",
                 "customers_customer", "customers_paymentterms", "core_membership",
                 "core_company"):
        assert superuser_client.get(reverse(f"admin:{name}_add")).status_code == 403, name
    response = superuser_client.post(
        reverse("admin:invoicing_invoice_delete", args=[a["draft"].pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Invoice.objects.filter(pk=a["draft"].pk).exists()
    event = AuditEvent.objects.filter(company=a["company"]).latest("seq")
    assert (event.action, event.entity_id) == ("invoice.delete_draft", str(a["draft"].pk))


def test_staff_cannot_open_another_companys_draft(staff_client: Client,
                                                  two_companies: dict[str, Any]) -> None:
    own = reverse("admin:invoicing_invoice_change", args=[two_companies["a"]["draft"].pk])
    other = reverse("admin:invoicing_invoice_change", args=[two_companies["b"]["draft"].pk])
    assert staff_client.get(own).status_code == 200
    assert staff_client.get(other).status_code == 302


def test_what_a_service_writes_cannot_be_written_around_it(
        superuser_client: Client, two_companies: dict[str, Any]) -> None:
    """A tax id FR00000000000, an invalid IBAN, a company saved with nothing changed: the
    back office took them all; the services refuse the first two and audit only changes."""
    a = two_companies["a"]
    company, customer = a["company"], a["customer"]
    before = AuditEvent.objects.filter(company=company).count()
    posts = {
        reverse("admin:core_company_change", args=[company.pk]): {
            "name": company.name, "tax_id": "FR00000000000", "iban": "FR7600000000000",
            "country": "FR"},
        reverse("admin:customers_customer_change", args=[customer.pk]): {
            "code": "C001", "name": "Renamed", "tax_id": "FR00000000000",
            "bank_accounts-TOTAL_FORMS": "1", "bank_accounts-INITIAL_FORMS": "0",
            "bank_accounts-0-iban": "FR7600000000000"},
        reverse("admin:customers_paymentterms_change",
                args=[customer.payment_terms_id or company.default_terms_id]): {
            "code": "X", "name": "X"},
        reverse("admin:core_membership_change",
                args=[Membership.objects.filter(company=company).get().pk]): {
            "role": "viewer"},
    }
    for url, data in posts.items():
        page = superuser_client.get(url)
        assert page.status_code == 200 and page.context["has_change_permission"] is False, url
        assert superuser_client.post(url, data).status_code == 403, url
    company.refresh_from_db()
    customer.refresh_from_db()
    assert (company.tax_id, customer.name, customer.tax_id) == ("", "Alpha Customer", "")
    assert not customer.bank_accounts.exists()
    assert Membership.objects.filter(company=company).get().role == Role.OWNER
    assert AuditEvent.objects.filter(company=company).count() == before


def test_no_list_reads_every_row_for_a_date_hierarchy(
        superuser_client: Client, two_companies: dict[str, Any]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ours = [(m, a) for m, a in admin.site._registry.items()
            if m.__module__.startswith("salesledger.")]
    assert len(ours) > 10
    for model, model_admin in ours:
        assert not model_admin.date_hierarchy, model._meta.label
    for url in changelists():
        with CaptureQueriesContext(connection) as queries:
            assert superuser_client.get(url).status_code == 200, url
        # no DISTINCT over the listed table: neither the date hierarchy's over every
        # row's month, nor a filter's over its choices (only the companies, a small table)
        scans = [q["sql"] for q in queries if "DISTINCT" in q["sql"].upper()
                 and "FROM \"core_company\"" not in q["sql"]]
        assert not scans, (url, scans)
        assert len(queries) <= 12, (url, len(queries))


def test_every_record_is_named_not_numbered_as_an_object(
        superuser_client: Client, two_companies: dict[str, Any]) -> None:
    for url in changelists():
        text = superuser_client.get(url).content.decode()
        assert " object (" not in text, url


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
