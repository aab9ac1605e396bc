"""Settlement: oldest first, never more than is open, never more than is available."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesledger.domain.errors import (
    AllocationExceedsOpenAmount,
    AllocationExceedsUnallocated,
    NegativeAmount,
)
from salesledger.domain.settlement import OpenInstalment, check_allocation, settle_oldest_first

START = date(2025, 1, 1)

ITEMS = st.lists(
    st.builds(lambda i, d, o, k: OpenInstalment(i, START + timedelta(days=d), o, k),
              st.integers(1, 10**6), st.integers(0, 365), st.integers(-5, 10**7),
              st.sampled_from(["", "INV-1", "INV-2"])),
    max_size=25, unique_by=lambda x: x.id)


@given(st.integers(0, 10**8), ITEMS)
def test_oldest_first_never_exceeds_open_or_available(available, items):
    shares = settle_oldest_first(available, items)
    by_id = {i.id: i for i in items}
    assert len({s.instalment_id for s in shares}) == len(shares)
    for s in shares:
        assert 0 < s.amount <= by_id[s.instalment_id].open
    total_open = sum(i.open for i in items if i.open > 0)
    assert sum(s.amount for s in shares) == min(available, total_open)


@given(st.integers(0, 10**8), ITEMS)
def test_oldest_first_settles_in_due_date_order(available, items):
    shares = settle_oldest_first(available, items)
    order = sorted((i for i in items if i.open > 0), key=lambda i: (i.due_date, i.sort_key, i.id))
    # the shares are a prefix of the open items in order; all but the last are settled in full
    assert [s.instalment_id for s in shares] == [i.id for i in order[:len(shares)]]
    for s, item in zip(shares[:-1], order, strict=False):
        assert s.amount == item.open


def test_oldest_first_example():
    items = [OpenInstalment(1, date(2025, 3, 1), 500), OpenInstalment(2, date(2025, 1, 1), 300),
             OpenInstalment(3, date(2025, 2, 1), 0), OpenInstalment(4, date(2025, 2, 1), 400)]
    shares = settle_oldest_first(600, items)
    assert [(s.instalment_id, s.amount) for s in shares] == [(2, 300), (4, 300)]
    assert settle_oldest_first(0, items) == []


def test_negative_available_is_refused():
    with pytest.raises(NegativeAmount):
        settle_oldest_first(-1, [])


def test_check_allocation():
    check_allocation(100, open_amount=100, unallocated=100, currency="EUR")
    with pytest.raises(NegativeAmount):
        check_allocation(0, open_amount=100, unallocated=100, currency="EUR")
    with pytest.raises(NegativeAmount):
        check_allocation(-5, open_amount=100, unallocated=100, currency="EUR")
    with pytest.raises(AllocationExceedsOpenAmount) as exc:
        check_allocation(101, open_amount=100, unallocated=500, currency="EUR")
    assert exc.value.code == "allocation_exceeds_open_amount"
    assert exc.value.message == ("allocating 1.01 EUR exceeds the 1.00 EUR still open on the "
                                 "instalment")
    assert exc.value.as_dict() == {"code": "allocation_exceeds_open_amount",
                                   "message": exc.value.message, "amount": "1.01",
                                   "open": "1.00", "currency": "EUR"}
    with pytest.raises(AllocationExceedsUnallocated) as exc2:
        check_allocation(60, open_amount=100, unallocated=50, currency="EUR")
    assert exc2.value.code == "allocation_exceeds_unallocated"
    assert exc2.value.message == "allocating 0.60 EUR exceeds the 0.50 EUR still unallocated"
    with pytest.raises(AllocationExceedsOpenAmount) as exc3:  # a currency without decimals
        check_allocation(50000, open_amount=22221, unallocated=50000, currency="JPY")
    assert exc3.value.message == ("allocating 50000 JPY exceeds the 22221 JPY still open on the "
                                  "instalment")


@given(st.integers(-10, 1000), st.integers(0, 1000), st.integers(0, 1000))
def test_check_allocation_accepts_exactly_the_allowed_amounts(amount, open_amount, unallocated):
    allowed = 0 < amount <= min(open_amount, unallocated)
    try:
        check_allocation(amount, open_amount=open_amount, unallocated=unallocated, currency="EUR")
    except (NegativeAmount, AllocationExceedsOpenAmount, AllocationExceedsUnallocated):
        assert not allowed
    else:
        assert allowed
