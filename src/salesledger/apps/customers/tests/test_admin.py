"""The customers' back-office form checks what the services check."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.test import Client
from django.urls import reverse

from salesledger.apps.customers.admin import CustomerAdmin
from salesledger.apps.customers.models import Customer


def test_the_back_office_refuses_a_country_that_is_not_an_iso_code(
        admin_client: Client, customer: Any) -> None:
    request = admin_client.get(reverse("admin:index")).wsgi_request
    form_class = CustomerAdmin(Customer, admin.site).get_form(request, customer, change=True)
    fields = ("code", "name", "currency", "language", "country")
    data = {f: getattr(customer, f) for f in fields}
    for bad in ("ZZ", "EU"):
        form = form_class(data={**data, "country": bad}, instance=customer)
        assert not form.is_valid() and "ISO 3166-1" in str(form.errors["country"])
    form = form_class(data={**data, "country": "GB"}, instance=customer)
    form.is_valid()
    assert "country" not in form.errors
