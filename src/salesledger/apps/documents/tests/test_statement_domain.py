"""Aging on a statement (``domain/statement.py``): pure properties."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from salesledger.domain.statement import (
    BUCKETS,
    StatementItem,
    bucket_index,
    days_overdue,
    summarise,
)

AS_OF = date(2025, 6, 30)

items = st.lists(st.builds(
    lambda kind, days, amount, cur: StatementItem(
        kind, "D", AS_OF - timedelta(days=days + 30), AS_OF - timedelta(days=days), cur,
        amount if kind == "instalment" else -amount,
        amount if kind == "instalment" else -amount),
    st.sampled_from(["instalment", "credit_note", "receipt"]), st.integers(-60, 400),
    st.integers(1, 10**9), st.sampled_from(["EUR", "USD"])), max_size=40)


@given(items)
def test_buckets_partition_the_open_debits_and_add_up_to_the_balance(rows):
    summaries = summarise(rows, AS_OF)
    assert [s.currency for s in summaries] == sorted({r.currency for r in rows})
    for s in summaries:
        mine = [r for r in rows if r.currency == s.currency]
        assert sum(s.buckets) == sum(r.open for r in mine if r.open > 0)
        assert s.unapplied == sum(r.open for r in mine if r.open < 0) <= 0
        assert s.balance == sum(r.open for r in mine) == sum(s.buckets) + s.unapplied
        assert s.overdue == sum(s.buckets[1:])


@given(st.integers(0, 5000))
def test_every_day_overdue_falls_in_exactly_one_bucket(days):
    index = bucket_index(days)
    inside = [i for i, (_, first, last) in enumerate(BUCKETS)
              if days >= first and (last is None or days <= last)]
    assert inside == [index]


def test_bucket_edges():
    due = date(2025, 6, 1)
    assert [bucket_index(days_overdue(due, due + timedelta(days=n)))
            for n in (-5, 0, 1, 30, 31, 60, 61, 90, 91, 400)] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
