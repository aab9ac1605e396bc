"""Size bands: an ABC analysis of the customers' credit sales."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from salesledger.domain.segments import size_bands


def test_the_worked_example() -> None:
    # 1,000 of sales: P makes 60 %, Q 25 %, R 10 %, S 5 %, T nothing
    bands = size_bands({"P": 600, "Q": 250, "R": 100, "S": 50, "T": 0})
    # P: 0 % before it (A); Q: 60 % before (A); R: 85 % (B); S: 95 % (C); T: no sales (C)
    assert bands == {"P": "A", "Q": "A", "R": "B", "S": "C", "T": "C"}


def test_no_sales_at_all_is_band_c() -> None:
    assert size_bands({"P": 0, "Q": 0}) == {"P": "C", "Q": "C"}
    assert size_bands({}) == {}


@given(st.dictionaries(st.text(min_size=1, max_size=3), st.integers(0, 10**6), max_size=30))
def test_bands_follow_the_ranking_and_a_holds_at_least_80_percent(sales: dict[str, int]) -> None:
    bands = size_bands(sales)
    assert set(bands) == set(sales)
    ranked = sorted(sales, key=lambda k: (-sales[k], k))
    # bands never go back up the ranking: A… then B… then C…
    assert [bands[k] for k in ranked] == sorted(bands[k] for k in ranked)
    total = sum(sales.values())
    if total:
        assert sum(v for k, v in sales.items() if bands[k] == "A") * 100 >= 80 * total
        assert sum(v for k, v in sales.items() if bands[k] != "C") * 100 >= 95 * total
