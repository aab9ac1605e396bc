"""The cash-flow forecast as pure rules (docs/design/forecast.md): a customer's payment delay
from its history, the expected day of an open item, receipts per week, and the error of a
forecast against what was received.

A **delay** is the days from an instalment's due date to a receipt applied to it (negative
when paid early). A payer's delays give a **median** (the expected delay) and a spread, the
25th and 75th percentiles (an early and a late delay). A customer with fewer than
``MIN_SAMPLES`` delays takes the company's; a company without any takes 0 (the due date).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

MIN_SAMPLES = 3


@dataclass(frozen=True)
class Delay:
    """Days after the due date: expected (median), early (25th) and late (75th percentile)."""

    median: int
    early: int
    late: int
    samples: int


ON_DUE_DATE = Delay(0, 0, 0, 0)


def percentile(values: Sequence[int], q: Decimal) -> int:
    """The ``q`` quantile (0 to 1) of sorted ``values``, the nearest rank rounded half up."""
    # (n - 1) × q rounded half up, in integers: q = a ÷ b, so ⌊(2a(n - 1) + b) ÷ 2b⌋
    a, b = q.as_integer_ratio()
    return values[(2 * a * (len(values) - 1) + b) // (2 * b)]


def delay_of(delays: Iterable[int]) -> Delay:
    values = sorted(delays)
    if not values:
        return ON_DUE_DATE
    return Delay(percentile(values, Decimal("0.5")), percentile(values, Decimal("0.25")),
                 percentile(values, Decimal("0.75")), len(values))


def estimator(per_customer: dict[str, list[int]]) -> tuple[dict[str, Delay], Delay]:
    """Each customer's delay (those with ``MIN_SAMPLES`` or more) and the company's."""
    company = delay_of(d for ds in per_customer.values() for d in ds)
    own = {c: delay_of(ds) for c, ds in per_customer.items() if len(ds) >= MIN_SAMPLES}
    return own, company


def week_of(day: date, start: date) -> int:
    """The week (0-based) of ``day`` in a forecast made on ``start``: week 0 is the seven
    days after it; a day on or before ``start`` is in week 0 (what is overdue is expected
    at once)."""
    return max(0, (day - start).days - 1) // 7


@dataclass(frozen=True)
class Weeks:
    """Amounts per week of a forecast, in base minor units."""

    naive: list[int]  # every item paid on its due date
    expected: list[int]  # on the due date plus the payer's median delay
    low: list[int]  # the lesser, week by week, of the early, expected and late scenarios
    high: list[int]  # the greater


def weekly(items: Iterable[tuple[date, int, Delay]], start: date, weeks: int) -> Weeks:
    """``items``: (due date, amount, the payer's delay) of each open item on ``start``. An
    item expected after the last week is not in the forecast."""
    naive, expected, early, late = ([0] * weeks for _ in range(4))
    # ``week_of`` in whole days (day numbers, not dates): a forecast adds up one row per
    # customer and due date, tens of thousands of them
    first = start.toordinal() + 1
    for due, amount, d in items:
        day = due.toordinal() - first
        for series, offset in ((naive, 0), (expected, d.median), (early, d.early),
                               (late, d.late)):
            w = max(0, day + offset) // 7
            if w < weeks:
                series[w] += amount
    low = [min(a, b, c) for a, b, c in zip(early, expected, late, strict=True)]
    high = [max(a, b, c) for a, b, c in zip(early, expected, late, strict=True)]
    return Weeks(naive, expected, low, high)


def error(forecast: Sequence[int], actual: Sequence[int]) -> Decimal | None:
    """Weighted absolute percentage error: Σ |forecast − actual| ÷ Σ actual over the weeks,
    in percent (``None`` when nothing was received)."""
    received = sum(actual)
    if received == 0:
        return None
    miss = sum(abs(f - a) for f, a in zip(forecast, actual, strict=True))
    return (Decimal(miss) * 100 / received).quantize(Decimal("0.1"), ROUND_HALF_UP)


def committed(items: Iterable[tuple[str, date, int, Delay]],
              commitments: Iterable[tuple[str, date, int]]) -> list[tuple[date, int, Delay]]:
    """The items of a forecast (payer, due date, amount, the payer's delay) with what payers
    committed to pay on a day (a promise to pay, a payment plan's instalment: payer, day,
    amount) put on that day: each commitment, earliest first, takes its amount from its
    payer's items, oldest due first, and the part taken is expected on the committed day
    (early, expected and late alike), keeping its due date for the naive view. What a payer
    committed beyond what it owes is not money the forecast has: it is left out."""
    by_payer: dict[str, list[list[Any]]] = {}
    out: list[tuple[date, int, Delay]] = []
    for payer, due, amount, delay in items:
        by_payer.setdefault(payer, []).append([due, amount, delay])
    for parts in by_payer.values():
        parts.sort(key=lambda p: p[0])
    for payer, day, amount in sorted(commitments, key=lambda c: (c[1], c[0])):
        left = amount
        for part in by_payer.get(payer, []):
            if left <= 0:
                break
            take = min(left, part[1])
            if take <= 0:
                continue
            part[1] -= take
            left -= take
            offset = (day - part[0]).days
            out.append((part[0], take, Delay(offset, offset, offset, 0)))
    out.extend((due, amount, delay) for parts in by_payer.values()
               for due, amount, delay in parts if amount > 0)
    return out
