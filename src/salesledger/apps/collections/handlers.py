"""What collections does when something happens below it (docs/design/events.md)."""

from __future__ import annotations

from salesledger.apps.core import events
from salesledger.apps.core.models import Company

from .personal_data import casework_erase, open_disputes_need_the_customer
from .services import call_tasks_record_paid, disputes_from_deductions


def open_disputes_for_deductions(event: events.DeductionsDisputed) -> None:
    """A deduction recorded with ``--dispute`` (by any path) opens a dispute over it, in the
    deduction's transaction."""
    disputes_from_deductions(company=Company.objects.get(pk=event.company_id),
                             actor=event.actor, adjustment_ids=event.adjustment_ids)


def close_paid_call_tasks(event: events.AllocationsMade) -> None:
    """Receipts or credit notes were allocated (by any path): the call tasks of the customers
    they paid, if nothing they were about is open any more, close as paid, in the
    allocation's transaction (docs/design/collections.md, "Call tasks")."""
    if not event.allocations:
        return
    # The open tasks are few whatever the size of the run (one query over the index of open
    # tasks): each is judged from the ledger, not from the allocations of this event.
    call_tasks_record_paid(actor=event.actor, company=Company.objects.get(pk=event.company_id),
                           as_of=max(a.day for a in event.allocations))


def register() -> None:
    events.subscribe(events.AllocationsMade, close_paid_call_tasks)
    events.subscribe(events.DeductionsDisputed, open_disputes_for_deductions)
    events.veto(events.CustomerAnonymising, open_disputes_need_the_customer)
    events.subscribe(events.CustomerDataErased, casework_erase)
