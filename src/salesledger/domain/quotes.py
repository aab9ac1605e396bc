"""Quote lifecycle: the transitions a quote may take, and its derived state.

A quote (an offer, a "devis") is written as a draft, sent to the customer, and then
accepted or declined by them. It is valid until a date: a sent quote whose validity date
has passed is *expired*. Expiry is derived for a day (``as_of``), never stored, because a
stored "expired" flag goes stale the moment a date passes or a validity is extended (see
docs/design/quotes.md).

Changing a quote that the customer has seen makes a new *revision*: the old revision is
*superseded* and kept, so that what was sent stays on record. A draft is still private and
is edited in place. An accepted quote becomes an invoice in one step (conversion); the
link is kept on the quote, and converting twice is refused.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from .errors import InvalidTransition, QuoteAlreadyConverted, QuoteExpired, QuoteSuperseded


class QuoteStatus(StrEnum):
    """What is stored: each value is an event that happened, never a date passing."""

    DRAFT = "draft"
    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    SUPERSEDED = "superseded"


class QuoteState(StrEnum):
    """What a person is shown for a day: the stored status, or ``expired``."""

    DRAFT = "draft"
    SENT = "sent"
    EXPIRED = "expired"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    SUPERSEDED = "superseded"


class QuoteAction(StrEnum):
    EDIT = "edit"
    SEND = "send"
    ACCEPT = "accept"
    DECLINE = "decline"
    REVISE = "revise"
    CONVERT = "convert"


# (status, action) -> status of this quote afterwards. Revising a sent quote supersedes it
# (a new revision carries the offer on); revising a declined quote keeps it declined (the
# customer's answer stands) while a new revision makes a new offer.
TRANSITIONS: dict[tuple[QuoteStatus, QuoteAction], QuoteStatus] = {
    (QuoteStatus.DRAFT, QuoteAction.EDIT): QuoteStatus.DRAFT,
    (QuoteStatus.DRAFT, QuoteAction.SEND): QuoteStatus.SENT,
    (QuoteStatus.SENT, QuoteAction.ACCEPT): QuoteStatus.ACCEPTED,
    (QuoteStatus.SENT, QuoteAction.DECLINE): QuoteStatus.DECLINED,
    (QuoteStatus.SENT, QuoteAction.REVISE): QuoteStatus.SUPERSEDED,
    (QuoteStatus.DECLINED, QuoteAction.REVISE): QuoteStatus.DECLINED,
    (QuoteStatus.ACCEPTED, QuoteAction.CONVERT): QuoteStatus.ACCEPTED,
}

# Actions refused on a sent quote whose validity date has passed.
_NEEDS_VALIDITY = {QuoteAction.ACCEPT, QuoteAction.SEND}

_HINTS = {
    QuoteStatus.DRAFT: "send it first",
    QuoteStatus.SENT: "it is waiting for the customer's answer",
    QuoteStatus.ACCEPTED: "the customer accepted it; convert it into an invoice",
    QuoteStatus.DECLINED: "the customer declined it; revise it to make a new offer",
    QuoteStatus.SUPERSEDED: "a newer revision replaces it; act on the latest revision",
}


def quote_state(status: QuoteStatus | str, valid_until: date, as_of: date) -> QuoteState:
    """The state shown for ``as_of``: a sent quote past its validity date is expired."""
    current = QuoteStatus(status)
    if current is QuoteStatus.SENT and valid_until < as_of:
        return QuoteState.EXPIRED
    return QuoteState(current.value)


def transition(
    status: QuoteStatus | str,
    action: QuoteAction,
    *,
    valid_until: date,
    as_of: date,
    converted: bool = False,
) -> QuoteStatus:
    """The status after ``action``, or the business error that forbids it."""
    current = QuoteStatus(status)
    if action is QuoteAction.CONVERT and converted:
        raise QuoteAlreadyConverted("the quote has already been converted into an invoice")
    if (current, action) not in TRANSITIONS:
        message = f"cannot {action.value} a {current.value} quote: {_HINTS[current]}"
        if current is QuoteStatus.SUPERSEDED:
            raise QuoteSuperseded(message, status=current.value, action=action.value)
        raise InvalidTransition(message, status=current.value, action=action.value)
    if action in _NEEDS_VALIDITY and valid_until < as_of:
        raise QuoteExpired(
            f"the quote was valid until {valid_until.isoformat()}; on {as_of.isoformat()} it "
            f"can no longer be {'accepted' if action is QuoteAction.ACCEPT else 'sent'} "
            "(revise it with a new validity date)",
            valid_until=valid_until,
            as_of=as_of,
        )
    return TRANSITIONS[(current, action)]


def revision_label(number: str, revision: int) -> str:
    """How a revision is written: the first is the bare number, later ones ``-R2``..."""
    return number if revision <= 1 else f"{number}-R{revision}"


def parse_revision_label(label: str) -> tuple[str, int | None]:
    """``"QUO2025-00001-R2"`` -> (``"QUO2025-00001"``, 2); a bare number -> (number, None),
    meaning the latest revision."""
    head, sep, tail = label.strip().rpartition("-R")
    if sep and head and tail.isdigit() and int(tail) >= 1:
        return head, int(tail)
    return label.strip(), None
