"""A customer's statement for a period: the balance the day before it opens, every movement
dated in it, the closing balance, and the aging on its last day (docs/design/reporting.md).

A movement is anything that changes what the customer owes in a currency (the balance of
``payments.selectors.customer_balances``): an invoice (+), a credit note (-), a receipt (-), an
adjustment (- a write-off, deduction, discount or bad debt; + its reversal), a refund (+; - its
reversal), a payment the bank returned (+), and a receipt in one currency paying an invoice in
another (+ in the receipt's currency, - in the invoice's). Allocations in one currency move
nothing: they settle, they do not change the balance. So for each currency, opening + the
movements = closing, which the tests check against ``customer_balances``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import F

from salesledger.apps.core.models import Company
from salesledger.apps.customers.selectors import customer_effective, customer_family
from salesledger.apps.invoicing.models import DocKind, Invoice
from salesledger.apps.payments.models import (
    Adjustment,
    Allocation,
    Receipt,
    ReceiptReversal,
    Refund,
)
from salesledger.apps.payments.selectors import customer_balances
from salesledger.domain.errors import ValidationFailed


@dataclass(frozen=True)
class Movement:
    date: date
    kind: str  # invoice, credit_note, receipt, returned_payment, refund, <adjustment kind>...
    document: str
    currency: str
    amount: int  # minor units: + the customer owes more, - less


def _movements(company: Company, customer_id: int, start: date, end: date) -> list[Movement]:
    # the survivor of a merge takes in its aliases' documents (customer_family)
    scope = {"company": company,
             "customer_id__in": customer_family(company, customer_id)}
    out: list[Movement] = []
    for d in (Invoice.objects.filter(**scope, status="posted", issue_date__range=(start, end))
              .values("issue_date", "kind", "number", "currency", "total")):
        sign = -1 if d["kind"] == DocKind.CREDIT_NOTE else 1
        out.append(Movement(d["issue_date"], d["kind"], d["number"], d["currency"],
                            sign * d["total"]))
    for r in (Receipt.objects.filter(**scope, date__range=(start, end))
              .values("date", "number", "currency", "amount")):
        out.append(Movement(r["date"], "receipt", r["number"], r["currency"], -r["amount"]))
    for r in (ReceiptReversal.objects.filter(**scope, date__range=(start, end))
              .values("date", "receipt__number", "receipt__currency", "amount")):
        out.append(Movement(r["date"], "returned_payment", r["receipt__number"],
                            r["receipt__currency"], r["amount"]))
    for r in (Refund.objects.filter(**scope, date__range=(start, end))
              .values("date", "number", "reversal_of__number", "currency", "amount")):
        kind = "refund" if r["amount"] > 0 else "refund_reversal"
        out.append(Movement(r["date"], kind, r["number"] or r["reversal_of__number"],
                            r["currency"], r["amount"]))
    for r in (Adjustment.objects.filter(**scope, date__range=(start, end))
              .values("date", "kind", "invoice__number", "currency", "amount")):
        kind = r["kind"] if r["amount"] > 0 else f"{r['kind']}_reversal"
        out.append(Movement(r["date"], kind, r["invoice__number"], r["currency"],
                            -r["amount"]))
    for a in (Allocation.objects.filter(**scope, date__range=(start, end),
                                        source_amount__isnull=False)
              .values("date", "receipt__number", "instalment__invoice__number", "currency",
                      "amount", "source_currency", src=F("source_amount"))):
        out.append(Movement(a["date"], "conversion", a["receipt__number"],
                            a["source_currency"], a["src"]))
        out.append(Movement(a["date"], "conversion", a["instalment__invoice__number"],
                            a["currency"], -a["amount"]))
    out.sort(key=lambda m: (m.date, m.document or "", m.kind))
    return out


@dataclass(frozen=True)
class Statement:
    customer: str
    name: str
    start: date
    end: date
    opening: dict[str, int]
    closing: dict[str, int]
    movements: list[Movement]


def customer_statement(company: Company, *, code: str, start: date, end: date) -> Statement:
    """The statement of customer ``code`` from ``start`` to ``end`` (both included)."""
    if end < start:
        raise ValidationFailed(f"--to {end} is before --from {start}", start=start, end=end)
    # an alias's statement is its survivor's (docs/design/customer-records.md)
    customer = customer_effective(company, code)
    opening = {cur: v for (_, cur), v in customer_balances(
        company, as_of=start - timedelta(days=1), customer_id=customer.pk).items()}
    closing = {cur: v for (_, cur), v in customer_balances(
        company, as_of=end, customer_id=customer.pk).items()}
    return Statement(customer=customer.code, name=customer.name, start=start, end=end,
                     opening=opening, closing=closing,
                     movements=_movements(company, customer.pk, start, end))


def running(statement: Statement) -> list[tuple[Movement, int]]:
    """Each movement with the balance of its currency after it."""
    balance: dict[str, int] = defaultdict(int, statement.opening)
    out: list[tuple[Movement, int]] = []
    for m in statement.movements:
        balance[m.currency] += m.amount
        out.append((m, balance[m.currency]))
    return out


def currencies(statement: Statement, base_currency: str) -> list[str]:
    """The currencies the statement speaks of (the company's when it speaks of none)."""
    found: set[Any] = {*statement.opening, *statement.closing,
                       *(m.currency for m in statement.movements)}
    return sorted(found) or [base_currency]
