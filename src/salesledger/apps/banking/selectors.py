"""What the bank statements hold, for the commands and pages (docs/design/bank-statements.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q

from salesledger.apps.core.models import Company
from salesledger.apps.customers.models import Customer
from salesledger.domain.errors import NotFound

from .models import (
    ColumnMapping,
    DirectDebitCollection,
    LineMatch,
    LineStatus,
    PayerIban,
    Statement,
    StatementLine,
)

# What a line is to the matcher (banking/matching.py); a line it has not seen is unmatched.
LINE_STATUSES = ("unmatched", "suggested", "applied", "other")


def statements_list(company: Company, *, account: str = "") -> list[Statement]:
    rows = Statement.objects.filter(company=company).select_related("bank_account")
    if account:
        rows = rows.filter(bank_account__code__iexact=account)
    return list(rows.order_by("bank_account__code", "closing_date", "pk"))


def statement_lines(company: Company, *, status: str = "", account: str = "",
                    limit: int = 1000, offset: int = 0) -> list[dict[str, Any]]:
    """Lines, oldest first, with their status (``unmatched`` until the matcher records
    what it made of them)."""
    rows = StatementLine.objects.filter(company=company)
    if account:
        rows = rows.filter(bank_account__code__iexact=account)
    if status == "unmatched":
        rows = rows.filter(Q(match__isnull=True) | Q(match__status="unmatched"))
    elif status:
        rows = rows.filter(match__status=status)
    return [dict(r, status=r.pop("match__status") or "unmatched",
                 receipt=r.pop("match__receipt__number") or "")
            for r in rows.order_by("booking_date", "pk").values(
        "id", "bank_account__code", "booking_date", "value_date", "amount", "currency",
        "counterparty_name", "counterparty_iban", "end_to_end_id", "bank_reference",
        "creditor_reference", "text", "return_reason", "match__status",
        "match__receipt__number")[offset:offset + limit]]


def review_queue(company: Company, *, limit: int = 1000, offset: int = 0
                 ) -> list[dict[str, Any]]:
    """The lines waiting for review, oldest first, with their ranked suggestions (the
    customers' codes and names filled in)."""
    rows = list(LineMatch.objects.filter(company=company, status="suggested")
                .select_related("line").order_by("line__booking_date", "line_id")
                [offset:offset + limit])
    ids = {s["customer"] for m in rows for s in m.suggestions}
    names = dict(Customer.objects.filter(company=company, pk__in=ids).values_list(
        "id", "code")) if ids else {}
    return [{"line": m.line, "evidence": m.evidence, "suggestions": [
        dict(s, customer_code=names.get(s["customer"], "")) for s in m.suggestions]}
        for m in rows]


def review_count(company: Company) -> int:
    """How many lines wait for review (the dashboard's alert): one count on the matches'
    (company, status) index, whatever the number of lines."""
    return LineMatch.objects.filter(company=company, status="suggested").count()


def statement_line_detail(company: Company, line_id: int) -> dict[str, Any]:
    """One line of the company's statements with what the matcher made of it: its status,
    suggestions (customers' codes filled in), evidence, confidence and receipt. Another
    company's line is "not found". Three queries."""
    line = (StatementLine.objects.filter(company=company, pk=line_id)
            .select_related("bank_account", "statement").first())
    if line is None:
        raise NotFound(f"no statement line {line_id}", field="line")
    m = (LineMatch.objects.filter(company=company, line=line)
         .select_related("receipt", "customer").first())
    suggestions = list(m.suggestions) if m else []
    ids = {s["customer"] for s in suggestions}
    codes = dict(Customer.objects.filter(company=company, pk__in=ids).values_list(
        "id", "code")) if ids else {}
    return {"line": line, "status": m.status if m else "unmatched",
            "evidence": list(m.evidence) if m else [],
            "confidence": m.confidence if m else None,
            "receipt": m.receipt.number if m and m.receipt_id else "",
            "customer": m.customer.code if m and m.customer_id else "",
            "posted": bool(m and m.entry_id),
            "suggestions": [dict(s, customer_code=codes.get(s["customer"], ""))
                            for s in suggestions]}


def mappings_list(company: Company) -> list[ColumnMapping]:
    return list(ColumnMapping.objects.filter(company=company).order_by("name"))


def mapping_named(company: Company, name: str) -> ColumnMapping:
    """One CSV column mapping of the company by name; "not found" otherwise. One query."""
    row = ColumnMapping.objects.filter(company=company, name=name).first()
    if row is None:
        raise NotFound(f"no column mapping {name!r}", field="name")
    return row


def line_applied_as(company: Company, line_id: int) -> str:
    """How an applied line was applied: ``receipt`` (a payment received), ``return`` (it
    returned a payment: the receipt was reversed) or ``posting`` (a bank rule posted it)."""
    how = LineMatch.objects.filter(company=company, line_id=line_id, status="applied") \
        .values_list("decided_by", "entry_id").first()
    if how is None:
        return ""
    return ("posting" if how[1] else "return" if how[0].startswith("return")
            else "receipt")


def payer_ibans(company: Company) -> list[tuple[str, int]]:
    """The IBANs customers were seen paying from (learned from confirmed matches), as
    (iban, customer id): what duplicate detection compares beside the customers' own bank
    accounts (customers.selectors.duplicate_customers)."""
    return list(PayerIban.objects.filter(company=company).order_by("pk")
                .values_list("iban", "customer_id"))


def direct_debit_collections(company: Company, *, limit: int = 50) -> list[dict[str, Any]]:
    """The company's direct-debit collection files, newest first (not their content)."""
    return list(DirectDebitCollection.objects.filter(company=company)
                .order_by("-created_at", "-pk")
                .values("id", "message_id", "due_by", "count", "total", "created_at",
                        "bank_account__code")[:limit])


def direct_debit_file(company: Company, collection_id: int) -> tuple[str, bytes]:
    """A collection's pain.008 file as kept: (message id, content). Another company's is
    "not found"."""
    row = (DirectDebitCollection.objects.filter(company=company, pk=collection_id)
           .values_list("message_id", "content").first())
    if row is None:
        raise NotFound(f"no direct-debit collection {collection_id}", field="collection")
    return row[0], bytes(row[1])


def match_progress(company: Company, since: datetime) -> dict[str, int]:
    """How far a matching run that the worker started at ``since`` has got: the lines whose
    decision it has written (each one commits as it is decided, the sure ones a chunk at a
    time: ``matching.bank_match``), of those plus the lines still waiting that it has not
    reached. Two counts."""
    done = LineMatch.objects.filter(company=company, updated_at__gte=since).count()
    waiting = (StatementLine.objects.filter(company=company)
               .exclude(match__status__in=[LineStatus.APPLIED, LineStatus.OTHER])
               .exclude(match__updated_at__gte=since).count())
    return {"done": done, "total": done + waiting}
