"""What the bank statements hold, for the commands and pages (docs/design/bank-statements.md)."""

from __future__ import annotations

from typing import Any

from salesledger.apps.core.models import Company

from .models import ColumnMapping, Statement, StatementLine

# What a line is to the matcher. Until the matcher exists every line is unmatched.
LINE_STATUSES = ("unmatched", "suggested", "applied", "other")


def statements_list(company: Company, *, account: str = "") -> list[Statement]:
    rows = Statement.objects.filter(company=company).select_related("bank_account")
    if account:
        rows = rows.filter(bank_account__code__iexact=account)
    return list(rows.order_by("bank_account__code", "closing_date", "pk"))


def statement_lines(company: Company, *, status: str = "", account: str = "",
                    limit: int = 1000) -> list[dict[str, Any]]:
    """Lines, oldest first, with their status (``unmatched`` for every line until the
    matcher records what it made of them)."""
    rows = StatementLine.objects.filter(company=company)
    if account:
        rows = rows.filter(bank_account__code__iexact=account)
    if status and status != "unmatched":
        return []
    return [dict(r, status="unmatched") for r in rows.order_by("booking_date", "pk").values(
        "id", "bank_account__code", "booking_date", "value_date", "amount", "currency",
        "counterparty_name", "counterparty_iban", "end_to_end_id", "bank_reference",
        "creditor_reference", "text", "return_reason")[:limit]]


def mappings_list(company: Company) -> list[ColumnMapping]:
    return list(ColumnMapping.objects.filter(company=company).order_by("name"))
