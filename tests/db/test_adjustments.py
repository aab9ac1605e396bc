"""Adjustments: short payments written off or deducted, early-payment discounts, bad debts
and their recovery, reversals, and the settlement history of an invoice."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from conftest import DAY

from salesledger.apps.core.invariants import check_company
from salesledger.apps.ledger.models import JournalLine
from salesledger.apps.payments.adjustments.bad_debts import (
    customer_write_off,
    invoice_recover,
    invoice_write_off,
)
from salesledger.apps.payments.adjustments.settings import (
    settlement_settings,
    settlement_settings_set,
)
from salesledger.apps.payments.adjustments.write_offs import invoice_adjust, receipt_allocate_short
from salesledger.apps.payments.adjustments.writer import adjustment_reverse
from salesledger.apps.payments.history import adjustment_list, invoice_history
from salesledger.apps.payments.models import Adjustment, Allocation
from salesledger.apps.payments.selectors import invoice_detail
from salesledger.apps.payments.services import allocation_reverse
from salesledger.domain.errors import (
    AllocationExceedsOpenAmount,
    AlreadyReversed,
    PermissionDenied,
    ValidationFailed,
    WriteOffExceedsTolerance,
)
from tests.support import (
    balances_by_code,
    control_by_code,
    events,
    journal,
    last_seq,
    ledger_state,
    open_amount,
    open_item_sums,
    settled,
)

LATER = DAY + timedelta(days=5)


def books_agree(company):
    """Every invariant of ``salesledger check``, and balance = open items = control."""
    assert check_company(company) == []
    assert balances_by_code(company) == open_item_sums(company) == control_by_code(company)


@pytest.fixture
def tolerance(company, owner):
    return settlement_settings_set(actor=owner, company=company,
                                   writeoff_tolerance_amount=Decimal("5.00"),
                                   writeoff_tolerance_percent=Decimal("2"))


@pytest.fixture
def clerk(company, owner, django_user_model):
    from salesledger.apps.core.services import membership_set

    user = django_user_model.objects.create_user("clerk")
    membership_set(actor=owner, company=company, username="clerk", role="clerk")
    return user


# ---------------------------------------------------------------- settings
def test_settlement_settings_are_set_audited_and_checked(company, owner):
    seq = last_seq(company)
    settlement_settings_set(actor=owner, company=company, writeoff_tolerance_amount=Decimal("5"),
                            writeoff_tolerance_percent=Decimal("1.5"),
                            discount_tax_policy="adjust_vat")
    s = settlement_settings(company)
    assert (s.tolerance.amount, s.tolerance.percent, s.discount_tax_policy.value) == (
        500, Decimal("1.5"), "adjust_vat")
    [ev] = events(company, since=seq)
    assert ev.action == "company.settlement_settings"
    assert ev.data == {
        "before": {"writeoff_tolerance_amount": "0.00", "writeoff_tolerance_percent": "0",
                   "discount_tax_policy": "gross"},
        "after": {"writeoff_tolerance_amount": "5.00", "writeoff_tolerance_percent": "1.5",
                  "discount_tax_policy": "adjust_vat"}}
    for bad in ({"writeoff_tolerance_percent": Decimal("101")},
                {"writeoff_tolerance_amount": Decimal("-1")},
                {"writeoff_tolerance_amount": Decimal("0.001")},
                {"discount_tax_policy": "net"}):
        with pytest.raises(ValidationFailed):
            settlement_settings_set(actor=owner, company=company, **bad)
    assert settlement_settings(company) == s


# ---------------------------------------------------------------- short payments
def test_short_payment_within_tolerance_is_written_off(company, owner, customer, tolerance,
                                                       post_invoice, record_receipt):
    # given an invoice of 120.00 and a payment of 119.50 (the customer's bank kept 0.50)
    inv = post_invoice()
    receipt = record_receipt(amount="119.50", day=LATER)
    seq = last_seq(company)
    # when it is allocated with the residual written off
    result = receipt_allocate_short(actor=owner, company=company, receipt=receipt.number,
                                    invoice=inv.number, day=LATER, write_off=True)
    # then the payment settles 119.50 and a payment difference of 0.50 the rest
    assert [a.amount for a in result.allocations] == [11950]
    adj = result.adjustment
    assert (result.residual, adj.kind, adj.amount, adj.base_amount, adj.receipt_id) == (
        50, "write_off", 50, 50, receipt.pk)
    assert open_amount(inv) == 0
    # journaled to the settlement discounts account, against the customer's receivable
    assert journal(adj.journal_entry) == [("discounts", 50, 50, None),
                                          ("receivable", -50, -50, customer.pk)]
    assert Allocation.objects.get(adjustment=adj).amount == 50
    allocation_ev, adjustment_ev = events(company, since=seq)
    assert allocation_ev.action == "allocation.create"
    assert (adjustment_ev.action, adjustment_ev.entity_id) == ("adjustment.create", str(adj.pk))
    assert adjustment_ev.data == {
        "kind": "write_off", "invoice": inv.number, "amount": "0.50", "currency": "EUR",
        "date": LATER.isoformat(), "receipt": receipt.number,
        "allocations": [{"instalment": inv.instalments.get().pk, "amount": "0.50"}]}
    assert invoice_detail(company, inv.number)["settlement"] == "paid"
    books_agree(company)


@pytest.mark.parametrize(("paid", "settings"), [
    ("114.99", ("5.00", "10")),  # 5.01 is beyond the amount limit
    ("117.50", ("5.00", "2")),  # 2.50 is beyond 2 % of 120.00 (2.40)
    ("119.99", ("0", "0")),  # no tolerance set: nothing is written off
])
def test_residual_beyond_tolerance_is_refused_and_changes_nothing(
        company, owner, customer, post_invoice, record_receipt, paid, settings):
    settlement_settings_set(actor=owner, company=company,
                            writeoff_tolerance_amount=Decimal(settings[0]),
                            writeoff_tolerance_percent=Decimal(settings[1]))
    inv = post_invoice()
    receipt = record_receipt(amount=paid, day=LATER)
    before = ledger_state(company)
    with pytest.raises(WriteOffExceedsTolerance) as exc:
        receipt_allocate_short(actor=owner, company=company, receipt=receipt.number,
                               invoice=inv.number, day=LATER, write_off=True)
    assert exc.value.code == "write_off_exceeds_tolerance"
    # the allocation made before the residual was refused is rolled back with it
    assert ledger_state(company) == before


def test_residual_at_the_exact_limit_is_written_off(company, owner, customer, post_invoice,
                                                    record_receipt):
    settlement_settings_set(actor=owner, company=company,
                            writeoff_tolerance_amount=Decimal("2.40"),
                            writeoff_tolerance_percent=Decimal("2"))
    inv = post_invoice()
    receipt = record_receipt(amount="117.60", day=LATER)
    result = receipt_allocate_short(actor=owner, company=company, receipt=receipt.number,
                                    invoice=inv.number, day=LATER, write_off=True)
    assert result.adjustment.amount == 240
    books_agree(company)


def test_short_payment_recorded_as_a_deduction_with_a_dispute_requested(
        company, owner, customer, post_invoice, record_receipt):
    inv = post_invoice(terms="30-60-90")
    receipt = record_receipt(amount="100.00", day=LATER)
    result = receipt_allocate_short(actor=owner, company=company, receipt=receipt.number,
                                    invoice=inv.number, day=LATER, deduction="damaged-goods",
                                    memo="two cartons crushed", dispute_requested=True)
    adj = result.adjustment
    assert (adj.kind, adj.reason_code, adj.amount, adj.dispute_requested, adj.memo) == (
        "deduction", "damaged_goods", 2000, True, "two cartons crushed")
    # a deduction reduces revenue (a price concession), whatever its size: no tolerance
    assert journal(adj.journal_entry) == [("receivable", -2000, -2000, customer.pk),
                                          ("revenue", 2000, 2000, None)]
    # it settles the last instalment's remainder, oldest first after the payment
    assert settled(inv) == [4000, 4000, 4000]
    assert [a["id"] for a in adjustment_list(company, disputed=True)] == [adj.pk]
    books_agree(company)


@pytest.mark.parametrize("kwargs", [
    {"write_off": True, "deduction": "pricing"},
    {},
    {"deduction": "charity"},
    {"write_off": True, "dispute_requested": True},
])
def test_short_payment_needs_one_clear_instruction(company, owner, customer, tolerance,
                                                   post_invoice, record_receipt, kwargs):
    inv = post_invoice()
    receipt = record_receipt(amount="119.00", day=LATER)
    before = ledger_state(company)
    with pytest.raises(ValidationFailed):
        receipt_allocate_short(actor=owner, company=company, receipt=receipt.number,
                               invoice=inv.number, day=LATER, **kwargs)
    assert ledger_state(company) == before


def test_a_payment_that_covers_the_invoice_leaves_no_residual(
        company, owner, customer, tolerance, post_invoice, record_receipt):
    inv = post_invoice()
    receipt = record_receipt(amount="150.00", day=LATER)
    result = receipt_allocate_short(actor=owner, company=company, receipt=receipt.number,
                                    invoice=inv.number, day=LATER, write_off=True)
    assert (result.residual, result.adjustment) == (0, None)
    assert [a.amount for a in result.allocations] == [12000]
    receipt.refresh_from_db()
    assert receipt.unallocated == 3000
    books_agree(company)


def test_a_residual_left_earlier_is_written_off_later(company, owner, customer, tolerance,
                                                      post_invoice, record_receipt,
                                                      allocate_to):
    inv = post_invoice()
    receipt = record_receipt(amount="119.98", day=LATER)
    allocate_to(receipt.number, {inv.number: "119.98"}, day=LATER)
    adj = invoice_adjust(actor=owner, company=company, number=inv.number, kind="write_off",
                         day=LATER)
    assert (adj.amount, adj.receipt_id) == (2, None)
    assert open_amount(inv) == 0
    with pytest.raises(ValidationFailed):
        invoice_adjust(actor=owner, company=company, number=inv.number, kind="bad_debt",
                       day=LATER)
    books_agree(company)


# ---------------------------------------------------------------- early-payment discounts
def test_payment_within_the_discount_period_takes_the_discount(
        company, owner, make_customer, post_invoice, record_receipt, allocate_to):
    # given 2 % 10 days net 30 on 120.00: 2.40 off until DAY + 10
    make_customer("C001", terms_code="2-10-NET30")
    inv = post_invoice()
    inst = inv.instalments.get()
    assert (inst.discount_amount, inst.discount_date) == (240, DAY + timedelta(days=10))
    # when the customer pays 117.60 on day 9, allocated on day 12
    receipt = record_receipt(amount="117.60", day=DAY + timedelta(days=9))
    seq = last_seq(company)
    [payment] = allocate_to(receipt.number, {inv.number: "117.60"},
                            day=DAY + timedelta(days=12))
    # then the discount settles the rest, automatically
    [disc] = Adjustment.objects.filter(invoice=inv)
    assert (disc.kind, disc.amount, disc.tax_amount, disc.receipt_id, disc.date) == (
        "discount", 240, 0, receipt.pk, DAY + timedelta(days=12))
    assert open_amount(inv) == 0 and payment.amount == 11760
    # "gross": the whole discount to the settlement discounts account
    assert journal(disc.journal_entry) == [("discounts", 240, 240, None),
                                           ("receivable", -240, -240, inv.customer_id)]
    # audited in that order: the allocation, then the discount it earned
    assert [e.action for e in events(company, since=seq)] == ["allocation.create",
                                                              "adjustment.create"]
    books_agree(company)


def test_adjust_vat_policy_takes_the_vat_share_off_output_tax(
        company, owner, make_customer, post_invoice, record_receipt, allocate_to):
    settlement_settings_set(actor=owner, company=company, discount_tax_policy="adjust_vat")
    make_customer("C001", terms_code="2-10-NET30")
    inv = post_invoice(lines=[("Consulting", "1", "100.00", "20"), ("Book", "1", "50.00", "5.5")])
    assert (inv.net, inv.tax, inv.total) == (15000, 2275, 17275)
    # 2 % of 172.75 is 3.455: 3.46 off (the company's rounding, half up)
    receipt = record_receipt(amount="169.29", day=DAY + timedelta(days=10))
    allocate_to(receipt.number, {inv.number: "169.29"}, day=DAY + timedelta(days=10))
    [disc] = Adjustment.objects.filter(invoice=inv)
    # of which 3.46 x 22.75 / 172.75 = 0.4556... -> 0.46 is VAT (art. 90)
    assert (disc.amount, disc.tax_amount) == (346, 46)
    assert journal(disc.journal_entry) == [("discounts", 300, 300, None),
                                           ("receivable", -346, -346, inv.customer_id),
                                           ("tax_payable", 46, 46, None)]
    books_agree(company)


@pytest.mark.parametrize(("paid", "paid_on"), [
    ("117.60", 11),  # one day late
    ("100.00", 5),  # in time, but only in part
    ("120.00", 5),  # in time, in full: nothing left to discount
])
def test_no_discount_unless_paid_exactly_in_time(company, owner, make_customer, post_invoice,
                                                 record_receipt, allocate_to, paid, paid_on):
    make_customer("C001", terms_code="2-10-NET30")
    inv = post_invoice()
    receipt = record_receipt(amount=paid, day=DAY + timedelta(days=paid_on))
    allocate_to(receipt.number, {inv.number: paid}, day=DAY + timedelta(days=paid_on))
    assert not Adjustment.objects.filter(invoice=inv).exists()
    assert open_amount(inv) == 12000 - int(Decimal(paid) * 100)


def test_discount_needs_every_payment_in_time(company, owner, make_customer, post_invoice,
                                              record_receipt, allocate_to):
    make_customer("C001", terms_code="2-10-NET30")
    inv = post_invoice()
    early = record_receipt(amount="60.00", day=DAY + timedelta(days=3))
    allocate_to(early.number, {inv.number: "60.00"}, day=DAY + timedelta(days=3))
    late = record_receipt(amount="57.60", day=DAY + timedelta(days=15))
    allocate_to(late.number, {inv.number: "57.60"}, day=DAY + timedelta(days=15))
    assert not Adjustment.objects.filter(invoice=inv).exists()
    # two payments, both in time, earn it
    inv2 = post_invoice()
    for n in (2, 4):
        r = record_receipt(amount="58.80", day=DAY + timedelta(days=n))
        allocate_to(r.number, {inv2.number: "58.80"}, day=DAY + timedelta(days=n))
    assert [a.amount for a in Adjustment.objects.filter(invoice=inv2)] == [240]
    books_agree(company)


# ---------------------------------------------------------------- bad debts
def test_invoice_written_off_as_a_bad_debt(company, owner, customer, clerk, post_invoice,
                                           record_receipt, allocate_to):
    # given an invoice of 120.00 paid 50.00
    inv = post_invoice(terms="30-60-90")
    receipt = record_receipt(amount="50.00", day=LATER)
    allocate_to(receipt.number, {inv.number: "50.00"}, day=LATER)
    # a clerk may not write off a debt
    with pytest.raises(PermissionDenied):
        invoice_write_off(actor=clerk, company=company, number=inv.number, day=LATER,
                          reason="insolvent")
    seq = last_seq(company)
    # when the manager writes off the rest
    adj = invoice_write_off(actor=owner, company=company, number=inv.number, day=LATER,
                            reason="customer insolvent")
    # then the 70.00 left is a bad debt, on its own account
    assert (adj.kind, adj.amount, adj.memo) == ("bad_debt", 7000, "customer insolvent")
    assert journal(adj.journal_entry) == [("receivable", -7000, -7000, customer.pk),
                                          ("write_off", 7000, 7000, None)]
    assert settled(inv) == [4000, 4000, 4000]
    [ev] = events(company, since=seq)
    assert (ev.action, ev.data["kind"], ev.data["amount"]) == ("adjustment.create", "bad_debt",
                                                               "70.00")
    # and the invoice has its own derived status
    d = invoice_detail(company, inv.number)
    assert (d["settlement"], d["written_off"], d["open"]) == (
        "written_off", {"amount": "70.00", "currency": "EUR"},
        {"amount": "0.00", "currency": "EUR"})
    assert invoice_detail(company, inv.number, as_of=LATER - timedelta(days=1))[
        "settlement"] == "open"
    # nothing more to write off
    with pytest.raises(ValidationFailed):
        invoice_write_off(actor=owner, company=company, number=inv.number, day=LATER,
                          reason="again")
    books_agree(company)


def test_bad_debt_with_vat_relief(company, owner, customer, post_invoice):
    inv = post_invoice()
    adj = invoice_write_off(actor=owner, company=company, number=inv.number, day=LATER,
                            reason="liquidation closed", amount=Decimal("60.00"),
                            tax_relief=True)
    assert (adj.amount, adj.tax_amount) == (6000, 1000)
    assert journal(adj.journal_entry) == [("receivable", -6000, -6000, customer.pk),
                                          ("tax_payable", 1000, 1000, None),
                                          ("write_off", 5000, 5000, None)]
    assert open_amount(inv) == 6000
    with pytest.raises(AllocationExceedsOpenAmount):
        invoice_write_off(actor=owner, company=company, number=inv.number, day=LATER,
                          reason="more", amount=Decimal("60.01"))
    books_agree(company)


def test_customer_write_off_applies_credits_first(company, owner, customer, post_invoice,
                                                  record_receipt):
    a = post_invoice(issue_date=DAY)
    b = post_invoice(issue_date=DAY + timedelta(days=1), terms="30-60-90")
    post_invoice(kind="credit_note", lines=[("Goodwill", "1", "10.00", "20")])
    record_receipt(amount="30.00", day=LATER)
    seq = last_seq(company)
    adjs = customer_write_off(actor=owner, company=company, code="C001", day=LATER,
                              reason="ceased trading")
    # the credit note (12.00) and the payment (30.00) pay the oldest invoice first
    assert [(x.invoice_id, x.amount) for x in adjs] == [(a.pk, 12000 - 1200 - 3000),
                                                        (b.pk, 12000)]
    assert balances_by_code(company) == {}
    assert [e.action for e in events(company, since=seq)][-1] == "customer.write_off"
    bad_debts = sum(JournalLine.objects.filter(company=company, account__role="write_off")
                    .values_list("amount", flat=True))
    assert bad_debts == 12000 + 7800
    with pytest.raises(ValidationFailed):
        customer_write_off(actor=owner, company=company, code="C001", day=LATER,
                           reason="again")
    books_agree(company)


def test_a_later_payment_recovers_part_of_a_written_off_invoice(
        company, owner, customer, post_invoice, record_receipt):
    # given an invoice of 120.00 written off in full with VAT relief
    inv = post_invoice(terms="30-60-90")
    first = invoice_write_off(actor=owner, company=company, number=inv.number, day=LATER,
                              reason="no answer", tax_relief=True)
    # when the customer pays 50.00 of it, a month later
    paid_on = LATER + timedelta(days=30)
    receipt = record_receipt(amount="50.00", day=paid_on)
    seq = last_seq(company)
    result = invoice_recover(actor=owner, company=company, number=inv.number,
                             receipt=receipt.number, day=paid_on)
    # then the write-off is reversed, the payment allocated, and 70.00 written off again
    assert [r.reversal_of_id for r in result.reversed] == [first.pk]
    assert sum(a.amount for a in result.allocations) == 5000
    again = result.written_off_again
    assert (again.kind, again.amount, again.tax_amount, result.recovered) == (
        "bad_debt", 7000, 1167, 5000)
    assert open_amount(inv) == 0
    assert invoice_detail(company, inv.number)["settlement"] == "written_off"
    # the net effect: the bad debt is 50.00 less, and so is the VAT relief
    totals = {role: sum(JournalLine.objects.filter(company=company, account__role=role)
                        .values_list("amount", flat=True))
              for role in ("write_off", "tax_payable")}
    assert totals == {"write_off": 7000 - 1167, "tax_payable": -2000 + 1167}
    assert [e.action for e in events(company, since=seq)] == [
        "adjustment.reverse", "allocation.create", "adjustment.create", "invoice.recover"]
    books_agree(company)


def test_a_full_recovery_leaves_the_invoice_paid(company, owner, customer, post_invoice,
                                                 record_receipt):
    inv = post_invoice()
    invoice_write_off(actor=owner, company=company, number=inv.number, day=LATER,
                      reason="no answer")
    receipt = record_receipt(amount="200.00", day=LATER)
    result = invoice_recover(actor=owner, company=company, number=inv.number,
                             receipt=receipt.number, day=LATER)
    assert (result.recovered, result.written_off_again) == (12000, None)
    assert invoice_detail(company, inv.number)["settlement"] == "paid"
    receipt.refresh_from_db()
    assert receipt.unallocated == 8000
    # nothing written off any more: a second recovery is refused
    with pytest.raises(ValidationFailed):
        invoice_recover(actor=owner, company=company, number=inv.number,
                        receipt=receipt.number, day=LATER)
    books_agree(company)


# ---------------------------------------------------------------- reversal
def test_an_adjustment_is_undone_by_a_reversing_adjustment(company, owner, customer, tolerance,
                                                           post_invoice, record_receipt):
    inv = post_invoice(terms="30-60-90")
    receipt = record_receipt(amount="118.00", day=LATER)
    adj = receipt_allocate_short(actor=owner, company=company, receipt=receipt.number,
                                 invoice=inv.number, day=LATER, write_off=True).adjustment
    # its allocation cannot be reversed on its own
    with pytest.raises(ValidationFailed) as exc:
        allocation_reverse(actor=owner, company=company,
                           allocation_id=adj.allocations.get().pk, day=LATER)
    assert "adjustment reverse" in exc.value.message
    seq = last_seq(company)
    rev = adjustment_reverse(actor=owner, company=company, adjustment_id=adj.pk, day=LATER,
                             reason="customer will pay the difference")
    assert (rev.amount, rev.base_amount, rev.reversal_of_id, rev.kind) == (-200, -200, adj.pk,
                                                                           "write_off")
    assert journal(rev.journal_entry) == [("discounts", -200, -200, None),
                                          ("receivable", 200, 200, customer.pk)]
    assert [(a.amount, a.reversal_of_id) for a in rev.allocations.all()] == [
        (-200, adj.allocations.get().pk)]
    assert open_amount(inv) == 200
    [ev] = events(company, since=seq)
    assert (ev.action, ev.entity_id, ev.data["reason"], ev.data["amount"]) == (
        "adjustment.reverse", str(adj.pk), "customer will pay the difference", "-2.00")
    before = ledger_state(company)
    with pytest.raises(AlreadyReversed):
        adjustment_reverse(actor=owner, company=company, adjustment_id=adj.pk, day=LATER)
    with pytest.raises(ValidationFailed):
        adjustment_reverse(actor=owner, company=company, adjustment_id=rev.pk, day=LATER)
    assert ledger_state(company) == before
    books_agree(company)


# ---------------------------------------------------------------- history
def test_invoice_history_tells_the_whole_settlement(company, owner, customer, tolerance,
                                                    post_invoice, record_receipt,
                                                    allocate_to, django_assert_max_num_queries):
    inv = post_invoice()
    d = [DAY + timedelta(days=n) for n in range(10)]
    r1 = record_receipt(amount="50.00", day=d[1])
    [a1] = allocate_to(r1.number, {inv.number: "50.00"}, day=d[1])
    allocation_reverse(actor=owner, company=company, allocation_id=a1.pk, day=d[2])
    r2 = record_receipt(amount="119.00", day=d[3])
    receipt_allocate_short(actor=owner, company=company, receipt=r2.number, invoice=inv.number,
                           day=d[3], amount=Decimal("119.00"), write_off=True)
    with django_assert_max_num_queries(4):
        history = invoice_history(company, inv.number)
    assert [(e["date"], e["event"], e["source"], e["amount"]["amount"], e["open"]["amount"])
            for e in history] == [
        (DAY, "posted", inv.number, "120.00", "120.00"),
        (d[1], "payment", r1.number, "50.00", "70.00"),
        (d[2], "payment_reversed", r1.number, "-50.00", "120.00"),
        (d[3], "payment", r2.number, "119.00", "1.00"),
        (d[3], "write_off", f"adjustment {history[-1]['adjustment']}", "1.00", "0.00"),
    ]
