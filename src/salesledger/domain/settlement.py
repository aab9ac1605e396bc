"""Settlement: how money received (or credit given) is spread over open instalments.

Amounts are integer minor units of one currency. An allocation never exceeds what is
still open on an instalment nor what is still unallocated on the source (a receipt or a
credit note). Oldest-first settles instalments in order of due date, then document
number, which is what a customer who pays "the oldest invoice first" expects and what most
collectors assume when a payment names no invoice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from ..money import format_minor, major_text
from .errors import (
    AllocationExceedsOpenAmount,
    AllocationExceedsUnallocated,
    NegativeAmount,
    ValidationFailed,
)


@dataclass(frozen=True, slots=True)
class OpenInstalment:
    id: int
    due_date: date
    open: int
    sort_key: str = ""


@dataclass(frozen=True, slots=True)
class Share:
    instalment_id: int
    amount: int


def check_allocation(amount: int, *, open_amount: int, unallocated: int, currency: str) -> None:
    """Amounts in minor units of ``currency``; messages say them in major units."""
    if amount <= 0:
        raise NegativeAmount(
            f"an allocation must be positive, not {format_minor(amount, currency)}")
    if amount > open_amount:
        raise AllocationExceedsOpenAmount(
            f"allocating {format_minor(amount, currency)} exceeds the "
            f"{format_minor(open_amount, currency)} still open on the instalment",
            amount=major_text(amount, currency),
            open=major_text(open_amount, currency),
            currency=currency,
        )
    if amount > unallocated:
        raise AllocationExceedsUnallocated(
            f"allocating {format_minor(amount, currency)} exceeds the "
            f"{format_minor(unallocated, currency)} still unallocated",
            amount=major_text(amount, currency),
            unallocated=major_text(unallocated, currency),
            currency=currency,
        )


def settle_oldest_first(available: int, items: Iterable[OpenInstalment]) -> list[Share]:
    """Spread ``available`` over the items, oldest due date first, until it runs out."""
    if available < 0:
        raise NegativeAmount("available amount cannot be negative")
    shares: list[Share] = []
    left = available
    for item in sorted(items, key=lambda i: (i.due_date, i.sort_key, i.id)):
        if left == 0:
            break
        if item.open <= 0:
            continue
        take = min(left, item.open)
        shares.append(Share(item.id, take))
        left -= take
    return shares


def check_allocation_date(day: date, *, source: str, source_date: date,
                          invoice: str = "", issue_date: date | None = None) -> None:
    """An allocation is dated on or after both of its documents: as of any earlier day the
    payment (or credit note) would look used on a document that did not exist yet. The one
    rule for the allocate command, the bulk path and the receipts CSV import."""
    if day < source_date:
        raise ValidationFailed(f"cannot allocate {source} on {day}, before its date "
                               f"{source_date}", field="date")
    if issue_date is not None and day < issue_date:
        raise ValidationFailed(f"cannot allocate on {day} to {invoice}, issued on {issue_date}",
                               field="date", invoice=invoice)
