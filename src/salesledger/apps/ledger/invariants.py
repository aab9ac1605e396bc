"""The ledger's invariants (registered with ``core.invariants``)."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Q, Sum

from salesledger.apps.core.invariants import Problem, register
from salesledger.apps.core.models import Company
from salesledger.money import format_minor

from .models import JournalLine


def balanced_entries(company: Company, add: Callable[[Problem], None]) -> None:
    """1. Every journal entry sums to zero, in base and in each document currency."""
    for r in (
        JournalLine.objects.filter(company=company)
        .values("entry_id")
        .annotate(s=Sum("amount"))
        .filter(~Q(s=0))
    ):
        add(Problem("balanced_entries", f"entry {r['entry_id']} is off by "
                    f"{format_minor(r['s'], company.base_currency)} (base)"))
    for r in (
        JournalLine.objects.filter(company=company)
        .values("entry_id", "currency")
        .annotate(s=Sum("amount_currency"))
        .filter(~Q(s=0))
    ):
        add(Problem("balanced_entries", f"entry {r['entry_id']} is off by "
                    f"{format_minor(r['s'], r['currency'])}"))


def register_checks() -> None:
    register(1, balanced_entries)
