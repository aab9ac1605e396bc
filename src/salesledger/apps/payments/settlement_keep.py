"""A posted document's settlement, kept on it for the lists that filter by it.

Settlement is derived (docs/design/ledger-model.md, house rule 3): an invoice is open while
none of it is settled, partially paid while some is, paid when all is, and *written off* when
nothing is open and part of it was written off as a bad debt (net of reversals); a credit
note by what of it was applied (``allocated``). ``domain.lifecycle.settlement`` is the rule;
this module keeps its answer in ``Invoice.settlement`` so that a list finds the documents of
a state through an index instead of walking every document newest first
(docs/design/web.md, "Settlement filter").

One writer: ``settlement_keep`` recomputes the column from the rows it derives from (the
instalments' ``settled``, the credit note's ``allocated``, the bad-debt adjustments), set
based, for the documents a writer touched, in that writer's transaction. Every writer of
those rows calls it last (allocations, their reversal, adjustments and their reversal, all
in this app); ``settlement_expression`` is the one definition, which the check
(``invariants.kept_settlement``) and the migration that filled the column read too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Case, F, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThan, LessThan, LessThanOrEqual

from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice
from salesledger.domain.adjustments import AdjustmentKind
from salesledger.domain.lifecycle import Settlement

from .models import Adjustment

# Documents a statement recomputes at most: a short list of ids, whatever the batch.
_CHUNK = 2000


def settlement_expression(invoice: Any = Invoice, instalment: Any = Instalment,
                          adjustment: Any = Adjustment) -> Case:
    """The settlement of each document row of ``invoice``, as an SQL expression over its
    own columns and its instalments' and bad debts' rows (the models are parameters so
    that a migration passes its historical ones). The same judgement as
    ``domain.lifecycle.settlement`` over the sums: any settled (the sum above zero), some
    short (the sum below the instalments' amounts)."""
    parts = (instalment.objects.filter(invoice=OuterRef("pk")).order_by().values("invoice"))
    settled = Coalesce(Subquery(parts.annotate(s=Sum("settled")).values("s")), Value(0))
    owed = Coalesce(Subquery(parts.annotate(s=Sum("amount")).values("s")), Value(0))
    bad_debt = Coalesce(Subquery(
        adjustment.objects.filter(invoice=OuterRef("pk"), kind=AdjustmentKind.BAD_DEBT.value)
        .order_by().values("invoice").annotate(s=Sum("amount")).values("s")), Value(0))
    return Case(
        When(Q(kind=DocKind.CREDIT_NOTE.value), then=Case(
            When(Q(allocated__lte=0), then=Value(Settlement.OPEN.value)),
            When(Q(allocated__lt=F("total")), then=Value(Settlement.PARTIAL.value)),
            default=Value(Settlement.SETTLED.value))),
        When(LessThanOrEqual(settled, 0), then=Value(Settlement.OPEN.value)),
        When(LessThan(settled, owed), then=Value(Settlement.PARTIAL.value)),
        When(GreaterThan(bad_debt, 0), then=Value(Settlement.WRITTEN_OFF.value)),
        default=Value(Settlement.SETTLED.value))


def settlement_keep(invoice_ids: Iterable[int]) -> int:
    """Recompute the kept settlement of the posted documents ``invoice_ids`` (invoices whose
    instalments or bad debts changed, credit notes whose ``allocated`` did) from their rows,
    inside the caller's transaction: one ``UPDATE`` per 2,000 documents. Returns how many
    were written."""
    ids = sorted(set(invoice_ids))
    done = 0
    for start in range(0, len(ids), _CHUNK):
        done += Invoice.objects.filter(pk__in=ids[start:start + _CHUNK], status="posted").update(
            settlement=settlement_expression())
    return done

