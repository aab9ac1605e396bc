"""A recovery of a bad debt stands only while its payment does (docs/design/adjustments.md,
"Bad debts and their recovery"): undoing the payment (an allocation reversed, the receipt
returned) writes off again the part it recovered, and leaves open what it paid that was open.
And writing off a customer's whole balance writes no empty allocation event."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from conftest import DAY

from salesledger.apps.core.invariants import check_company
from salesledger.apps.ledger.models import JournalLine
from salesledger.apps.payments.adjustments.bad_debts import (
    customer_write_off,
    invoice_recover,
    invoice_write_off,
)
from salesledger.apps.payments.adjustments.writer import adjustment_reverse
from salesledger.apps.payments.models import Adjustment, Allocation
from salesledger.apps.payments.refunds import receipt_reverse
from salesledger.apps.payments.selectors import invoice_detail
from salesledger.apps.payments.services import allocation_reverse
from tests.support import (
    balances_by_code,
    control_by_code,
    events,
    journal,
    last_seq,
    open_amount,
    open_item_sums,
)

LATER = DAY + timedelta(days=5)
PAID_ON = LATER + timedelta(days=30)
UNDONE_ON = PAID_ON + timedelta(days=3)


def books_agree(company):
    assert [str(p) for p in check_company(company)] == []
    assert balances_by_code(company) == open_item_sums(company) == control_by_code(company)


def totals(company):
    return {role: sum(JournalLine.objects.filter(company=company, account__role=role)
                      .values_list("amount", flat=True))
            for role in ("write_off", "tax_payable", "unapplied_cash")}


def live_bad_debts(inv):
    return sorted(Adjustment.objects.filter(invoice=inv, kind="bad_debt", amount__gt=0,
                                            reversed_by__isnull=True)
                  .values_list("amount", flat=True))


def test_undoing_a_recovery_allocation_writes_the_recovered_part_off_again(
        company, owner, customer, post_invoice, record_receipt):
    # given an invoice of 120.00 in three instalments, written off with VAT relief, of which
    # a payment of 50.00 recovered 50.00 (70.00 written off again)
    inv = post_invoice(terms="30-60-90")
    invoice_write_off(actor=owner, company=company, number=inv.number, day=LATER,
                      reason="no answer", tax_relief=True)
    written_off = totals(company)
    receipt = record_receipt(amount="50.00", day=PAID_ON)
    result = invoice_recover(actor=owner, company=company, number=inv.number,
                             receipt=receipt.number, day=PAID_ON)
    assert [a.amount for a in result.allocations] == [4000, 1000]
    # when the first allocation of the payment (40.00) is undone
    seq = last_seq(company)
    allocation_reverse(actor=owner, company=company, allocation_id=result.allocations[0].pk,
                       day=UNDONE_ON, reason="wrong customer")
    # then the 40.00 it recovered is written off again, with its VAT relief, naming the
    # receipt, dated the day it was undone; nothing is open
    again = Adjustment.objects.filter(invoice=inv, kind="bad_debt").latest("id")
    assert (again.amount, again.tax_amount, again.date, again.receipt_id, again.reversal_of_id
            ) == (4000, 667, UNDONE_ON, receipt.pk, None)
    assert journal(again.journal_entry) == [("receivable", -4000, -4000, customer.pk),
                                            ("tax_payable", 667, 667, None),
                                            ("write_off", 3333, 3333, None)]
    assert open_amount(inv) == 0
    assert invoice_detail(company, inv.number)["settlement"] == "written_off"
    written = {e.action: e for e in events(company, since=seq)}
    assert set(written) == {"adjustment.create", "allocation.reverse"}
    assert written["adjustment.create"].entity_id == str(again.pk)
    assert written["adjustment.create"].data["memo"] == (
        f"recovery by {receipt.number} undone: payment undone: allocation "
        f"{result.allocations[0].pk}")
    books_agree(company)
    # and when the rest of it (10.00) is undone, that is written off again too: the books
    # are as before the recovery, the payment unapplied again
    allocation_reverse(actor=owner, company=company, allocation_id=result.allocations[1].pk,
                       day=UNDONE_ON)
    assert live_bad_debts(inv) == [1000, 4000, 7000]
    assert open_amount(inv) == 0
    after = totals(company)
    assert (after["write_off"], after["tax_payable"]) == (written_off["write_off"],
                                                          written_off["tax_payable"])
    assert after["unapplied_cash"] == written_off["unapplied_cash"] - 5000
    books_agree(company)


def test_a_returned_recovery_payment_writes_off_only_what_it_recovered(
        company, owner, customer, post_invoice, record_receipt):
    # given an invoice of 120.00 of which 70.00 was written off, 50.00 left open, and a
    # payment of 80.00 that paid the 50.00 and recovered 30.00 (40.00 written off again)
    inv = post_invoice()
    invoice_write_off(actor=owner, company=company, number=inv.number, day=LATER,
                      reason="part of it is lost", amount=Decimal("70.00"))
    before = totals(company)
    receipt = record_receipt(amount="80.00", day=PAID_ON)
    result = invoice_recover(actor=owner, company=company, number=inv.number,
                             receipt=receipt.number, day=PAID_ON)
    assert (result.recovered, result.written_off_again.amount) == (3000, 4000)
    # when the bank returns the payment
    seq = last_seq(company)
    receipt_reverse(actor=owner, company=company, number=receipt.number, day=UNDONE_ON,
                    reason="returned direct debit")
    # then the 30.00 it recovered is written off again, the 50.00 that was open is open
    # again, and the 40.00 it did not recover stays written off (not reversed with it)
    assert live_bad_debts(inv) == [3000, 4000]
    assert open_amount(inv) == 5000
    again = Adjustment.objects.filter(invoice=inv, kind="bad_debt").latest("id")
    assert journal(again.journal_entry) == [("receivable", -3000, -3000, customer.pk),
                                            ("write_off", 3000, 3000, None)]
    assert totals(company)["write_off"] == before["write_off"] == 7000
    [returned] = [e for e in events(company, since=seq) if e.action == "receipt.reverse"]
    assert returned.data["adjustments_reversed"] == []
    books_agree(company)


def test_a_rewrite_undone_by_hand_is_not_written_off_twice(
        company, owner, customer, post_invoice, record_receipt):
    # given a full recovery of 120.00 whose first allocation was undone and written off again
    inv = post_invoice(terms="30-60-90")
    invoice_write_off(actor=owner, company=company, number=inv.number, day=LATER,
                      reason="no answer")
    receipt = record_receipt(amount="120.00", day=PAID_ON)
    result = invoice_recover(actor=owner, company=company, number=inv.number,
                             receipt=receipt.number, day=PAID_ON)
    first, second = result.allocations[:2]
    allocation_reverse(actor=owner, company=company, allocation_id=first.pk, day=UNDONE_ON)
    rewrite = Adjustment.objects.filter(invoice=inv, kind="bad_debt").latest("id")
    # when a manager undoes that write-off by hand (the debt is collectible after all)
    rev = adjustment_reverse(actor=owner, company=company, adjustment_id=rewrite.pk,
                             day=UNDONE_ON, reason="collectible")
    assert rev.receipt_id is None
    assert open_amount(inv) == 4000
    # then undoing the next allocation writes off only its own 40.00
    allocation_reverse(actor=owner, company=company, allocation_id=second.pk, day=UNDONE_ON)
    assert live_bad_debts(inv) == [4000]
    assert open_amount(inv) == 4000
    books_agree(company)


def test_customer_write_off_allocates_no_receipt_with_nothing_to_pay(
        company, owner, customer, post_invoice, record_receipt):
    # given a customer owing 120.00 in EUR, with 30.00 EUR and 50.00 USD paid on account
    inv = post_invoice()
    eur = record_receipt(amount="30.00", day=LATER)
    usd = record_receipt(amount="50.00", day=LATER, currency="USD", rate=Decimal("0.9"))
    seq = last_seq(company)
    # when all it owes is written off
    customer_write_off(actor=owner, company=company, code="C001", day=LATER,
                       reason="ceased trading")
    # then only the EUR receipt is allocated, and no event allocates nothing
    allocations = [e for e in events(company, since=seq) if e.action == "allocation.create"]
    assert [(e.data["source"], len(e.data["allocations"])) for e in allocations] == [
        (eur.number, 1)]
    assert not Allocation.objects.filter(receipt=usd).exists()
    assert open_amount(inv) == 0
    assert live_bad_debts(inv) == [9000]
    books_agree(company)
