"""Allocating one receipt by a policy: oldest first, by the invoices it names, in
proportion, or manually; and the dry run that shows what a policy would do."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from conftest import DAY

from salesledger.apps.payments.policies import receipt_allocate_policy
from salesledger.apps.payments.services import ReceiptInput, Target, receipt_record
from salesledger.domain.errors import (
    AllocationExceedsOpenAmount,
    NotFound,
    PeriodClosed,
    ValidationFailed,
)
from tests.support import events, journal, last_seq, ledger_state, settled

LATER = DAY + timedelta(days=10)


@pytest.fixture
def three_invoices(make_customer, post_invoice):
    """C001 owes 100.00, 200.00 and 300.00 (issued a day apart, 30 days net)."""
    make_customer("C001", name="Dupont et Fils")
    return [post_invoice("C001", lines=[("Work", "1", amount, "0")],
                         issue_date=DAY + timedelta(days=n))
            for n, amount in enumerate(("100.00", "200.00", "300.00"))]


@pytest.fixture
def pay(company, owner):
    def receipt(amount, **refs):
        return receipt_record(actor=owner, company=company, data=ReceiptInput(
            customer_code="C001", date=LATER, amount=Decimal(amount), **refs))
    return receipt


def by_policy(company, owner, receipt, policy, **kw):
    return receipt_allocate_policy(actor=owner, company=company, receipt=receipt.number,
                                   policy=policy, day=LATER, **kw)


def test_oldest_first(company, owner, three_invoices, pay):
    inv1, inv2, inv3 = three_invoices
    receipt = pay("250.00")
    seq = last_seq(company)
    result = by_policy(company, owner, receipt, "oldest_first")
    assert [(p.invoice, p.amount) for p in result.planned] == [(inv1.number, 10000),
                                                               (inv2.number, 15000)]
    assert [settled(i) for i in three_invoices] == [[10000], [15000], [0]]
    assert (result.total, result.unallocated_after) == (25000, 0)
    # one entry for the receipt's allocations: the unapplied cash it gives up, the
    # receivable of each invoice it settles
    [entry] = {row.journal_entry_id for row in result.allocations}
    assert journal(entry) == [
        ("receivable", -15000, -15000, receipt.customer_id),
        ("receivable", -10000, -10000, receipt.customer_id),
        ("unapplied_cash", 25000, 25000, receipt.customer_id)]
    [ev] = events(company, since=seq)
    assert (ev.action, ev.data["policy"], ev.data["source"]) == (
        "allocation.create", "oldest_first", receipt.number)
    assert [a["amount"] for a in ev.data["allocations"]] == ["100.00", "150.00"]


def test_proportional_spreads_by_open_amount_exactly(company, owner, three_invoices, pay):
    receipt = pay("250.00")
    result = by_policy(company, owner, receipt, "proportional")
    # 250 over 100/200/300: 41.67 (the spare cent to the oldest), 83.33, 125.00
    assert [p.amount for p in result.planned] == [4167, 8333, 12500]
    assert [settled(i) for i in three_invoices] == [[4167], [8333], [12500]]


def test_by_reference_pays_the_invoices_named_in_their_order(company, owner, three_invoices,
                                                             pay):
    inv1, inv2, inv3 = three_invoices
    receipt = pay("350.00", payer_reference=f"Remittance {inv3.number.lower()}",
                  memo=f"and {inv1.number.replace('-', ' ')}")
    seq = last_seq(company)
    result = by_policy(company, owner, receipt, "by_reference")
    assert result.references == [inv3.number, inv1.number]
    assert [(p.invoice, p.amount) for p in result.planned] == [(inv3.number, 30000),
                                                               (inv1.number, 5000)]
    # the invoice not named is left alone, even with money left over... here none is
    assert [settled(i) for i in three_invoices] == [[5000], [0], [30000]]
    [ev] = events(company, since=seq)
    assert ev.data["references"] == [inv3.number, inv1.number]


def test_by_reference_without_a_reference_allocates_nothing(company, owner, three_invoices,
                                                            pay):
    receipt = pay("50.00", memo="thanks!")
    before = ledger_state(company)
    result = by_policy(company, owner, receipt, "by_reference")
    assert (result.references, result.planned, result.allocations) == ([], [], [])
    assert ledger_state(company) == before


def test_manual_takes_the_targets(company, owner, three_invoices, pay):
    inv1, inv2, inv3 = three_invoices
    receipt = pay("60.00")
    result = by_policy(company, owner, receipt, "manual",
                       targets=[Target(inv2.number, Decimal("60.00"))])
    assert [(p.invoice, p.amount) for p in result.planned] == [(inv2.number, 6000)]
    assert settled(inv2) == [6000]
    before = ledger_state(company)
    with pytest.raises(AllocationExceedsOpenAmount):
        by_policy(company, owner, pay("500.00"), "manual",
                  targets=[Target(inv1.number, Decimal("100.01"))])
    assert ledger_state(company)["allocations"] == before["allocations"]


@pytest.mark.parametrize("policy", ["oldest_first", "proportional", "by_reference"])
def test_a_dry_run_shows_exactly_what_the_policy_then_does(company, owner, three_invoices,
                                                           pay, policy):
    receipt = pay("333.33", bank_reference=three_invoices[1].number)
    before = ledger_state(company)
    preview = by_policy(company, owner, receipt, policy, dry_run=True)
    assert preview.dry_run and preview.allocations == [] and preview.planned
    assert ledger_state(company) == before
    done = by_policy(company, owner, receipt, policy)
    assert [(p.instalment_id, p.amount) for p in done.planned] == [
        (p.instalment_id, p.amount) for p in preview.planned]
    assert [(a.instalment_id, a.amount) for a in done.allocations] == [
        (p.instalment_id, p.amount) for p in preview.planned]


def test_policy_refusals(company, owner, three_invoices, pay):
    receipt = pay("10.00")
    with pytest.raises(ValidationFailed, match="unknown allocation policy"):
        by_policy(company, owner, receipt, "newest_first")
    with pytest.raises(ValidationFailed, match="needs the invoices"):
        by_policy(company, owner, receipt, "manual")
    with pytest.raises(ValidationFailed, match="manual policy only"):
        by_policy(company, owner, receipt, "oldest_first",
                  targets=[Target(three_invoices[0].number, Decimal("1.00"))])
    with pytest.raises(NotFound):
        receipt_allocate_policy(actor=owner, company=company, receipt="RCT-NOPE",
                                policy="oldest_first", day=LATER)
    with pytest.raises(ValidationFailed, match="before its date"):
        receipt_allocate_policy(actor=owner, company=company, receipt=receipt.number,
                                policy="oldest_first", day=DAY)
    from salesledger.apps.core.services import company_close_period

    company_close_period(actor=owner, company=company, through=LATER)
    with pytest.raises(PeriodClosed):
        by_policy(company, owner, receipt, "oldest_first", dry_run=True)


def test_an_invoice_issued_after_the_day_is_not_a_candidate(company, owner, three_invoices,
                                                            pay, post_invoice):
    post_invoice("C001", lines=[("Later", "1", "999.00", "0")],
                 issue_date=LATER + timedelta(days=1))
    result = by_policy(company, owner, pay("1000.00"), "proportional", dry_run=True)
    assert sum(p.amount for p in result.planned) == 60000


def test_cli_allocate_by_policy_and_dry_run(company, three_invoices, pay, capsys):
    from salesledger.cli.main import main

    receipt = pay("250.00")
    args = ["receipt", "allocate", receipt.number, "--as-of", LATER.isoformat()]
    assert main([*args, "--policy", "proportional", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{receipt.number} would allocate by proportional\n")
    assert "41.67 EUR" in out and "unallocated after: 0.00 EUR" in out
    assert settled(three_invoices[0]) == [0]
    assert main([*args, "--policy", "oldest_first", "--json"]) == 0
    import json

    data = json.loads(capsys.readouterr().out)
    assert (data["policy"], data["dry_run"]) == ("oldest_first", False)
    assert [a["amount"]["amount"] for a in data["allocations"]] == ["100.00", "150.00"]
    assert all(a["allocation"] for a in data["allocations"])
    assert main([*args, "--auto", "--policy", "proportional"]) == 2
    assert "--auto is the oldest_first policy" in capsys.readouterr().err
