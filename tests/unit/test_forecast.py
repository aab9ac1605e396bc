"""The forecast's pure rules: delays, weeks, scenarios and the error."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesledger.domain.forecast import (
    ON_DUE_DATE,
    Delay,
    delay_of,
    error,
    estimator,
    percentile,
    week_of,
    weekly,
)

D = date(2026, 3, 31)


def test_a_payers_delay_is_its_median_and_quartiles() -> None:
    assert delay_of([10, -2, 30, 5, 12]) == Delay(median=10, early=5, late=12, samples=5)
    assert delay_of([]) == ON_DUE_DATE


def test_a_customer_with_little_history_takes_the_companys() -> None:
    own, company = estimator({"A": [20, 21, 22], "B": [0, 0]})
    assert set(own) == {"A"} and own["A"].median == 21
    assert company == delay_of([20, 21, 22, 0, 0])


def test_weeks_start_the_day_after() -> None:
    assert week_of(D - timedelta(days=40), D) == 0  # overdue: expected at once
    assert [week_of(D + timedelta(days=n), D) for n in (1, 7, 8, 14, 15)] == [0, 0, 1, 1, 2]


def test_the_scenarios_of_one_late_payer() -> None:
    late_payer = Delay(median=14, early=7, late=21, samples=10)
    w = weekly([(D + timedelta(days=3), 100, late_payer)], D, 4)
    assert w.naive == [100, 0, 0, 0]
    assert w.expected == [0, 0, 100, 0]
    assert w.low == [0, 0, 0, 0] and w.high == [0, 100, 100, 100]
    # beyond the horizon: not in the forecast
    assert sum(weekly([(D + timedelta(days=60), 100, ON_DUE_DATE)], D, 4).naive) == 0


# (drawing its lists took over two seconds once on a machine eight sessions share)
@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(-60, 120), st.integers(1, 10**6),
                          st.integers(-10, 60), st.integers(0, 30)), max_size=30))
def test_the_range_holds_the_expected_receipts(items: list[tuple[int, int, int, int]]) -> None:
    w = weekly([(D + timedelta(days=due), amount, Delay(m, m - spread, m + spread, 5))
                for due, amount, m, spread in items], D, 13)
    assert all(lo <= e <= hi for lo, e, hi in zip(w.low, w.expected, w.high, strict=True))


@given(st.lists(st.tuples(st.integers(-400, 400), st.integers(-10**6, 10**6),
                          st.integers(-90, 90), st.integers(-90, 90), st.integers(-90, 90)),
                max_size=30), st.integers(1, 26))
def test_weekly_puts_each_scenario_in_the_week_of_its_day(
        items: list[tuple[int, int, int, int, int]], weeks: int) -> None:
    """``weekly`` counts in day numbers; the weeks are those ``week_of`` gives each date."""
    delays = [(D + timedelta(days=due), amount, Delay(m, e, late, 3))
              for due, amount, m, e, late in items]
    w = weekly(delays, D, weeks)
    for series, pick in ((w.naive, lambda d: 0), (w.expected, lambda d: d.median)):
        reference = [0] * weeks
        for due, amount, d in delays:
            k = week_of(due + timedelta(days=pick(d)), D)
            if k < weeks:
                reference[k] += amount
        assert series == reference


def test_error_is_weighted_by_what_was_received() -> None:
    assert error([100, 0, 50], [50, 50, 50]) == Decimal("66.7")  # (50 + 50 + 0) / 150
    assert error([0, 0], [0, 0]) is None


@given(st.lists(st.integers(-400, 400), min_size=1, max_size=60),
       st.sampled_from(["0", "0.1", "0.25", "0.5", "0.75", "0.9", "1", "0.333"]))
def test_the_percentiles_rank_is_n_minus_1_times_q_rounded_half_up(
        values: list[int], q: str) -> None:
    """``percentile`` works the rank out in integers: the rank of its definition, the nearest
    rank (n - 1) × q rounded half up to a whole number."""
    from decimal import ROUND_HALF_UP

    ordered = sorted(values)
    rank = (Decimal(len(ordered) - 1) * Decimal(q)).quantize(Decimal(1), ROUND_HALF_UP)
    assert percentile(ordered, Decimal(q)) == ordered[int(rank)]
