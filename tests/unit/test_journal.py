"""Journal entries built by the pure core always balance, and a reversal nets to zero."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesledger.domain.errors import UnbalancedEntry
from salesledger.domain.journal import (
    AccountRole,
    Line,
    allocation_entry,
    check_balanced,
    document_entry,
    negate,
    receipt_entry,
    to_base,
)

AMOUNT = st.integers(0, 10**12)
RATE = st.decimals("0.0001", "10000", places=6)
CURRENCIES = st.sampled_from([("EUR", "EUR"), ("USD", "EUR"), ("JPY", "EUR"), ("KWD", "EUR"),
                              ("EUR", "JPY")])


def sums(lines):
    base = sum(li.amount for li in lines)
    per_currency = defaultdict(int)
    for li in lines:
        per_currency[li.currency] += li.amount_currency
    return base, dict(per_currency)


def assert_balanced(lines):
    base, per_currency = sums(lines)
    assert base == 0
    assert all(v == 0 for v in per_currency.values())


@given(st.booleans(), CURRENCIES, RATE, AMOUNT, AMOUNT)
def test_document_entry_balances(credit_note, currencies, rate, net, tax):
    currency, base = currencies
    if currency == base:
        rate = Decimal(1)
    lines = document_entry(credit_note=credit_note, customer_id=7, currency=currency,
                           base_currency=base, rate=rate, net=net, tax=tax)
    assert_balanced(lines)
    sign = -1 if credit_note else 1
    by_role = {li.role: li for li in lines}
    recv = by_role[AccountRole.RECEIVABLE]
    assert (recv.amount_currency, recv.customer_id) == (sign * (net + tax), 7)
    assert recv.amount == sign * to_base(net + tax, currency, base, rate)
    assert by_role[AccountRole.REVENUE].amount_currency == -sign * net
    assert (AccountRole.TAX in by_role) == bool(tax)
    assert_balanced(lines + negate(lines))


@given(CURRENCIES, RATE, st.integers(1, 10**12))
def test_receipt_entry_balances(currencies, rate, amount):
    currency, base = currencies
    base_amount = to_base(amount, currency, base, rate if currency != base else Decimal(1))
    lines = receipt_entry(customer_id=3, currency=currency, amount=amount,
                          base_amount=base_amount)
    assert_balanced(lines)
    assert [li.role for li in lines] == [AccountRole.BANK, AccountRole.UNAPPLIED]


@given(st.integers(1, 10**12), st.integers(0, 10**12), st.integers(0, 10**12))
def test_allocation_entry_balances_with_exchange_difference(amount, base_unapplied,
                                                            base_receivable):
    lines = allocation_entry(customer_id=3, currency="USD", amount=amount,
                             base_unapplied=base_unapplied, base_receivable=base_receivable)
    assert_balanced(lines)
    fx = [li for li in lines if li.role is AccountRole.FX]
    if base_unapplied == base_receivable:
        assert fx == []
    else:
        assert [li.amount for li in fx] == [base_receivable - base_unapplied]
    assert_balanced(negate(lines))
    assert all(a.amount == -b.amount and a.amount_currency == -b.amount_currency
               for a, b in zip(lines, negate(lines), strict=True))


def test_check_balanced_refuses_an_unbalanced_entry():
    with pytest.raises(UnbalancedEntry):
        check_balanced([Line(AccountRole.BANK, 100, 100, "EUR"),
                        Line(AccountRole.UNAPPLIED, -99, -99, "EUR")])
    with pytest.raises(UnbalancedEntry) as exc:  # balanced in base, not in the document currency
        check_balanced([Line(AccountRole.BANK, 100, 100, "USD"),
                        Line(AccountRole.UNAPPLIED, -100, -101, "USD")])
    assert exc.value.message == "journal entry does not balance per currency: off by -0.01 USD"


def test_posting_example_in_foreign_currency():
    # 100.00 USD net + 20.00 tax at 0.9 EUR/USD: receivable 108.00 EUR, tax 18.00 EUR
    lines = document_entry(credit_note=False, customer_id=1, currency="USD", base_currency="EUR",
                           rate=Decimal("0.9"), net=10000, tax=2000)
    assert [(li.role.value, li.amount, li.amount_currency) for li in lines] == [
        ("receivable", 10800, 12000), ("revenue", -9000, -10000), ("tax_payable", -1800, -2000)]


@pytest.mark.parametrize(("amount", "currency", "base", "rate", "expected"), [
    (12345, "EUR", "EUR", Decimal(1), 12345),
    (100, "USD", "EUR", Decimal("0.125"), 13),  # 0.125 EUR rounds half up to 0.13
    (1000, "JPY", "EUR", Decimal("0.0061"), 610),  # 1000 yen -> 6.10 EUR
    (1000, "EUR", "KWD", Decimal("0.3333"), 3333),  # 10.00 EUR -> 3.333 KWD
])
def test_to_base(amount, currency, base, rate, expected):
    assert to_base(amount, currency, base, rate) == expected


def test_an_opening_item_sets_the_receivable_against_opening_balances() -> None:
    lines = document_entry(credit_note=False, customer_id=7, currency="USD",
                           base_currency="EUR", rate=Decimal("0.9"), net=100001, tax=0,
                           opening=True)
    assert lines == [Line(AccountRole.RECEIVABLE, 90001, 100001, "USD", 7),
                     Line(AccountRole.OPENING, -90001, -100001, "USD")]
    for bad in ({"credit_note": True, "tax": 0}, {"credit_note": False, "tax": 1}):
        with pytest.raises(ValueError, match="no VAT of its own"):
            document_entry(customer_id=7, currency="EUR", base_currency="EUR",
                           rate=Decimal(1), net=100, opening=True, **bad)
