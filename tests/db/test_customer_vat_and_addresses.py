"""A customer never carries the company's own VAT number (add, update, the customers CSV),
and ``customer update`` changes an address, checked as ``customer add`` checks one."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from salesledger.apps.core.models import AuditEvent, Company
from salesledger.apps.customers.models import Address, Customer
from salesledger.apps.customers.services import (
    AddressInput,
    CustomerInput,
    customer_address_set,
    customer_create,
    customer_update,
)
from salesledger.apps.interchange.csvio import import_file
from salesledger.apps.invoicing.services import InvoiceInput, invoice_create, invoice_post
from salesledger.domain.errors import ImportFailed, ValidationFailed
from salesledger.domain.invoicing import LineInput
from tests.support import run

pytestmark = pytest.mark.django_db

OWN = "FR40303265045"


@pytest.fixture
def seller(company: Any) -> Any:
    Company.objects.filter(pk=company.pk).update(tax_id="FR 403 032 650 45")
    company.refresh_from_db()
    return company


# ---------------------------------------------------------------- the company's own VAT number
@pytest.mark.parametrize("typed", [OWN, "fr40303265045", "40303265045", "FR 403 032 650 45"])
def test_adding_a_customer_with_the_companys_vat_number_is_refused(seller: Any, owner: Any,
                                                                   typed: str) -> None:
    with pytest.raises(ValidationFailed, match=f"VAT number {OWN} is the company's own") as e:
        customer_create(actor=owner, company=seller, data=CustomerInput(
            code="C9", name="Self", country="FR", tax_id=typed))
    assert e.value.fields["field"] == "tax_id"
    assert not Customer.objects.filter(company=seller, code="C9").exists()


def test_another_vat_number_and_the_same_number_in_another_company_are_accepted(
        seller: Any, owner: Any) -> None:
    c = customer_create(actor=owner, company=seller, data=CustomerInput(
        code="C1", name="Other", country="FR", tax_id="FR44732829320"))
    assert c.tax_id == "FR44732829320"
    # a company without a VAT number of its own refuses nothing
    Company.objects.filter(pk=seller.pk).update(tax_id="")
    seller.refresh_from_db()
    assert customer_create(actor=owner, company=seller, data=CustomerInput(
        code="C2", name="Any", country="FR", tax_id=OWN)).tax_id == OWN


def test_updating_a_customer_to_the_companys_vat_number_is_refused(seller: Any, owner: Any,
                                                                   customer: Any) -> None:
    with pytest.raises(ValidationFailed, match="is the company's own"):
        customer_update(actor=owner, company=seller, code=customer.code, tax_id="40303265045")
    customer.refresh_from_db()
    assert customer.tax_id == ""
    assert not AuditEvent.objects.filter(company=seller, action="customer.update").exists()


def test_the_customers_csv_refuses_the_companys_vat_number_with_its_line(
        seller: Any, owner: Any, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("code,name,country,tax_id\nK1,Fine,FR,FR44732829320\nK2,Self,FR,"
                    f"{OWN}\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as e:
        import_file(kind="customers", path=path, company=seller, actor=owner)
    [problem] = e.value.problems
    assert (problem.line, problem.column) == (3, "tax_id")
    assert "is the company's own" in problem.reason
    assert not Customer.objects.filter(company=seller).exists()  # all or nothing


# ---------------------------------------------------------------- addresses
def test_update_changes_the_billing_address_field_by_field_and_audits_it(
        company: Any, owner: Any, make_customer: Any) -> None:
    # given a customer with a billing address and an invoice posted to it
    c = make_customer("C1", billing=AddressInput(line1="1 rue A", city="Lyon", country="FR",
                                                 postal_code="69001"))
    draft = invoice_create(actor=owner, company=company, data=InvoiceInput(
        customer_code="C1", issue_date=date(2025, 3, 10),
        lines=[LineInput("x", Decimal(1), Decimal(10))]))
    inv = invoice_post(actor=owner, company=company, invoice_id=draft.pk)
    # when the street and city change
    customer_address_set(actor=owner, company=company, code="C1", line1="9 quai B",
                         city="Bordeaux", postal_code="33000", region="Gironde")
    # then the address is changed, the rest kept, and the change audited
    a = Address.objects.get(customer=c, kind="billing")
    assert (a.line1, a.line2, a.postal_code, a.city, a.region, a.country) == (
        "9 quai B", "", "33000", "Bordeaux", "Gironde", "FR")
    [ev] = AuditEvent.objects.filter(company=company, action="customer.address")
    assert (ev.data["before"]["city"], ev.data["after"]["city"]) == ("Lyon", "Bordeaux")
    # and the posted invoice still shows the address it was issued with
    inv.refresh_from_db()
    assert inv.snapshot["customer"]["billing_address"]["city"] == "Lyon"


def test_a_shipping_address_is_added_with_the_customers_country(company: Any, owner: Any,
                                                                customer: Any) -> None:
    customer_address_set(actor=owner, company=company, code=customer.code, kind="shipping",
                         line1="Dock 3", city="Le Havre")
    a = Address.objects.get(customer=customer, kind="shipping")
    assert (a.line1, a.city, a.country) == ("Dock 3", "Le Havre", "FR")


@pytest.mark.parametrize(("changes", "error", "words"), [
    ({"country": "ZZ"}, ValidationFailed, "ZZ"),
    ({"country": "UK"}, ValidationFailed, "GB"),
    ({"line1": "  "}, ValidationFailed, "needs its first line"),
    ({"city": ""}, ValidationFailed, "needs a city"),
    ({"floor": "3"}, ValidationFailed, "cannot change"),
])
def test_an_address_that_add_would_refuse_is_refused(company: Any, owner: Any,
                                                     make_customer: Any, changes: dict[str, str],
                                                     error: type, words: str) -> None:
    make_customer("C1", billing=AddressInput(line1="1 rue A", city="Lyon", country="FR"))
    with pytest.raises(error, match=words):
        customer_address_set(actor=owner, company=company, code="C1", **changes)
    assert Address.objects.get(kind="billing").as_dict()["city"] == "Lyon"


def test_a_new_address_needs_its_first_line_and_city(company: Any, owner: Any,
                                                      customer: Any) -> None:
    with pytest.raises(ValidationFailed, match="needs its first line"):
        customer_address_set(actor=owner, company=company, code=customer.code, city="Lyon")
    assert not Address.objects.filter(customer=customer).exists()


def test_the_command_line_changes_an_address_and_refuses_a_bad_one(capsys: Any) -> None:
    assert run(capsys, "init", "--company", "acme", "--owner", "alice", "--name", "Acme")[0] == 0
    assert run(capsys, "customer", "add", "--code", "C1", "--name", "Dupont", "--country", "FR",
               "--address", "3 quai", "--city", "Lyon")[0] == 0
    code, out, err = run(capsys, "customer", "update", "C1", "--address", "8 rue Neuve",
                         "--address-line2", "Bâtiment C", "--postal-code", "69002",
                         "--city", "Lyon", "--region", "Rhône", "--email", "a@b.example")
    assert (code, out, err) == (0, "customer C1 updated: email, billing address\n", "")
    a = Address.objects.get(customer__code="C1", kind="billing")
    assert (a.line1, a.line2, a.postal_code, a.region) == ("8 rue Neuve", "Bâtiment C",
                                                           "69002", "Rhône")
    code, out, err = run(capsys, "customer", "update", "C1", "--shipping", "--address",
                         "Dock 1", "--city", "Anvers", "--address-country", "BE")
    assert (code, err) == (0, "")
    assert Address.objects.get(customer__code="C1", kind="shipping").country == "BE"
    code, out, err = run(capsys, "customer", "update", "C1", "--address-country", "EU")
    assert code == 2 and err.startswith("invalid: billing_country 'EU' is not")
    assert "Traceback" not in err
    assert Address.objects.get(customer__code="C1", kind="billing").country == "FR"
