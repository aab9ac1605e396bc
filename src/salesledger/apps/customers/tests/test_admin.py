"""The customers' back office shows customers and changes none: the customer services are
the only writers, and check what a form would have had to check again (an ISO country, a
tax id, an IBAN)."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from salesledger.apps.customers.models import Customer


def test_the_back_office_shows_a_customer_and_changes_nothing(
        admin_client: Client, customer: Any) -> None:
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    page = admin_client.get(url)
    assert page.status_code == 200 and page.context["has_change_permission"] is False
    answer = admin_client.post(url, {"code": customer.code, "name": customer.name,
                                     "currency": customer.currency, "language": "en",
                                     "country": "ZZ"})
    assert answer.status_code == 403
    assert Customer.objects.get(pk=customer.pk).country == customer.country
