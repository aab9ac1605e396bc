"""Period arithmetic of recurring invoices: month ends, no drift, end dates and counts."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesledger.domain.errors import ValidationFailed
from salesledger.domain.recurrence import (
    Recurrence,
    Unit,
    add_months,
    describe,
    due_count,
    due_periods,
    next_start,
    parse_every,
    period,
    period_start,
    periods_to_come,
    started_by,
    total_periods,
)

days = st.dates(date(1990, 1, 1), date(2080, 12, 31))
units = st.sampled_from(list(Unit))
intervals = st.integers(1, 15)


@st.composite
def rules(draw: st.DrawFn, bounded: bool | None = None) -> Recurrence:
    unit, interval, start = draw(units), draw(intervals), draw(days)
    kind = draw(st.sampled_from(["open", "end", "count"])) if bounded is None else (
        "count" if bounded else "open")
    if kind == "end":
        return Recurrence(unit, interval, start,
                          end=start + timedelta(days=draw(st.integers(0, 3000))))
    if kind == "count":
        return Recurrence(unit, interval, start, count=draw(st.integers(1, 60)))
    return Recurrence(unit, interval, start)


def test_monthly_from_the_31st_follows_the_month_ends():
    rule = Recurrence(Unit.MONTH, 1, date(2024, 1, 31))
    assert [period_start(rule, k) for k in range(6)] == [
        date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30),
        date(2024, 5, 31), date(2024, 6, 30)]
    assert period_start(Recurrence(Unit.MONTH, 1, date(2025, 1, 31)), 1) == date(2025, 2, 28)


def test_quarterly_and_yearly_from_a_leap_day():
    quarterly = Recurrence(Unit.MONTH, 3, date(2024, 11, 30))
    assert [period_start(quarterly, k) for k in range(3)] == [
        date(2024, 11, 30), date(2025, 2, 28), date(2025, 5, 30)]
    yearly = Recurrence(Unit.MONTH, 12, date(2024, 2, 29))
    assert [period_start(yearly, k) for k in range(5)] == [
        date(2024, 2, 29), date(2025, 2, 28), date(2026, 2, 28), date(2027, 2, 28),
        date(2028, 2, 29)]


def test_a_period_ends_the_day_before_the_next_begins():
    rule = Recurrence(Unit.MONTH, 1, date(2025, 1, 31))
    assert period(rule, 0).end == date(2025, 2, 27)
    assert period(rule, 1).end == date(2025, 3, 30)


@pytest.mark.parametrize(("text", "expected"), [
    ("1 month", (Unit.MONTH, 1)), ("3 months", (Unit.MONTH, 3)), ("monthly", (Unit.MONTH, 1)),
    ("quarterly", (Unit.MONTH, 3)), ("Yearly", (Unit.MONTH, 12)), ("2 years", (Unit.MONTH, 24)),
    ("every 2 weeks", (Unit.WEEK, 2)), ("14 days", (Unit.DAY, 14)), ("week", (Unit.WEEK, 1)),
    ("  1   quarter ", (Unit.MONTH, 3)), ("fortnightly", (Unit.WEEK, 2)),
])
def test_parse_every(text, expected):
    assert parse_every(text) == expected


@pytest.mark.parametrize("text", ["", "month 1", "3 fortnights", "0 months", "1.5 months",
                                  "-1 month", "5000 days"])
def test_parse_every_refuses_what_it_cannot_read(text):
    with pytest.raises(ValidationFailed) as err:
        parse_every(text)
    assert "--every" in err.value.message


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"interval": 0}, "1 or more"),
    ({"end": date(2024, 12, 31)}, "before the start"),
    ({"count": 0}, "at least 1"),
    ({"end": date(2025, 6, 1), "count": 3}, "not both"),
])
def test_a_bad_schedule_is_refused(kwargs, words):
    base = {"unit": Unit.MONTH, "interval": 1, "start": date(2025, 1, 1)}
    with pytest.raises(ValidationFailed) as err:
        Recurrence(**{**base, **kwargs})
    assert words in err.value.message


@given(units, intervals)
def test_describe_reads_back(unit, interval):
    assert parse_every(describe(unit, interval)) == (unit, interval)


@given(rules(), st.integers(0, 200))
def test_starts_strictly_increase(rule, k):
    assert period_start(rule, k) < period_start(rule, k + 1)


@given(rules(), st.integers(0, 200))
def test_monthly_starts_keep_the_start_day_clamped_without_drift(rule, k):
    if rule.unit is not Unit.MONTH:
        return
    start = period_start(rule, k)
    months = (start.year - rule.start.year) * 12 + start.month - rule.start.month
    assert months == k * rule.interval
    assert start.day == min(rule.start.day, calendar.monthrange(start.year, start.month)[1])


@given(rules(), st.integers(0, 200))
def test_day_and_week_steps_are_exact(rule, k):
    if rule.unit is Unit.MONTH:
        return
    step = rule.interval * (7 if rule.unit is Unit.WEEK else 1)
    assert (period_start(rule, k) - rule.start).days == k * step


@given(rules(), days)
def test_started_by_counts_the_starts_on_or_before_the_day(rule, day):
    n = started_by(rule, day)
    if n == 0:
        assert day < rule.start
    else:
        assert period_start(rule, n - 1) <= day < period_start(rule, n)


@given(rules(), days)
def test_due_periods_match_a_brute_force_walk(rule, day):
    expected = []
    k = 0
    while True:
        start = period_start(rule, k)
        if start > day or (rule.count is not None and k >= rule.count) or (
                rule.end is not None and start > rule.end):
            break
        expected.append(start)
        k += 1
    assert [p.start for p in due_periods(rule, day)] == expected
    assert due_count(rule, day) == len(expected)


@given(rules(), days, st.integers(0, 30), st.integers(1, 10))
def test_resuming_after_issued_periods_gives_the_rest(rule, day, issued, limit):
    everything = [p.index for p in due_periods(rule, day)]
    rest = [p.index for p in due_periods(rule, day, issued=issued)]
    assert rest == everything[issued:]
    assert [p.index for p in due_periods(rule, day, issued=issued, limit=limit)] == rest[:limit]


@given(rules(bounded=True))
def test_a_counted_schedule_has_exactly_its_count(rule):
    assert total_periods(rule) == rule.count
    assert rule.count is not None
    assert due_count(rule, date(2200, 1, 1)) == rule.count
    assert next_start(rule, rule.count) is None
    assert next_start(rule, rule.count - 1) == period_start(rule, rule.count - 1)


@given(rules(), st.integers(0, 100))
def test_periods_tile_the_calendar(rule, k):
    this, following = period(rule, k), period(rule, k + 1)
    assert this.start <= this.end
    assert this.end + timedelta(days=1) == following.start


@given(days, st.integers(-2000, 2000))
def test_add_months_is_clamped_and_lands_in_the_right_month(day, months):
    moved = add_months(day, months)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
    assert moved.day == min(day.day, calendar.monthrange(moved.year, moved.month)[1])


def test_the_periods_to_come_are_those_after_the_day_and_the_late_ones() -> None:
    monthly = Recurrence(Unit.MONTH, 1, date(2025, 1, 15), count=12)
    starts = [p.start for p in periods_to_come(monthly, after=date(2025, 3, 31),
                                               until=date(2025, 6, 30), issued=3)]
    assert starts == [date(2025, 4, 15), date(2025, 5, 15), date(2025, 6, 15)]
    # seen from the past (a backtest), what was issued since is still to come on that day
    assert [p.index for p in periods_to_come(monthly, after=date(2025, 3, 31),
                                             until=date(2025, 5, 1), issued=9)] == [3]
    # a run that is late: periods started by the day and not issued come first
    assert [p.index for p in periods_to_come(monthly, after=date(2025, 3, 31),
                                             until=date(2025, 4, 30), issued=1)] == [1, 2, 3]
    # within the schedule's count, and nothing when the window ends before the start
    assert [p.index for p in periods_to_come(monthly, after=date(2025, 12, 1),
                                             until=date(2026, 6, 30), issued=11)] == [11]
    assert periods_to_come(monthly, after=date(2024, 1, 1), until=date(2025, 1, 14),
                           issued=0) == []
    assert periods_to_come(monthly, after=date(2026, 1, 1), until=date(2026, 6, 30),
                           issued=12) == []
