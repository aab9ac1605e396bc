"""What collections does when something happens below it (docs/design/events.md)."""

from __future__ import annotations

from collections.abc import Iterable

from salesledger.apps.core import events
from salesledger.apps.core.models import Company
from salesledger.apps.invoicing.models import Instalment
from salesledger.domain.errors import ValidationFailed

from .models import Assignment, CallTask, WorklistRanking
from .personal_data import casework_erase, open_disputes_need_the_customer
from .ranking import worklist_rank_refresh
from .services import call_tasks_record_paid, disputes_from_deductions

# Instalments whose customers are read at a time (one IN list, under SQLite's limit).
_IDS_AT_A_TIME = 10_000


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


def _rank_again(company_id: int, customer_ids: Iterable[int] = (),
                instalment_ids: Iterable[int] = ()) -> None:
    """The customers whose open items changed move on the kept worklist ranking: rank them
    again in the change's transaction (nothing when no ranking is kept: one query)."""
    if not WorklistRanking.objects.filter(company_id=company_id).exists():
        return
    ids = set(customer_ids)
    wanted = sorted(set(instalment_ids))
    for i in range(0, len(wanted), _IDS_AT_A_TIME):
        ids.update(Instalment.objects.filter(pk__in=wanted[i:i + _IDS_AT_A_TIME])
                   .values_list("customer_id", flat=True).distinct())
    worklist_rank_refresh(Company.objects.get(pk=company_id), ids)


def rank_again_after_allocations(event: events.AllocationsMade) -> None:
    """A payment, a credit note or an adjustment settled items: what their customers have
    overdue changed (docs/design/collections.md, "The worklist, ranked at night")."""
    _rank_again(event.company_id, instalment_ids=(a.instalment_id for a in event.allocations))


def rank_again_after_reversals(event: events.AllocationsReversed) -> None:
    """Allocations were undone: the items are open (and perhaps overdue) again."""
    _rank_again(event.company_id, instalment_ids=(r.instalment_id for r in event.reversals))


def rank_again_after_adjustments(event: events.AdjustmentsWritten) -> None:
    """A write-off, a deduction, a discount or a bad debt (or its reversal) settled items or
    opened them again: a short payment's residual written off leaves nothing overdue."""
    _rank_again(event.company_id, customer_ids=event.customer_ids)


def rank_again_after_posting(event: events.DocumentsPosted) -> None:
    """Documents were posted: an invoice dated back may be overdue already."""
    _rank_again(event.company_id, customer_ids=(d.customer_id for d in event.documents))


def rank_again_after_rename(event: events.CustomerRenamed) -> None:
    """A customer was renamed: its row shows the name (docs/design/collections.md, "The
    worklist, ranked at night")."""
    _rank_again(event.company_id, customer_ids=(event.customer_id,))


def rank_again_after_holds(event: events.CreditHoldsChanged) -> None:
    """Customers were put on credit hold or released (by hand, by a dunning level, by a
    broken plan): their rows show whether they are held."""
    _rank_again(event.company_id, customer_ids=event.customer_ids)


def rank_again_after_merge(event: events.CustomerMerged) -> None:
    """A customer became an alias: its open items are ranked with its survivor's, and its
    own row leaves the list."""
    _rank_again(event.company_id, customer_ids=(event.customer_id, event.survivor_id))


def rank_again_after_unmerge(event: events.CustomerUnmerged) -> None:
    """An alias is a customer of its own again: its items leave its survivor's row and are
    ranked on a row of its own."""
    _rank_again(event.company_id, customer_ids=(event.customer_id, event.survivor_id))


def collector_work_needs_the_member(proposal: events.MemberRemoving) -> None:
    """A collector who still chases customers, or has calls open, stays a member until that
    work is given to another (``worklist assign``): a worklist row must name a member."""
    mine = {"company_id": proposal.company_id, "collector_id": proposal.user_id}
    customers = Assignment.objects.filter(**mine).count()
    calls = CallTask.objects.filter(**mine, done_on__isnull=True).count()
    if customers or calls:
        raise ValidationFailed(
            f"{proposal.username} still collects {customers} customer(s) and has {calls} open "
            "call(s): give them to another collector first (`worklist assign`)",
            user=proposal.username, reason="open_collector_work")


def register() -> None:
    events.subscribe(events.AllocationsMade, close_paid_call_tasks)
    events.subscribe(events.DeductionsDisputed, open_disputes_for_deductions)
    events.veto(events.CustomerAnonymising, open_disputes_need_the_customer)
    events.veto(events.MemberRemoving, collector_work_needs_the_member)
    events.subscribe(events.CustomerDataErased, casework_erase)
    # after the call tasks are closed (they are on the worklist too)
    events.subscribe(events.AllocationsMade, rank_again_after_allocations)
    events.subscribe(events.AllocationsReversed, rank_again_after_reversals)
    events.subscribe(events.AdjustmentsWritten, rank_again_after_adjustments)
    events.subscribe(events.DocumentsPosted, rank_again_after_posting)
    events.subscribe(events.CustomerRenamed, rank_again_after_rename)
    events.subscribe(events.CreditHoldsChanged, rank_again_after_holds)
    events.subscribe(events.CustomerMerged, rank_again_after_merge)
    events.subscribe(events.CustomerUnmerged, rank_again_after_unmerge)
