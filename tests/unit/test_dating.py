"""How far ahead a new document may be dated (domain/dating.py)."""

from __future__ import annotations

from datetime import date

import pytest

from salesledger.domain.dating import check_document_date, check_horizon_days, horizon_limit
from salesledger.domain.errors import DateBeyondHorizon, ValidationFailed

TODAY = date(2026, 12, 6)


def test_up_to_the_horizon_is_accepted_one_day_more_is_refused() -> None:
    assert horizon_limit(TODAY, 365) == date(2027, 12, 6)
    check_document_date(date(2027, 12, 6), today=TODAY, horizon_days=365)
    check_document_date(date(2020, 1, 1), today=TODAY, horizon_days=365)  # the past is fine
    with pytest.raises(DateBeyondHorizon) as exc:
        check_document_date(date(2027, 12, 7), today=TODAY, horizon_days=365)
    assert exc.value.code == "date_beyond_horizon"
    assert exc.value.as_dict()["horizon"] == "2027-12-06"
    assert exc.value.message.startswith(
        "2027-12-07 is more than 365 days ahead of today (2026-12-06)")


def test_a_confirmed_date_passes_and_a_zero_horizon_allows_today_only() -> None:
    check_document_date(date(2099, 1, 1), today=TODAY, horizon_days=365, confirmed=True)
    check_document_date(TODAY, today=TODAY, horizon_days=0)
    with pytest.raises(DateBeyondHorizon):
        check_document_date(date(2026, 12, 7), today=TODAY, horizon_days=0)


@pytest.mark.parametrize("days", [-1, 3661])
def test_a_horizon_out_of_range_is_refused(days: int) -> None:
    with pytest.raises(ValidationFailed):
        check_horizon_days(days)
