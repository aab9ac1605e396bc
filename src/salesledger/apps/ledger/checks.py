"""``salesledger check``: every ledger invariant, verified over the whole database.

Each check is one set-based query and reports every breach it finds, naming the rows:
  1. every journal entry sums to zero in base currency and per document currency;
  2. the cached settlement figures equal the sum of their allocations;
  3. no instalment is over-settled, no receipt or credit note over-allocated;
  4. the instalments of each posted invoice sum to its total;
  5. per customer and currency: open items = receivable control; unapplied receipts =
     the unapplied cash account; so balance = receivable control - unapplied cash;
  6. numbering has no gap and no duplicate in any series and fiscal year;
  7. every posted document has its journal entry, with the total on the receivable account;
  8. the audit hash chain is intact;
  9. adjustments, refunds and receipt reversals are whole and journaled as they say
     (docs/design/adjustments.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, F, Max, Min, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from salesledger.apps.core.audit import audit_verify
from salesledger.apps.core.models import Company, NumberCounter
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice
from salesledger.apps.payments.models import (
    Adjustment,
    Allocation,
    Receipt,
    ReceiptReversal,
    Refund,
)
from salesledger.apps.payments.selectors import open_item_totals
from salesledger.domain.journal import AccountRole

from .models import JournalLine
from .selectors import account_balances_by_customer


@dataclass(frozen=True)
class Problem:
    check: str
    detail: str

    def __str__(self) -> str:
        return f"{self.check}: {self.detail}"


def _alloc_total(value: object = "amount", **match: object) -> Coalesce:
    key = next(iter(match))
    qs = (
        Allocation.objects.filter(**match)
        .order_by()
        .values(key)
        .annotate(s=Sum(value))
        .values("s")
    )
    return Coalesce(Subquery(qs), Value(0))


# What an allocation took from its receipt, in the receipt's currency: ``source_amount`` when
# it paid an instalment in another currency (docs/design/multi-currency.md).
_TAKEN_FROM_RECEIPT = Coalesce(F("source_amount"), F("amount"))


def check_company(company: Company) -> list[Problem]:
    out: list[Problem] = []
    add = out.append

    for r in (
        JournalLine.objects.filter(company=company)
        .values("entry_id")
        .annotate(s=Sum("amount"))
        .filter(~Q(s=0))
    ):
        add(Problem("balanced_entries", f"entry {r['entry_id']} is off by {r['s']} (base)"))
    for r in (
        JournalLine.objects.filter(company=company)
        .values("entry_id", "currency")
        .annotate(s=Sum("amount_currency"))
        .filter(~Q(s=0))
    ):
        add(
            Problem("balanced_entries", f"entry {r['entry_id']} is off by {r['s']} {r['currency']}")
        )

    for r in (
        Instalment.objects.filter(company=company)
        .annotate(calc=_alloc_total(instalment=OuterRef("pk")))
        .filter(~Q(settled=F("calc")) | Q(calc__gt=F("amount")) | Q(calc__lt=0))
        .values("id", "settled", "calc", "amount")
    ):
        add(
            Problem(
                "settlement_cache",
                f"instalment {r['id']}: settled {r['settled']}, "
                f"allocations {r['calc']}, amount {r['amount']}",
            )
        )
    for r in (
        Receipt.objects.filter(company=company)
        .annotate(calc=_alloc_total(_TAKEN_FROM_RECEIPT, receipt=OuterRef("pk"))
                  + _receipt_used_otherwise())
        .filter(~Q(allocated=F("calc")) | Q(calc__gt=F("amount")) | Q(calc__lt=0))
        .values("number", "allocated", "calc", "amount")
    ):
        add(
            Problem(
                "settlement_cache",
                f"receipt {r['number']}: allocated {r['allocated']}, "
                f"allocations {r['calc']}, amount {r['amount']}",
            )
        )
    for r in (
        Invoice.objects.filter(company=company, kind=DocKind.CREDIT_NOTE)
        .annotate(calc=_alloc_total(credit_note=OuterRef("pk")))
        .filter(~Q(allocated=F("calc")) | Q(calc__gt=F("total")))
        .values("number", "allocated", "calc")
    ):
        add(
            Problem(
                "settlement_cache",
                f"credit note {r['number']}: allocated {r['allocated']}, allocations {r['calc']}",
            )
        )

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

    receivable = account_balances_by_customer(company, AccountRole.RECEIVABLE)
    unapplied = account_balances_by_customer(company, AccountRole.UNAPPLIED)
    items = open_item_totals(company)
    for key in set(receivable) | set(unapplied) | set(items):
        customer_id, currency = key
        t = items.get(key, {"instalments": 0, "credit_notes": 0, "receipts": 0})
        recv = receivable.get(key, 0)
        if customer_id is None:
            if recv or unapplied.get(key, 0):
                add(Problem("customer_ledger", "receivable or unapplied line without customer"))
            continue
        if t["instalments"] - t["credit_notes"] != recv:
            add(
                Problem(
                    "customer_ledger",
                    f"customer {customer_id} {currency}: open items "
                    f"{t['instalments'] - t['credit_notes']} != receivable control {recv}",
                )
            )
        if -t["receipts"] != unapplied.get(key, 0):
            add(
                Problem(
                    "customer_ledger",
                    f"customer {customer_id} {currency}: unapplied receipts {t['receipts']}"
                    f" != unapplied cash account {-unapplied.get(key, 0)}",
                )
            )

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

    _adjustment_checks(company, add)
    out.extend(Problem("audit_chain", p) for p in audit_verify(company))
    return out


# ---------------------------------------------------------------- adjustments and refunds
def _receipt_used_otherwise() -> Coalesce:
    """What a receipt gave up other than by allocation: its refunds (reversals netted) and
    its reversal by the bank; both count in ``Receipt.allocated`` (payments/refunds.py)."""
    refunds = (Refund.objects.filter(receipt=OuterRef("pk")).order_by().values("receipt")
               .annotate(s=Sum("amount")).values("s"))
    returned = ReceiptReversal.objects.filter(receipt=OuterRef("pk")).values("amount")
    return Coalesce(Subquery(refunds), Value(0)) + Coalesce(Subquery(returned), Value(0))


def _entry_sum(role: AccountRole) -> Coalesce:
    qs = (JournalLine.objects.filter(entry=OuterRef("journal_entry"), account__role=role.value)
          .order_by().values("entry").annotate(s=Sum("amount_currency")).values("s"))
    return Coalesce(Subquery(qs), Value(0))


def _adjustment_checks(company: Company, add: Callable[[Problem], None]) -> None:
    """9. every adjustment is applied in full (its allocations sum to its amount and base)
    and credits the receivable by its amount; every refund debits unapplied cash by its
    amount; a reversed receipt gave up all of itself; refund numbers have no gap."""
    for r in (
        Adjustment.objects.filter(company=company)
        .annotate(calc=_alloc_total(adjustment=OuterRef("pk")),
                  base=_alloc_total("base_receivable", adjustment=OuterRef("pk")),
                  recv=_entry_sum(AccountRole.RECEIVABLE))
        .filter(~Q(amount=F("calc")) | ~Q(base_amount=F("base")) | ~Q(recv=-F("amount")))
        .values("id", "amount", "calc", "base_amount", "base", "recv")
    ):
        add(Problem("adjustments", f"adjustment {r['id']}: amount {r['amount']}, allocations "
                    f"{r['calc']}, base {r['base_amount']} vs {r['base']}, receivable "
                    f"{r['recv']}"))
    for r in (
        Refund.objects.filter(company=company)
        .annotate(j=_entry_sum(AccountRole.UNAPPLIED))
        .filter(~Q(j=F("amount")))
        .values("id", "number", "amount", "j")
    ):
        add(Problem("refunds", f"refund {r['number'] or r['id']}: amount {r['amount']}, "
                    f"unapplied cash {r['j']}"))
    for r in (
        ReceiptReversal.objects.filter(company=company)
        .filter(~Q(amount=F("receipt__amount")) | ~Q(receipt__allocated=F("receipt__amount")))
        .values("receipt__number", "amount", "receipt__amount")
    ):
        add(Problem("receipt_reversals", f"receipt {r['receipt__number']} reversed for "
                    f"{r['amount']} of {r['receipt__amount']}, or still used elsewhere"))
    for r in (
        Refund.objects.filter(company=company, seq__isnull=False)
        .values("fiscal_year")
        .annotate(n=Count("id"), lo=Min("seq"), hi=Max("seq"))
    ):
        counter = NumberCounter.objects.filter(
            company=company, series="RFD", fiscal_year=r["fiscal_year"]).first()
        if r["lo"] != 1 or r["hi"] != r["n"] or counter is None or counter.last != r["hi"]:
            add(Problem("numbering", f"series RFD {r['fiscal_year']}: {r['n']} refunds "
                        f"numbered {r['lo']}..{r['hi']}, counter at "
                        f"{counter.last if counter else None}"))
