"""Receipts and allocations: partial, oldest first, unapplied cash, refusals, reversal."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from conftest import DAY

from salesledger.apps.payments.models import Allocation
from salesledger.apps.payments.selectors import open_items
from salesledger.apps.payments.services import allocation_reverse
from salesledger.domain.errors import (
    AllocationCustomerMismatch,
    AllocationExceedsOpenAmount,
    AllocationExceedsUnallocated,
    AlreadyReversed,
    CurrencyMismatch,
    LedgerError,
    NegativeAmount,
    ValidationFailed,
)
from tests.support import (
    balances_by_code,
    events,
    journal,
    last_seq,
    ledger_state,
    open_amount,
    open_item_sums,
    settled,
)

LATER = DAY + timedelta(days=5)


def test_receipt_is_journaled_as_unapplied_cash(company, owner, customer, record_receipt):
    seq = last_seq(company)
    receipt = record_receipt(amount="75.50")
    assert (receipt.number, receipt.amount, receipt.allocated) == ("RCT2025-00001", 7550, 0)
    assert journal(receipt.journal_entry) == [("bank", 7550, 7550, None),
                                              ("unapplied_cash", -7550, -7550, customer.pk)]
    [ev] = events(company, since=seq)
    assert (ev.action, ev.entity_id) == ("receipt.record", str(receipt.pk))
    assert ev.data["after"] == {"number": "RCT2025-00001", "customer": "C001",
                                "amount": "75.50", "currency": "EUR", "method": "bank_transfer"}


@pytest.mark.parametrize(("amount", "error"), [
    ("0", NegativeAmount), ("-5.00", NegativeAmount), ("10.001", ValidationFailed)])
def test_a_receipt_must_be_a_positive_amount_in_minor_units(company, customer, record_receipt,
                                                             amount, error):
    before = ledger_state(company)
    with pytest.raises(error):
        record_receipt(amount=amount)
    assert ledger_state(company) == before


def test_partial_payment_settles_thirds_oldest_first(company, customer, post_invoice,
                                                     record_receipt, allocate_to):
    # given an invoice of 100.00 due in thirds at 30/60/90 days, and a payment of 50.00
    inv = post_invoice(terms="30-60-90", lines=[("Consulting", "1", "100.00", "0")])
    receipt = record_receipt(amount="50.00", day=LATER)
    seq = last_seq(company)
    # when the payment is allocated to the invoice
    rows = allocate_to(receipt.number, {inv.number: "50.00"}, day=LATER)
    # then the first third is paid and the second in part
    assert [(r.instalment.seq, r.amount) for r in rows] == [(1, 3333), (2, 1667)]
    assert settled(inv) == [3333, 1667, 0]
    receipt.refresh_from_db()
    assert receipt.allocated == 5000
    # one entry moves the payment's unapplied cash to the receivable of each share
    assert rows[0].journal_entry_id == rows[1].journal_entry_id
    assert journal(rows[0].journal_entry) == [
        ("receivable", -3333, -3333, customer.pk), ("receivable", -1667, -1667, customer.pk),
        ("unapplied_cash", 5000, 5000, customer.pk)]
    assert rows[0].journal_entry.date == LATER
    assert rows[0].journal_entry.memo == f"{receipt.number} -> {inv.number}"
    [ev] = events(company, since=seq)
    assert ev.action == "allocation.create"
    assert ev.data == {"source": receipt.number, "allocations": [
        {"instalment": rows[0].instalment_id, "amount": "33.33"},
        {"instalment": rows[1].instalment_id, "amount": "16.67"}]}
    assert [(i["seq"], i["open"]) for i in open_items(company)] == [(2, 1666), (3, 3334)]


def test_unapplied_cash_stays_until_allocated(company, customer, post_invoice, record_receipt,
                                              allocate_to):
    # given a payment on account, before any invoice
    receipt = record_receipt(amount="200.00", day=DAY)
    assert allocate_to(receipt.number, auto=True) == []
    assert [(i["type"], i["open"]) for i in open_items(company)] == [("receipt", -20000)]
    assert balances_by_code(company) == {("C001", "EUR"): -20000}
    # when two invoices arrive and the payment is allocated automatically
    first = post_invoice(issue_date=DAY)
    second = post_invoice(issue_date=LATER)
    rows = allocate_to(receipt.number, auto=True, day=LATER)
    # then the oldest is paid in full and the rest goes to the next
    assert [(r.instalment.invoice_id, r.amount) for r in rows] == [(first.pk, 12000),
                                                                  (second.pk, 8000)]
    assert (open_amount(first), open_amount(second)) == (0, 4000)
    assert [(i["type"], i["open"]) for i in open_items(company)] == [("instalment", 4000)]
    assert balances_by_code(company) == {("C001", "EUR"): 4000}


def test_currency_mismatch_is_refused_and_changes_nothing(company, customer, post_invoice,
                                                          record_receipt, allocate_to):
    inv = post_invoice()
    usd = record_receipt(amount="130.00", currency="USD", rate=Decimal("0.92"))
    before = ledger_state(company)
    with pytest.raises(CurrencyMismatch) as exc:
        allocate_to(usd.number, {inv.number: "120.00"})
    assert exc.value.code == "currency_mismatch"
    assert ledger_state(company) == before
    # automatic allocation only looks at items in the payment's currency
    assert allocate_to(usd.number, auto=True) == []


def test_allocation_to_another_customers_invoice_is_refused(
        company, make_customer, post_invoice, record_receipt, allocate_to):
    make_customer("C001")
    make_customer("C002")
    inv = post_invoice("C002")
    receipt = record_receipt("C001", amount="120.00")
    before = ledger_state(company)
    with pytest.raises(AllocationCustomerMismatch):
        allocate_to(receipt.number, {inv.number: "120.00"})
    assert ledger_state(company) == before


@pytest.mark.parametrize(("paid", "allocate", "error"), [
    ("200.00", "120.01", AllocationExceedsOpenAmount),
    ("50.00", "50.01", AllocationExceedsUnallocated),
    ("50.00", "0", LedgerError),
    ("50.00", "10.001", LedgerError),
])
def test_too_much_or_a_bad_amount_is_refused_and_changes_nothing(
        company, customer, post_invoice, record_receipt, allocate_to, paid, allocate, error):
    inv = post_invoice()
    receipt = record_receipt(amount=paid)
    before = ledger_state(company)
    with pytest.raises(error):
        allocate_to(receipt.number, {inv.number: allocate})
    assert ledger_state(company) == before


def test_two_targets_together_cannot_exceed_the_receipt(company, customer, post_invoice,
                                                        record_receipt, allocate_to):
    a, b = post_invoice(), post_invoice()
    receipt = record_receipt(amount="200.00")
    before = ledger_state(company)
    with pytest.raises(AllocationExceedsUnallocated):
        allocate_to(receipt.number, {a.number: "120.00", b.number: "80.01"})
    assert ledger_state(company) == before


def test_allocation_dates(company, customer, post_invoice, record_receipt, allocate_to):
    receipt = record_receipt(amount="120.00", day=DAY - timedelta(days=30))
    inv = post_invoice(issue_date=DAY)
    # not before the payment
    with pytest.raises(ValidationFailed):
        allocate_to(receipt.number, {inv.number: "10.00"}, day=DAY - timedelta(days=31))
    # nor before the invoice it settles: the open items as of a day in between would
    # otherwise show a payment used on an invoice that did not exist yet
    with pytest.raises(ValidationFailed):
        allocate_to(receipt.number, {inv.number: "10.00"}, day=DAY - timedelta(days=1))
    assert allocate_to(receipt.number, auto=True, day=DAY - timedelta(days=1)) == []
    assert len(allocate_to(receipt.number, auto=True, day=DAY)) == 1


def test_reversal_restores_open_amounts_with_a_reversing_entry(
        company, owner, customer, post_invoice, record_receipt, allocate_to):
    # given a payment of 50.00 allocated over two thirds of an invoice
    inv = post_invoice(terms="30-60-90", lines=[("Consulting", "1", "100.00", "0")])
    receipt = record_receipt(amount="50.00")
    first, second = allocate_to(receipt.number, {inv.number: "50.00"})
    seq = last_seq(company)
    # when the second share is reversed
    rev = allocation_reverse(actor=owner, company=company, allocation_id=second.pk, day=LATER,
                             reason="paid the wrong invoice")
    # then its instalment and the receipt are open again
    assert settled(inv) == [3333, 0, 0]
    receipt.refresh_from_db()
    assert receipt.allocated == 3333
    assert (rev.amount, rev.reversal_of_id, rev.date) == (-1667, second.pk, LATER)
    # by a new journal entry that mirrors the original one
    assert journal(rev.journal_entry) == [("receivable", 1667, 1667, customer.pk),
                                          ("unapplied_cash", -1667, -1667, customer.pk)]
    assert (rev.journal_entry.kind, rev.journal_entry.source_id) == ("allocation_reversal",
                                                                    second.pk)
    [ev] = events(company, since=seq)
    assert (ev.action, ev.entity_id, ev.data) == (
        "allocation.reverse", str(second.pk),
        {"amount": "16.67", "reason": "paid the wrong invoice"})
    # the original stays in the history
    assert Allocation.objects.filter(pk=second.pk, amount=1667).exists()
    # and reversing twice (or reversing the reversal) is refused
    before = ledger_state(company)
    with pytest.raises(AlreadyReversed) as exc:
        allocation_reverse(actor=owner, company=company, allocation_id=second.pk, day=LATER)
    assert exc.value.code == "already_reversed"
    with pytest.raises(ValidationFailed):
        allocation_reverse(actor=owner, company=company, allocation_id=rev.pk, day=LATER)
    assert ledger_state(company) == before
    # the money can be allocated again
    [again] = allocate_to(receipt.number, auto=True, day=LATER)
    assert (again.instalment_id, again.amount) == (second.instalment_id, 1667)


def test_each_share_of_one_entry_is_reversed_alone_and_exactly(
        company, owner, customer, post_invoice, record_receipt, allocate_to):
    # given a payment of 150.00 over two invoices in thirds: five shares, one entry
    first = post_invoice(terms="30-60-90", lines=[("Consulting", "1", "100.00", "0")])
    second = post_invoice(terms="30-60-90", lines=[("Consulting", "1", "100.00", "0")])
    receipt = record_receipt(amount="150.00")
    rows = allocate_to(receipt.number, {first.number: "100.00", second.number: "50.00"})
    assert len(rows) == 5 and len({r.journal_entry_id for r in rows}) == 1
    entry = rows[0].journal_entry
    assert entry.memo == f"{receipt.number} -> {first.number}, {second.number}"
    assert journal(entry) == sorted([
        ("unapplied_cash", 15000, 15000, customer.pk),
        *(("receivable", -r.amount, -r.amount, customer.pk) for r in rows)],
        key=lambda r: (r[0], r[1]))
    # when the shares are reversed one at a time
    for n, row in enumerate(rows):
        rev = allocation_reverse(actor=owner, company=company, allocation_id=row.pk, day=LATER)
        # then each reversal takes back that share alone, not the entry's other lines
        assert journal(rev.journal_entry) == [
            ("receivable", row.amount, row.amount, customer.pk),
            ("unapplied_cash", -row.amount, -row.amount, customer.pk)]
        receipt.refresh_from_db()
        assert receipt.allocated == 15000 - sum(r.amount for r in rows[:n + 1])
        assert open_item_sums(company) == balances_by_code(company)
    # and the entry and its reversals leave nothing on any account
    from salesledger.apps.ledger.models import JournalLine

    left = JournalLine.objects.filter(
        company=company, entry__kind__in=["allocation", "allocation_reversal"]).values_list(
        "account__role", "customer_id", "amount_currency", "amount")
    totals: dict[tuple[str, int | None], list[int]] = {}
    for role, cust, cur, base in left:
        t = totals.setdefault((role, cust), [0, 0])
        t[0] += cur
        t[1] += base
    assert all(t == [0, 0] for t in totals.values()), totals
    assert settled(first) == [0, 0, 0] and settled(second) == [0, 0, 0]


def test_reversal_cannot_be_dated_before_the_allocation(company, owner, customer, post_invoice,
                                                        record_receipt, allocate_to):
    inv = post_invoice()
    receipt = record_receipt(amount="120.00")
    [row] = allocate_to(receipt.number, {inv.number: "120.00"}, day=LATER)
    with pytest.raises(ValidationFailed):
        allocation_reverse(actor=owner, company=company, allocation_id=row.pk, day=DAY)
    for as_of in (DAY, LATER, None):
        assert open_item_sums(company, as_of) == balances_by_code(company, as_of)


def test_credit_note_allocation_reversal_has_no_journal_entry(
        company, owner, customer, post_invoice):
    inv = post_invoice()
    cn = post_invoice(kind="credit_note", corrects=inv.number, lines=[("x", 1, "10.00", "20")])
    [row] = Allocation.objects.filter(credit_note=cn)
    rev = allocation_reverse(actor=owner, company=company, allocation_id=row.pk, day=DAY)
    assert rev.journal_entry_id is None
    cn.refresh_from_db()
    assert (cn.allocated, open_amount(inv)) == (0, 12000)
    assert [(i["type"], i["open"]) for i in open_items(company)] == [
        ("instalment", 12000), ("credit_note", -1200)]


def test_early_and_late_dates_for_open_items(company, customer, post_invoice, record_receipt,
                                             allocate_to):
    # given an invoice on 10 March, paid on 20 March, allocated on 5 April
    inv = post_invoice(issue_date=date(2025, 3, 10))
    receipt = record_receipt(amount="120.00", day=date(2025, 3, 20))
    allocate_to(receipt.number, {inv.number: "120.00"}, day=date(2025, 4, 5))

    def items(as_of):
        return [(i["type"], i["open"]) for i in open_items(company, as_of=as_of)]

    # then open items as of a past day ignore what happened later
    assert items(date(2025, 3, 1)) == []
    assert items(date(2025, 3, 15)) == [("instalment", 12000)]
    assert items(date(2025, 3, 31)) == [("instalment", 12000), ("receipt", -12000)]
    assert items(date(2025, 4, 5)) == []
    assert items(None) == []
    assert [i["document"] for i in open_items(company, as_of=date(2025, 4, 10),
                                               overdue_only=True)] == []
    # overdue: NET30 from 10 March is due 9 April
    assert [i["document"] for i in open_items(company, as_of=date(2025, 3, 31))
            if i["type"] == "instalment"] == [inv.number]
    for as_of in (date(2025, 3, 15), date(2025, 3, 31), date(2025, 4, 5)):
        assert open_item_sums(company, as_of) == balances_by_code(company, as_of)
