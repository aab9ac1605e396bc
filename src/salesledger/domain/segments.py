"""Segments of customers for the reports (docs/design/reporting.md, "Segments"): pure rules.

A **size band** is a customer's class in an ABC analysis of its credit sales over the twelve
months up to the report's day: customers are ranked by those sales, largest first (then by
their key, so that the ranking is total); a customer is in band **A** while the customers
ranked before it make less than 80 % of the sales, in **B** while they make less than 95 %,
and in **C** after that. A customer with no sales in the year is in C. The bands do not depend
on a currency or a threshold in money: they are shares of the company's own sales.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

# The shares of sales (percent) that the bands before B and before C make.
A_SHARE, B_SHARE = 80, 95
SIZE_BANDS = ("A", "B", "C")


def size_bands(sales: Mapping[K, int], order: Mapping[K, str] | None = None) -> dict[K, str]:
    """The band of each key of ``sales`` (its credit sales, minor units); ``order`` breaks
    ties between equal sales (by default the keys themselves, as text)."""
    total = sum(max(0, v) for v in sales.values())
    ranked = sorted(sales, key=lambda k: (-max(0, sales[k]),
                                          order[k] if order is not None else str(k)))
    out: dict[K, str] = {}
    before = 0
    for k in ranked:
        amount = max(0, sales[k])
        if amount == 0 or total == 0:
            out[k] = "C"
        elif before * 100 < A_SHARE * total:
            out[k] = "A"
        elif before * 100 < B_SHARE * total:
            out[k] = "B"
        else:
            out[k] = "C"
        before += amount
    return out
