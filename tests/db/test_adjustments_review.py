"""Edge cases found in the adversarial review of payments and adjustments: each test names
the rule it protects (docs/design/adjustments.md, multi-currency.md, allocation-policies.md)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from conftest import DAY

from salesledger.apps.core.invariants import check_company
from salesledger.apps.invoicing.models import Instalment
from salesledger.apps.payments.adjustments.bad_debts import invoice_recover, invoice_write_off
from salesledger.apps.payments.adjustments.writer import adjustment_reverse
from salesledger.apps.payments.models import Adjustment, Allocation
from salesledger.apps.payments.refunds import receipt_refund, receipt_reverse, refund_reverse
from salesledger.apps.payments.services import Target, allocate, allocation_reverse
from salesledger.domain.errors import RefundExceedsUnapplied, ValidationFailed
from tests.support import (
    balances_by_code,
    control_by_code,
    events,
    last_seq,
    open_amount,
    open_item_sums,
)

LATER = DAY + timedelta(days=5)


def books_agree(company):
    assert [str(p) for p in check_company(company)] == []
    assert balances_by_code(company) == open_item_sums(company) == control_by_code(company)


def live_adjustments(inv, kind):
    return list(Adjustment.objects.filter(invoice=inv, kind=kind, amount__gt=0,
                                          reversed_by__isnull=True))


# ---------------------------------------------------------------- discounts
def test_reversing_the_payment_that_earned_a_discount_reverses_the_discount(
        company, owner, make_customer, post_invoice, record_receipt, allocate_to):
    # given 117.60 paid in time on 120.00 at 2 % 10 days: the 2.40 discount is taken
    make_customer("C001", terms_code="2-10-NET30")
    inv = post_invoice()
    receipt = record_receipt(amount="117.60", day=DAY + timedelta(days=3))
    [payment] = allocate_to(receipt.number, {inv.number: "117.60"}, day=DAY + timedelta(days=3))
    assert open_amount(inv) == 0 and len(live_adjustments(inv, "discount")) == 1
    # when the allocation is undone (it was to the wrong invoice)
    allocation_reverse(actor=owner, company=company, allocation_id=payment.pk,
                       day=DAY + timedelta(days=4))
    # then nothing was paid, so nothing was earned: the whole 120.00 is open again
    assert live_adjustments(inv, "discount") == []
    assert open_amount(inv) == 12000
    books_agree(company)
    # and the same receipt allocated again in time earns it again
    allocate_to(receipt.number, {inv.number: "117.60"}, day=DAY + timedelta(days=5))
    assert open_amount(inv) == 0 and len(live_adjustments(inv, "discount")) == 1
    books_agree(company)


def test_a_bounced_first_payment_reverses_a_discount_earned_by_the_second(
        company, owner, make_customer, post_invoice, record_receipt, allocate_to):
    make_customer("C001", terms_code="2-10-NET30")
    inv = post_invoice()
    first = record_receipt(amount="60.00", day=DAY + timedelta(days=2))
    allocate_to(first.number, {inv.number: "60.00"}, day=DAY + timedelta(days=2))
    second = record_receipt(amount="57.60", day=DAY + timedelta(days=3))
    allocate_to(second.number, {inv.number: "57.60"}, day=DAY + timedelta(days=3))
    [disc] = live_adjustments(inv, "discount")
    assert disc.receipt_id == second.pk
    # when the first payment bounces
    seq = last_seq(company)
    receipt_reverse(actor=owner, company=company, number=first.number,
                    day=DAY + timedelta(days=6), reason="cheque returned")
    # then only 57.60 was paid: no discount, 62.40 open
    assert live_adjustments(inv, "discount") == []
    assert open_amount(inv) == 6240
    [ev] = [e for e in events(company, since=seq) if e.action == "receipt.reverse"]
    assert ev.data["adjustments_reversed"] == [disc.pk]
    books_agree(company)


def test_undoing_a_payment_before_the_discount_was_written(
        company, owner, make_customer, post_invoice, record_receipt, allocate_to):
    make_customer("C001", terms_code="2-10-NET30")
    inv = post_invoice()
    first = record_receipt(amount="60.00", day=DAY + timedelta(days=2))
    [a] = allocate_to(first.number, {inv.number: "60.00"}, day=DAY + timedelta(days=2))
    second = record_receipt(amount="57.60", day=DAY + timedelta(days=3))
    allocate_to(second.number, {inv.number: "57.60"}, day=DAY + timedelta(days=4))
    # the first allocation undone as of day 3: the discount of day 4 goes on its own day
    allocation_reverse(actor=owner, company=company, allocation_id=a.pk,
                       day=DAY + timedelta(days=3))
    [rev] = Adjustment.objects.filter(invoice=inv, amount__lt=0)
    assert rev.date == DAY + timedelta(days=4)
    assert open_amount(inv) == 6240
    books_agree(company)


# ---------------------------------------------------------------- receipts, refunds
def test_reversing_a_receipt_that_paid_a_since_written_off_invoice(
        company, owner, customer, post_invoice, record_receipt, allocate_to):
    inv = post_invoice(terms="30-60-90")
    receipt = record_receipt(amount="50.00", day=LATER)
    allocate_to(receipt.number, {inv.number: "50.00"}, day=LATER)
    invoice_write_off(actor=owner, company=company, number=inv.number, day=LATER,
                      reason="insolvent")
    assert open_amount(inv) == 0
    receipt_reverse(actor=owner, company=company, number=receipt.number, day=LATER,
                    reason="returned", fee=Decimal("5.00"))
    # the write-off stays; what the payment paid is owed again
    assert open_amount(inv) == 5000
    assert [a.amount for a in live_adjustments(inv, "bad_debt")] == [7000]
    books_agree(company)


def test_refund_more_than_unapplied_then_refund_and_reverse(
        company, owner, customer, post_invoice, record_receipt, allocate_to):
    inv = post_invoice()
    receipt = record_receipt(amount="150.00", day=LATER)
    allocate_to(receipt.number, {inv.number: "120.00"}, day=LATER)
    with pytest.raises(RefundExceedsUnapplied):
        receipt_refund(actor=owner, company=company, number=receipt.number, day=LATER,
                       amount=Decimal("30.01"))
    refund = receipt_refund(actor=owner, company=company, number=receipt.number, day=LATER,
                            amount=Decimal("30.00"))
    with pytest.raises(ValidationFailed):
        receipt_reverse(actor=owner, company=company, number=receipt.number, day=LATER,
                        reason="returned")
    refund_reverse(actor=owner, company=company, number=refund.number, day=LATER)
    receipt_reverse(actor=owner, company=company, number=receipt.number, day=LATER,
                    reason="returned")
    assert open_amount(inv) == 12000
    books_agree(company)


def test_write_off_recovery_then_the_recovering_payment_bounces(
        company, owner, customer, post_invoice, record_receipt):
    inv = post_invoice(terms="30-60-90")
    invoice_write_off(actor=owner, company=company, number=inv.number, day=LATER,
                      reason="insolvent", tax_relief=True)
    receipt = record_receipt(amount="50.00", day=LATER)
    invoice_recover(actor=owner, company=company, number=inv.number, receipt=receipt.number,
                    day=LATER)
    books_agree(company)
    receipt_reverse(actor=owner, company=company, number=receipt.number, day=LATER,
                    reason="returned")
    books_agree(company)
    # a reversal of a reversal is refused, whatever the kind
    rev = Adjustment.objects.filter(invoice=inv, amount__lt=0).first()
    with pytest.raises(ValidationFailed):
        adjustment_reverse(actor=owner, company=company, adjustment_id=rev.pk, day=LATER)


# ---------------------------------------------------------------- cross-currency rounding
@pytest.mark.parametrize(("inv_cur", "inv_amount", "rate_inv", "rct_cur", "rct_amount",
                          "rate_rct", "cross"), [
    # a KWD invoice (3 decimals) paid exactly in EUR: 30.09 KWD at 0.33 KWD/EUR is 91.1818,
    # 91.18 EUR to the cent, which converts to 30.0894 KWD: one fils short of 30.090
    ("KWD", "30.09", "3.0303", "EUR", "91.18", None, "0.33"),
    # a EUR invoice paid exactly in JPY (0 decimals)
    ("EUR", "62.45", None, "JPY", "10000", "0.0062449", "0.0062449"),
    # a KWD invoice paid exactly in JPY (0 decimals, worth two fils each)
    ("KWD", "10.05", "3.0", "JPY", "4902", "0.006", "0.00205"),
])
def test_a_customer_who_pays_exactly_in_another_currency_leaves_nothing_open(
        company, owner, make_customer, post_invoice, record_receipt, inv_cur, inv_amount,
        rate_inv, rct_cur, rct_amount, rate_rct, cross):
    from salesledger.domain.fx import convert_back

    make_customer("X1", currency=inv_cur)
    inv = post_invoice("X1", lines=[("Goods", "1", inv_amount, "0")], currency=inv_cur,
                       rate=Decimal(rate_inv) if rate_inv else None)
    receipt = record_receipt("X1", rct_amount, LATER, currency=rct_cur,
                             rate=Decimal(rate_rct) if rate_rct else None)
    # the receipt is what the invoice costs in its currency, to its minor unit
    assert convert_back(inv.total, inv_cur, rct_cur, Decimal(cross)) == receipt.amount
    allocate(actor=owner, company=company, day=LATER, receipt=receipt.number,
             targets=[Target(inv.number, Decimal(inv_amount))], rate=Decimal(cross))
    receipt.refresh_from_db()
    assert open_amount(inv) == 0 and receipt.allocated == receipt.amount
    books_agree(company)


# ---------------------------------------------------------------- policies
def test_proportional_one_cent_over_three_items(company, owner, customer, post_invoice,
                                                record_receipt):
    from salesledger.apps.payments.policies import receipt_allocate_policy

    invs = [post_invoice(issue_date=DAY + timedelta(days=n)) for n in range(3)]
    receipt = record_receipt(amount="0.01", day=LATER)
    result = receipt_allocate_policy(actor=owner, company=company, receipt=receipt.number,
                                     policy="proportional", day=LATER)
    assert [(p.invoice, p.amount) for p in result.planned] == [(invs[0].number, 1)]
    assert sum(open_amount(i) for i in invs) == 36000 - 1
    books_agree(company)


def test_dry_runs_write_nothing(company, owner, customer, post_invoice, record_receipt):
    from django.apps import apps

    from salesledger.apps.payments.autoallocate import auto_allocate_all
    from salesledger.apps.payments.policies import receipt_allocate_policy

    for n in range(3):
        post_invoice(issue_date=DAY + timedelta(days=n))
    receipt = record_receipt(amount="200.00", day=LATER)

    def counts():
        return {m._meta.label: m.objects.count() for m in apps.get_models()}

    before = counts()
    for policy in ("oldest_first", "proportional", "by_reference"):
        receipt_allocate_policy(actor=owner, company=company, receipt=receipt.number,
                                policy=policy, day=LATER, dry_run=True)
        result = auto_allocate_all(actor=owner, company=company, day=LATER, policy=policy,
                                   dry_run=True)
        assert result.run is None
    assert counts() == before
    assert Allocation.objects.count() == 0 and Instalment.objects.filter(settled__gt=0).count() == 0


# ---------------------------------------------------------------- revaluation, bulk
def test_revaluation_then_allocation_next_period_then_the_run_undone(
        company, owner, make_customer, post_invoice, record_receipt, allocate_to):
    from django.db.models import Sum

    from salesledger.apps.fx.services import fx_revalue, fx_revalue_reverse
    from salesledger.apps.ledger.models import JournalLine

    end = DAY + timedelta(days=21)
    us = make_customer("US1", currency="USD")
    inv = post_invoice("US1", lines=[("Hardware", "1", "1000.00", "0")], rate=Decimal("0.90"),
                       terms="30-60-90")
    early = record_receipt("US1", "200.00", DAY, rate=Decimal("0.92"))
    run = fx_revalue(actor=owner, company=company, as_of=end, rates={"USD": "0.95"}).run
    late = record_receipt("US1", "800.00", end + timedelta(days=5), rate=Decimal("0.97"))
    for r in (early, late):
        allocate_to(r.number, auto=True, day=end + timedelta(days=6))
    books_agree(company)
    fx_revalue_reverse(actor=owner, company=company, run_id=run.pk, reason="wrong")

    def base(role):
        return (JournalLine.objects.filter(company=company, account__role=role,
                                           customer=us).aggregate(s=Sum("amount"))["s"] or 0)

    # paid in full: nothing carried on either control account, in base currency either
    assert open_amount(inv) == 0
    assert (base("receivable"), base("unapplied_cash")) == (0, 0)
    books_agree(company)


def test_bulk_run_takes_the_discount_and_a_reversal_loses_it(
        company, owner, make_customer, post_invoice, record_receipt):
    from salesledger.apps.payments.autoallocate import auto_allocate_all

    make_customer("C001", terms_code="2-10-NET30")
    inv = post_invoice()
    receipt = record_receipt(amount="117.60", day=DAY + timedelta(days=3))
    auto_allocate_all(actor=owner, company=company, day=DAY + timedelta(days=12))
    assert open_amount(inv) == 0 and len(live_adjustments(inv, "discount")) == 1
    [a] = Allocation.objects.filter(receipt=receipt)
    allocation_reverse(actor=owner, company=company, allocation_id=a.pk,
                       day=DAY + timedelta(days=12))
    assert open_amount(inv) == 12000
    books_agree(company)


def test_refund_after_a_cross_currency_allocation_and_its_reversal(
        company, owner, make_customer, post_invoice, record_receipt):
    make_customer("C001")
    inv = post_invoice()
    receipt = record_receipt("C001", "200.00", LATER, currency="USD", rate=Decimal("0.91"))
    [row] = allocate(actor=owner, company=company, day=LATER, receipt=receipt.number,
                     targets=[Target(inv.number, Decimal("120.00"))], rate=Decimal("0.9"))
    books_agree(company)
    receipt_refund(actor=owner, company=company, number=receipt.number, day=LATER)
    books_agree(company)
    allocation_reverse(actor=owner, company=company, allocation_id=row.pk, day=LATER)
    receipt_refund(actor=owner, company=company, number=receipt.number, day=LATER)
    receipt.refresh_from_db()
    assert receipt.allocated == receipt.amount and open_amount(inv) == 12000
    books_agree(company)
    # the receipt is used up: no base amount is left on unapplied cash either
    from django.db.models import Sum

    from salesledger.apps.ledger.models import JournalLine
    assert JournalLine.objects.filter(company=company, account__role="unapplied_cash").aggregate(
        s=Sum("amount"), c=Sum("amount_currency")) == {"s": 0, "c": 0}


@pytest.mark.postgres
@pytest.mark.parametrize("repeat", range(3))
def test_undoing_a_payment_races_undoing_its_discount(transactional_db, company, owner,
                                                      make_customer, post_invoice,
                                                      record_receipt, allocate_to, repeat):
    # the two paths lock the instalment before the discount: no deadlock, one reversal
    from tests.db.test_races import run_together

    make_customer("C001", terms_code="2-10-NET30")
    inv = post_invoice()
    receipt = record_receipt(amount="117.60", day=DAY + timedelta(days=3))
    [payment] = allocate_to(receipt.number, {inv.number: "117.60"}, day=DAY + timedelta(days=3))
    [disc] = live_adjustments(inv, "discount")
    day = DAY + timedelta(days=4)
    results = run_together([
        lambda: allocation_reverse(actor=owner, company=company, allocation_id=payment.pk,
                                   day=day),
        lambda: adjustment_reverse(actor=owner, company=company, adjustment_id=disc.pk,
                                   day=day)])
    kinds = sorted("ok" if s == "ok" else type(v).__name__ for s, v in results)
    assert kinds in (["ok", "ok"], ["AlreadyReversed", "ok"]), results
    assert results[0][0] == "ok"
    assert live_adjustments(inv, "discount") == [] and open_amount(inv) == 12000
    books_agree(company)
