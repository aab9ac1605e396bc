"""Payments' invariants (registered with ``core.invariants``)."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Count, F, Max, Min, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from salesledger.apps.core.invariants import Problem, register
from salesledger.apps.core.models import Company, NumberCounter
from salesledger.apps.customers.models import Customer
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice
from salesledger.apps.ledger.models import JournalLine
from salesledger.apps.ledger.selectors import account_balances_by_customer
from salesledger.domain.journal import AccountRole
from salesledger.money import format_minor

from .models import Adjustment, Allocation, Receipt, ReceiptReversal, Refund
from .selectors import open_item_totals
from .settlement_keep import settlement_expression


def _money(currency: str) -> Callable[[int], str]:
    """How a problem names an amount of ``currency``: major units and the currency."""
    return lambda minor: format_minor(minor or 0, currency)


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


def settlement_cache(company: Company, add: Callable[[Problem], None]) -> None:
    """2, 3. Cached settlement figures equal their allocations; nothing is over-settled."""
    for r in (
        Instalment.objects.filter(company=company)
        .annotate(calc=_alloc_total(instalment=OuterRef("pk")))
        .filter(~Q(settled=F("calc")) | Q(calc__gt=F("amount")) | Q(calc__lt=0))
        .values("id", "seq", "invoice__number", "currency", "settled", "calc", "amount")
    ):
        m = _money(r["currency"])
        add(Problem("settlement_cache", f"{r['invoice__number']} instalment {r['seq']}: "
                    f"settled {m(r['settled'])}, allocations {m(r['calc'])}, "
                    f"amount {m(r['amount'])}"))
    for r in (
        Receipt.objects.filter(company=company)
        .annotate(calc=_alloc_total(_TAKEN_FROM_RECEIPT, receipt=OuterRef("pk"))
                  + _receipt_used_otherwise())
        .filter(~Q(allocated=F("calc")) | Q(calc__gt=F("amount")) | Q(calc__lt=0))
        .values("number", "currency", "allocated", "calc", "amount")
    ):
        m = _money(r["currency"])
        add(Problem("settlement_cache", f"receipt {r['number']}: allocated "
                    f"{m(r['allocated'])}, allocations {m(r['calc'])}, amount {m(r['amount'])}"))
    # Only a credit note is ever a source of allocations; an invoice's cache stays at zero.
    for r in (
        Invoice.objects.filter(company=company)
        .annotate(calc=_alloc_total(credit_note=OuterRef("pk")))
        .filter(~Q(allocated=F("calc")) | Q(calc__gt=F("total")))
        .values("number", "kind", "currency", "allocated", "calc")
    ):
        what = "credit note" if r["kind"] == DocKind.CREDIT_NOTE else "invoice"
        m = _money(r["currency"])
        add(Problem("settlement_cache", f"{what} {r['number']}: allocated "
                    f"{m(r['allocated'])}, allocations {m(r['calc'])}"))


def kept_settlement(company: Company, add: Callable[[Problem], None]) -> None:
    """18. The settlement kept on each posted document is the one its rows tell now
    (``settlement_keep.settlement_expression``, the definition its writer applies)."""
    for r in (
        Invoice.objects.filter(company=company, status="posted")
        .annotate(calc=settlement_expression())
        .exclude(settlement=F("calc"))
        .values("number", "kind", "settlement", "calc")
    ):
        what = "credit note" if r["kind"] == DocKind.CREDIT_NOTE else "invoice"
        add(Problem("kept_settlement", f"{what} {r['number']}: kept {r['settlement']}, "
                    f"its allocations and adjustments say {r['calc']}"))


def customer_ledger(company: Company, add: Callable[[Problem], None]) -> None:
    """5. Open items agree with the receivable control, unapplied receipts with unapplied cash."""
    receivable = account_balances_by_customer(company, AccountRole.RECEIVABLE)
    unapplied = account_balances_by_customer(company, AccountRole.UNAPPLIED)
    items = open_item_totals(company)
    codes = dict(Customer.objects.filter(company=company).values_list("id", "code"))
    for key in set(receivable) | set(unapplied) | set(items):
        customer_id, currency = key
        t = items.get(key, {"instalments": 0, "credit_notes": 0, "receipts": 0})
        recv = receivable.get(key, 0)
        if customer_id is None:
            if recv or unapplied.get(key, 0):
                add(Problem("customer_ledger", "receivable or unapplied line without customer"))
            continue
        m, who = _money(currency), f"customer {codes.get(customer_id, customer_id)}"
        if t["instalments"] - t["credit_notes"] != recv:
            add(Problem("customer_ledger", f"{who}: open items "
                        f"{m(t['instalments'] - t['credit_notes'])} != receivable control "
                        f"{m(recv)}"))
        if -t["receipts"] != unapplied.get(key, 0):
            add(Problem("customer_ledger", f"{who}: unapplied receipts {m(t['receipts'])} "
                        f"!= unapplied cash account {m(-unapplied.get(key, 0))}"))


def adjustments(company: Company, add: Callable[[Problem], None]) -> None:
    """9. every adjustment is applied in full (its allocations sum to its amount and base)
    and credits the receivable by its amount; every refund debits unapplied cash by its
    amount; a reversed receipt gave up all of itself; refund numbers have no gap."""
    for r in (
        Adjustment.objects.filter(company=company)
        .annotate(calc=_alloc_total(adjustment=OuterRef("pk")),
                  base=_alloc_total("base_receivable", adjustment=OuterRef("pk")),
                  recv=_entry_sum(AccountRole.RECEIVABLE))
        .filter(~Q(amount=F("calc")) | ~Q(base_amount=F("base")) | ~Q(recv=-F("amount")))
        .values("id", "currency", "amount", "calc", "base_amount", "base", "recv")
    ):
        m, b = _money(r["currency"]), _money(company.base_currency)
        add(Problem("adjustments", f"adjustment {r['id']}: amount {m(r['amount'])}, "
                    f"allocations {m(r['calc'])}, base {b(r['base_amount'])} vs "
                    f"{b(r['base'])}, receivable {m(r['recv'])}"))
    for r in (
        Refund.objects.filter(company=company)
        .annotate(j=_entry_sum(AccountRole.UNAPPLIED))
        .filter(~Q(j=F("amount")))
        .values("id", "number", "currency", "amount", "j")
    ):
        m = _money(r["currency"])
        add(Problem("refunds", f"refund {r['number'] or r['id']}: amount {m(r['amount'])}, "
                    f"unapplied cash {m(r['j'])}"))
    for r in (
        ReceiptReversal.objects.filter(company=company)
        .filter(~Q(amount=F("receipt__amount")) | ~Q(receipt__allocated=F("receipt__amount")))
        .values("receipt__number", "receipt__currency", "amount", "receipt__amount")
    ):
        m = _money(r["receipt__currency"])
        add(Problem("receipt_reversals", f"receipt {r['receipt__number']} reversed for "
                    f"{m(r['amount'])} of {m(r['receipt__amount'])}, or still used elsewhere"))
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


def register_checks() -> None:
    register(2, settlement_cache)
    register(5, customer_ledger)
    register(9, adjustments)
    register(18, kept_settlement)
