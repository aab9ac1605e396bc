"""The quote lifecycle table, derived expiry and revision labels."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesledger.domain.errors import (
    InvalidTransition,
    QuoteAlreadyConverted,
    QuoteExpired,
    QuoteSuperseded,
)
from salesledger.domain.quotes import (
    TRANSITIONS,
    QuoteAction,
    QuoteState,
    QuoteStatus,
    parse_revision_label,
    quote_state,
    revision_label,
    transition,
)

VALID = date(2025, 3, 31)


@pytest.mark.parametrize(("status", "action", "after"), [
    ("draft", QuoteAction.SEND, "sent"),
    ("draft", QuoteAction.EDIT, "draft"),
    ("sent", QuoteAction.ACCEPT, "accepted"),
    ("sent", QuoteAction.DECLINE, "declined"),
    ("sent", QuoteAction.REVISE, "superseded"),
    ("declined", QuoteAction.REVISE, "declined"),
    ("accepted", QuoteAction.CONVERT, "accepted"),
])
def test_allowed_transitions(status, action, after):
    assert transition(status, action, valid_until=VALID, as_of=VALID) == after


@given(st.sampled_from(list(QuoteStatus)), st.sampled_from(list(QuoteAction)))
def test_everything_outside_the_table_is_refused(status, action):
    if (status, action) in TRANSITIONS:
        return
    expected = QuoteSuperseded if status is QuoteStatus.SUPERSEDED else InvalidTransition
    with pytest.raises(expected) as err:
        transition(status, action, valid_until=VALID, as_of=VALID)
    assert f"cannot {action.value} a {status.value} quote" in err.value.message


def test_a_draft_cannot_be_accepted_and_says_why():
    with pytest.raises(InvalidTransition) as err:
        transition("draft", QuoteAction.ACCEPT, valid_until=VALID, as_of=VALID)
    assert err.value.code == "invalid_transition"
    assert "send it first" in err.value.message


@given(st.dates(date(2024, 1, 1), date(2026, 12, 31)))
def test_expiry_is_derived_from_the_day(as_of):
    state = quote_state("sent", VALID, as_of)
    assert state is (QuoteState.EXPIRED if as_of > VALID else QuoteState.SENT)


@given(st.sampled_from([s for s in QuoteStatus if s is not QuoteStatus.SENT]),
       st.integers(-400, 400))
def test_only_a_sent_quote_expires(status, shift):
    assert quote_state(status, VALID, VALID + timedelta(days=shift)).value == status.value


def test_an_expired_quote_cannot_be_accepted_but_can_be_declined_or_revised():
    later = VALID + timedelta(days=1)
    with pytest.raises(QuoteExpired) as err:
        transition("sent", QuoteAction.ACCEPT, valid_until=VALID, as_of=later)
    assert err.value.code == "quote_expired"
    assert "2025-03-31" in err.value.message
    assert transition("sent", QuoteAction.DECLINE, valid_until=VALID, as_of=later) == "declined"
    assert transition("sent", QuoteAction.REVISE, valid_until=VALID, as_of=later) == "superseded"
    # the last valid day still counts
    assert transition("sent", QuoteAction.ACCEPT, valid_until=VALID, as_of=VALID) == "accepted"


def test_a_quote_past_its_validity_cannot_be_sent():
    with pytest.raises(QuoteExpired):
        transition("draft", QuoteAction.SEND, valid_until=VALID, as_of=VALID + timedelta(days=1))


def test_converting_twice_is_refused():
    with pytest.raises(QuoteAlreadyConverted) as err:
        transition("accepted", QuoteAction.CONVERT, valid_until=VALID, as_of=VALID,
                   converted=True)
    assert err.value.code == "quote_already_converted"


@given(st.integers(1, 99))
def test_revision_labels_read_back(revision):
    label = revision_label("QUO2025-00007", revision)
    assert parse_revision_label(label) == ("QUO2025-00007", revision if revision > 1 else None)


def test_revision_labels():
    assert revision_label("QUO2025-00001", 1) == "QUO2025-00001"
    assert revision_label("QUO2025-00001", 3) == "QUO2025-00001-R3"
    assert parse_revision_label("QUO2025-00001-R1") == ("QUO2025-00001", 1)
    assert parse_revision_label("QUO2025-00001-Rx") == ("QUO2025-00001-Rx", None)
