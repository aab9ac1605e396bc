"""Exchange differences at allocation: realised exactly at the booking rates (a settled
instalment leaves no base residue), and receipts that pay invoices in another currency,
with the rate used recorded and an entry that balances in base and in each currency."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from conftest import DAY
from django.db.models import Sum

from salesledger.apps.core.invariants import check_company
from salesledger.apps.fx.services import rate_add
from salesledger.apps.invoicing.models import Instalment
from salesledger.apps.ledger.models import JournalLine
from salesledger.apps.payments.models import Allocation
from salesledger.apps.payments.services import Target, allocate, allocation_reverse
from salesledger.domain.errors import (
    AllocationExceedsUnallocated,
    CurrencyMismatch,
    ValidationFailed,
)
from tests.support import (
    balances_by_code,
    control_by_code,
    events,
    journal,
    last_seq,
    ledger_state,
    open_item_sums,
    settled,
)

LATER = DAY + timedelta(days=20)


def base_balance(company, role, customer_id=None):
    qs = JournalLine.objects.filter(company=company, account__role=role)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    return qs.aggregate(s=Sum("amount"))["s"] or 0


def assert_books_consistent(company, as_of=None):
    assert [str(p) for p in check_company(company)] == []
    assert open_item_sums(company) == balances_by_code(company) == control_by_code(company)
    if as_of is not None:
        assert open_item_sums(company, as_of) == balances_by_code(company, as_of)


# ---------------------------------------------------------------------------- realised
@pytest.mark.parametrize(("rates", "amounts"), [
    (["0.95", "0.91", "0.97"], ["333.33", "333.33", "333.34"]),
    (["0.8765", "1.1234"], ["500.01", "499.99"]),
    (["0.90001"], ["1000.00"]),
    (["0.93", "0.93", "0.93", "0.93"], ["0.01", "250.00", "0.02", "749.97"]),
])
def test_a_settled_foreign_invoice_leaves_no_base_residue(company, owner, make_customer,
                                                          post_invoice, record_receipt,
                                                          allocate_to, rates, amounts):
    # given a USD 1,000.00 invoice booked at 0.90 (EUR 900.00), due in thirds
    us = make_customer("US1", currency="USD")
    inv = post_invoice("US1", lines=[("Hardware", "1", "1000.00", "0")], rate=Decimal("0.90"),
                       terms="30-60-90")
    assert sum(Instalment.objects.filter(invoice=inv).values_list("base_amount",
                                                                  flat=True)) == 90000
    # when it is paid exactly, by receipts booked at other rates
    received_base = 0
    for n, (rate, amount) in enumerate(zip(rates, amounts, strict=True)):
        receipt = record_receipt("US1", amount, LATER + timedelta(days=n), rate=Decimal(rate))
        received_base += receipt.base_amount
        allocate_to(receipt.number, auto=True, day=LATER + timedelta(days=n))
    # then every instalment is settled and relieved of exactly its booked base amount
    assert settled(inv) == [33333, 33333, 33334]
    for inst in Instalment.objects.filter(invoice=inv):
        relieved = Allocation.objects.filter(instalment=inst).aggregate(
            s=Sum("base_receivable"))["s"]
        assert relieved == inst.base_amount
    # nothing is left on the customer's receivable or unapplied cash, in base or in USD
    assert base_balance(company, "receivable", us.pk) == 0
    assert base_balance(company, "unapplied_cash", us.pk) == 0
    # and the whole difference is on the exchange-differences account: received - booked
    assert base_balance(company, "exchange_differences") == 90000 - received_base
    assert_books_consistent(company, LATER)


def test_each_allocation_realises_its_own_difference(company, make_customer, post_invoice,
                                                     record_receipt, allocate_to):
    us = make_customer("US1", currency="USD")
    inv = post_invoice("US1", lines=[("Hardware", "1", "100.00", "0")], rate=Decimal("0.90"))
    receipt = record_receipt("US1", "60.00", LATER, rate=Decimal("0.95"))
    [first] = allocate_to(receipt.number, {inv.number: "60.00"}, day=LATER)
    # 60 USD relieved at 0.90 (54.00) against cash booked at 0.95 (57.00): a 3.00 gain
    assert journal(first.journal_entry) == [
        ("exchange_differences", 0, -300, None),
        ("receivable", -6000, -5400, us.pk),
        ("unapplied_cash", 6000, 5700, us.pk)]
    last = record_receipt("US1", "40.00", LATER, rate=Decimal("0.85"))
    [second] = allocate_to(last.number, {inv.number: "40.00"}, day=LATER)
    # the last part takes the base that is left (90.00 - 54.00 = 36.00), not 40 x 0.90
    assert (second.base_receivable, second.base_unapplied) == (3600, 3400)
    assert journal(second.journal_entry)[0] == ("exchange_differences", 0, 200, None)


# ---------------------------------------------------------------------------- cross
@pytest.fixture
def eur_invoice(make_customer, post_invoice):
    make_customer("C001", name="Dupont et Fils")
    return post_invoice("C001", lines=[("Audit", "1", "100.00", "0")])


def test_a_usd_receipt_pays_a_eur_invoice_at_the_rate_given(company, owner, eur_invoice,
                                                            record_receipt):
    # given a EUR 100.00 invoice and USD 110.00 received, booked at 0.90 (EUR 99.00)
    receipt = record_receipt("C001", "110.00", LATER, currency="USD", rate=Decimal("0.90"))
    seq = last_seq(company)
    # when the receipt pays the invoice at 100/110 EUR per USD
    [row] = allocate(actor=owner, company=company, day=LATER, receipt=receipt.number,
                     targets=[Target(eur_invoice.number, Decimal("100.00"))],
                     rate=Decimal(100) / Decimal(110))
    # then the allocation records both sides and the rate used
    assert (row.currency, row.amount, row.source_currency, row.source_amount, row.fx_rate) == (
        "EUR", 10000, "USD", 11000, Decimal("0.909090909091"))
    assert (row.base_receivable, row.base_unapplied) == (10000, 9900)
    receipt.refresh_from_db()
    assert receipt.allocated == 11000  # in the receipt's currency
    assert settled(eur_invoice) == [10000]
    # the entry balances in base, in USD and in EUR; the 1.00 difference is a loss
    cid = receipt.customer_id
    lines = sorted(JournalLine.objects.filter(entry=row.journal_entry).values_list(
        "account__role", "currency", "amount_currency", "amount", "customer_id"))
    assert lines == [
        ("exchange_differences", "EUR", 10000, 10000, None),
        ("exchange_differences", "USD", -11000, -9900, None),
        ("receivable", "EUR", -10000, -10000, cid),
        ("unapplied_cash", "USD", 11000, 9900, cid)]
    [ev] = events(company, since=seq)
    assert ev.data["allocations"] == [{
        "instalment": row.instalment_id, "amount": "100.00", "currency": "EUR",
        "source_currency": "USD", "source_amount": "110.00", "rate": "0.909090909091"}]
    assert base_balance(company, "exchange_differences") == 100
    assert_books_consistent(company, LATER)
    assert open_item_sums(company) == {}


def test_the_cross_rate_defaults_to_the_rate_table(company, owner, eur_invoice,
                                                   record_receipt):
    rate_add(actor=owner, company=company, currency="USD", rate="0.90", day=DAY)
    receipt = record_receipt("C001", "100.00", LATER, currency="USD")
    assert receipt.rate == Decimal("0.90")
    # USD 100.00 pays at most EUR 90.00 at 0.90 EUR per USD; that uses it all
    with pytest.raises(AllocationExceedsUnallocated):
        allocate(actor=owner, company=company, day=LATER, receipt=receipt.number,
                 targets=[Target(eur_invoice.number, Decimal("90.01"))])
    [row] = allocate(actor=owner, company=company, day=LATER, receipt=receipt.number,
                     targets=[Target(eur_invoice.number, Decimal("90.00"))])
    assert (row.amount, row.source_amount, row.fx_rate) == (9000, 10000, Decimal("0.9"))
    # booked and paid at the same rate: no exchange difference
    assert journal(row.journal_entry) == [
        ("exchange_differences", -10000, -9000, None),
        ("exchange_differences", 9000, 9000, None),
        ("receivable", -9000, -9000, receipt.customer_id),
        ("unapplied_cash", 10000, 9000, receipt.customer_id)]
    assert base_balance(company, "exchange_differences") == 0
    assert_books_consistent(company)
    assert balances_by_code(company) == {("C001", "EUR"): 1000}


def test_a_receipt_paying_invoice_thirds_across_currencies_is_used_exactly(
        company, owner, make_customer, post_invoice, record_receipt):
    # a JPY invoice in thirds, paid by a EUR receipt that is worth exactly the invoice
    make_customer("JP1", currency="JPY")
    inv = post_invoice("JP1", lines=[("Licence", "1", "100000", "0")], rate=Decimal("0.0062"),
                       terms="30-60-90")
    receipt = record_receipt("JP1", "620.00", LATER, currency="EUR")
    rows = allocate(actor=owner, company=company, day=LATER, receipt=receipt.number,
                    targets=[Target(inv.number, Decimal("100000"))],
                    rate=Decimal("161.290322581"))
    assert [r.amount for r in rows] == [33333, 33333, 33334]
    assert sum(r.source_amount for r in rows) == 62000
    receipt.refresh_from_db()
    assert receipt.allocated == receipt.amount
    assert settled(inv) == [33333, 33333, 33334]
    assert base_balance(company, "receivable", inv.customer_id) == 0
    assert base_balance(company, "unapplied_cash", inv.customer_id) == 0
    assert_books_consistent(company, LATER)


def test_reversing_a_cross_currency_allocation_gives_the_receipt_back(company, owner,
                                                                       eur_invoice,
                                                                       record_receipt):
    receipt = record_receipt("C001", "120.00", LATER, currency="USD", rate=Decimal("0.90"))
    [row] = allocate(actor=owner, company=company, day=LATER, receipt=receipt.number,
                     targets=[Target(eur_invoice.number, Decimal("100.00"))],
                     rate=Decimal("0.9"))
    assert row.source_amount == 11111
    assert balances_by_code(company) == {("C001", "USD"): -889}
    rev = allocation_reverse(actor=owner, company=company, allocation_id=row.pk,
                             day=LATER + timedelta(days=1))
    assert (rev.amount, rev.source_amount, rev.source_currency, rev.fx_rate) == (
        -10000, -11111, "USD", Decimal("0.9"))
    receipt.refresh_from_db()
    assert receipt.allocated == 0 and settled(eur_invoice) == [0]
    assert journal(rev.journal_entry) == sorted(
        (role, -cur, -base, cust) for role, cur, base, cust in journal(row.journal_entry))
    assert_books_consistent(company, LATER)
    # as of the allocation's day the receipt was used; as of the day before, not yet
    assert open_item_sums(company, LATER) == {("C001", "USD"): -889}
    assert open_item_sums(company, LATER - timedelta(days=1)) == {("C001", "EUR"): 10000}


def test_cross_currency_refusals_change_nothing(company, owner, eur_invoice, record_receipt,
                                                post_invoice):
    receipt = record_receipt("C001", "50.00", LATER, currency="USD", rate=Decimal("0.90"))
    before = ledger_state(company)
    # no rate given and none in the table
    with pytest.raises(CurrencyMismatch, match="no USD exchange rate"):
        allocate(actor=owner, company=company, day=LATER, receipt=receipt.number,
                 targets=[Target(eur_invoice.number, Decimal("10.00"))])
    # more than the receipt can pay at the rate
    with pytest.raises(AllocationExceedsUnallocated):
        allocate(actor=owner, company=company, day=LATER, receipt=receipt.number,
                 targets=[Target(eur_invoice.number, Decimal("45.01"))], rate=Decimal("0.9"))
    # a rate for a same-currency allocation is a mistake
    eur = record_receipt("C001", "10.00", LATER)
    before = ledger_state(company)
    with pytest.raises(ValidationFailed, match="another currency"):
        allocate(actor=owner, company=company, day=LATER, receipt=eur.number,
                 targets=[Target(eur_invoice.number, Decimal("10.00"))], rate=Decimal("1.1"))
    # a credit note pays only its own currency
    make_usd = post_invoice("C001", kind="credit_note", currency="USD", rate=Decimal("0.9"),
                            lines=[("Goodwill", "1", "10.00", "0")])
    before = ledger_state(company)
    with pytest.raises(CurrencyMismatch, match="credit note"):
        allocate(actor=owner, company=company, day=LATER, credit_note=make_usd.number,
                 targets=[Target(eur_invoice.number, Decimal("5.00"))], rate=Decimal("0.9"))
    assert ledger_state(company) == before


def test_cli_allocates_across_currencies_with_a_rate(company, eur_invoice, record_receipt,
                                                      capsys):
    from salesledger.cli.main import main

    receipt = record_receipt("C001", "110.00", LATER, currency="USD", rate=Decimal("0.90"))
    code = main(["receipt", "allocate", receipt.number, "--invoice",
                 f"{eur_invoice.number}=100.00", "--rate", "0.909090909091",
                 "--as-of", LATER.isoformat()])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"{receipt.number} allocated by manual" in out
    assert "100.00 EUR" in out and "110.00 USD" in out and "0.909090909091" in out
    assert "unallocated after: 0.00 USD" in out
