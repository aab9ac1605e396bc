"""Aging buckets (domain/aging.py): parsed as people write them, every age in exactly one
bucket, and the date bounds the database sums with agree with counting days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesledger.domain.aging import (
    Bucket,
    age_of,
    bucket_index,
    bucket_of_reference,
    bucket_starts,
    parse_buckets,
)
from salesledger.domain.errors import ValidationFailed


def test_the_usual_buckets() -> None:
    assert parse_buckets("current,30,60,90,120") == (
        Bucket("current", None, 0), Bucket("1-30", 1, 30), Bucket("31-60", 31, 60),
        Bucket("61-90", 61, 90), Bucket("91-120", 91, 120), Bucket("over 120", 121, None))


def test_without_current_the_first_bucket_takes_what_is_not_yet_due() -> None:
    assert parse_buckets("30, 60,90") == (
        Bucket("up to 30", None, 30), Bucket("31-60", 31, 60), Bucket("61-90", 61, 90),
        Bucket("over 90", 91, None))
    assert parse_buckets("current") == (Bucket("current", None, 0), Bucket("over 0", 1, None))


@pytest.mark.parametrize("text", ["", "30,,60", "60,30", "30,30", "0,30", "-5", "30,current",
                                  "current,x", "current,٣٠", "1.5"])
def test_bad_buckets_are_refused(text: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_buckets(text)


def test_ages_on_the_edges() -> None:
    b = parse_buckets("current,30,60")
    day = date(2026, 3, 31)
    assert [bucket_index(age_of(day - timedelta(days=n), day), b)
            for n in (-5, 0, 1, 30, 31, 60, 61, 400)] == [0, 0, 1, 1, 2, 2, 3, 3]


LIMITS = st.lists(st.integers(1, 400), min_size=0, max_size=7, unique=True).map(sorted)


@given(limits=LIMITS, current=st.booleans(), age=st.integers(-800, 800),
       as_of=st.dates(date(2000, 1, 1), date(2100, 1, 1)))
def test_every_age_is_in_exactly_one_bucket_and_the_dates_agree(
        limits: list[int], current: bool, age: int, as_of: date) -> None:
    if not limits and not current:
        limits = [30]
    text = ",".join((["current"] if current else []) + [str(x) for x in limits])
    buckets = parse_buckets(text)
    holding = [n for n, b in enumerate(buckets) if b.holds(age)]
    assert len(holding) == 1
    ref = as_of - timedelta(days=age)
    assert bucket_of_reference(ref, bucket_starts(as_of, buckets)) == holding[0]
    # consecutive: each bucket starts the day after the one before ends
    for before, after in zip(buckets, buckets[1:], strict=False):
        assert before.to_days is not None and after.from_days == before.to_days + 1
    assert buckets[-1].to_days is None
