"""What the payment writers read, and the locks they read under: the lowest module of the
payments app, used by the allocation services, the adjustments and the refunds alike.

Locking order, the same everywhere so that two writers cannot deadlock (docs/design/
concurrency.md): the source row (a receipt or a credit note) first, then the instalments in
ascending id. Rows are locked FOR NO KEY UPDATE: writers still queue, but inserting a row that
refers to a locked one (a reversing adjustment naming its receipt and invoice) does not wait for
its lock, which would deadlock against a writer that holds it and waits for our instalment.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db.models import F, QuerySet, Sum

from salesledger.apps.core.models import Company
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice
from salesledger.domain.allocation import OpenSide
from salesledger.domain.errors import NotFound

from .models import Allocation, Receipt, Refund


def receipts_locked(company: Company, **where: Any) -> QuerySet[Receipt]:
    """The company's receipts that match ``where``, locked as the source of a payment write:
    FOR NO KEY UPDATE of the receipt rows alone (``of=("self",)``, not the rows a caller joins
    to them), in ascending id. Every service that changes what a receipt has used (an
    allocation, its reversal, a refund, a returned payment, a run) locks receipts here."""
    return (Receipt.objects.select_for_update(of=("self",), no_key=True)
            .filter(company=company, **where).order_by("pk"))


def receipt_locked(company: Company, number: str) -> Receipt:
    """The receipt ``number`` (its customer loaded), locked first, as the source of a write."""
    src = receipts_locked(company, number=number).select_related("customer").first()
    if src is None:
        raise NotFound(f"no receipt {number!r}", receipt=number)
    return src


def credit_notes_locked(company: Company, **where: Any) -> QuerySet[Invoice]:
    """The company's credit notes that match ``where``, locked as the source of an
    allocation, as :func:`receipts_locked` locks receipts."""
    return (Invoice.objects.select_for_update(of=("self",), no_key=True)
            .filter(company=company, kind=DocKind.CREDIT_NOTE, **where).order_by("pk"))


def relieved_bases(*, instalment_ids: Sequence[int] = (), receipt_ids: Sequence[int] = (),
                   credit_note_ids: Sequence[int] = ()) -> dict[tuple[str, int], int]:
    """Base amounts already relieved by allocations (reversals included), keyed by
    ("instalment" | "receipt" | "credit_note", id): one grouped query per kind."""
    out: dict[tuple[str, int], int] = {}
    for key, ids, column in (("instalment", instalment_ids, "base_receivable"),
                             ("receipt", receipt_ids, "base_unapplied"),
                             ("credit_note", credit_note_ids, "base_unapplied")):
        for i in range(0, len(ids), 5000):
            rows = (Allocation.objects.filter(**{f"{key}_id__in": list(ids[i:i + 5000])})
                    .values(f"{key}_id").annotate(s=Sum(column)).order_by())
            out.update({(key, r[f"{key}_id"]): r["s"] or 0 for r in rows})
    # A refund relieves its receipt too (refunds.py), so the last part still takes the
    # base that is left.
    for i in range(0, len(receipt_ids), 5000):
        for r in (Refund.objects.filter(receipt_id__in=list(receipt_ids[i:i + 5000]))
                  .values("receipt_id").annotate(s=Sum("base_amount")).order_by()):
            key_r = ("receipt", r["receipt_id"])
            out[key_r] = out.get(key_r, 0) + (r["s"] or 0)
    return out


def source_side(src: Receipt | Invoice, relieved: int) -> OpenSide:
    """A receipt or credit note as the source side of an allocation."""
    if isinstance(src, Receipt):
        return OpenSide(src.amount - src.allocated, src.base_amount, Decimal(src.rate), relieved)
    return OpenSide(src.total - src.allocated, src.base_total, Decimal(src.rate), relieved)


def open_on(inv: Invoice) -> int:
    """What is open on an invoice now (minor units), from the cached ``settled``."""
    return (Instalment.objects.filter(invoice=inv)
            .aggregate(s=Sum(F("amount") - F("settled")))["s"] or 0)
