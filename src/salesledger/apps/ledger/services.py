"""Writing journal entries. Called by the posting services of the other apps, inside
their transaction; the pure core has already built and balanced the lines."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from salesledger.apps.core.actors import Actor, actor_row
from salesledger.apps.core.models import Company
from salesledger.domain.journal import AccountRole, Line, check_balanced

from .models import Account, JournalEntry, JournalLine


def accounts_by_role(company: Company) -> dict[str, Account]:
    """The account each role posts to; for ``bank``, the main bank account's (a receipt
    that arrived elsewhere names its own: ``EntrySpec.accounts``)."""
    return {a.role: a for a in Account.objects.filter(company=company).exclude(
        role=AccountRole.BANK.value, bank_account__is_main=False)}


def journal_build(
    *, company: Company, day: date, kind: str, lines: Sequence[Line], actor: Actor = None,
    source_type: str = "", source_id: int | None = None, memo: str = "",
    accounts: dict[str, Account] | None = None,
) -> tuple[JournalEntry, list[JournalLine]]:
    """Return unsaved rows for an entry (for bulk work); :func:`journal_write` saves them."""
    check_balanced(lines)
    accounts = accounts or accounts_by_role(company)
    entry = JournalEntry(company=company, date=day, kind=kind, memo=memo[:255],
                         source_type=source_type, source_id=source_id,
                         created_by=actor_row(actor))
    rows = [
        JournalLine(company=company, entry=entry, account=accounts[line.role.value],
                    customer_id=line.customer_id, date=day, currency=line.currency,
                    amount_currency=line.amount_currency, amount=line.amount)
        for line in lines
    ]
    return entry, rows


def journal_write(**kwargs: Any) -> JournalEntry:
    entry, rows = journal_build(**kwargs)
    entry.save()
    for row in rows:
        row.entry = entry
    JournalLine.objects.bulk_create(rows)
    return entry
