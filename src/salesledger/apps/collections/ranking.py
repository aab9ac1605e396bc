"""The worklist, ranked at night and kept current by the casework.

Ranking the worklist needs every overdue customer's aged balance and credit's risk of losing
it: at 100,000 customers and a million open items that is seconds of work (the reporting
app's aging over every open item, then the risk of every customer the walk passes), too much
for a page that a collector opens all day. So the worker ranks it once a day for each company
(``worklist_rank_build``, the calendar's ``worklist_rank`` job, which calls ``selectors.
worklist``: the same ranking, whole) and keeps every row with its keys (``WorklistEntry``);
a page of it is then one indexed read (``worklist_ranked``).

The ranking is a derived list of its day (principle 3): a cached figure, kept current in the
transaction of every change that moves a customer on it. The collections services that
change a customer's casework (a dispute, a promise, a plan, a call, a reply, an assignment)
and the payments that change what it owes (``AllocationsMade``, ``AllocationsReversed``,
``AdjustmentsWritten``, ``DocumentsPosted``) rank those customers again
(``worklist_rank_refresh``: ``worklist`` restricted to them, on the ranking's day). What
only time changes (a promise falling due, a customer's risk ageing) waits for the next
night. The invariant ``worklist_ranking_current`` (``invariants.py``) checks that the rows
are what ranking again would give.

The page reads the ranking when it is of the page's day, and ranks on the fly otherwise (a
past day, or before the worker's first run): the rows are the same, only slower
(docs/design/collections.md, "The worklist, ranked at night").
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date

from django.db import transaction
from django.utils import timezone

from salesledger.apps.core.bulkinsert import insert_rows
from salesledger.apps.core.models import Company

from .models import WorklistEntry, WorklistRanking
from .selectors import WorklistRow, worklist

__all__ = ["worklist_rank_build", "worklist_rank_refresh", "worklist_ranked",
           "worklist_ranked_on"]

# Customers ranked again at a time after a bulk change (an automatic allocation run): one
# restricted ranking per chunk, its codes and ids one IN list each.
REFRESH_CHUNK = 2000

_COLUMNS = ("company_id", "customer_id", "code", "name", "collector", "later", "value", "rank",
            "overdue", "held", "days_overdue", "risk_class", "default_probability",
            "next_action", "call_due", "paused")


def _rows(company: Company, day: date, found: Iterable[WorklistRow]) -> Iterable[tuple]:
    for r in found:
        yield (company.pk, r.customer_id, r.code, r.name[:200], r.collector,
               r.next_action > day, r.value, float(r.value), r.overdue, r.held, r.days_overdue,
               r.risk_class, r.default_probability, r.next_action, r.call_due,
               ",".join(r.paused)[:100])


def worklist_rank_build(company: Company, *, day: date) -> int:
    """Rank the whole worklist of ``company`` on ``day`` and keep it, replacing the ranking
    kept before (one transaction). Returns the number of customers ranked."""
    found = worklist(company, as_of=day)
    with transaction.atomic():
        WorklistEntry.objects.filter(company=company).delete()
        insert_rows(WorklistEntry, _COLUMNS, _rows(company, day, found))
        WorklistRanking.objects.update_or_create(
            company=company, defaults={"day": day, "ranked_at": timezone.now()})
    return len(found)


def worklist_rank_refresh(company: Company, customer_ids: Collection[int]) -> int:
    """Rank the customers ``customer_ids`` again on the day of the company's kept ranking,
    in the caller's transaction (nothing when no ranking is kept: one query). A customer
    with nothing overdue any more leaves it. Returns the number of customers ranked again."""
    if not customer_ids:
        return 0
    ranking = WorklistRanking.objects.filter(company=company).only("day").first()
    if ranking is None:
        return 0
    ids = sorted(set(customer_ids))
    with transaction.atomic():
        for i in range(0, len(ids), REFRESH_CHUNK):
            chunk = ids[i:i + REFRESH_CHUNK]
            found = worklist(company, as_of=ranking.day, customer_ids=chunk)
            WorklistEntry.objects.filter(company=company, customer_id__in=chunk).delete()
            # A survivor of a merge is ranked with its aliases' items: its row may come
            # back for an alias's change; it is replaced, never doubled.
            extra = sorted({r.customer_id for r in found} - set(chunk))
            if extra:
                WorklistEntry.objects.filter(company=company, customer_id__in=extra).delete()
            insert_rows(WorklistEntry, _COLUMNS, _rows(company, ranking.day, found))
    return len(ids)


def worklist_ranked_on(company: Company) -> WorklistRanking | None:
    """The company's kept ranking (its day and when it was made), if any. One query."""
    return WorklistRanking.objects.filter(company=company).first()


def worklist_ranked(company: Company, *, as_of: date, collector: str = "", offset: int = 0,
                    limit: int | None = None) -> list[WorklistRow] | None:
    """A page of the kept ranking of ``as_of`` (``collector``'s customers, or all), as
    ``selectors.worklist`` gives it; None when no ranking of that day is kept. Two queries
    (the ranking's day, the page), whatever the number of customers."""
    ranking = worklist_ranked_on(company)
    if ranking is None or ranking.day != as_of:
        return None
    qs = WorklistEntry.objects.filter(company=company)
    if collector:
        qs = qs.filter(collector=collector)
    qs = qs.order_by("later", "-rank", "code")
    qs = qs[offset:] if limit is None else qs[offset:offset + limit]
    return [WorklistRow(e.customer_id, e.code, e.name, e.collector, e.overdue, e.days_overdue,
                        e.risk_class, e.default_probability, e.value, e.next_action,
                        tuple(p for p in e.paused.split(",") if p), e.call_due, e.held)
            for e in qs]
