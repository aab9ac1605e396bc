"""The data migration that gives companies created before revaluation existed their
unrealised exchange differences account; new companies get it from the default chart."""

from __future__ import annotations

import importlib

from django.apps import apps

from salesledger.apps.ledger.models import Account

migration = importlib.import_module("salesledger.apps.fx.migrations.0002_unrealised_fx_account")


def test_new_companies_have_the_account(company):
    account = Account.objects.get(company=company, role="unrealised_fx_differences")
    assert (account.code, account.kind) == ("6910", "expense")


def test_existing_companies_get_it_once_at_a_free_code(company):
    # given a company from before the account existed, whose 6910 is taken by another account
    Account.objects.filter(company=company, role="unrealised_fx_differences").delete()
    Account.objects.filter(company=company, code="6900").update(code="6910")
    # when the migration runs (twice: it is idempotent)
    migration.add_account(apps, None)
    migration.add_account(apps, None)
    # then the company has exactly one, at the next free code
    [account] = Account.objects.filter(company=company, role="unrealised_fx_differences")
    assert (account.code, account.name) == ("6911", "Unrealised exchange differences")
