"""Allocation policies: shares never exceed an instalment, never exceed what is spread,
and sum exactly to min(available, total open)."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from salesledger.domain.policies import (
    find_references,
    settle_by_reference,
    settle_proportional,
)
from salesledger.domain.settlement import OpenInstalment

D0 = date(2026, 1, 1)

items_strategy = st.lists(
    st.tuples(st.integers(1, 10**9), st.integers(0, 400)), min_size=1, max_size=20
).map(
    lambda rows: [
        OpenInstalment(i + 1, D0 + timedelta(days=d), amt, f"INV-{i % 4}")
        for i, (amt, d) in enumerate(rows)
    ]
)


@given(items_strategy, st.integers(0, 2 * 10**10))
def test_proportional_is_exact_and_bounded(items, available):
    shares = settle_proportional(available, items)
    by_id = {i.id: i for i in items}
    assert sum(s.amount for s in shares) == min(available, sum(i.open for i in items))
    assert all(0 < s.amount <= by_id[s.instalment_id].open for s in shares)
    assert len({s.instalment_id for s in shares}) == len(shares)


def test_proportional_splits_by_open_amount():
    items = [OpenInstalment(1, D0, 300), OpenInstalment(2, D0 + timedelta(1), 100)]
    shares = settle_proportional(200, items)
    assert [(s.instalment_id, s.amount) for s in shares] == [(1, 150), (2, 50)]


def test_proportional_remainder_goes_to_oldest_first():
    items = [OpenInstalment(i, D0 + timedelta(i), 100) for i in (1, 2, 3)]
    shares = settle_proportional(100, items)
    assert [s.amount for s in shares] == [34, 33, 33]


def test_find_references_ignores_punctuation_and_keeps_order():
    text = "Payment inv2026 00007 and INV2026-00003 thanks"
    assert find_references(text, ["INV2026-00003", "INV2026-00007", "INV2026-00009"]) == [
        "INV2026-00007",
        "INV2026-00003",
    ]


def test_by_reference_settles_only_named_documents_in_named_order():
    items = [
        OpenInstalment(1, D0, 500, "A"),
        OpenInstalment(2, D0 + timedelta(30), 500, "B"),
        OpenInstalment(3, D0 + timedelta(60), 500, "B"),
    ]
    shares = settle_by_reference(800, items, ["B", "A"])
    assert [(s.instalment_id, s.amount) for s in shares] == [(2, 500), (3, 300)]


@given(
    items_strategy,
    st.integers(0, 2 * 10**10),
    st.lists(st.sampled_from(["INV-0", "INV-1", "X"]), unique=True),
)
def test_by_reference_is_bounded(items, available, refs):
    shares = settle_by_reference(available, items, refs)
    by_id = {i.id: i for i in items}
    assert sum(s.amount for s in shares) <= available
    assert all(0 < s.amount <= by_id[s.instalment_id].open for s in shares)
    assert all(by_id[s.instalment_id].sort_key in refs for s in shares)
