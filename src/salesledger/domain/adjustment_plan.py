"""Planning adjustments: what one adjustment settles and books, and which early-payment
discounts a batch of payments earns (docs/design/adjustments.md).

Every adjustment is written by one writer (``payments/adjustments/writer.py``) from the plans
made here over plain values read under lock:

* :func:`plan_adjustment`: an adjustment of ``amount`` on an invoice settles its open
  instalments oldest due first; each share relieves the receivable at the invoice's booking
  rate, the last part of an instalment taking the base that is left (so an adjustment realises
  no exchange difference); its VAT share is given, or the invoice's proportion of it;
* :func:`plan_discounts`: of the instalments a batch of payments touched, those left open by
  exactly their discount, when every live payment on them was received by the discount's last
  day, earn it, once; of several payments of the batch on one instalment the last one earns
  it (the one after which exactly the discount was left open, as when they are allocated one
  by one). Each is an adjustment of its one instalment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from ..money import format_minor, major_text
from .adjustments import AdjustmentKind, adjustment_entry, discount_earned, tax_share, vat_shares
from .allocation import OpenSide
from .errors import AllocationExceedsOpenAmount, NegativeAmount, ValidationFailed
from .journal import Line
from .settlement import OpenInstalment, settle_oldest_first


class AdjustedInvoice(NamedTuple):
    id: int
    number: str
    customer_id: int
    currency: str
    rate: Decimal  # its booking rate
    tax: int
    total: int
    issue_date: date


class AdjustedItem(NamedTuple):
    """An instalment of the invoice, as locked: ``relieved`` is the base its allocations
    already took off ``base_whole``."""

    id: int
    due_date: date
    amount: int
    settled: int
    base_whole: int
    relieved: int


class Share(NamedTuple):
    instalment_id: int
    amount: int
    base: int
    settled_after: int  # the instalment's ``settled`` once the adjustment is written


@dataclass(frozen=True)
class PlannedAdjustment:
    kind: AdjustmentKind
    invoice: AdjustedInvoice
    day: date
    amount: int
    base_amount: int
    tax: int
    shares: tuple[Share, ...]
    lines: list[Line]
    receipt_id: int | None = None  # the payment it is made with (or, a bad debt, recovered by)
    receipt_number: str = ""
    reason_code: str = ""
    memo: str = ""
    dispute_requested: bool = False


def plan_adjustment(*, kind: AdjustmentKind, invoice: AdjustedInvoice,
                    items: Sequence[AdjustedItem], amount: int, day: date, base_currency: str,
                    with_tax: bool = False, tax: int | None = None, receipt_id: int | None = None,
                    receipt_number: str = "", reason_code: str = "", memo: str = "",
                    dispute_requested: bool = False) -> PlannedAdjustment:
    """An adjustment of ``amount`` on ``invoice`` settling ``items`` (its instalments)
    oldest due first. Its VAT share is ``tax`` when given, else with ``with_tax`` the
    invoice's proportion of it."""
    cur = invoice.currency
    if day < invoice.issue_date:
        raise ValidationFailed(f"cannot adjust {invoice.number} on {day}, before its issue date "
                               f"{invoice.issue_date}", invoice=invoice.number)
    open_items = [OpenInstalment(i.id, i.due_date, i.amount - i.settled)
                  for i in items if i.amount > i.settled]
    open_total = sum(o.open for o in open_items)
    if amount <= 0:
        raise NegativeAmount(f"an adjustment must be positive, not {format_minor(amount, cur)}")
    if amount > open_total:
        raise AllocationExceedsOpenAmount(
            f"a {kind.value} of {format_minor(amount, cur)} exceeds the "
            f"{format_minor(open_total, cur)} still open on {invoice.number}",
            invoice=invoice.number, amount=major_text(amount, cur),
            open=major_text(open_total, cur), currency=cur)
    by_id = {i.id: i for i in items}
    shares = []
    for s in settle_oldest_first(amount, open_items):
        item = by_id[s.instalment_id]
        side = OpenSide(item.amount - item.settled, item.base_whole, invoice.rate, item.relieved)
        shares.append(Share(item.id, s.amount, side.relieve(s.amount, cur, base_currency),
                            item.settled + s.amount))
    base = sum(s.base for s in shares)
    if tax is None:
        tax, base_tax = (vat_shares(amount, base, invoice_tax=invoice.tax,
                                    invoice_total=invoice.total) if with_tax else (0, 0))
    else:
        base_tax = (0 if tax == 0 else base if tax == amount else tax if base == amount
                    else tax_share(base, invoice_tax=tax, invoice_total=amount))
    return PlannedAdjustment(
        kind, invoice, day, amount, base, tax, tuple(shares),
        adjustment_entry(kind=kind, customer_id=invoice.customer_id, currency=cur,
                         amount=amount, base_amount=base, tax=tax, base_tax=base_tax),
        receipt_id, receipt_number, reason_code, memo[:255], dispute_requested)


# ---------------------------------------------------------------- early-payment discounts
class DiscountCandidate(NamedTuple):
    """An instalment a batch of payments touched that has an early-payment discount open:
    what it has open is its discount. ``paid_on``: the days of the live payments on it (the
    receipts whose allocations there net above zero); ``taken``: whether it already has a
    live discount."""

    item: AdjustedItem
    invoice: AdjustedInvoice
    discount_amount: int
    discount_date: date
    paid_on: tuple[date, ...]
    taken: bool


class Payment(NamedTuple):
    """A receipt's allocations just made on one day: the instalments they touched."""

    receipt_id: int
    receipt_number: str
    received: date  # the receipt's date, the day the money arrived
    day: date  # the allocations' day, the day a discount is written
    instalment_ids: tuple[int, ...]


def plan_discounts(payments: Sequence[Payment], candidates: Sequence[DiscountCandidate], *,
                   with_tax: bool, base_currency: str) -> list[PlannedAdjustment]:
    """The discounts ``payments`` (in the order written) earn, in that order (see the module
    docstring)."""
    found = {c.item.id: c for c in candidates if not c.taken}
    last = {pk: n for n, p in enumerate(payments) for pk in p.instalment_ids}
    out = []
    for n, p in enumerate(payments):
        for pk in p.instalment_ids:
            c = found.get(pk)
            if c is None or last[pk] != n or c.discount_date < p.received:
                continue
            if not discount_earned(open_after=c.item.amount - c.item.settled,
                                   discount_amount=c.discount_amount,
                                   discount_date=c.discount_date, payment_dates=list(c.paid_on)):
                continue
            del found[pk]  # an instalment earns its discount once
            out.append(plan_adjustment(
                kind=AdjustmentKind.DISCOUNT, invoice=c.invoice, items=[c.item],
                amount=c.discount_amount, day=p.day, base_currency=base_currency,
                with_tax=with_tax, receipt_id=p.receipt_id, receipt_number=p.receipt_number,
                memo=f"paid by {p.receipt_number} on {p.received}, discount until "
                     f"{c.discount_date}"))
    return out
