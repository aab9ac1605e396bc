"""Money that goes back: refunds of unapplied cash and receipts the bank returned."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from conftest import DAY

from salesledger.apps.core.invariants import check_company
from salesledger.apps.customers.models import Communication
from salesledger.apps.ledger.models import JournalEntry, JournalLine
from salesledger.apps.payments.adjustments.settings import settlement_settings_set
from salesledger.apps.payments.history import invoice_history
from salesledger.apps.payments.models import Adjustment, ReceiptReversal
from salesledger.apps.payments.refunds import receipt_refund, receipt_reverse, refund_reverse
from salesledger.apps.payments.selectors import invoice_detail, open_items
from salesledger.apps.payments.services import allocate
from salesledger.domain.errors import (
    AlreadyReversed,
    NegativeAmount,
    ReceiptReversed,
    RefundExceedsUnapplied,
    ValidationFailed,
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
)

LATER = DAY + timedelta(days=5)


def books_agree(company, as_of=None):
    assert check_company(company) == []
    assert balances_by_code(company) == open_item_sums(company) == control_by_code(company)
    if as_of:
        assert balances_by_code(company, as_of) == open_item_sums(company, as_of)


# ---------------------------------------------------------------- refunds
def test_over_payment_is_refunded_in_part(company, owner, customer, post_invoice,
                                          record_receipt, allocate_to):
    # given an invoice of 120.00 paid with 150.00: 30.00 on account
    inv = post_invoice()
    receipt = record_receipt(amount="150.00", day=LATER)
    allocate_to(receipt.number, {inv.number: "120.00"}, day=LATER)
    seq = last_seq(company)
    # when 20.00 is paid back
    refund = receipt_refund(actor=owner, company=company, number=receipt.number, day=LATER,
                            amount=Decimal("20.00"), reference="SEPA-123")
    # then a numbered refund takes it out of unapplied cash, to the bank
    assert (refund.number, refund.amount, refund.base_amount, refund.method) == (
        "RFD2025-00001", 2000, 2000, "bank_transfer")
    assert journal(refund.journal_entry) == [("bank", -2000, -2000, None),
                                             ("unapplied_cash", 2000, 2000, customer.pk)]
    receipt.refresh_from_db()
    assert (receipt.allocated, receipt.unallocated) == (14000, 1000)
    assert [(i["type"], i["open"]) for i in open_items(company)] == [("receipt", -1000)]
    assert balances_by_code(company) == {("C001", "EUR"): -1000}
    [ev] = events(company, since=seq)
    assert (ev.action, ev.entity_id) == ("refund.create", str(refund.pk))
    assert ev.data == {"after": {
        "number": "RFD2025-00001", "receipt": receipt.number, "customer": "C001",
        "amount": "20.00", "currency": "EUR", "method": "bank_transfer",
        "reference": "SEPA-123", "date": LATER.isoformat()}}
    # as of the day before the payment and the refund, the invoice was owed
    assert balances_by_code(company, LATER - timedelta(days=1)) == {("C001", "EUR"): 12000}
    # the rest, by default
    second = receipt_refund(actor=owner, company=company, number=receipt.number, day=LATER)
    assert (second.number, second.amount) == ("RFD2025-00002", 1000)
    assert balances_by_code(company) == {}
    books_agree(company, as_of=LATER)


@pytest.mark.parametrize(("amount", "error"), [
    ("30.01", RefundExceedsUnapplied), ("0", NegativeAmount), ("-1", NegativeAmount),
    ("1.001", ValidationFailed)])
def test_a_refund_beyond_the_unapplied_cash_is_refused(company, owner, customer, post_invoice,
                                                       record_receipt, allocate_to, amount,
                                                       error):
    inv = post_invoice()
    receipt = record_receipt(amount="150.00", day=LATER)
    allocate_to(receipt.number, {inv.number: "120.00"}, day=LATER)
    before = ledger_state(company)
    with pytest.raises(error):
        receipt_refund(actor=owner, company=company, number=receipt.number, day=LATER,
                       amount=Decimal(amount))
    assert ledger_state(company) == before


def test_a_refund_is_undone_by_a_reversing_refund(company, owner, customer, record_receipt):
    receipt = record_receipt(amount="80.00", day=LATER)
    refund = receipt_refund(actor=owner, company=company, number=receipt.number, day=LATER)
    seq = last_seq(company)
    rev = refund_reverse(actor=owner, company=company, number=refund.number,
                         day=LATER + timedelta(days=2), reason="account closed")
    assert (rev.amount, rev.number, rev.reversal_of_id) == (-8000, "", refund.pk)
    assert journal(rev.journal_entry) == [("bank", 8000, 8000, None),
                                          ("unapplied_cash", -8000, -8000, customer.pk)]
    receipt.refresh_from_db()
    assert receipt.unallocated == 8000
    [ev] = events(company, since=seq)
    assert (ev.action, ev.data["reason"], ev.data["amount"]) == ("refund.reverse",
                                                                 "account closed", "80.00")
    with pytest.raises(AlreadyReversed):
        refund_reverse(actor=owner, company=company, number=refund.number, day=LATER)
    books_agree(company, as_of=LATER + timedelta(days=1))


def test_a_foreign_currency_refund_leaves_no_base_residue(company, owner, make_customer,
                                                          post_invoice, record_receipt,
                                                          allocate_to):
    # given 100.00 USD received at 0.90 (90.00 EUR)
    cust = make_customer("US1", currency="USD")
    receipt = record_receipt("US1", "100.00", LATER, currency="USD", rate=Decimal("0.90"))
    # when a third is refunded, and the rest pays an invoice booked at 0.95
    refund = receipt_refund(actor=owner, company=company, number=receipt.number, day=LATER,
                            amount=Decimal("33.33"))
    assert refund.base_amount == 3000  # 29.997 rounded
    inv = post_invoice("US1", lines=[("Parts", "1", "66.67", "0")], currency="USD",
                       rate=Decimal("0.95"), issue_date=LATER)
    allocate_to(receipt.number, {inv.number: "66.67"}, day=LATER)
    # then the customer's unapplied cash is zero in base currency too: the last part took
    # the base left (60.00), not 66.67 x 0.90
    unapplied = JournalLine.objects.filter(company=company, account__role="unapplied_cash",
                                           customer=cust)
    assert sum(unapplied.values_list("amount", flat=True)) == 0
    assert sum(unapplied.values_list("amount_currency", flat=True)) == 0
    books_agree(company)


# ---------------------------------------------------------------- bounced payments
def test_a_returned_direct_debit_reopens_the_invoice_and_charges_a_fee(
        company, owner, customer, post_invoice, record_receipt, allocate_to):
    # given an invoice of 120.00 paid in full by direct debit
    inv = post_invoice(terms="30-60-90")
    receipt = record_receipt(amount="120.00", day=LATER)
    allocate_to(receipt.number, {inv.number: "120.00"}, day=LATER)
    seq = last_seq(company)
    # when the bank returns it, and the customer is charged 15.00
    rev = receipt_reverse(actor=owner, company=company, number=receipt.number,
                          day=LATER + timedelta(days=3), reason="MD06 refund request",
                          fee=Decimal("15.00"))
    # then what it paid is open again and the receipt is used up by its reversal
    assert open_amount(inv) == 12000
    receipt.refresh_from_db()
    assert (receipt.allocated, rev.amount) == (12000, 12000)
    assert ReceiptReversal.objects.get(receipt=receipt) == rev
    assert journal(rev.journal_entry) == [("bank", -12000, -12000, None),
                                          ("unapplied_cash", 12000, 12000, customer.pk)]
    # the fee is a posted invoice, due at once, not subject to VAT, on fee income
    fee = rev.fee_invoice
    assert (fee.status, fee.total, fee.tax, fee.due_date) == ("posted", 1500, 0,
                                                              LATER + timedelta(days=3))
    reclass = JournalEntry.objects.get(kind="fee_reclass", source_id=fee.pk)
    assert journal(reclass) == [("fee_income", -1500, -1500, None),
                                ("revenue", 1500, 1500, None)]
    # the customer owes the invoice and the fee
    assert balances_by_code(company) == {("C001", "EUR"): 13500}
    # it is on the customer's timeline
    note = Communication.objects.get(customer=customer)
    assert (note.channel, note.subject, note.status) == ("note", f"Payment {receipt.number} "
                                                         "reversed", "logged")
    assert "MD06 refund request" in note.body and fee.number in note.body
    # and in the audit trail: three allocation reversals, the fee invoice, the reversal
    actions = [e.action for e in events(company, since=seq)]
    assert actions == ["allocation.reverse"] * 3 + ["invoice.create", "invoice.post",
                                                    "receipt.reverse"]
    ev = events(company, since=seq)[-1]
    assert (ev.data["amount"], ev.data["reason"], ev.data["fee_invoice"]) == (
        "120.00", "MD06 refund request", fee.number)
    assert [e["event"] for e in invoice_history(company, inv.number)][-4:] == [
        "payment_reversed"] * 3 + ["receipt_reversed"]
    # nothing more can be done with it
    for call in (lambda: receipt_reverse(actor=owner, company=company, number=receipt.number,
                                         day=LATER + timedelta(days=3), reason="again"),
                 lambda: receipt_refund(actor=owner, company=company, number=receipt.number,
                                        day=LATER + timedelta(days=3))):
        before = ledger_state(company)
        with pytest.raises((AlreadyReversed, ReceiptReversed)):
            call()
        assert ledger_state(company) == before
    assert allocate(actor=owner, company=company, day=LATER + timedelta(days=3),
                    receipt=receipt.number, auto=True) == []
    books_agree(company, as_of=LATER + timedelta(days=1))


def test_a_bounced_payment_loses_the_discount_it_earned(company, owner, make_customer,
                                                        post_invoice, record_receipt,
                                                        allocate_to):
    make_customer("C001", terms_code="2-10-NET30")
    inv = post_invoice()
    receipt = record_receipt(amount="117.60", day=DAY + timedelta(days=5))
    allocate_to(receipt.number, {inv.number: "117.60"}, day=DAY + timedelta(days=5))
    [disc] = Adjustment.objects.filter(invoice=inv)
    receipt_reverse(actor=owner, company=company, number=receipt.number,
                    day=DAY + timedelta(days=8), reason="cheque bounced")
    assert Adjustment.objects.get(reversal_of=disc).amount == -240
    assert open_amount(inv) == 12000
    assert invoice_detail(company, inv.number)["settlement"] == "open"
    books_agree(company)


def test_a_refunded_receipt_is_not_reversed_until_the_refund_is(
        company, owner, customer, record_receipt):
    settlement_settings_set(actor=owner, company=company)
    receipt = record_receipt(amount="50.00", day=LATER)
    refund = receipt_refund(actor=owner, company=company, number=receipt.number, day=LATER,
                            amount=Decimal("10.00"))
    before = ledger_state(company)
    with pytest.raises(ValidationFailed) as exc:
        receipt_reverse(actor=owner, company=company, number=receipt.number, day=LATER,
                        reason="returned")
    assert refund.number in exc.value.message
    assert ledger_state(company) == before
    refund_reverse(actor=owner, company=company, number=refund.number, day=LATER)
    rev = receipt_reverse(actor=owner, company=company, number=receipt.number, day=LATER,
                          reason="returned")
    assert rev.amount == 5000
    assert balances_by_code(company) == {}
    books_agree(company)


def test_a_reversal_needs_a_reason(company, owner, customer, record_receipt):
    receipt = record_receipt(amount="50.00", day=LATER)
    with pytest.raises(ValidationFailed):
        receipt_reverse(actor=owner, company=company, number=receipt.number, day=LATER,
                        reason=" ")


# ---------------------------------------------------------------- the bank account
def test_refunds_and_reversals_move_money_through_the_account_it_arrived_in(
        company, owner, customer):
    """A receipt that arrived in a second bank account is refunded out of it, and a reversal
    or a refund reversal takes it back there: the main account is never touched."""
    from salesledger.apps.ledger.banks import BankAccountSpec, bank_account_add
    from salesledger.apps.payments.services import ReceiptInput, receipt_record

    savings = bank_account_add(actor=owner, company=company, spec=BankAccountSpec(
        code="SAVINGS", name="Savings", iban="DE89370400440532013000"))
    main = savings.__class__.objects.get(company=company, is_main=True)

    def balance(bank):
        return sum(JournalLine.objects.filter(account_id=bank.account_id)
                   .values_list("amount", flat=True))

    first = receipt_record(actor=owner, company=company, data=ReceiptInput(
        customer_code="C001", date=LATER, amount=Decimal("150.00"), bank_account="SAVINGS"))
    refund = receipt_refund(actor=owner, company=company, number=first.number, day=LATER,
                            amount=Decimal("20.00"), reference="back")
    assert (balance(savings), balance(main)) == (13000, 0)
    refund_reverse(actor=owner, company=company, number=refund.number, day=LATER,
                   reason="refund bounced")
    assert (balance(savings), balance(main)) == (15000, 0)
    receipt_reverse(actor=owner, company=company, number=first.number, day=LATER,
                    reason="returned by the bank")
    assert (balance(savings), balance(main)) == (0, 0)
    books_agree(company)
