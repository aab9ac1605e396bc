"""Receivables KPIs of a month as pure formulas (docs/design/kpis.md).

Every input is an integer amount in minor units of the company's currency (at booking rates)
or a number of days; every figure is a ``Decimal`` rounded half-up to one decimal place, or
``None`` where its divisor is zero (a month without sales has no DSO). The definitions, with a
worked example computed by hand, are in the design note; ``tests/unit/test_kpis.py`` is the
same example.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

ONE_PLACE = Decimal("0.1")


def _ratio(num: int | Decimal, den: int | Decimal, scale: int = 1) -> Decimal | None:
    if den == 0:
        return None
    return (Decimal(num) * scale / Decimal(den)).quantize(ONE_PLACE, ROUND_HALF_UP)


@dataclass(frozen=True)
class MonthInputs:
    """What the database gives for one month, in base minor units."""

    days: int  # days in the month
    sales: int  # credit sales: invoices issued in the month
    receivable_start: int  # receivable at the end of the previous month
    receivable_end: int  # receivable at the end of the month (aging total)
    current_end: int  # the part not yet due at the end of the month
    over_90_end: int  # the part more than 90 days past due at the end of the month
    paid: int  # receipts applied in the month to invoices (not reversed)
    paid_days: int  # Σ applied × days from the invoice's issue to the payment
    late_days: int  # Σ applied × days from the due date to the payment, when after it
    bad_debt: int  # bad debts written off in the month, less those reversed in it


@dataclass(frozen=True)
class MonthKpis:
    dso: Decimal | None
    dso_countback: Decimal | None
    best_dso: Decimal | None
    days_delinquent: Decimal | None
    cei: Decimal | None  # percent
    days_to_pay: Decimal | None
    days_late: Decimal | None
    current_share: Decimal | None  # percent
    over_90_share: Decimal | None  # percent
    write_off_rate: Decimal | None  # percent


def dso_simple(receivable: int, sales: int, days: int) -> Decimal | None:
    """Receivable at the month's end ÷ the month's credit sales × its days."""
    return _ratio(receivable * days, sales)


def dso_countback(receivable: int, history: Sequence[tuple[int, int]]) -> Decimal | None:
    """Days of sales, counted back from the month's end, that the receivable amounts to:
    each month of ``history`` (``(sales, days)``, the month itself first, then the one
    before...) whose sales the receivable still covers counts its days whole; the first it
    does not covers counts the fraction left. ``None`` when the history runs out first
    (or there is no receivable to count, which is 0 days)."""
    if receivable <= 0:
        return Decimal("0.0")
    left, days = Decimal(receivable), Decimal(0)
    for sales, n in history:
        if sales <= 0:
            days += n
            continue
        if left <= sales:
            return (days + left / sales * n).quantize(ONE_PLACE, ROUND_HALF_UP)
        left -= sales
        days += n
    return None


def cei(receivable_start: int, sales: int, receivable_end: int, current_end: int
        ) -> Decimal | None:
    """Collection effectiveness index, in percent, over one month without dividing the sales
    by a number of months: what was collected ÷ what could have been.

        (start + sales − end) ÷ (start + sales − current at the end) × 100
    """
    return _ratio(receivable_start + sales - receivable_end,
                  receivable_start + sales - current_end, 100)


def month_kpis(m: MonthInputs, history: Sequence[tuple[int, int]]) -> MonthKpis:
    """Every KPI of a month; ``history`` as for :func:`dso_countback` (this month first)."""
    dso = dso_simple(m.receivable_end, m.sales, m.days)
    best = dso_simple(m.current_end, m.sales, m.days)
    return MonthKpis(
        dso=dso,
        dso_countback=dso_countback(m.receivable_end, history),
        best_dso=best,
        days_delinquent=None if dso is None or best is None else dso - best,
        cei=cei(m.receivable_start, m.sales, m.receivable_end, m.current_end),
        days_to_pay=_ratio(m.paid_days, m.paid),
        days_late=_ratio(m.late_days, m.paid),
        current_share=_ratio(m.current_end, m.receivable_end, 100),
        over_90_share=_ratio(m.over_90_end, m.receivable_end, 100),
        write_off_rate=_ratio(m.bad_debt, m.sales, 100),
    )


# ---------------------------------------------------------------- collections casework
@dataclass(frozen=True)
class CaseworkInputs:
    """What collections' casework gives for one month (docs/design/kpis.md, "Disputes and
    promises"): counts, days and base minor units."""

    invoices: int  # invoices issued in the month
    sales: int  # their base total (the month's credit sales)
    disputed_invoices: int  # invoices with a dispute opened in the month (each once)
    disputed: int  # what the disputes opened in the month contest, in base at booking rates
    closed: int  # disputes closed (resolved or rejected) in the month
    days_to_close: int  # Σ days from opening to closing of those
    promises_due: int  # promises to pay whose promised day is in the month
    kept: int  # those kept: paid in full between the day made and the promised day


@dataclass(frozen=True)
class CaseworkKpis:
    dispute_rate: Decimal | None  # percent of the month's invoices, by count
    dispute_amount_rate: Decimal | None  # percent of the month's credit sales
    days_to_resolve: Decimal | None  # mean days from opening to closing
    promise_kept_rate: Decimal | None  # percent of the promises due in the month


def casework_kpis(m: CaseworkInputs) -> CaseworkKpis:
    """The dispute rate (by count and by amount), the mean time to resolve a dispute and the
    promise-kept rate of a month."""
    return CaseworkKpis(
        dispute_rate=_ratio(m.disputed_invoices, m.invoices, 100),
        dispute_amount_rate=_ratio(m.disputed, m.sales, 100),
        days_to_resolve=_ratio(m.days_to_close, m.closed),
        promise_kept_rate=_ratio(m.kept, m.promises_due, 100),
    )
