"""What the payments app does when something happens below it, or below one of its modules
(docs/design/events.md).

Inside the app, the allocation services (``services.py``, ``bulk.py``) are below the
adjustments (``adjustments/``), which allocate payments themselves: what an allocation causes
there (an early-payment discount earned, or undone with the payment) flows up through
``AllocationsMade`` and ``AllocationsReversed`` rather than through an import.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from salesledger.apps.core import events
from salesledger.apps.core.models import Company
from salesledger.domain.errors import AnonymiseRefused, MergeRefused
from salesledger.money import format_minor

from .adjustments.bad_debts import recoveries_lost
from .adjustments.discounts import discounts_earned, discounts_lost
from .adjustments.write_offs import residuals_lost
from .bulk import credit_notes_apply_to_corrected_bulk
from .selectors import allocations_across, open_items


def apply_credit_notes(event: events.DocumentsPosted) -> None:
    """A credit note that corrects an invoice is applied to it in the posting transaction, up
    to what is open on it: posting one (``invoice_post``) and importing many (the CSV import)
    go through the same writer."""
    ids = [d.id for d in event.documents if d.kind == "credit_note" and d.corrects_id]
    if ids:
        credit_notes_apply_to_corrected_bulk(
            actor=event.actor, company=Company.objects.get(pk=event.company_id),
            credit_note_ids=ids)


def take_discounts(event: events.AllocationsMade) -> None:
    """The early-payment discounts that the receipts just allocated earn: for each receipt
    and day, in the order written. Only an instalment the batch leaves open can have its
    discount left open."""
    left = {a.instalment_id: a.open_after for a in event.allocations}  # the last one counts
    made: dict[tuple[int, date], list[events.MadeAllocation]] = defaultdict(list)
    for a in event.allocations:
        if a.receipt_id is not None and left[a.instalment_id] > 0:
            made[(a.receipt_id, a.day)].append(a)
    if made:
        discounts_earned(company_id=event.company_id, actor=event.actor, payments=[
            (receipt_id, rows, day) for (receipt_id, day), rows in made.items()])


def undo_what_stood_with_the_payment(event: events.AllocationsReversed) -> None:
    """What stood only while a payment did is undone with its allocation: the early-payment
    discount of the instalment, a residual written off or deducted with the payment on the
    invoice, and what the payment recovered of a bad debt (written off again)."""
    company = None
    for r in event.reversals:
        if r.receipt_id is None:
            continue
        company = company or Company.objects.get(pk=event.company_id)
        why = f"payment undone: allocation {r.id}"
        discounts_lost(company=company, instalment_id=r.instalment_id, day=r.day,
                       actor=event.actor, reason=why)
        residuals_lost(company=company, receipt_id=r.receipt_id, invoice_id=r.invoice_id,
                       day=r.day, actor=event.actor, reason=why)
        recoveries_lost(company=company, receipt_id=r.receipt_id, invoice_id=r.invoice_id,
                        amount=r.amount, day=r.day, actor=event.actor, reason=why)


def open_items_need_the_customer(proposal: events.CustomerAnonymising) -> None:
    """While something is open on the customer's account (an instalment owed, a credit note
    or money received not yet applied), the customer is still to pay or be paid back: settle,
    write off or refund it first."""
    company = Company.objects.get(pk=proposal.company_id)
    item = next(open_items(company, customer_id=proposal.customer_id), None)
    if item is not None:
        what = {"instalment": "an open instalment of", "credit_note": "an open credit note",
                "receipt": "unapplied cash on receipt"}[item["type"]]
        raise AnonymiseRefused(
            f"customer {proposal.code} has open items: {what} {item['document']} "
            f"({format_minor(abs(item['open']), item['currency'])} open); settle, write off "
            "or refund them first", customer=proposal.code, reason="open_items")


def allocations_across_stand(proposal: events.CustomerUnmerging) -> None:
    """An allocation of a payment (or credit note) of one of the two to a document of the
    other, not reversed, would pay another customer's invoice once they are apart: reverse
    it first."""
    crossing = allocations_across(proposal.company_id, proposal.customer_id,
                                  proposal.survivor_id)
    if crossing:
        shown = ", ".join(str(pk) for pk in crossing[:10])
        raise MergeRefused(
            f"{len(crossing)} allocation{'s pay' if len(crossing) > 1 else ' pays'} a document of "
            f"{proposal.code} with a payment or credit note of {proposal.survivor_code}, or "
            f"the other way round (allocation {shown}): reverse "
            f"{'them' if len(crossing) > 1 else 'it'} first (`receipt unallocate`), or keep "
            "the merge", customer=proposal.code, reason="allocations")


def register() -> None:
    events.veto(events.CustomerAnonymising, open_items_need_the_customer)
    events.veto(events.CustomerUnmerging, allocations_across_stand)
    events.subscribe(events.DocumentsPosted, apply_credit_notes)
    events.subscribe(events.AllocationsMade, take_discounts)
    events.subscribe(events.AllocationsReversed, undo_what_stood_with_the_payment)
