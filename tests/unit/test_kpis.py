"""The worked example of docs/design/kpis.md, figure by figure, and the rule that flags a
rising rate."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from salesledger.domain.kpis import (
    CaseworkInputs,
    CaseworkKpis,
    MonthInputs,
    casework_kpis,
    cei,
    dso_countback,
    dso_simple,
    month_kpis,
)
from salesledger.domain.trends import Rate, flags

# The ledger of the design note, in cents: sales 1,500.00 (January), 2,000.00 (February),
# 600.00 (March); at the month ends a receivable of 1,500.00, 2,500.00 and 1,000.00, of
# which 1,500.00, 2,000.00 and 600.00 not yet due.
FEB = MonthInputs(days=28, sales=200000, receivable_start=150000, receivable_end=250000,
                  current_end=200000, over_90_end=0, paid=100000, paid_days=100000 * 26,
                  late_days=0, bad_debt=0)
MAR = MonthInputs(days=31, sales=60000, receivable_start=250000, receivable_end=100000,
                  current_end=60000, over_90_end=0, paid=200000,
                  paid_days=50000 * 40 + 150000 * 33, late_days=50000 * 10 + 150000 * 3,
                  bad_debt=10000)
JAN_TO_MAR = [(60000, 31), (200000, 28), (150000, 31)]


def test_february_of_the_worked_example() -> None:
    k = month_kpis(FEB, JAN_TO_MAR[1:])
    assert k.dso == Decimal("35.0")  # 2,500 / 2,000 × 28
    assert k.dso_countback == Decimal("38.3")  # 28 + 500 / 1,500 × 31
    assert k.best_dso == Decimal("28.0")  # 2,000 / 2,000 × 28
    assert k.days_delinquent == Decimal("7.0")
    assert k.cei == Decimal("66.7")  # (1,500 + 2,000 − 2,500) / (1,500 + 2,000 − 2,000)
    assert k.days_to_pay == Decimal("26.0") and k.days_late == Decimal("0.0")
    assert k.current_share == Decimal("80.0") and k.over_90_share == Decimal("0.0")
    assert k.write_off_rate == Decimal("0.0")


def test_march_of_the_worked_example() -> None:
    k = month_kpis(MAR, JAN_TO_MAR)
    assert k.dso == Decimal("51.7")  # 1,000 / 600 × 31
    assert k.dso_countback == Decimal("36.6")  # 31 + 400 / 2,000 × 28
    assert k.best_dso == Decimal("31.0")
    assert k.days_delinquent == Decimal("20.7")
    assert k.cei == Decimal("84.0")  # 2,100 / 2,500
    assert k.days_to_pay == Decimal("34.8")  # (500 × 40 + 1,500 × 33) / 2,000 = 34.75
    assert k.days_late == Decimal("4.8")  # (500 × 10 + 1,500 × 3) / 2,000 = 4.75
    assert k.current_share == Decimal("60.0")
    assert k.write_off_rate == Decimal("16.7")  # 100 / 600


def test_what_has_no_divisor_is_none() -> None:
    assert dso_simple(100, 0, 30) is None
    assert cei(1500, 0, 1500, 1500) is None
    k = month_kpis(MonthInputs(31, 0, 0, 0, 0, 0, 0, 0, 0, 0), [(0, 31)])
    assert k.dso is None and k.days_to_pay is None and k.current_share is None
    assert k.dso_countback == Decimal("0.0")  # nothing owed: no days of sales


def test_countback_runs_out_of_history() -> None:
    assert dso_countback(500, [(100, 30), (100, 31)]) is None
    assert dso_countback(150, [(0, 30), (100, 31), (100, 30)]) == Decimal("76.0")


@given(st.integers(1, 10**9), st.lists(st.tuples(st.integers(1, 10**8), st.integers(28, 31)),
                                       min_size=1, max_size=24))
def test_countback_lies_within_the_months_it_counts(ar: int, history: list[tuple[int, int]]
                                                    ) -> None:
    d = dso_countback(ar, history)
    if d is None:
        assert ar > sum(s for s, _ in history)
    else:
        assert 0 <= d <= sum(n for _, n in history) + Decimal("0.05")


# ---------------------------------------------------------------- the flag
def _rates(*pairs: tuple[int, int]) -> list[Rate]:
    return [Rate(p, w) for p, w in pairs]


def test_a_rise_above_mean_plus_two_sd_is_flagged() -> None:
    # trailing 10 %, 12 %, 8 %, 10 %: mean 10, sd √2 ≈ 1.41; 2 sd < the 5-point floor,
    # so the bar is 15 %: 15 of 100 is not above it, 16 is.
    base = [(10, 100), (12, 100), (8, 100), (10, 100)]
    assert flags(_rates(*base, (15, 100))) == [False] * 5
    assert flags(_rates(*base, (16, 100))) == [False] * 4 + [True]


def test_a_wide_spread_raises_the_bar() -> None:
    # trailing 0 %, 20 %, 0 %, 20 %: mean 10, sd 10: the bar is 30 %
    base = [(0, 50), (10, 50), (0, 50), (10, 50)]
    assert flags(_rates(*base, (15, 50)))[-1] is False  # 30 %, not above
    assert flags(_rates(*base, (16, 50)))[-1] is True  # 32 %


def test_small_months_are_neither_flagged_nor_counted() -> None:
    # a month of 9 items is not flagged whatever its rate; trailing months of fewer than 10
    # items do not count, and with fewer than three that do nothing is flagged
    assert flags(_rates((1, 100), (1, 100), (1, 100), (9, 9)))[-1] is False
    assert flags(_rates((1, 100), (1, 100), (0, 5), (50, 100)))[-1] is False
    assert flags(_rates((1, 100), (1, 100), (1, 100), (50, 100)))[-1] is True


def test_only_the_last_six_months_count() -> None:
    # an old spell of high rates does not hide today's rise
    old = [(50, 100)] * 4
    recent = [(5, 100)] * 6
    assert flags(_rates(*old, *recent, (20, 100)))[-1] is True


# ---------------------------------------------------------------- disputes and promises
# March and April of the design note's "Disputes and promises" example, in cents: four
# invoices issued in March (4,000.00); disputes opened in March on two invoices (one of them
# of February), 200.00 + 100.00 on A and 800.00 on E; two closed in March after 20 and 19
# days; three promises due in March, two kept. In April nothing is invoiced, the third
# dispute closes after 21 days and the one promise due is broken.
CASEWORK_MAR = CaseworkInputs(invoices=4, sales=400000, disputed_invoices=2, disputed=110000,
                              closed=2, days_to_close=20 + 19, promises_due=3, kept=2)
CASEWORK_APR = CaseworkInputs(invoices=0, sales=0, disputed_invoices=0, disputed=0, closed=1,
                              days_to_close=21, promises_due=1, kept=0)


def test_disputes_and_promises_of_the_worked_example() -> None:
    assert casework_kpis(CASEWORK_MAR) == CaseworkKpis(
        dispute_rate=Decimal("50.0"),  # 2 invoices disputed ÷ 4 issued
        dispute_amount_rate=Decimal("27.5"),  # 1,100.00 ÷ 4,000.00
        days_to_resolve=Decimal("19.5"),  # (20 + 19) ÷ 2
        promise_kept_rate=Decimal("66.7"))  # 2 of 3
    # April: no invoice, so no dispute rate (not zero); one broken promise is 0 %
    assert casework_kpis(CASEWORK_APR) == CaseworkKpis(
        dispute_rate=None, dispute_amount_rate=None, days_to_resolve=Decimal("21.0"),
        promise_kept_rate=Decimal("0.0"))
