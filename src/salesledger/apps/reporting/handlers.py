"""What reporting does when something happens below it (docs/design/events.md): it keeps
the aging summary exact, in the transaction of every change to an open item
(``aging_summary.py``), and gives a new company its (empty) summary; in the same
transactions, an entry dated in an ended month makes the kept KPI figures stale
(``kpi_keep.py``), and a write to one of a cohort's invoices its kept trend figures
(``trend_keep.py``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from salesledger.apps.core import events
from salesledger.apps.invoicing.models import Instalment, Invoice

from .aging_summary import summary_create, summary_refresh
from .kpi_keep import bump_after_reversals, keep_create, version_bump
from .trend_keep import bump_customers, bump_instalments, cohorts_bump


def summary_for_new_company(event: events.CompanyCreated) -> None:
    summary_create(event.company_id)


def _customers(instalment_ids: Iterable[int], document_ids: Iterable[int]) -> set[int]:
    """The customers the instalments and documents (credit notes) were issued to."""
    out: set[int] = set()
    inst = sorted(set(instalment_ids))
    for k in range(0, len(inst), 2000):
        out.update(Instalment.objects.filter(pk__in=inst[k:k + 2000])
                   .values_list("customer_id", flat=True).distinct())
    docs = sorted(set(document_ids))
    for k in range(0, len(docs), 2000):
        out.update(Invoice.objects.filter(pk__in=docs[k:k + 2000])
                   .values_list("customer_id", flat=True).distinct())
    return out


def after_posting(event: events.DocumentsPosted) -> None:
    """Invoices and credit notes posted, their customers and issue dates read once: those
    customers' summary rows, if issued by the summary's day; and the kept KPI figures stale
    if any was issued in an ended month."""
    if not event.documents:
        return
    ids = sorted(d.id for d in event.documents)
    issued: set[tuple[int, date]] = set()
    for k in range(0, len(ids), 2000):
        issued.update(Invoice.objects.filter(pk__in=ids[k:k + 2000])
                      .values_list("customer_id", "issue_date").distinct())
    days = {d for _, d in issued}
    summary_refresh(event.company_id, {c for c, _ in issued}, days=days)
    version_bump(event.company_id, days)
    cohorts_bump(event.company_id, (f"{d.year:04d}-{d.month:02d}" for d in days))


def summary_after_allocations(event: events.AllocationsMade) -> None:
    """Instalments settled (and credit notes used) by allocations dated by the day."""
    if not event.allocations:
        return
    summary_refresh(event.company_id, lambda: _customers(
        (a.instalment_id for a in event.allocations),
        (a.credit_note_id for a in event.allocations if a.credit_note_id is not None)),
        days={a.day for a in event.allocations})


def summary_after_reversals(event: events.AllocationsReversed) -> None:
    """Allocations undone on a day by the summary's: what they settled is open again."""
    if not event.reversals:
        return
    summary_refresh(event.company_id, lambda: _customers(
        (r.instalment_id for r in event.reversals),
        (r.credit_note_id for r in event.reversals if r.credit_note_id is not None)),
        days={r.day for r in event.reversals})


def summary_after_adjustments(event: events.AdjustmentsWritten) -> None:
    """Write-offs, deductions, discounts, bad debts or their reversals."""
    summary_refresh(event.company_id, event.customer_ids, days=event.days)


def kpis_for_new_company(event: events.CompanyCreated) -> None:
    keep_create(event.company_id)


def kpis_after_allocations(event: events.AllocationsMade) -> None:
    version_bump(event.company_id, (a.day for a in event.allocations))


def kpis_after_reversals(event: events.AllocationsReversed) -> None:
    bump_after_reversals(event.company_id, (r.day for r in event.reversals),
                         (r.id for r in event.reversals))


def kpis_after_adjustments(event: events.AdjustmentsWritten) -> None:
    version_bump(event.company_id, event.days)


def trends_after_allocations(event: events.AllocationsMade) -> None:
    """The cohorts of the instalments allocated stale (``trend_keep.py``)."""
    bump_instalments(event.company_id, (a.instalment_id for a in event.allocations))


def trends_after_reversals(event: events.AllocationsReversed) -> None:
    bump_instalments(event.company_id, (r.instalment_id for r in event.reversals))


def trends_after_adjustments(event: events.AdjustmentsWritten) -> None:
    bump_customers(event.company_id, event.customer_ids)


def register() -> None:
    events.subscribe(events.CompanyCreated, summary_for_new_company)
    events.subscribe(events.CompanyCreated, kpis_for_new_company)
    events.subscribe(events.DocumentsPosted, after_posting)
    events.subscribe(events.AllocationsMade, summary_after_allocations)
    events.subscribe(events.AllocationsMade, kpis_after_allocations)
    events.subscribe(events.AllocationsReversed, summary_after_reversals)
    events.subscribe(events.AllocationsReversed, kpis_after_reversals)
    events.subscribe(events.AdjustmentsWritten, summary_after_adjustments)
    events.subscribe(events.AdjustmentsWritten, kpis_after_adjustments)
    events.subscribe(events.AllocationsMade, trends_after_allocations)
    events.subscribe(events.AllocationsReversed, trends_after_reversals)
    events.subscribe(events.AdjustmentsWritten, trends_after_adjustments)
