"""The customers app's invariants (registered with ``core.invariants``)."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import F, Q

from salesledger.apps.core.invariants import Problem, register
from salesledger.apps.core.models import Company

from .models import Customer


def merge_pointers(company: Company, add: Callable[[Problem], None]) -> None:
    """12. every merged customer points at a survivor of the same company and currency that
    is not itself merged (no chains, so no cycles), with the day of the merge
    (docs/design/customer-records.md)."""
    for r in (Customer.objects.filter(company=company, merged_into__isnull=False)
              .filter(~Q(merged_into__company=F("company"))
                      | ~Q(merged_into__currency=F("currency"))
                      | Q(merged_into__merged_into__isnull=False) | Q(merged_at__isnull=True)
                      | Q(merged_into=F("id")))
              .values("code", "currency", "merged_into__code", "merged_into__currency",
                      "merged_into__merged_into__code", "merged_at")):
        why = ("is itself merged into " + r["merged_into__merged_into__code"]
               if r["merged_into__merged_into__code"] else
               f"is kept in {r['merged_into__currency']}, the alias in {r['currency']}"
               if r["merged_into__currency"] != r["currency"] else
               "has no merge date" if r["merged_at"] is None else "is of another company")
        add(Problem("merge_pointers", f"customer {r['code']} is merged into "
                    f"{r['merged_into__code']}, which {why}"))
    for r in (Customer.objects.filter(company=company, merged_into__isnull=True,
                                      merged_at__isnull=False).values("code")):
        add(Problem("merge_pointers", f"customer {r['code']} has a merge date and no survivor"))


def register_checks() -> None:
    register(12, merge_pointers)
