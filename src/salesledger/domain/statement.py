"""A customer statement: what is open on a day, aged, and what it adds up to.

A statement lists a customer's open items on a day (``as_of``): the unsettled part of each
invoice instalment, and the unapplied part of each credit note and receipt. Debit items are
aged by days past their due date into the usual buckets (not yet due, 1-30, 31-60, 61-90,
over 90 days), the convention of receivables reports and of the statements customers
receive. Credits (unapplied cash and open credit notes) are not aged: they are shown apart
as unapplied and deducted from the balance. Per currency, the buckets partition the open
debits, and buckets + unapplied = balance, exactly (integer minor units).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

# (key, first day overdue, last day overdue or None for no limit)
BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("current", 0, 0),
    ("1_30", 1, 30),
    ("31_60", 31, 60),
    ("61_90", 61, 90),
    ("over_90", 91, None),
)


@dataclass(frozen=True)
class StatementItem:
    kind: str  # "instalment", "credit_note", "receipt"
    document: str
    date: datetime.date
    due_date: datetime.date
    currency: str
    amount: int  # minor units; credits negative
    open: int  # minor units; credits negative


@dataclass(frozen=True)
class CurrencySummary:
    currency: str
    buckets: tuple[int, ...]  # open debits per bucket of BUCKETS, in order
    unapplied: int  # open credits (zero or negative)
    balance: int

    @property
    def overdue(self) -> int:
        return sum(self.buckets[1:])


def days_overdue(due_date: date, as_of: date) -> int:
    """Days past the due date on ``as_of`` (0 when not yet due or due that day)."""
    return max(0, (as_of - due_date).days)


def bucket_index(days: int) -> int:
    """Which bucket of ``BUCKETS`` an item ``days`` overdue falls in."""
    for index, (_, first, last) in enumerate(BUCKETS):
        if days >= first and (last is None or days <= last):
            return index
    raise ValueError(f"no aging bucket for {days} days")


def summarise(items: Iterable[StatementItem], as_of: date) -> list[CurrencySummary]:
    """Aging buckets, unapplied credits and balance per currency (sorted by currency)."""
    buckets: dict[str, list[int]] = {}
    unapplied: dict[str, int] = {}
    for item in items:
        row = buckets.setdefault(item.currency, [0] * len(BUCKETS))
        unapplied.setdefault(item.currency, 0)
        if item.open < 0:
            unapplied[item.currency] += item.open
        else:
            row[bucket_index(days_overdue(item.due_date, as_of))] += item.open
    return [CurrencySummary(cur, tuple(buckets[cur]), unapplied[cur],
                            sum(buckets[cur]) + unapplied[cur])
            for cur in sorted(buckets)]
