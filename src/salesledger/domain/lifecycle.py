"""Document lifecycle: the transitions a sales document may take.

A document is written as a draft, then posted. A posted document is never edited or
deleted again: it is corrected by a credit note (for an invoice) or a reversal. Settlement
(open, partially paid, paid) is not part of this table: it is derived from allocations.
"""

from __future__ import annotations

from enum import StrEnum

from .errors import InvalidTransition, InvoiceNotDraft


class DocStatus(StrEnum):
    DRAFT = "draft"
    POSTED = "posted"


class Action(StrEnum):
    EDIT = "edit"
    POST = "post"
    DELETE = "delete"


TRANSITIONS: dict[tuple[DocStatus, Action], DocStatus | None] = {
    (DocStatus.DRAFT, Action.EDIT): DocStatus.DRAFT,
    (DocStatus.DRAFT, Action.POST): DocStatus.POSTED,
    (DocStatus.DRAFT, Action.DELETE): None,
}


def transition(status: DocStatus | str, action: Action) -> DocStatus | None:
    """Return the status after ``action`` or raise if the lifecycle forbids it."""
    current = DocStatus(status)
    key = (current, action)
    if key not in TRANSITIONS:
        if current is DocStatus.POSTED:
            raise InvoiceNotDraft(
                f"the document is posted; it cannot be {action.value}ed "
                "(correct it with a credit note instead)",
                status=current.value,
                action=action.value,
            )
        raise InvalidTransition(f"cannot {action.value} a {current.value} document")
    return TRANSITIONS[key]


class Settlement(StrEnum):
    OPEN = "open"
    PARTIAL = "partially_paid"
    SETTLED = "paid"
    # Nothing open and part of it written off as a bad debt (net of reversals): told by the
    # adjustments, never by ``settlement`` below, which knows only what was settled.
    WRITTEN_OFF = "written_off"


def settlement(amount: int, settled: int) -> Settlement:
    """Derived settlement state of an amount (minor units) given what has been settled."""
    if settled <= 0:
        return Settlement.OPEN
    if settled < amount:
        return Settlement.PARTIAL
    return Settlement.SETTLED
