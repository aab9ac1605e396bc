"""The books balance: customer balance = open items = receivable control - unapplied cash,
now and as of any past day; ``check_company`` finds nothing, until a cached figure is
tampered with."""

from __future__ import annotations

from datetime import timedelta

from salesledger.apps.core.invariants import check_company
from salesledger.apps.invoicing.models import Instalment
from salesledger.apps.ledger.models import JournalLine
from salesledger.apps.ledger.selectors import trial_balance
from salesledger.apps.payments.models import Allocation
from salesledger.apps.payments.selectors import customer_balances, open_items
from salesledger.money import format_minor
from tests.support import balances_by_code, control_by_code, open_item_sums, raw_sql


def test_balance_equals_open_items_equals_control_accounts(company, mixed_books):
    b = mixed_books
    # inv1 120.00 - cn1 24.00; inv2 200.01 + 40.00 tax + 17.99 = 258.00; cn2 12.00;
    # paid 150.00
    expected = {("C001", "EUR"): 12000 - 2400 + 25800 - 1200 - 15000,
                ("C002", "EUR"): 6000 - 10000,
                ("US1", "USD"): 100000 - 40000}
    assert balances_by_code(company) == expected
    assert open_item_sums(company) == expected
    assert control_by_code(company) == expected
    # the selector answers per customer too
    us1 = b.inv4.customer_id
    assert customer_balances(company, customer_id=us1) == {(us1, "USD"): 60000}
    assert check_company(company) == []


def test_the_books_balance_as_of_every_day(company, mixed_books):
    for day in [mixed_books.days[0] - timedelta(days=1), *mixed_books.days]:
        assert open_item_sums(company, day) == balances_by_code(company, day), day


def test_open_items_as_of_a_past_day_ignore_later_allocations(company, mixed_books):
    b = mixed_books
    before_payment = {(i["document"], i["open"]) for i in open_items(company, as_of=b.days[5])}
    # the receipt of day 5 is not yet allocated (that happens on day 6)
    assert (b.r1.number, -15000) in before_payment
    assert (b.inv1.number, 12000 - 2400) in before_payment
    after = {(i["document"], i["open"]) for i in open_items(company, as_of=b.days[6])}
    assert b.r1.number not in {doc for doc, _ in after}
    assert b.inv1.number not in {doc for doc, _ in after}


def test_foreign_currency_allocation_realises_the_exchange_difference(company, mixed_books):
    tb = {r["role"]: r["balance"] for r in trial_balance(company)}
    assert sum(tb.values()) == 0
    # 400.00 USD received at 0.95 (380.00 EUR) cleared 400.00 USD of receivables booked at
    # 0.90 (360.00 EUR, give or take the cents of the instalments' own rounding): a gain
    allocs = Allocation.objects.filter(receipt=mixed_books.r3)
    unapplied = sum(a.base_unapplied for a in allocs)
    receivable = sum(a.base_receivable for a in allocs)
    assert (sum(a.amount for a in allocs), unapplied) == (40000, 38000)  # all of the receipt
    assert abs(receivable - 36000) <= 2
    assert tb["exchange_differences"] == receivable - unapplied < 0
    fx = JournalLine.objects.filter(company=company, account__role="exchange_differences")
    assert set(fx.values_list("amount_currency", flat=True)) == {0}
    assert fx.count() == allocs.count() == 2


def test_check_finds_a_tampered_settlement_cache(company, mixed_books):
    assert check_company(company) == []
    inst = Instalment.objects.filter(company=company, settled__gt=0).order_by("id").first()
    # the settled column is the one a trigger lets change (it is a maintained cache)
    assert raw_sql("UPDATE invoicing_instalment SET settled = 0 WHERE id = %s", [inst.pk]) == 1
    problems = {p.check: str(p) for p in check_company(company)}
    # the settlement kept on the invoice (check 18) no longer follows from its instalments
    assert set(problems) == {"settlement_cache", "customer_ledger", "kept_settlement"}
    assert (f"{inst.invoice.number} instalment {inst.seq}: settled "
            f"{format_minor(0, inst.currency)}, allocations "
            f"{format_minor(inst.settled, inst.currency)}") in problems["settlement_cache"]


def test_check_finds_a_tampered_receipt_and_counter(company, mixed_books):
    raw_sql("UPDATE payments_receipt SET allocated = 0 WHERE id = %s", [mixed_books.r2.pk])
    raw_sql("UPDATE core_numbercounter SET last = last + 1 WHERE series = 'INV'")
    checks = sorted({p.check for p in check_company(company)})
    assert checks == ["customer_ledger", "numbering", "settlement_cache"]
