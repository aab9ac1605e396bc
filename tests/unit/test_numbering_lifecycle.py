"""Numbering by fiscal year, and the document lifecycle."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesledger.domain.errors import InvalidTransition, InvoiceNotDraft
from salesledger.domain.lifecycle import (
    Action,
    DocStatus,
    Settlement,
    settlement,
    transition,
)
from salesledger.domain.numbering import fiscal_year, fiscal_year_bounds, format_number


@pytest.mark.parametrize(("day", "start", "expected"), [
    (date(2025, 3, 31), 4, 2024), (date(2025, 4, 1), 4, 2025), (date(2025, 12, 31), 4, 2025),
    (date(2025, 1, 1), 1, 2025), (date(2025, 12, 31), 1, 2025),
    (date(2025, 6, 30), 7, 2024), (date(2025, 7, 1), 7, 2025),
])
def test_fiscal_year_with_a_non_january_start(day, start, expected):
    assert fiscal_year(day, start) == expected


def test_fiscal_year_bounds():
    assert fiscal_year_bounds(2024, 4) == (date(2024, 4, 1), date(2025, 3, 31))
    assert fiscal_year_bounds(2024, 1) == (date(2024, 1, 1), date(2024, 12, 31))
    assert fiscal_year_bounds(2023, 3) == (date(2023, 3, 1), date(2024, 2, 29))


@given(st.dates(date(1990, 1, 1), date(2090, 12, 31)), st.integers(1, 12))
def test_every_day_lies_in_the_bounds_of_its_fiscal_year(day, start):
    lo, hi = fiscal_year_bounds(fiscal_year(day, start), start)
    assert lo <= day <= hi
    assert lo.month == start and lo.day == 1


@pytest.mark.parametrize("month", [0, 13])
def test_fiscal_year_start_must_be_a_month(month):
    with pytest.raises(ValueError):
        fiscal_year(date(2025, 1, 1), month)


def test_number_format():
    assert format_number("INV", 2025, 7) == "INV2025-00007"
    assert format_number("CN", 2024, 123456) == "CN2024-123456"


def test_draft_transitions():
    assert transition("draft", Action.EDIT) is DocStatus.DRAFT
    assert transition(DocStatus.DRAFT, Action.POST) is DocStatus.POSTED
    assert transition("draft", Action.DELETE) is None


@pytest.mark.parametrize("action", list(Action))
def test_a_posted_document_takes_no_action(action):
    with pytest.raises(InvoiceNotDraft) as exc:
        transition("posted", action)
    assert exc.value.code == "invoice_not_draft"
    assert isinstance(exc.value, InvalidTransition)


def test_unknown_status_is_refused():
    with pytest.raises(ValueError):
        transition("paid", Action.POST)


@pytest.mark.parametrize(("amount", "settled", "expected"), [
    (100, 0, Settlement.OPEN), (100, 1, Settlement.PARTIAL), (100, 99, Settlement.PARTIAL),
    (100, 100, Settlement.SETTLED),
])
def test_settlement_is_derived(amount, settled, expected):
    assert settlement(amount, settled) is expected
