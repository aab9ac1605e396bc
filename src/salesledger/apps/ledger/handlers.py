"""What the ledger app does when the apps below it act (docs/design/events.md)."""

from __future__ import annotations

from salesledger.apps.core import events
from salesledger.apps.core.models import Company
from salesledger.domain.journal import DEFAULT_CHART

from .banks import main_bank_account_create, main_bank_account_sync
from .models import Account


def create_chart(event: events.CompanyCreated) -> None:
    """A new company gets the standard chart of accounts, in its creating transaction."""
    Account.objects.bulk_create(
        Account(company_id=event.company_id, code=c, name=n, role=r.value, kind=k)
        for c, n, r, k in DEFAULT_CHART)
    company = Company.objects.get(pk=event.company_id)
    main_bank_account_create(company_id=company.pk, currency=company.base_currency,
                             iban=company.iban, bic=company.bic)


def keep_main_bank_account(event: events.CompanyBankDetailsChanged) -> None:
    """The IBAN and BIC printed on documents are the main bank account's."""
    main_bank_account_sync(company_id=event.company_id, iban=event.iban, bic=event.bic)


def register() -> None:
    events.subscribe(events.CompanyCreated, create_chart)
    events.subscribe(events.CompanyBankDetailsChanged, keep_main_bank_account)
