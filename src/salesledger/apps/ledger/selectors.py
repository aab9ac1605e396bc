"""Read-only views of the journal."""

from __future__ import annotations

from django.db.models import Sum

from salesledger.apps.core.models import Company
from salesledger.domain.journal import AccountRole, Line

from .models import JournalLine


def account_balances_by_customer(company: Company, role: AccountRole) -> dict[tuple[int, str], int]:
    """Sum of ``amount_currency`` per (customer, currency) on the account with ``role``."""
    rows = (
        JournalLine.objects.filter(company=company, account__role=role.value)
        .values("customer_id", "currency")
        .annotate(total=Sum("amount_currency"))
    )
    return {(r["customer_id"], r["currency"]): r["total"] for r in rows}


def trial_balance(company: Company) -> list[dict[str, object]]:
    rows = (
        JournalLine.objects.filter(company=company)
        .values("account__code", "account__name", "account__role")
        .annotate(total=Sum("amount"))
        .order_by("account__code")
    )
    return [
        {"code": r["account__code"], "name": r["account__name"], "role": r["account__role"],
         "balance": r["total"]}
        for r in rows
    ]


def entry_lines(entry_id: int) -> list[Line]:
    """The lines of a stored journal entry, as the pure core writes them (to reverse it)."""
    return [Line(AccountRole(li.account.role), li.amount, li.amount_currency, li.currency,
                 li.customer_id)
            for li in JournalLine.objects.filter(entry_id=entry_id).select_related("account")
            .order_by("id")]
