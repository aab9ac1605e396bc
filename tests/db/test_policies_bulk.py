"""Bulk automatic allocation of every customer's unapplied cash: chunked, resumable after a
crash, idempotent, with a dry run; the same result as allocating receipt by receipt."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from conftest import DAY
from django.db import connection
from django.test.utils import CaptureQueriesContext

from salesledger.apps.core.invariants import check_company
from salesledger.apps.invoicing.models import Instalment
from salesledger.apps.payments import autoallocate
from salesledger.apps.payments.autoallocate import auto_allocate_all
from salesledger.apps.payments.models import Allocation, Receipt
from salesledger.apps.payments.services import ReceiptInput, receipt_record
from salesledger.apps.runs.models import AllocationRun
from salesledger.domain.errors import RunInProgress, ValidationFailed
from tests.support import events, last_seq, ledger_state

LATER = DAY + timedelta(days=15)


def grow(company, owner, make_customer, post_invoice, first, count):
    """``count`` customers, each owing two invoices (100.00 then 50.00 in thirds) and having
    paid 120.00 (naming its second invoice) and 10.00; one in four has nothing to pay."""
    for n in range(first, first + count):
        code = f"K{n:03d}"
        make_customer(code)
        if n % 4 == 3:
            _pay(company, owner, code, "20.00")
            continue
        post_invoice(code, lines=[("A", "1", "100.00", "0")], issue_date=DAY)
        second = post_invoice(code, lines=[("B", "1", "50.00", "0")], terms="30-60-90",
                              issue_date=DAY + timedelta(days=1))
        _pay(company, owner, code, "120.00", memo=f"invoice {second.number}")
        _pay(company, owner, code, "10.00")


def _pay(company, owner, code, amount, **kw):
    return receipt_record(actor=owner, company=company, data=ReceiptInput(
        customer_code=code, date=DAY + timedelta(days=2), amount=Decimal(amount), **kw))


@pytest.fixture
def books(company, owner, make_customer, post_invoice):
    grow(company, owner, make_customer, post_invoice, 0, 6)
    return company


def state(company):
    return (sorted(Instalment.objects.filter(company=company).values_list("id", "settled")),
            sorted(Receipt.objects.filter(company=company).values_list("id", "allocated")))


def test_every_customers_cash_is_allocated_oldest_first(books, owner):
    company = books
    seq = last_seq(company)
    result = auto_allocate_all(actor=owner, company=company, day=LATER, policy="oldest_first",
                               chunk_customers=2)
    run = result.run
    assert (run.status, result.customers, result.receipts, result.allocations) == (
        "finished", 6, 10, 20)
    assert result.totals == {"EUR": 5 * 13000}
    # each paying customer: 100.00 settled, then 30.00 of the thirds of the 50.00 invoice
    per_customer = {}
    for inst in Instalment.objects.filter(company=company).order_by("customer_id", "due_date",
                                                                    "id"):
        per_customer.setdefault(inst.customer_id, []).append(inst.settled)
    assert sorted(per_customer.values()) == [[10000, 1666, 1334, 0]] * 5
    # the customer with nothing to pay keeps its cash on account
    assert list(Receipt.objects.filter(company=company, allocated=0).values_list(
        "customer__code", "amount")) == [("K003", 2000)]
    assert [str(p) for p in check_company(company)] == []
    actions = [e.action for e in events(company, since=seq)]
    assert actions[0] == "allocation_run.start" and actions[-1] == "allocation_run.finish"
    assert actions.count("allocation.create") == 10  # one per receipt that paid something


def test_bulk_gives_what_allocating_receipt_by_receipt_gives(owner, make_customer,
                                                             post_invoice, company):
    from salesledger.apps.payments.services import allocate

    grow(company, owner, make_customer, post_invoice, 0, 4)
    expected_alloc = []
    sid = connection.savepoint()
    for r in Receipt.objects.filter(company=company).order_by("customer_id", "date", "id"):
        expected_alloc += [(a.receipt_id, a.instalment_id, a.amount) for a in allocate(
            actor=owner, company=company, day=LATER, receipt=r.number, auto=True)]
    expected = state(company)
    connection.savepoint_rollback(sid)
    auto_allocate_all(actor=owner, company=company, day=LATER, policy="oldest_first")
    assert state(company) == expected
    assert sorted(Allocation.objects.filter(company=company).values_list(
        "receipt_id", "instalment_id", "amount")) == sorted(expected_alloc)


def test_by_reference_pays_the_named_invoice_first(books, owner):
    auto_allocate_all(actor=owner, company=books, day=LATER, policy="by_reference")
    # the 120.00 names the 50.00 invoice: it is paid in full, the 70.00 left stays unapplied
    for receipt in Receipt.objects.filter(company=books, memo__startswith="invoice"):
        assert receipt.allocated == 5000
        assert sorted(Allocation.objects.filter(receipt=receipt).values_list(
            "instalment__invoice__number", flat=True).distinct()) == [receipt.memo.split()[1]]


def test_a_crash_loses_only_the_chunk_in_flight_and_the_run_resumes(books, owner,
                                                                    monkeypatch):
    company = books
    real = autoallocate.allocations_make
    calls = []

    def crash_on_second_chunk(**kw):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("power cut")
        return real(**kw)

    monkeypatch.setattr(autoallocate, "allocations_make", crash_on_second_chunk)
    with pytest.raises(RuntimeError):
        auto_allocate_all(actor=owner, company=company, day=LATER, chunk_customers=2)
    run = AllocationRun.objects.get(company=company)
    first_two = sorted(Receipt.objects.filter(company=company).values_list(
        "customer_id", flat=True).distinct())[:2]
    assert (run.status, run.last_customer_id, run.customers) == ("running", first_two[-1], 2)
    done_before = Allocation.objects.filter(company=company).count()
    assert done_before == run.allocations > 0
    # another policy may not start while this run is unfinished
    with pytest.raises(RunInProgress, match=f"--resume {run.pk}"):
        auto_allocate_all(actor=owner, company=company, day=LATER, policy="proportional")
    # running again continues after the last customer done, and allocates nothing twice
    monkeypatch.setattr(autoallocate, "allocations_make", real)
    result = auto_allocate_all(actor=owner, company=company, day=LATER, chunk_customers=2)
    assert (result.run.pk, result.resumed, result.run.status) == (run.pk, True, "finished")
    assert result.allocations == Allocation.objects.filter(company=company).count() == 20
    assert [str(p) for p in check_company(company)] == []


def test_a_finished_run_resumed_allocates_nothing(books, owner):
    company = books
    first = auto_allocate_all(actor=owner, company=company, day=LATER)
    before = ledger_state(company)
    again = auto_allocate_all(actor=owner, company=company, day=LATER, resume=first.run.pk)
    assert (again.run.pk, again.allocations) == (first.run.pk, first.allocations)
    assert ledger_state(company) == before
    # a new run finds only what is new
    fresh = auto_allocate_all(actor=owner, company=company, day=LATER)
    assert (fresh.run.pk != first.run.pk, fresh.allocations) == (True, 0)


def test_a_dry_run_writes_nothing_and_predicts_the_run(books, owner):
    company = books
    before = ledger_state(company)
    preview = auto_allocate_all(actor=owner, company=company, day=LATER, dry_run=True,
                                chunk_customers=4, preview_limit=5)
    assert ledger_state(company) == before and not AllocationRun.objects.exists()
    assert (preview.run, preview.allocations, preview.receipts) == (None, 20, 10)
    assert len(preview.preview) == 5
    assert set(preview.preview[0]) == {"receipt", "customer", "invoice", "seq", "currency",
                                       "amount"}
    real = auto_allocate_all(actor=owner, company=company, day=LATER, chunk_customers=3)
    assert (real.allocations, real.totals) == (preview.allocations, preview.totals)


def _reads(ctx):
    return [q["sql"] for q in ctx.captured_queries if q["sql"].lstrip().startswith("SELECT")]


def test_queries_grow_with_chunks_not_with_rows(company, owner, make_customer, post_invoice):
    # the same number of chunks reads with the same queries, whatever the chunk holds; the
    # writes are multi-row statements (a few per table and chunk, by power-of-two sizes)
    grow(company, owner, make_customer, post_invoice, 0, 4)
    sid = connection.savepoint()
    with CaptureQueriesContext(connection) as small:
        auto_allocate_all(actor=owner, company=company, day=LATER, chunk_customers=2)
    connection.savepoint_rollback(sid)
    grow(company, owner, make_customer, post_invoice, 4, 12)
    with CaptureQueriesContext(connection) as large:
        auto_allocate_all(actor=owner, company=company, day=LATER, chunk_customers=8)
    assert Allocation.objects.filter(company=company).count() == 48
    assert len(_reads(large)) == len(_reads(small))
    assert len(large.captured_queries) <= len(small.captured_queries) + 2 * 12


def test_bad_requests(company, owner):
    with pytest.raises(ValidationFailed, match="oldest_first, by_reference, proportional"):
        auto_allocate_all(actor=owner, company=company, day=LATER, policy="manual")
    with pytest.raises(ValidationFailed, match="at least one customer"):
        auto_allocate_all(actor=owner, company=company, day=LATER, chunk_customers=0)


def test_cli_auto_allocate(books, capsys):
    import json

    from salesledger.cli.main import main

    assert main(["receipt", "auto-allocate", "--dry-run", "--as-of", LATER.isoformat()]) == 0
    out = capsys.readouterr().out
    assert out.startswith("dry run: would allocate 20 allocations from 10 receipts of 6 "
                          "customers by oldest_first on 2025-03-25\n  650.00 EUR\n")
    assert main(["receipt", "auto-allocate", "--as-of", LATER.isoformat(), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["status"], data["allocations"], data["totals"]) == (
        "finished", 20, [{"amount": "650.00", "currency": "EUR"}])
    assert main(["receipt", "auto-allocate", "--resume", str(data["run"])]) == 0
    assert "(resumed): allocated 20 allocations" in capsys.readouterr().out


def test_early_payment_discounts_are_taken_as_one_allocation_takes_them(company, owner,
                                                                         make_customer,
                                                                         post_invoice):
    from salesledger.apps.payments.models import Adjustment

    # given 100.00 due in 30 days with 2 % off until day 10, and a later invoice of 50.00
    make_customer("D001")
    first = post_invoice("D001", lines=[("A", "1", "100.00", "0")], terms="2-10-NET30")
    later = post_invoice("D001", lines=[("B", "1", "50.00", "0")],
                         issue_date=DAY + timedelta(days=1))
    # the customer pays 98.00 on day 5 and 30.00 on day 6
    _pay(company, owner, "D001", "98.00")
    receipt_record(actor=owner, company=company, data=ReceiptInput(
        customer_code="D001", date=DAY + timedelta(days=6), amount=Decimal("30.00")))
    # when all unapplied cash is allocated in bulk
    auto_allocate_all(actor=owner, company=company, day=DAY + timedelta(days=7))
    # then the discount settles the first invoice, and the second payment goes to the later
    [discount] = Adjustment.objects.filter(company=company)
    assert (discount.kind, discount.amount, discount.invoice_id) == ("discount", 200, first.pk)
    assert [i.amount - i.settled for i in Instalment.objects.filter(invoice=first)] == [0]
    assert [i.settled for i in Instalment.objects.filter(invoice=later)] == [3000]
    assert [str(p) for p in check_company(company)] == []


def test_a_command_killed_after_recording_a_new_run_leaves_it_running_with_no_work(
        books, owner, monkeypatch):
    """The kill harness's after-kill check: a finished run, then the same command again
    (its first answer lost with a killed process) killed between recording its run and
    finding nothing left. That second run is running with nothing allocated; it did none
    of the job's work, and the next command finishes it. Two runs that allocated are
    reported."""
    from tests.faults.harness import _allocation_after_kill

    company = books
    first = auto_allocate_all(actor=owner, company=company, day=LATER)

    def killed(*args, **kw):
        raise KeyboardInterrupt("SIGKILL")

    monkeypatch.setattr(autoallocate, "_next_chunk", killed)
    with pytest.raises(KeyboardInterrupt):
        auto_allocate_all(actor=owner, company=company, day=LATER)
    second = AllocationRun.objects.get(company=company, status="running")
    assert (second.pk != first.run.pk, second.allocations) == (True, 0)
    assert _allocation_after_kill() == []
    monkeypatch.undo()
    again = auto_allocate_all(actor=owner, company=company, day=LATER)
    assert (again.run.pk, again.resumed, again.run.status, again.allocations) == (
        second.pk, True, "finished", 0)
    assert _allocation_after_kill() == []
    AllocationRun.objects.filter(pk=second.pk).update(allocations=1)
    assert "2 allocation runs did the job's work" in _allocation_after_kill()
