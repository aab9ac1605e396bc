"""Payment terms: instalments that always sum to the total, due dates, discounts, parsing."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesledger.domain.errors import ValidationFailed
from salesledger.domain.terms import (
    NET_30,
    TermLine,
    Terms,
    build_schedule,
    due_date,
    given_schedule,
    parse_terms,
)
from salesledger.money import Money

D = Decimal


@st.composite
def percentages(draw):
    """Positive percentages with up to two decimals that sum to exactly 100."""
    n = draw(st.integers(1, 8))
    cuts = draw(st.lists(st.integers(1, 9999), min_size=n - 1, max_size=n - 1, unique=True))
    points = [0, *sorted(cuts), 10000]
    return [D(b - a).scaleb(-2) for a, b in zip(points, points[1:], strict=False)]


@given(st.integers(0, 10**13), percentages(), st.sampled_from(["EUR", "JPY", "KWD"]),
       st.dates(date(2000, 1, 1), date(2099, 12, 31)), st.booleans())
def test_instalments_sum_to_the_total(total, percents, currency, issue, eom):
    lines = tuple(TermLine(p, 30 * i, eom) for i, p in enumerate(percents, start=1))
    schedule = build_schedule(Money.from_minor(total, currency), issue, Terms(lines))
    assert sum(s.amount for s in schedule) == total
    assert all(s.amount > 0 for s in schedule)  # an instalment is never zero
    assert [s.seq for s in schedule] == list(range(1, len(schedule) + 1))
    assert [s.due_date for s in schedule] == sorted(s.due_date for s in schedule)
    if total >= 10000:  # every share (at least 0.01 %) is worth a minor unit
        assert len(schedule) == len(percents)
        for s, p in zip(schedule[:-1], percents[:-1], strict=True):  # rounded down but last
            assert 0 <= D(total) * p / 100 - s.amount < 1


def test_shares_too_small_to_be_owed_are_left_out():
    s = build_schedule(Money("0.02", "EUR"), date(2025, 1, 1), parse_terms("30/60/90"))
    # 0.02 in thirds is 0.00, 0.01, 0.01: the empty first share is not an instalment
    assert [(x.seq, x.amount, x.due_date) for x in s] == [(1, 1, date(2025, 3, 2)),
                                                          (2, 1, date(2025, 4, 1))]
    assert build_schedule(Money("0", "JPY"), date(2025, 1, 1), NET_30) == []


def test_net_30_due_date():
    [only] = build_schedule(Money("100.00", "EUR"), date(2025, 1, 31), NET_30)
    assert (only.seq, only.due_date, only.amount) == (1, date(2025, 3, 2), 10000)
    assert (only.discount_date, only.discount_amount) == (None, 0)


def test_thirds_at_30_60_90():
    terms = parse_terms("30/60/90")
    s = build_schedule(Money("100.00", "EUR"), date(2025, 1, 1), terms)
    assert [x.amount for x in s] == [3333, 3333, 3334]
    assert [x.due_date for x in s] == [date(2025, 1, 31), date(2025, 3, 2), date(2025, 4, 1)]


@pytest.mark.parametrize(("issue", "days", "expected"), [
    (date(2025, 1, 15), 30, date(2025, 2, 28)),
    (date(2024, 1, 15), 30, date(2024, 2, 29)),  # leap year
    (date(2025, 1, 31), 0, date(2025, 1, 31)),
    (date(2025, 12, 10), 30, date(2026, 1, 31)),
])
def test_end_of_month(issue, days, expected):
    assert due_date(issue, TermLine(D(100), days, end_of_month=True)) == expected


def test_early_payment_discount():
    terms = parse_terms("30 2%/10")
    assert (terms.discount_percent, terms.discount_days) == (D(2), 10)
    [only] = build_schedule(Money("123.45", "EUR"), date(2025, 3, 1), terms)
    assert only.discount_date == date(2025, 3, 11)
    assert only.discount_amount == 247  # 2 % of 123.45 = 2.469 -> 2.47


def test_early_payment_discount_applies_to_each_instalment():
    terms = Terms((TermLine(D(50), 30), TermLine(D(50), 60)), D(3), 10)
    s = build_schedule(Money("99.99", "EUR"), date(2025, 3, 1), terms)
    assert [x.amount for x in s] == [4999, 5000]
    assert [x.discount_amount for x in s] == [150, 150]  # 1.4997 -> 1.50; 1.50
    assert {x.discount_date for x in s} == {date(2025, 3, 11)}


@pytest.mark.parametrize(("spec", "expected"), [
    ("30", [(D(100), 30, False)]),
    ("0", [(D(100), 0, False)]),
    ("30eom", [(D(100), 30, True)]),
    ("30/60/90", [(D("33.3333333333"), 30, False), (D("33.3333333333"), 60, False),
                   (D("33.3333333334"), 90, False)]),
    ("50%:0,50%:30EOM", [(D(50), 0, False), (D(50), 30, True)]),
])
def test_parse_terms(spec, expected):
    terms = parse_terms(spec)
    assert [(x.percent, x.days, x.end_of_month) for x in terms.lines] == expected
    assert terms.discount_percent == 0


@given(st.lists(st.integers(0, 365), min_size=1, max_size=12))
def test_parsed_equal_shares_sum_to_100(days):
    terms = parse_terms("/".join(map(str, days)))
    percents = [x.percent for x in terms.lines]
    assert sum(percents) == 100
    assert max(percents) - min(percents) <= D("0.01")


@pytest.mark.parametrize("spec", ["", "abc", "30/x", "50:0,40:30", "30 2%", "30 x/10",
                                  "-5", "0:30,100:60", "30 2%/0", "30 100%/10"])
def test_unreadable_or_invalid_terms(spec):
    with pytest.raises(ValidationFailed):
        parse_terms(spec)


def test_terms_validation():
    with pytest.raises(ValidationFailed):
        Terms(())
    with pytest.raises(ValidationFailed):
        Terms((TermLine(D(60), 30), TermLine(D(60), 60)))
    with pytest.raises(ValidationFailed):
        Terms((TermLine(D(100), -1),))


@given(st.dates(date(2000, 1, 1), date(2099, 1, 1)), st.integers(0, 400), st.booleans())
def test_due_date_is_never_before_issue_plus_days(issue, days, eom):
    due = due_date(issue, TermLine(D(100), days, eom))
    assert due >= issue + timedelta(days=days)
    if eom:
        assert (due + timedelta(days=1)).day == 1
    else:
        assert due == issue + timedelta(days=days)


def test_equal_shares_written_with_decimals_are_exact_thirds():
    terms = parse_terms("30/60/90")
    for total, expected in (("120.00", [4000, 4000, 4000]), ("90.00", [3000, 3000, 3000]),
                            ("1401.82", [46727, 46727, 46728]), ("0.05", [1, 2, 2])):
        s = build_schedule(Money(total, "EUR"), date(2025, 1, 1), terms)
        assert [x.amount for x in s] == expected


# ---------------------------------------------------------------- due dates given
def test_given_due_dates_become_the_instalments_exactly() -> None:
    issue = date(2025, 1, 10)
    assert [(s.seq, s.due_date, s.amount, s.discount_date, s.discount_amount)
            for s in given_schedule(12000, "EUR", issue, [(date(2025, 2, 17), None)])] == [
        (1, date(2025, 2, 17), 12000, None, 0)]
    parts = [(date(2025, 2, 1), 4000), (date(2025, 3, 1), 4001), (date(2025, 4, 1), 3999)]
    assert [(s.due_date, s.amount) for s in given_schedule(12000, "EUR", issue, parts)] == parts
    # due on the issue date is allowed (paid on receipt)
    assert given_schedule(1, "EUR", issue, [(issue, 1)])[0].due_date == issue


@pytest.mark.parametrize(("parts", "field", "words"), [
    ([], "due_date", "at least one due date"),
    ([(date(2025, 1, 9), None)], "due_date", "before the issue date 2025-01-10"),
    ([(date(2025, 3, 1), 50), (date(2025, 2, 1), 50)], "due_date", "in order"),
    ([(date(2025, 3, 1), 50), (date(2025, 3, 1), 50)], "due_date", "in order"),
    ([(date(2025, 2, 1), 50), (date(2025, 3, 1), None)], "due_amount", "need an amount each"),
    ([(date(2025, 2, 1), 100), (date(2025, 3, 1), 0)], "due_amount", "more than zero"),
    ([(date(2025, 2, 1), 50), (date(2025, 3, 1), 49)], "due_amount",
     "add up to 0.99 EUR but the document totals 1.00 EUR"),
    ([(date(2025, 2, 1), 101)], "due_amount", "add up to 1.01 EUR"),
])
def test_given_due_dates_are_refused_when_wrong(parts, field, words) -> None:
    with pytest.raises(ValidationFailed) as failed:
        given_schedule(100, "EUR", date(2025, 1, 10), parts)
    assert failed.value.fields["field"] == field and words in failed.value.message


def test_nothing_to_pay_has_no_due_dates() -> None:
    with pytest.raises(ValidationFailed, match="nothing to pay"):
        given_schedule(0, "EUR", date(2025, 1, 10), [(date(2025, 2, 1), None)])
