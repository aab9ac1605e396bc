"""Fixtures of the access tests: users with real passwords, a company, a client per address."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

PASSWORD = "correct horse battery"


@pytest.fixture
def people(db: None, django_user_model: Any) -> dict[str, Any]:
    """An owner, a manager and a clerk of company acme, each with the password PASSWORD."""
    from salesledger.apps.core.services import company_create, membership_set

    users = {name: django_user_model.objects.create_user(name, password=PASSWORD)
             for name in ("olivia", "manon", "claude")}
    company = company_create(actor=users["olivia"], code="acme", name="Acme SARL",
                             owner=users["olivia"])
    membership_set(actor=users["olivia"], company=company, username="manon", role="manager")
    membership_set(actor=users["olivia"], company=company, username="claude", role="clerk")
    return {**users, "company": company}


@pytest.fixture
def browser() -> Client:
    """A browser at one address (the test client's 127.0.0.1)."""
    return Client()


def sign_in(client: Client, username: str, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post("/login/", {"username": username, "password": password}, **extra)
