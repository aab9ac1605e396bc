"""Every company has the opening-balances account: new ones from the chart, companies that
existed before it from the data migration, which never takes a code already in use."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from salesledger.apps.core.services import company_create
from salesledger.apps.ledger.models import Account

pytestmark = pytest.mark.django_db

migration = importlib.import_module(
    "salesledger.apps.ledger.migrations.0003_opening_balances_account")


@pytest.fixture
def owner():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user("owner")


def test_a_new_company_has_it(owner):
    company = company_create(actor=owner, code="new", name="New", owner=owner)
    account = Account.objects.get(company=company, role="opening_balances")
    assert (account.code, account.name, account.kind) == (
        "2900", "Opening balances (suspense)", "equity")


def test_the_migration_adds_it_to_companies_without_it(owner):
    company_create(actor=owner, code="old", name="Old", owner=owner)
    busy = company_create(actor=owner, code="busy", name="Busy", owner=owner)
    Account.objects.filter(role="opening_balances").delete()
    # A company that uses 2900 for another account keeps it; the new account takes 2990.
    Account.objects.filter(company=busy, role="unapplied_cash").update(code="2900")
    migration.add_opening_account(apps, None)
    migration.add_opening_account(apps, None)  # twice: nothing more
    assert list(Account.objects.filter(role="opening_balances").order_by("company__code")
                .values_list("company__code", "code")) == [("busy", "2990"), ("old", "2900")]
