"""Collections' invariants (registered with ``core.invariants``, run by ``salesledger check``):

 13. the casework is whole: a plan's instalments sum to the amount it rescheduled, and its
     items to the same; a dispute never contested more than was open when it was opened, and
     one closed says how (a credit note, a write-off, a deduction kept, or rejected).
 14. the kept worklist ranking (ranking.py) is what ranking the worklist again on its day
     gives: the same customers, in the same order, with the same figures.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from salesledger.apps.core.invariants import Problem, register
from salesledger.apps.core.models import Company
from salesledger.domain.collections import DisputeStatus
from salesledger.money import format_minor

from .models import Dispute, PaymentPlan, PlanInstalment, PlanItem
from .ranking import worklist_ranked, worklist_ranked_on
from .selectors import worklist


def _sum(model: type, field: str = "amount") -> Coalesce:
    qs = (model.objects.filter(plan_id=OuterRef("pk")).order_by().values("plan_id")  # type: ignore[attr-defined]
          .annotate(s=Sum(field)).values("s"))
    return Coalesce(Subquery(qs), Value(0))


def casework(company: Company, add: Callable[[Problem], None]) -> None:
    """13. Plans sum to what they rescheduled; disputes within what was open; closed ones say
    how."""
    plans = (PaymentPlan.objects.filter(company=company)
             .annotate(scheduled=_sum(PlanInstalment), rescheduled=_sum(PlanItem))
             .filter(~Q(scheduled=F("total")) | ~Q(rescheduled=F("total")))
             .values_list("pk", "currency", "total", "scheduled", "rescheduled"))
    for pk, cur, total, scheduled, items in plans:
        add(Problem("casework", f"payment plan {pk} rescheduled {format_minor(total, cur)} but "
                                f"its instalments sum to {format_minor(scheduled, cur)} and its "
                                f"items to {format_minor(items, cur)}"))
    for pk, cur, amount, was in (Dispute.objects.filter(company=company,
                                                        amount__gt=F("open_at_opening"))
                                 .values_list("pk", "currency", "amount", "open_at_opening")):
        add(Problem("casework", f"dispute {pk} contests {format_minor(amount, cur)}, more than "
                                f"the {format_minor(was, cur)} open when it was opened"))
    unsaid = Dispute.objects.filter(company=company, status=DisputeStatus.RESOLVED.value,
                                    resolution="").values_list("pk", flat=True)
    for pk in unsaid:
        add(Problem("casework", f"dispute {pk} is resolved without saying how"))


def worklist_ranking(company: Company, add: Callable[[Problem], None]) -> None:
    """14. The kept ranking is the worklist of its day (a cached list: every change that
    moves a customer must rank it again). Ranks the whole worklist once."""
    ranking = worklist_ranked_on(company)
    if ranking is None:
        return
    kept = worklist_ranked(company, as_of=ranking.day) or []
    fresh = worklist(company, as_of=ranking.day)
    by_id = {r.customer_id: r for r in kept}
    for r in fresh:
        k = by_id.pop(r.customer_id, None)
        if k != r:
            add(Problem("worklist", f"the worklist ranked on {ranking.day} "
                        + (f"misses {r.code}" if k is None else f"is stale for {r.code}")))
    for k in by_id.values():
        add(Problem("worklist", f"the worklist ranked on {ranking.day} keeps {k.code}, who "
                                "has nothing overdue to chase"))
    if not by_id and [r.customer_id for r in kept] != [r.customer_id for r in fresh]:
        add(Problem("worklist", f"the worklist ranked on {ranking.day} is out of order"))


def register_checks() -> None:
    register(13, casework)
    register(14, worklist_ranking)
