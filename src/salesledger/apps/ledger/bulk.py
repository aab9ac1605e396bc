"""Writing many journal entries at once, for the bulk posting services.

The same rows as ``journal_write`` writes, checked the same way (every entry balances, in
base currency and per document currency), written with multi-row INSERTs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from salesledger.apps.core.actors import Actor, actor_id
from salesledger.apps.core.bulkinsert import insert_rows
from salesledger.apps.core.models import Company
from salesledger.domain.journal import Line, check_balanced

from .models import JournalEntry, JournalLine
from .services import accounts_by_role

_ENTRY_COLUMNS = ("company_id", "date", "kind", "memo", "source_type", "source_id",
                  "created_by_id", "created_at")
_LINE_COLUMNS = ("company_id", "entry_id", "account_id", "customer_id", "date", "currency",
                 "amount_currency", "amount")


@dataclass(frozen=True, slots=True)
class EntrySpec:
    day: date
    kind: str
    lines: Sequence[Line]
    memo: str = ""
    source_type: str = ""
    source_id: int | None = None
    # Account ids by role that this entry posts to instead of the company's (a receipt
    # debits the ledger account of the bank account it arrived in).
    accounts: Mapping[str, int] | None = None


def journal_write_many(*, company: Company, actor: Actor, entries: Sequence[EntrySpec],
                       account_ids: dict[str, int] | None = None) -> list[int]:
    """Write the entries and their lines; return the entry ids in order."""
    if not entries:
        return []
    for e in entries:
        check_balanced(e.lines)
    if account_ids is None:
        account_ids = {role: a.pk for role, a in accounts_by_role(company).items()}
    cid, now = company.pk, timezone.now()
    user_id = actor_id(actor)
    ids = insert_rows(JournalEntry, _ENTRY_COLUMNS, [
        (cid, e.day, e.kind, e.memo[:255], e.source_type, e.source_id, user_id, now)
        for e in entries], returning=True)
    insert_rows(JournalLine, _LINE_COLUMNS, [
        (cid, entry_id, (e.accounts or account_ids).get(li.role) or account_ids[li.role],
         li.customer_id, e.day, li.currency,
         li.amount_currency, li.amount)
        for e, entry_id in zip(entries, ids, strict=True) for li in e.lines])
    return ids
