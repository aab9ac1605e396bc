"""Invoicing's invariants (registered with ``core.invariants``)."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Count, F, Max, Min, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from salesledger.apps.core.invariants import Problem, register
from salesledger.apps.core.models import Company, NumberCounter
from salesledger.apps.ledger.models import JournalLine
from salesledger.domain.journal import AccountRole

from .models import DocKind, Instalment, Invoice


def instalments_sum(company: Company, add: Callable[[Problem], None]) -> None:
    """4. The instalments of each posted invoice sum to its total."""
    inst_sum = (
        Instalment.objects.filter(invoice=OuterRef("pk"))
        .order_by()
        .values("invoice")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    for r in (
        Invoice.objects.filter(company=company, kind=DocKind.INVOICE, status="posted")
        .annotate(s=Coalesce(Subquery(inst_sum), Value(0)))
        .filter(~Q(s=F("total")))
        .values("number", "s", "total")
    ):
        add(
            Problem("instalments_sum", f"{r['number']}: instalments {r['s']} != total {r['total']}")
        )


def numbering(company: Company, add: Callable[[Problem], None]) -> None:
    """6. The invoice and credit note series have no gap and no duplicate; counters agree."""
    numbered = (
        Invoice.objects.filter(company=company, seq__isnull=False)
        .values("series", "fiscal_year")
        .annotate(n=Count("id"), lo=Min("seq"), hi=Max("seq"))
    )
    for r in numbered:
        if r["lo"] != 1 or r["hi"] != r["n"]:
            add(
                Problem(
                    "numbering",
                    f"series {r['series']} {r['fiscal_year']}: {r['n']} "
                    f"documents numbered {r['lo']}..{r['hi']} (gap or duplicate)",
                )
            )
        counter = NumberCounter.objects.filter(
            company=company, series=r["series"], fiscal_year=r["fiscal_year"]
        ).first()
        if counter is None or counter.last != r["hi"]:
            add(
                Problem(
                    "numbering",
                    f"series {r['series']} {r['fiscal_year']}: counter at "
                    f"{counter.last if counter else None}, highest number {r['hi']}",
                )
            )


def posted_journal(company: Company, add: Callable[[Problem], None]) -> None:
    """7. Every posted document has its journal entry, its total on the receivable account."""
    recv_line = (
        JournalLine.objects.filter(
            entry=OuterRef("journal_entry"), account__role=AccountRole.RECEIVABLE.value
        )
        .order_by()
        .values("entry")
        .annotate(s=Sum("amount_currency"))
        .values("s")
    )
    for kind, sign in ((DocKind.INVOICE, 1), (DocKind.CREDIT_NOTE, -1)):
        for r in (
            Invoice.objects.filter(company=company, status="posted", kind=kind)
            .annotate(j=sign * Coalesce(Subquery(recv_line), Value(0)))
            .filter(~Q(j=F("total")) | Q(journal_entry__isnull=True))
            .values("number", "j", "total")
        ):
            add(
                Problem(
                    "posted_journal", f"{r['number']}: receivable {r['j']} != total {r['total']}"
                )
            )


def register_checks() -> None:
    register(4, instalments_sum)
    register(6, numbering)
    register(7, posted_journal)
