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
  8. the audit hash chain is intact.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, Max, Min, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from salesledger.apps.core.audit import audit_verify
from salesledger.apps.core.models import Company, NumberCounter
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice
from salesledger.apps.payments.models import Allocation, Receipt
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


def _alloc_total(**match: object) -> Coalesce:
    key = next(iter(match))
    qs = (
        Allocation.objects.filter(**match)
        .order_by()
        .values(key)
        .annotate(s=Sum("amount"))
        .values("s")
    )
    return Coalesce(Subquery(qs), Value(0))


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
        .annotate(calc=_alloc_total(receipt=OuterRef("pk")))
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

    out.extend(Problem("audit_chain", p) for p in audit_verify(company))
    return out
