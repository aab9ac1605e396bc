"""Invoicing's invariants (registered with ``core.invariants``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Max, Min, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from salesledger.apps.core.invariants import Problem, register
from salesledger.apps.core.models import AuditEvent, Company, NumberCounter
from salesledger.apps.ledger.models import JournalLine
from salesledger.domain.journal import AccountRole
from salesledger.domain.snapshot import snapshot_hash
from salesledger.money import format_minor

from .models import DocKind, DocumentCharge, Instalment, Invoice, InvoiceLine


def instalments_sum(company: Company, add: Callable[[Problem], None]) -> None:
    """4. The instalments of each posted invoice sum to its total, and carry its issue
    date."""
    _issue_dates(company, add)
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
        .values("number", "currency", "s", "total")
    ):
        add(Problem("instalments_sum", f"{r['number']}: instalments "
                    f"{format_minor(r['s'], r['currency'])} != total "
                    f"{format_minor(r['total'], r['currency'])}"))


def _issue_dates(company: Company, add: Callable[[Problem], None]) -> None:
    """Each instalment carries its invoice's issue date (the copy the aging of a past day
    reads from the index of open instalments: reporting/aging.py)."""
    for r in (Instalment.objects.filter(company=company)
              .exclude(issue_date=F("invoice__issue_date"))
              .values("invoice__number", "seq", "issue_date", "invoice__issue_date")
              .order_by("invoice__number", "seq")):
        add(Problem("instalments_sum", f"{r['invoice__number']} #{r['seq']}: issue date "
                    f"{r['issue_date']} != the invoice's {r['invoice__issue_date']}"))


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
            .values("number", "currency", "j", "total")
        ):
            add(Problem("posted_journal", f"{r['number']}: receivable "
                        f"{format_minor(r['j'], r['currency'])} != total "
                        f"{format_minor(r['total'], r['currency'])}"))


_HEADER = ("number", "kind", "currency", "po_number", "buyer_reference", "payment_reference",
           "net", "tax", "total")
# What a document says about its supply (EN 16931 BT-72, BG-14, BT-12, BT-11, BT-23): the
# snapshot keeps it under "supply", and only what was given (``SupplyDetails.as_json``).
_SUPPLY_DATES = ("delivery_date", "period_start", "period_end")
_SUPPLY_TEXT = ("contract_reference", "project_reference", "supply_type")
_LINE = ("description", "tax_category", "exemption_reason", "unit_code", "net", "tax")
_LINE_DECIMALS = ("quantity", "unit_price", "discount_percent", "tax_rate")
# The item's identifiers (BT-155, BT-157), frozen only when the line has them.
_LINE_OPTIONAL = ("seller_item_id", "standard_item_id", "standard_item_scheme")
# A charge's VAT is in the snapshot alone: no column stores it (comparing one crashed check
# on every document with an allowance or charge).
_CHARGE = ("is_charge", "reason", "reason_code", "amount", "tax_category")


def posting_hashes(company: Company) -> dict[int, str]:
    """Each posted document's snapshot hash as the audit chain recorded it at posting."""
    out: dict[int, str] = {}
    for ev in AuditEvent.objects.filter(company=company, entity="invoice",
                                        action__endswith=".post").values("entity_id", "data"):
        after = (ev["data"] or {}).get("after") or {}
        out[int(ev["entity_id"])] = str(after.get("snapshot_hash", ""))
    return out


def issued_content(company: Company, add: Callable[[Problem], None]) -> None:
    """10. Every posted document is what was issued: its snapshot hashes to the hash the audit
    chain recorded at posting (and the chain itself is check 8), and its stored header, lines
    and charges are those of the snapshot. A changed price, a deleted line or an edited
    snapshot shows even when the database's triggers were dropped to make it."""
    recorded = posting_hashes(company)
    ids = list(Invoice.objects.filter(company=company, status="posted")
               .order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        lines, charges = _rows(InvoiceLine, chunk), _rows(DocumentCharge, chunk)
        for doc in Invoice.objects.filter(pk__in=chunk).order_by("pk").values(
                "pk", "issue_date", "rate", "snapshot", "snapshot_hash", *_HEADER,
                *_SUPPLY_DATES, *_SUPPLY_TEXT):
            name = doc["number"] or f"document {doc['pk']}"
            for detail in _content_breaches(doc, recorded.get(doc["pk"]), lines[doc["pk"]],
                                            charges[doc["pk"]]):
                add(Problem("issued_content", f"{name}: {detail}"))


def _rows(model: Any, invoice_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in model.objects.filter(invoice_id__in=invoice_ids).order_by("invoice_id",
                                                                          "position").values():
        out[row["invoice_id"]].append(row)
    return out


def _content_breaches(doc: dict[str, Any], recorded: str | None,
                      lines: list[dict[str, Any]], charges: list[dict[str, Any]]
                      ) -> Iterator[str]:
    snap = doc["snapshot"] or {}
    if recorded is None:
        yield "no posting event in the audit trail"
    elif recorded != doc["snapshot_hash"]:
        yield "snapshot hash differs from the one recorded at posting"
    if snapshot_hash(snap) != doc["snapshot_hash"]:
        yield "snapshot changed since posting"
    for field in _HEADER:
        if snap.get(field) != doc[field]:
            yield f"{field} {doc[field]!r}, issued {snap.get(field)!r}"
    if snap.get("issue_date") != doc["issue_date"].isoformat():
        yield f"issue date {doc['issue_date']}, issued {snap.get('issue_date')}"
    if not _same_decimal(snap.get("rate"), doc["rate"]):
        yield f"rate {doc['rate']}, issued {snap.get('rate')}"
    yield from _supply_breaches(snap.get("supply") or {}, doc)
    yield from _rows_breaches("line", snap.get("lines") or [], lines, _LINE, _LINE_DECIMALS,
                              optional=_LINE_OPTIONAL)
    yield from _rows_breaches("charge", snap.get("charges") or [], charges, _CHARGE,
                              ("tax_rate",), optional_decimals=("percent",))


def _supply_breaches(issued: dict[str, Any], doc: dict[str, Any]) -> Iterator[str]:
    """The stored delivery date, period, contract, project and nature of the operation
    against what the snapshot froze (absent there: not given, stored empty)."""
    for field in _SUPPLY_DATES:
        stored = doc[field].isoformat() if doc[field] else None
        if issued.get(field) != stored:
            yield (f"{field.replace('_', ' ')} {stored or 'none'}, issued "
                   f"{issued.get(field) or 'none'}")
    for field in _SUPPLY_TEXT:
        if issued.get(field, "") != doc[field]:
            yield f"{field} {doc[field]!r}, issued {issued.get(field, '')!r}"


def _rows_breaches(what: str, issued: list[dict[str, Any]], stored: list[dict[str, Any]],
                   fields: tuple[str, ...], decimals: tuple[str, ...], *,
                   optional: tuple[str, ...] = (), optional_decimals: tuple[str, ...] = ()
                   ) -> Iterator[str]:
    """``optional`` texts and ``optional_decimals`` are frozen only when given: absent from
    the snapshot, the stored value must be empty (None for a decimal)."""
    if len(issued) != len(stored):
        yield f"{len(stored)} {what}s stored, {len(issued)} issued"
    for n, (was, row) in enumerate(zip(issued, stored, strict=False), start=1):
        for field in fields:
            if was.get(field) != row[field]:
                yield f"{what} {n} {field} {row[field]!r}, issued {was.get(field)!r}"
        for field in optional:
            if was.get(field, "") != row[field]:
                yield f"{what} {n} {field} {row[field]!r}, issued {was.get(field, '')!r}"
        for field in decimals:
            if not _same_decimal(was.get(field), row[field]):
                yield f"{what} {n} {field} {row[field]}, issued {was.get(field)}"
        for field in optional_decimals:
            if (was.get(field) is None) != (row[field] is None) or (
                    row[field] is not None and not _same_decimal(was[field], row[field])):
                yield f"{what} {n} {field} {row[field]}, issued {was.get(field)}"


def _same_decimal(text: object, value: Decimal | None) -> bool:
    try:
        return value is not None and Decimal(str(text)) == value
    except ArithmeticError:
        return False


def register_checks() -> None:
    register(4, instalments_sum)
    register(6, numbering)
    register(7, posted_journal)
    register(10, issued_content)
