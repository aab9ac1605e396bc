"""Credit limits and exposure: whether a new invoice or an accepted quote fits
(docs/design/credit.md).

A customer's *exposure* is what it may owe soon: its open receivables (net of unapplied
payments and credits), the accepted quotes not yet invoiced and the recurring invoices due
within a horizon. The limit that covers it is the customer's own; or, when it has none, its
parent's (a group limit, in the parent's currency, covering the parent and every member under
it, each member's exposure converted at the day's rate); or the company default. A customer
on hold may not be given more credit at all; credit notes, fee and interest invoices are
never held (they give credit back or charge for lateness itself).

Pure: amounts in minor units of one currency, the limit's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from salesledger.money import Money

from .errors import CreditHoldActive, CreditLimitExceeded

NEVER_HELD_PURPOSES = frozenset({"fee", "interest"})


@dataclass(frozen=True, slots=True)
class Limit:
    """The limit that covers a customer: whose it is (``holder_id``; None for the company
    default) and which customers it covers (the holder and every member under it)."""

    amount: int  # minor units of ``currency``
    currency: str
    source: str  # "customer" | "group" | "company_default"
    holder_id: int | None
    holder_code: str
    members: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class LimitRow:
    """A customer as limits see it: its own limit (minor units of its currency; None: none)
    and its parent."""

    id: int
    code: str
    credit_limit: int | None
    currency: str
    parent_id: int | None


def resolve_limit(customer_id: int, rows: dict[int, LimitRow],
                  default: tuple[int, str] | None,
                  merged: Mapping[int, int] | None = None) -> Limit | None:
    """The limit that covers ``customer_id``: its own; else the nearest ancestor's (a group
    limit); else ``default`` (amount, currency), covering the customer alone; else None.
    ``rows`` holds every customer that has a limit or a parent (the others have neither). A
    limit covers its holder and every customer under it.

    ``merged`` (alias id -> survivor id): an alias is covered by its survivor's limit, never
    its own (which stays on its record, shown but not summed), and is no member of any group
    by itself: its exposure is counted in its survivor's, wherever the survivor stands. A
    group whose parent was merged follows the survivor."""
    merged = merged or {}
    customer_id = merged.get(customer_id, customer_id)

    def parent_of(r: LimitRow) -> int | None:
        return None if r.parent_id is None else merged.get(r.parent_id, r.parent_id)

    row = rows.get(customer_id)
    holder = None
    seen: set[int] = set()
    while row is not None and row.id not in seen:
        seen.add(row.id)
        if row.credit_limit is not None:
            holder = row
            break
        parent = parent_of(row)
        row = rows.get(parent) if parent is not None else None
    if holder is None:
        if default is None:
            return None
        return Limit(default[0], default[1], "company_default", None, "", (customer_id,))
    children: dict[int, list[int]] = {}
    for r in rows.values():
        parent = parent_of(r)
        if parent is not None and r.id not in merged:
            children.setdefault(parent, []).append(r.id)
    members, level = [holder.id], [holder.id]
    while level:
        level = [c for pk in level for c in children.get(pk, ()) if c not in members]
        members.extend(level)
    source = "customer" if holder.id == customer_id and len(members) == 1 else "group"
    return Limit(holder.credit_limit or 0, holder.currency, source, holder.id, holder.code,
                 tuple(members))


@dataclass(frozen=True, slots=True)
class ExposureParts:
    """One customer's exposure in one currency, by part (minor units)."""

    receivables: int = 0
    quotes: int = 0
    recurring: int = 0

    @property
    def total(self) -> int:
        return self.receivables + self.quotes + self.recurring

    def __add__(self, other: ExposureParts) -> ExposureParts:
        return ExposureParts(self.receivables + other.receivables, self.quotes + other.quotes,
                             self.recurring + other.recurring)


def convert(minor: int, rate: Decimal, from_currency: str, to_currency: str) -> int:
    """``minor`` units of ``from_currency`` in ``to_currency`` at ``rate`` (units of
    ``to_currency`` per unit of ``from_currency``), rounded half-even to the minor unit."""
    if from_currency == to_currency:
        return minor
    major = Money.from_minor(minor, from_currency).amount * rate
    exp = Money.from_minor(1, to_currency).amount
    return int((major / exp).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def major(minor: int, currency: str) -> str:
    """An amount as people read it: major units with the currency (``1234.50 EUR``)."""
    return str(Money.from_minor(minor, currency))


def check_credit(*, customer_code: str, what: str, amount: int, exposure: int,
                 limit: Limit | None, holds: list[tuple[str, str]],
                 document: tuple[int, str] | None = None) -> None:
    """Refuse ``what`` (an invoice, a quote) of ``amount`` (in the limit's currency, or the
    document's when there is no limit) for a customer on hold (``holds``: source, reason)
    or whose exposure (in the limit's currency, the group's when the limit is a group's)
    would pass its limit. ``document``: the amount in the document's own currency, when it
    is another."""
    if holds:
        source, reason = holds[0]
        raise CreditHoldActive(
            f"customer {customer_code} is on credit hold ({source}: {reason}); {what} refused "
            "unless a credit controller overrides it", customer=customer_code, source=source)
    if limit is None:
        return
    after = exposure + amount
    if after > limit.amount:
        whose = ("" if limit.source == "customer" else
                 f" (the limit of group {limit.holder_code})" if limit.source == "group"
                 else " (the company default)")
        shown = major(amount, limit.currency)
        if document is not None and document[1] != limit.currency:
            shown = f"{major(*document)} ({shown} at the day's rate)"
        raise CreditLimitExceeded(
            f"{what} of {shown} would take customer {customer_code}'s "
            f"exposure from {major(exposure, limit.currency)} to {major(after, limit.currency)}, "
            f"over its credit limit of {major(limit.amount, limit.currency)}{whose} by "
            f"{major(after - limit.amount, limit.currency)}", customer=customer_code,
            limit=major(limit.amount, limit.currency), exposure=major(exposure, limit.currency))


def is_held_kind(*, kind: str, purpose: str, kept_number: bool) -> bool:
    """Whether credit control looks at a document at all: invoices for a sale issued here;
    never a credit note, a fee or interest invoice, or history brought in with its number."""
    return kind == "invoice" and purpose not in NEVER_HELD_PURPOSES and not kept_number
