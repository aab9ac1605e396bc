"""The pure rules of adjustments: tolerance, VAT share, early-payment discounts, recovery and
the journal entries (salesledger.domain.adjustments)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesledger.domain.adjustments import (
    ACCOUNT_FOR_KIND,
    AdjustmentKind,
    Tolerance,
    adjustment_entry,
    check_tolerance,
    discount_earned,
    fee_reclass_entry,
    parse_kind,
    parse_reason,
    parse_tax_policy,
    percent_limit,
    refund_entry,
    split_recovery,
    tax_share,
)
from salesledger.domain.errors import (
    NegativeAmount,
    ValidationFailed,
    WriteOffExceedsTolerance,
)
from salesledger.domain.journal import AccountRole

AMOUNTS = st.integers(1, 10**9)
DAY = date(2025, 3, 10)


# Amounts in euros, the base currency.
EUR = {"currency": "EUR", "base_currency": "EUR"}


# ---------------------------------------------------------------- tolerance
@pytest.mark.parametrize(("residual", "base", "ok"), [
    (500, 500, True),  # at both limits
    (501, 501, False),  # over the amount
    (500, 501, False),  # over the amount in base currency (another currency)
])
def test_tolerance_amount_limit(residual, base, ok):
    tol = Tolerance(500, Decimal("5"))
    call = lambda: check_tolerance(residual, base_residual=base, invoice_total=10000,  # noqa: E731
                                   tolerance=tol, **EUR)
    if ok:
        call()
    else:
        with pytest.raises(WriteOffExceedsTolerance):
            call()


def test_tolerance_percent_limit_rounds_down():
    # 2 % of 123.45 is 2.469: at most 2.46 may be written off
    assert percent_limit(12345, Decimal(2)) == 246
    tol = Tolerance(10000, Decimal(2))
    check_tolerance(246, base_residual=246, invoice_total=12345, tolerance=tol, **EUR)
    with pytest.raises(WriteOffExceedsTolerance) as exc:
        check_tolerance(247, base_residual=247, invoice_total=12345, tolerance=tol, **EUR,
                        where="INV2025-00001")
    assert exc.value.message == (
        "the residual of INV2025-00001 (2.47 EUR) is outside the write-off tolerance (at most "
        "100.00 EUR and 2 % of the invoice, 2.46 EUR); leave it open, record a deduction, or "
        "write it off as a bad debt")
    assert exc.value.as_dict()["residual"] == "2.47"


def test_tolerance_speaks_of_both_currencies_when_the_invoice_is_in_another():
    with pytest.raises(WriteOffExceedsTolerance) as exc:
        check_tolerance(14000, base_residual=12880, invoice_total=10**6,
                        tolerance=Tolerance(500, Decimal(5)), currency="USD",
                        base_currency="EUR")
    assert "(140.00 USD, 128.80 EUR in the base currency)" in exc.value.message
    assert "at most 5.00 EUR" in exc.value.message
    assert "minor units" not in exc.value.message


def test_zero_tolerance_allows_nothing_and_bad_limits_are_refused():
    with pytest.raises(WriteOffExceedsTolerance):
        check_tolerance(1, base_residual=1, invoice_total=10**9, tolerance=Tolerance(0, 0), **EUR)
    with pytest.raises(NegativeAmount):
        check_tolerance(0, base_residual=0, invoice_total=100, tolerance=Tolerance(5, 1), **EUR)
    for amount, percent in ((-1, Decimal(1)), (1, Decimal("-0.1")), (1, Decimal("100.01"))):
        with pytest.raises(ValidationFailed):
            Tolerance(amount, percent)


@given(residual=AMOUNTS, total=AMOUNTS, limit=st.integers(0, 10**6),
       percent=st.decimals(0, 100, places=2))
def test_tolerance_accepts_exactly_what_is_within_both_limits(residual, total, limit, percent):
    tol = Tolerance(limit, percent)
    within = residual <= limit and residual * 100 <= total * percent
    try:
        check_tolerance(residual, base_residual=residual, invoice_total=total, tolerance=tol, **EUR)
        accepted = True
    except WriteOffExceedsTolerance:
        accepted = False
    assert accepted == within


# ---------------------------------------------------------------- VAT share
def test_tax_share_examples():
    assert tax_share(240, invoice_tax=2000, invoice_total=12000) == 40
    assert tax_share(346, invoice_tax=2275, invoice_total=17275) == 46  # 45.566
    assert tax_share(100, invoice_tax=0, invoice_total=10000) == 0
    assert tax_share(1, invoice_tax=2000, invoice_total=12000) == 0  # 0.1667


@given(total=AMOUNTS, data=st.data())
def test_tax_share_is_a_proportional_part_within_the_amount(total, data):
    tax = data.draw(st.integers(0, total))
    amount = data.draw(st.integers(0, total))
    share = tax_share(amount, invoice_tax=tax, invoice_total=total)
    assert 0 <= share <= amount
    assert abs(Decimal(share) - Decimal(amount) * tax / total) <= Decimal("0.5")
    # the whole invoice's share is its whole tax
    assert tax_share(total, invoice_tax=tax, invoice_total=total) == tax


# ---------------------------------------------------------------- early-payment discount
@pytest.mark.parametrize(("open_after", "dates", "earned"), [
    (240, [DAY], True),
    (240, [DAY, DAY + timedelta(days=10)], True),  # on the last day
    (240, [DAY, DAY + timedelta(days=11)], False),  # one payment late
    (241, [DAY], False),  # a cent short of the discounted amount
    (0, [DAY], False),  # paid in full: nothing to discount
    (240, [], False),  # no payment at all
])
def test_discount_earned(open_after, dates, earned):
    assert discount_earned(open_after=open_after, discount_amount=240,
                           discount_date=DAY + timedelta(days=10),
                           payment_dates=dates) is earned


def test_no_discount_without_terms_for_it():
    assert not discount_earned(open_after=0, discount_amount=0, discount_date=None,
                               payment_dates=[DAY])


# ---------------------------------------------------------------- recovery
@given(open_before=st.integers(0, 10**6), written_off=st.integers(1, 10**6), data=st.data())
def test_recovery_pays_the_open_part_first_and_loses_nothing(open_before, written_off, data):
    paid = data.draw(st.integers(1, open_before + written_off))
    r = split_recovery(paid=paid, open_before=open_before, written_off=written_off, currency="EUR")
    assert r.recovered + r.written_off_again == written_off
    assert r.recovered == max(0, paid - open_before)
    # after the payment, what is open plus what is written off again is what was owed less it
    assert (open_before - min(paid, open_before)) + r.written_off_again == (
        open_before + written_off - paid)


def test_recovery_refuses_what_it_cannot_do():
    with pytest.raises(ValidationFailed):
        split_recovery(paid=1, open_before=0, written_off=0, currency="EUR")
    with pytest.raises(ValidationFailed) as exc:
        split_recovery(paid=10100, open_before=5000, written_off=5000, currency="EUR")
    assert exc.value.message == ("the payment (101.00 EUR) is more than is open (50.00 EUR) and "
                                 "written off (50.00 EUR) on the invoice")
    with pytest.raises(NegativeAmount):
        split_recovery(paid=0, open_before=50, written_off=50, currency="EUR")


# ---------------------------------------------------------------- journal entries
@given(kind=st.sampled_from(list(AdjustmentKind)), amount=AMOUNTS, data=st.data())
def test_adjustment_entries_balance_and_credit_the_receivable(kind, amount, data):
    base = data.draw(st.integers(1, 10**9))
    tax = data.draw(st.integers(0, amount))
    base_tax = 0 if tax == 0 else data.draw(st.integers(0, base))
    lines = adjustment_entry(kind=kind, customer_id=7, currency="USD", amount=amount,
                             base_amount=base, tax=tax, base_tax=base_tax)
    assert sum(li.amount for li in lines) == 0
    assert sum(li.amount_currency for li in lines) == 0
    [recv] = [li for li in lines if li.role == AccountRole.RECEIVABLE]
    assert (recv.amount_currency, recv.amount, recv.customer_id) == (-amount, -base, 7)
    [expense] = [li for li in lines if li.role == ACCOUNT_FOR_KIND[kind]]
    assert expense.amount_currency == amount - tax


def test_each_kind_has_its_account():
    assert ACCOUNT_FOR_KIND == {
        AdjustmentKind.WRITE_OFF: AccountRole.DISCOUNT,
        AdjustmentKind.DISCOUNT: AccountRole.DISCOUNT,
        AdjustmentKind.DEDUCTION: AccountRole.REVENUE,
        AdjustmentKind.BAD_DEBT: AccountRole.WRITE_OFF,
    }


def test_entries_refuse_nonsense():
    with pytest.raises(NegativeAmount):
        adjustment_entry(kind=AdjustmentKind.WRITE_OFF, customer_id=1, currency="EUR",
                         amount=0, base_amount=0)
    with pytest.raises(ValidationFailed):
        adjustment_entry(kind=AdjustmentKind.DISCOUNT, customer_id=1, currency="EUR",
                         amount=10, base_amount=10, tax=11, base_tax=11)
    with pytest.raises(NegativeAmount):
        refund_entry(customer_id=1, currency="EUR", amount=-5, base_amount=-5)


def test_refund_and_fee_entries():
    assert [(li.role, li.amount, li.amount_currency, li.customer_id)
            for li in refund_entry(customer_id=3, currency="USD", amount=3333,
                                   base_amount=3000)] == [
        (AccountRole.UNAPPLIED, 3000, 3333, 3), (AccountRole.BANK, -3000, -3333, None)]
    assert [(li.role, li.amount) for li in fee_reclass_entry(currency="EUR", net=750,
                                                             base_net=750)] == [
        (AccountRole.REVENUE, 750), (AccountRole.FEES, -750)]


def test_parsing_names():
    assert parse_kind("Bad-Debt") == AdjustmentKind.BAD_DEBT
    assert parse_reason("Damaged goods").value == "damaged_goods"
    assert parse_tax_policy("adjust-vat").value == "adjust_vat"
    for parse in (parse_kind, parse_reason, parse_tax_policy):
        with pytest.raises(ValidationFailed):
            parse("nonsense")
