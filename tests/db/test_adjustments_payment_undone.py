"""Undoing a payment undoes the write-off or deduction made with it (docs/design/
adjustments.md, "Short payments"): a residual settled by ``receipt_allocate_short`` stands
only while the payment that left it does, exactly as an early-payment discount stands only
while the payments that earned it do. What was made on its own (``invoice_adjust``, a bad
debt, a write-off made with another payment) stays."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from conftest import DAY

from salesledger.apps.core.invariants import check_company
from salesledger.apps.payments.adjustments.bad_debts import invoice_write_off
from salesledger.apps.payments.adjustments.settings import settlement_settings_set
from salesledger.apps.payments.adjustments.write_offs import invoice_adjust, receipt_allocate_short
from salesledger.apps.payments.adjustments.writer import adjustment_reverse
from salesledger.apps.payments.history import invoice_history
from salesledger.apps.payments.models import Adjustment, Allocation
from salesledger.apps.payments.refunds import receipt_reverse
from salesledger.apps.payments.services import allocation_reverse
from tests.support import (
    balances_by_code,
    control_by_code,
    events,
    journal,
    last_seq,
    open_amount,
    open_item_sums,
    settled,
)

LATER = DAY + timedelta(days=5)


def books_agree(company):
    assert [str(p) for p in check_company(company)] == []
    assert balances_by_code(company) == open_item_sums(company) == control_by_code(company)


def live(inv, kind):
    return list(Adjustment.objects.filter(invoice=inv, kind=kind, amount__gt=0,
                                          reversed_by__isnull=True))


@pytest.fixture
def tolerance(company, owner):
    return settlement_settings_set(actor=owner, company=company,
                                   writeoff_tolerance_amount=Decimal("5.00"),
                                   writeoff_tolerance_percent=Decimal("2"))


def test_undoing_a_short_payment_undoes_its_write_off(company, owner, customer, tolerance,
                                                      post_invoice, record_receipt):
    # given 119.50 paid on 120.00, the 0.50 residual written off with the payment
    inv = post_invoice()
    receipt = record_receipt(amount="119.50", day=LATER)
    short = receipt_allocate_short(actor=owner, company=company, receipt=receipt.number,
                                   invoice=inv.number, day=LATER, write_off=True)
    [payment], adj = short.allocations, short.adjustment
    seq = last_seq(company)
    # when the payment's allocation is undone (it was for another invoice)
    day = LATER + timedelta(days=1)
    allocation_reverse(actor=owner, company=company, allocation_id=payment.pk, day=day,
                       reason="wrong invoice")
    # then the write-off is reversed too: the whole 120.00 is open, nothing written off
    assert open_amount(inv) == 12000 and live(inv, "write_off") == []
    rev = Adjustment.objects.get(reversal_of=adj)
    assert (rev.kind, rev.amount, rev.base_amount, rev.date, rev.receipt_id) == (
        "write_off", -50, -50, day, receipt.pk)
    assert journal(rev.journal_entry) == [("discounts", -50, -50, None),
                                          ("receivable", 50, 50, customer.pk)]
    assert [(a.amount, a.reversal_of_id) for a in rev.allocations.all()] == [
        (-50, adj.allocations.get().pk)]
    # audited in the same transaction: the allocation's reversal, and the reversing
    # adjustment naming it
    by_action = {e.action: e for e in events(company, since=seq)}
    assert set(by_action) == {"adjustment.reverse", "allocation.reverse"}
    assert by_action["allocation.reverse"].entity_id == str(payment.pk)
    assert by_action["adjustment.reverse"].entity_id == str(adj.pk)
    assert by_action["adjustment.reverse"].data["reason"] == (
        f"payment undone: allocation {payment.pk}")
    # and told by the invoice's history
    assert [(e["event"], e["amount"]["amount"], e["open"]["amount"])
            for e in invoice_history(company, inv.number)] == [
        ("posted", "120.00", "120.00"), ("payment", "119.50", "0.50"),
        ("write_off", "0.50", "0.00"), ("payment_reversed", "-119.50", "119.50"),
        ("write_off_reversed", "-0.50", "120.00")]
    receipt.refresh_from_db()
    assert receipt.allocated == 0
    books_agree(company)
    # allocated again short, the residual is written off again, once
    receipt_allocate_short(actor=owner, company=company, receipt=receipt.number,
                           invoice=inv.number, day=day, write_off=True)
    assert open_amount(inv) == 0 and [a.amount for a in live(inv, "write_off")] == [50]
    books_agree(company)


def test_undoing_one_instalment_of_a_short_payment_undoes_its_deduction(
        company, owner, customer, post_invoice, record_receipt):
    # given 120.00 due in thirds, paid 110.00 with a deduction of 10.00 (damaged goods,
    # disputed) that settles the last instalment's rest
    inv = post_invoice(terms="30-60-90")
    receipt = record_receipt(amount="110.00", day=LATER)
    short = receipt_allocate_short(actor=owner, company=company, receipt=receipt.number,
                                   invoice=inv.number, day=LATER, deduction="damaged_goods",
                                   dispute_requested=True)
    adj = short.adjustment
    assert [a.amount for a in short.allocations] == [4000, 4000, 3000] and adj.amount == 1000
    # when only the payment of the first instalment is undone
    first = min(short.allocations, key=lambda a: a.instalment_id)
    allocation_reverse(actor=owner, company=company, allocation_id=first.pk, day=LATER)
    # then the deduction is reversed as well, against revenue, and what is open is what
    # the payment no longer pays plus what was deducted
    rev = Adjustment.objects.get(reversal_of=adj)
    assert (rev.kind, rev.reason_code, rev.amount) == ("deduction", "damaged_goods", -1000)
    assert journal(rev.journal_entry) == [("receivable", 1000, 1000, customer.pk),
                                          ("revenue", -1000, -1000, None)]
    assert settled(inv) == [0, 4000, 3000] and open_amount(inv) == 5000
    books_agree(company)
    # the other allocations of the payment stay, and undoing them reverses nothing more
    for a in short.allocations:
        if a.pk != first.pk:
            allocation_reverse(actor=owner, company=company, allocation_id=a.pk, day=LATER)
    assert Adjustment.objects.filter(invoice=inv, amount__lt=0).count() == 1
    assert open_amount(inv) == 12000
    books_agree(company)


def test_what_was_made_on_its_own_stays(company, owner, customer, tolerance, post_invoice,
                                        record_receipt, allocate_to):
    # a write-off recorded on its own after a plain allocation
    inv1 = post_invoice()
    r1 = record_receipt(amount="119.00", day=LATER)
    [a1] = allocate_to(r1.number, {inv1.number: "119.00"}, day=LATER)
    invoice_adjust(actor=owner, company=company, number=inv1.number, kind="write_off",
                   day=LATER)
    # a bad debt written off after a part payment
    inv2 = post_invoice()
    r2 = record_receipt(amount="50.00", day=LATER)
    [a2] = allocate_to(r2.number, {inv2.number: "50.00"}, day=LATER)
    invoice_write_off(actor=owner, company=company, number=inv2.number, day=LATER,
                      reason="insolvent")
    # a write-off made with a second payment, when the first is undone
    inv3 = post_invoice()
    r3 = record_receipt(amount="60.00", day=LATER)
    [a3] = allocate_to(r3.number, {inv3.number: "60.00"}, day=LATER)
    r4 = record_receipt(amount="59.00", day=LATER)
    receipt_allocate_short(actor=owner, company=company, receipt=r4.number,
                           invoice=inv3.number, day=LATER, write_off=True)
    # the same payment's write-off on another invoice, when its allocation here is undone
    inv4, inv5 = post_invoice(), post_invoice()
    r5 = record_receipt(amount="239.00", day=LATER)
    [a5] = allocate_to(r5.number, {inv4.number: "120.00"}, day=LATER)
    receipt_allocate_short(actor=owner, company=company, receipt=r5.number,
                           invoice=inv5.number, day=LATER, write_off=True)
    for a in (a1, a2, a3, a5):
        allocation_reverse(actor=owner, company=company, allocation_id=a.pk, day=LATER)
    assert Adjustment.objects.filter(amount__lt=0).count() == 0
    assert [len(live(inv1, "write_off")), len(live(inv2, "bad_debt")),
            len(live(inv3, "write_off")), len(live(inv5, "write_off"))] == [1, 1, 1, 1]
    assert [open_amount(i) for i in (inv1, inv2, inv3, inv4, inv5)] == [
        11900, 5000, 6000, 12000, 0]
    books_agree(company)


def test_a_write_off_made_later_is_reversed_on_its_own_day(
        company, owner, customer, tolerance, post_invoice, record_receipt, allocate_to):
    # given a payment allocated in part on day 2 and the rest short on day 4
    inv = post_invoice()
    receipt = record_receipt(amount="119.00", day=DAY + timedelta(days=2))
    [early] = allocate_to(receipt.number, {inv.number: "50.00"}, day=DAY + timedelta(days=2))
    adj = receipt_allocate_short(actor=owner, company=company, receipt=receipt.number,
                                 invoice=inv.number, day=DAY + timedelta(days=4),
                                 write_off=True).adjustment
    # when the first allocation is undone as of day 3
    allocation_reverse(actor=owner, company=company, allocation_id=early.pk,
                       day=DAY + timedelta(days=3))
    # then the write-off made with the same payment is reversed, not before it was made
    rev = Adjustment.objects.get(reversal_of=adj)
    assert rev.date == DAY + timedelta(days=4)
    assert open_amount(inv) == 5000 + 100
    books_agree(company)


def test_a_bounced_short_payment_reverses_its_write_off_once(
        company, owner, customer, tolerance, post_invoice, record_receipt):
    inv = post_invoice(terms="30-60-90")
    receipt = record_receipt(amount="118.00", day=LATER)
    adj = receipt_allocate_short(actor=owner, company=company, receipt=receipt.number,
                                 invoice=inv.number, day=LATER, write_off=True).adjustment
    seq = last_seq(company)
    receipt_reverse(actor=owner, company=company, number=receipt.number, day=LATER,
                    reason="cheque returned")
    assert Adjustment.objects.filter(reversal_of=adj).count() == 1
    assert open_amount(inv) == 12000
    [ev] = [e for e in events(company, since=seq) if e.action == "receipt.reverse"]
    assert ev.data["adjustments_reversed"] == [adj.pk]
    books_agree(company)


# ---------------------------------------------------------------- concurrency
@pytest.mark.postgres
@pytest.mark.parametrize("repeat", range(3))
def test_undoing_a_short_payment_races_undoing_its_write_off(
        transactional_db, company, owner, customer, tolerance, post_invoice, record_receipt,
        repeat):
    # the two paths lock the instalments before the write-off: no deadlock, one reversal
    from tests.db.test_races import run_together

    inv = post_invoice(terms="30-60-90")
    receipt = record_receipt(amount="118.00", day=LATER)
    short = receipt_allocate_short(actor=owner, company=company, receipt=receipt.number,
                                   invoice=inv.number, day=LATER, write_off=True)
    first = min(short.allocations, key=lambda a: a.instalment_id)
    results = run_together([
        lambda: allocation_reverse(actor=owner, company=company, allocation_id=first.pk,
                                   day=LATER),
        lambda: adjustment_reverse(actor=owner, company=company,
                                   adjustment_id=short.adjustment.pk, day=LATER)])
    kinds = sorted("ok" if s == "ok" else type(v).__name__ for s, v in results)
    assert kinds in (["ok", "ok"], ["AlreadyReversed", "ok"]), results
    assert results[0][0] == "ok"
    assert live(inv, "write_off") == [] and open_amount(inv) == 4000 + 200
    books_agree(company)


@pytest.mark.postgres
@pytest.mark.parametrize("repeat", range(3))
def test_a_bounced_short_payment_races_a_write_off_of_the_same_invoice(
        transactional_db, company, owner, customer, tolerance, post_invoice, record_receipt,
        allocate_to, repeat):
    # given an invoice in thirds, paid 30.00 by one receipt and the rest short by another
    # (its write-off on the last instalment); when the second bounces while a manager
    # writes off the invoice, both lock the instalments in ascending id: no deadlock
    from tests.db.test_races import run_together

    inv = post_invoice(terms="30-60-90")
    r1 = record_receipt(amount="30.00", day=LATER)
    allocate_to(r1.number, {inv.number: "30.00"}, day=LATER)
    r2 = record_receipt(amount="88.00", day=LATER)
    receipt_allocate_short(actor=owner, company=company, receipt=r2.number,
                           invoice=inv.number, day=LATER, write_off=True)
    results = run_together([
        lambda: receipt_reverse(actor=owner, company=company, number=r2.number, day=LATER,
                                reason="returned"),
        lambda: invoice_write_off(actor=owner, company=company, number=inv.number,
                                  day=LATER, reason="insolvent")])
    # the write-off either came first (nothing open: refused) or wrote off what the
    # reversal reopened
    assert results[0][0] == "ok", results
    assert results[1][0] == "ok" or type(results[1][1]).__name__ == "ValidationFailed", results
    assert live(inv, "write_off") == []
    written_off = sum(a.amount for a in live(inv, "bad_debt"))
    assert open_amount(inv) + written_off == 9000
    assert not Allocation.objects.filter(receipt=r2, amount__gt=0,
                                         reversed_by__isnull=True).exists()
    books_agree(company)
