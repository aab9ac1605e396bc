"""Late-payment and default-rate trends: the rates of a cohort and the rule that flags a
month whose rate rises markedly (docs/design/kpis.md#trends).

A month's rate is **flagged** when all of these hold:

- the month has at least ``MIN_COUNT`` items (the rate's denominator);
- at least ``MIN_TRAILING`` of the ``WINDOW`` months before it have ``MIN_COUNT`` items too;
- its rate exceeds the mean of those trailing rates by more than ``K`` population standard
  deviations of them **and** by more than ``FLOOR`` (percentage points), so that months
  which all had the same rate do not flag a rise of one item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

WINDOW = 6
MIN_TRAILING = 3
MIN_COUNT = 10
K = Decimal(2)
FLOOR = Decimal(5)  # percentage points


@dataclass(frozen=True)
class Rate:
    """``part`` of ``whole`` (a count or an amount); ``percent`` is ``None`` when ``whole``
    is zero."""

    part: int
    whole: int

    @property
    def percent(self) -> Decimal | None:
        if self.whole == 0:
            return None
        return (Decimal(self.part) * 100 / self.whole).quantize(Decimal("0.1"), ROUND_HALF_UP)


def flags(rates: Sequence[Rate], *, window: int = WINDOW, min_trailing: int = MIN_TRAILING,
          min_count: int = MIN_COUNT, k: Decimal = K, floor: Decimal = FLOOR) -> list[bool]:
    """For each month of ``rates`` (by count, oldest first), whether its rate rose markedly
    against the months before it (the rule of the module's docstring)."""
    out: list[bool] = []
    for n, r in enumerate(rates):
        trailing = [Decimal(t.part) * 100 / t.whole for t in rates[max(0, n - window):n]
                    if t.whole >= min_count]
        if r.whole < min_count or len(trailing) < min_trailing:
            out.append(False)
            continue
        mean = sum(trailing, Decimal(0)) / len(trailing)
        sd = (sum(((x - mean) ** 2 for x in trailing), Decimal(0)) / len(trailing)).sqrt()
        out.append(Decimal(r.part) * 100 / r.whole > mean + max(k * sd, floor))
    return out
