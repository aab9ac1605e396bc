"""What the ledger app does when the apps below it act (docs/design/events.md)."""

from __future__ import annotations

from salesledger.apps.core import events
from salesledger.domain.journal import DEFAULT_CHART

from .models import Account


def create_chart(event: events.CompanyCreated) -> None:
    """A new company gets the standard chart of accounts, in its creating transaction."""
    Account.objects.bulk_create(
        Account(company_id=event.company_id, code=c, name=n, role=r.value, kind=k)
        for c, n, r, k in DEFAULT_CHART)


def register() -> None:
    events.subscribe(events.CompanyCreated, create_chart)
