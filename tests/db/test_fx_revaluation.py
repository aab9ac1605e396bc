"""Revaluation of open foreign-currency items at a period end: one entry per company and
day, reversed the next day; idempotent; reversible; the open amounts stay in their
currency."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from conftest import DAY
from django.db.models import Sum

from salesledger.apps.core.invariants import check_company
from salesledger.apps.core.services import company_close_period
from salesledger.apps.fx.models import RevaluationRun
from salesledger.apps.fx.services import fx_revalue, fx_revalue_reverse, rate_add
from salesledger.apps.ledger.models import JournalLine
from salesledger.apps.payments.services import allocation_reverse
from salesledger.domain.errors import (
    AlreadyRevalued,
    AlreadyReversed,
    ExchangeRateMissing,
    PeriodClosed,
)
from tests.support import events, journal, last_seq, ledger_state, open_item_sums, raw_sql

END = DAY + timedelta(days=21)  # the period end: 2025-03-31


@pytest.fixture
def usd_books(company, make_customer, post_invoice, record_receipt, allocate_to):
    """USD 1,000.00 invoiced at 0.90, 100.00 of it paid with cash booked at 0.95; a USD
    50.00 credit note at 0.91 left open; USD 200.00 received at 0.92 and not allocated."""
    us = make_customer("US1", currency="USD")
    make_customer("C001")
    post_invoice("C001", lines=[("Audit", "1", "100.00", "0")])  # EUR: never revalued
    inv = post_invoice("US1", lines=[("Hardware", "1", "1000.00", "0")], rate=Decimal("0.90"))
    r1 = record_receipt("US1", "100.00", DAY, rate=Decimal("0.95"))
    allocate_to(r1.number, {inv.number: "100.00"}, day=DAY)
    cn = post_invoice("US1", kind="credit_note", lines=[("Goodwill", "1", "50.00", "0")],
                      rate=Decimal("0.91"))
    r2 = record_receipt("US1", "200.00", DAY, rate=Decimal("0.92"))
    return us, inv, cn, r2


def base_of(company, role, customer_id=None, upto=None):
    qs = JournalLine.objects.filter(company=company, account__role=role)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if upto is not None:
        qs = qs.filter(date__lte=upto)
    return qs.aggregate(s=Sum("amount"))["s"] or 0


def test_revaluation_restates_open_items_at_the_closing_rate(company, owner, usd_books):
    us, inv, cn, r2 = usd_books
    items_before = open_item_sums(company)
    seq = last_seq(company)
    # when the books are revalued at month end at 1 USD = 0.95 EUR
    done = fx_revalue(actor=owner, company=company, as_of=END, rates={"USD": "0.95"})
    run = done.run
    assert done.created and (run.status, run.as_of, run.positions) == ("posted", END, 2)
    # then: the invoice's USD 900.00 open (carried at 810.00) less the credit note's 50.00
    # (carried at 45.50) is USD 850.00 carried at 764.50, worth 807.50 (+43.00); unapplied
    # USD 200.00 carried at 184.00 is now owed 190.00 (-6.00); a net unrealised gain of 37.00
    assert journal(run.entry) == [
        ("receivable", 0, 4300, us.pk),
        ("unapplied_cash", 0, -600, us.pk),
        ("unrealised_fx_differences", 0, -3700, None)]
    assert (run.net, run.by_currency, run.rates) == (3700, {"USD": 3700}, {"USD": "0.95"})
    assert run.entry.date == END
    # reversed the next day, line for line
    assert run.reversal_entry.date == END + timedelta(days=1)
    assert journal(run.reversal_entry) == [
        ("receivable", 0, -4300, us.pk),
        ("unapplied_cash", 0, 600, us.pk),
        ("unrealised_fx_differences", 0, 3700, None)]
    # on the day, the customer's USD items are carried at the closing rate...
    assert base_of(company, "receivable", us.pk, END) == 80750  # (900 - 50) x 0.95
    assert base_of(company, "unapplied_cash", us.pk, END) == -19000  # 200 x 0.95
    # ...and from the next day at the booking rates again
    assert base_of(company, "receivable", us.pk) == 76450
    # nothing moved in document currency
    assert open_item_sums(company) == items_before
    assert [str(p) for p in check_company(company)] == []
    [ev] = events(company, since=seq)
    assert (ev.action, ev.entity_id) == ("fx.revalue", str(run.pk))
    assert ev.data["after"] == {"as_of": "2025-03-31", "rates": {"USD": "0.95"},
                                "balances": 2, "by_currency": {"USD": 3700}, "net": 3700,
                                "entry": run.entry_id, "reversal_entry": run.reversal_entry_id}


def test_revaluation_is_as_of_its_day(company, owner, usd_books, allocate_to):
    us, inv, cn, r2 = usd_books
    # an allocation after the period end does not change the period-end revaluation
    allocate_to(r2.number, {inv.number: "200.00"}, day=END + timedelta(days=5))
    run = fx_revalue(actor=owner, company=company, as_of=END, rates={"USD": "0.95"}).run
    assert journal(run.entry) == [
        ("receivable", 0, 4300, us.pk),
        ("unapplied_cash", 0, -600, us.pk),
        ("unrealised_fx_differences", 0, -3700, None)]


def test_closing_rates_come_from_the_rate_table(company, owner, usd_books):
    with pytest.raises(ExchangeRateMissing, match="USD"):
        fx_revalue(actor=owner, company=company, as_of=END)
    assert not RevaluationRun.objects.exists()
    rate_add(actor=owner, company=company, currency="USD", rate="0.88", day=END)
    run = fx_revalue(actor=owner, company=company, as_of=END).run
    # 900 x 0.88 = 792.00 vs 810.00; 50 x 0.88 = 44.00 vs 45.50; 200 x 0.88 = 176 vs 184
    assert run.rates == {"USD": "0.88"}
    assert run.net == -1800 + 150 + 800


def test_running_twice_returns_the_run_and_writes_nothing(company, owner, usd_books):
    first = fx_revalue(actor=owner, company=company, as_of=END, rates={"USD": "0.95"}).run
    before = ledger_state(company)
    again = fx_revalue(actor=owner, company=company, as_of=END, rates={"USD": "0.950"})
    assert (again.created, again.run.pk) == (False, first.pk)
    assert fx_revalue(actor=owner, company=company, as_of=END).run.pk == first.pk
    assert ledger_state(company) == before
    with pytest.raises(AlreadyRevalued, match="reverse that run first"):
        fx_revalue(actor=owner, company=company, as_of=END, rates={"USD": "0.96"})


def test_a_run_is_reversed_and_the_day_revalued_again(company, owner, usd_books):
    us = usd_books[0]
    first = fx_revalue(actor=owner, company=company, as_of=END, rates={"USD": "0.95"}).run
    seq = last_seq(company)
    undone = fx_revalue_reverse(actor=owner, company=company, run_id=first.pk,
                                reason="wrong rate")
    assert (undone.status, undone.reverse_reason) == ("reversed", "wrong rate")
    assert undone.undo_entry.date == END
    assert undone.undo_reversal_entry.date == END + timedelta(days=1)
    assert journal(undone.undo_entry) == journal(first.reversal_entry)
    # every day is back to the booking rates
    assert base_of(company, "receivable", us.pk, END) == 76450
    assert base_of(company, "unrealised_fx_differences") == 0
    [ev] = events(company, since=seq)
    assert (ev.action, ev.data["reason"]) == ("fx.revalue_reverse", "wrong rate")
    with pytest.raises(AlreadyReversed):
        fx_revalue_reverse(actor=owner, company=company, run_id=first.pk)
    second = fx_revalue(actor=owner, company=company, as_of=END, rates={"USD": "0.96"})
    assert second.created and second.run.pk != first.pk
    assert [str(p) for p in check_company(company)] == []


def test_a_closed_period_cannot_be_revalued_nor_its_run_undone(company, owner, usd_books):
    run = fx_revalue(actor=owner, company=company, as_of=END, rates={"USD": "0.95"}).run
    company_close_period(actor=owner, company=company, through=END)
    with pytest.raises(PeriodClosed):
        fx_revalue_reverse(actor=owner, company=company, run_id=run.pk)
    with pytest.raises(PeriodClosed):
        fx_revalue(actor=owner, company=company, as_of=END - timedelta(days=1),
                   rates={"USD": "0.95"})


def test_nothing_foreign_open_gives_a_run_without_entry(company, owner, make_customer,
                                                        post_invoice):
    make_customer("C001")
    post_invoice("C001")
    run = fx_revalue(actor=owner, company=company, as_of=END).run
    assert (run.entry, run.reversal_entry, run.positions, run.net) == (None, None, 0, 0)


def test_a_run_is_posted_forever_but_its_undo_fields(company, owner, usd_books):
    run = fx_revalue(actor=owner, company=company, as_of=END, rates={"USD": "0.95"}).run
    with pytest.raises(Exception, match="posted_is_immutable"):
        raw_sql("UPDATE fx_revaluationrun SET net = 0 WHERE id = %s", [run.pk])
    assert raw_sql("UPDATE fx_revaluationrun SET reverse_reason = 'x' WHERE id = %s",
                   [run.pk]) == 1


def test_revaluation_of_cross_currency_and_reversed_allocations(company, owner, usd_books,
                                                                record_receipt):
    from salesledger.apps.payments.services import Target, allocate

    us, inv, cn, r2 = usd_books
    # a EUR receipt pays USD 100.00 of the invoice, then is reversed; a GBP receipt waits
    eur = record_receipt("US1", "95.00", DAY, currency="EUR")
    [row] = allocate(actor=owner, company=company, day=DAY, receipt=eur.number,
                     targets=[Target(inv.number, Decimal("100.00"))],
                     rate=Decimal("1") / Decimal("0.95"))
    allocation_reverse(actor=owner, company=company, allocation_id=row.pk, day=DAY)
    record_receipt("US1", "80.00", DAY, currency="GBP", rate=Decimal("1.15"))
    run = fx_revalue(actor=owner, company=company, as_of=END,
                     rates={"USD": "0.95", "GBP": "1.20"}).run
    # the same USD differences as without the reversed allocation, and the GBP one
    lines = JournalLine.objects.filter(entry=run.entry).values_list(
        "account__role", "currency", "amount_currency", "amount", "customer_id")
    assert sorted(lines, key=str) == sorted([
        ("receivable", "USD", 0, 4300, us.pk),
        ("unapplied_cash", "USD", 0, -600, us.pk),
        ("unapplied_cash", "GBP", 0, -400, us.pk),
        ("unrealised_fx_differences", "USD", 0, -3700, None),
        ("unrealised_fx_differences", "GBP", 0, 400, None)], key=str)
    assert run.by_currency == {"GBP": -400, "USD": 3700}


def test_cli_revalue_and_reverse(company, usd_books, capsys):
    from salesledger.cli.main import main

    assert main(["fx", "revalue", "--as-of", END.isoformat(), "--rate", "USD=0.95"]) == 0
    out = capsys.readouterr().out
    run = RevaluationRun.objects.get()
    assert out.split()[:2] == ["run", str(run.pk)] and "37.00 EUR (gain)" in out
    assert main(["fx", "revalue", "--as-of", END.isoformat()]) == 0
    assert "already revalued as of 2025-03-31" in capsys.readouterr().out
    assert main(["fx", "revalue-reverse", str(run.pk), "--reason", "test"]) == 0
    assert f"revaluation run {run.pk} as of 2025-03-31 reversed" in capsys.readouterr().out
    assert main(["fx", "revalue-reverse", str(run.pk)]) == 2
    assert capsys.readouterr().err.startswith("already_reversed:")
    assert main(["fx", "revalue", "--rate", "USD=0.95"]) == 2
    assert "needs --as-of" in capsys.readouterr().err
