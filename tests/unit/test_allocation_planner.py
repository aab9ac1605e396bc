"""The pure planners of the one writers (docs/design/allocation.md): a batch is planned request
after request, each against what the earlier ones left; nothing exceeds what is open or
unallocated; the first broken rule refuses the batch with the command's error code; a receipt's
problems are its own; of several payments on an instalment the last one earns its discount."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesledger.domain.adjustment_plan import (
    AdjustedInvoice,
    AdjustedItem,
    DiscountCandidate,
    Payment,
    plan_discounts,
)
from salesledger.domain.allocation import (
    AllocationBooks,
    AllocationRequest,
    InstalmentDoc,
    InvoiceDoc,
    SourceDoc,
    SourceKind,
    SourceRef,
    ToInstalment,
    ToInvoice,
    allocation_lines,
    plan_allocations,
    planned_entries,
)
from salesledger.domain.errors import LedgerError
from salesledger.domain.journal import check_balanced
from salesledger.domain.policies import Policy
from salesledger.domain.receipts import Payer, ReceiptBooks, ReceiptRequest, plan_receipts

DAY = date(2025, 3, 1)
RECEIPT = SourceRef(SourceKind.RECEIPT, id=1)


def _books(receipt_open: int, opens: list[int], *, customer: int = 7) -> AllocationBooks:
    source = SourceDoc(SourceKind.RECEIPT, 1, "RCT-1", 7, "EUR", DAY, True, 100_000,
                       100_000 - receipt_open, 100_000, Decimal(1))
    insts = {n: InstalmentDoc(n, 10, "INV-1", n, customer, "EUR", DAY + timedelta(days=n),
                              DAY, 10_000, 10_000 - o, 10_000, Decimal(1))
             for n, o in enumerate(opens, start=1)}
    invoice = InvoiceDoc(10, "INV-1", True, True, customer, "EUR", DAY)
    return AllocationBooks("EUR", {RECEIPT: source}, {"INV-1": invoice}, insts, {})


def _code(requests: list[AllocationRequest], books: AllocationBooks) -> str:
    with pytest.raises(LedgerError) as refused:
        plan_allocations(requests, books)
    return refused.value.code


LINES = st.lists(st.tuples(st.integers(1, 3), st.integers(1, 12_000)), min_size=1, max_size=6)


@given(st.integers(0, 30_000), st.lists(st.integers(0, 10_000), min_size=3, max_size=3), LINES)
def test_a_plan_never_exceeds_what_is_open_or_unallocated(receipt_open, opens, lines):
    books = _books(receipt_open, opens)
    request = AllocationRequest(RECEIPT, DAY, tuple(ToInstalment(i, a) for i, a in lines))
    try:
        plan = plan_allocations([request], books)
    except LedgerError as exc:
        assert exc.code in ("allocation_exceeds_open_amount", "allocation_exceeds_unallocated")
        return
    taken = sum(r.amount for r in plan.rows)
    assert taken <= receipt_open
    assert plan.allocated == {("receipt", 1): 100_000 - receipt_open + taken}
    for pk, settled in plan.settled.items():
        assert books.instalments[pk].settled <= settled <= books.instalments[pk].amount


@given(st.lists(st.integers(0, 10_000), min_size=3, max_size=3),
       st.lists(LINES, min_size=1, max_size=3), st.sampled_from(["1", "1.1", "0.97"]))
def test_one_entry_per_request_books_what_its_allocations_book(opens, requests, rate):
    # a receipt booked at ``rate`` (the invoice at 1: shares realise exchange differences),
    # paying in one or more requests, each on a day of its own
    books = replace(_books(30_000, opens), base_currency="GBP")  # the documents in EUR
    src = books.sources[RECEIPT]
    books.sources[RECEIPT] = src._replace(rate=Decimal(rate),
                                          base_whole=int(src.whole * Decimal(rate)))
    batch = [AllocationRequest(RECEIPT, DAY + timedelta(days=n),
                               tuple(ToInstalment(i, a) for i, a in lines))
             for n, lines in enumerate(requests)]
    try:
        plan = plan_allocations(batch, books)
    except LedgerError:
        return
    entries = planned_entries(plan.rows)
    # one entry per request that allocated something, naming each of its rows once
    assert [e.rows for e in entries] == [
        [n for n, r in enumerate(plan.rows) if r.request == k]
        for k in sorted({r.request for r in plan.rows})]
    for e in entries:
        check_balanced(e.lines)
        rows = [plan.rows[n] for n in e.rows]
        assert {r.day for r in rows} == {e.day}
        # the unapplied cash in one line, each share's receivable in its own
        assert [li.role for li in e.lines].count("unapplied_cash") == 1
        assert sorted(li.amount_currency for li in e.lines if li.role == "receivable") == \
            sorted(-r.amount for r in rows)

        def summed(lines: list) -> dict:
            out: dict = {}
            for li in lines:
                k = (li.role, li.currency, li.customer_id)
                out[k] = (out.get(k, (0, 0))[0] + li.amount,
                          out.get(k, (0, 0))[1] + li.amount_currency)
            return out

        # what the entry books is what the allocations' own lines book, and each
        # allocation's own lines are those its row's values give (what a reversal negates)
        assert summed(e.lines) == summed([li for r in rows for li in r.lines or []])
        for r in rows:
            assert r.lines == allocation_lines(
                True, r.source.customer_id, r.currency, r.amount, r.base_unapplied,
                r.base_receivable, None, r.source_amount, r.instalment.customer_id)


@given(st.integers(0, 30_000), st.lists(st.integers(0, 10_000), min_size=3, max_size=3), LINES)
def test_a_batch_is_its_requests_one_after_the_other(receipt_open, opens, lines):
    books = _books(receipt_open, opens)
    requests = [AllocationRequest(RECEIPT, DAY, (ToInstalment(i, a),)) for i, a in lines]
    try:
        together = plan_allocations(requests, books)
    except LedgerError as exc:
        together_code = exc.code
    else:
        together_code = "ok"
    # the same requests planned one by one, the books carried forward by hand
    code = "ok"
    rows = []
    for request in requests:
        try:
            plan = plan_allocations([request], books)
        except LedgerError as exc:
            code = exc.code
            break
        rows.extend((r.instalment.id, r.amount, r.base_receivable) for r in plan.rows)
        source = books.sources[RECEIPT]
        books = replace(books, sources={RECEIPT: source._replace(
            allocated=plan.allocated[("receipt", 1)])}, instalments={
            pk: i._replace(settled=plan.settled.get(pk, i.settled))
            for pk, i in books.instalments.items()})
    assert together_code == code
    if code == "ok":
        assert [(r.instalment.id, r.amount, r.base_receivable) for r in together.rows] == rows


def test_the_first_broken_rule_refuses_in_the_commands_order():
    books = _books(5_000, [10_000, 10_000, 0])
    early = DAY - timedelta(days=1)
    # the day before the receipt comes before anything else the request breaks
    assert _code([AllocationRequest(RECEIPT, early, (ToInvoice("INV-9", Decimal("-1")),))],
                 books) == "invalid"
    # another customer's invoice before the invoice that does not exist
    other = _books(5_000, [10_000], customer=8)
    assert _code([AllocationRequest(RECEIPT, DAY, (ToInstalment(1, 100),))],
                 other) == "allocation_customer_mismatch"
    assert _code([AllocationRequest(RECEIPT, DAY, (ToInvoice("INV-9", Decimal(1)),))],
                 books) == "not_found"
    # more than is open (on the invoice) comes before more than is unallocated
    assert _code([AllocationRequest(RECEIPT, DAY, (ToInvoice("INV-1", Decimal("300")),))],
                 books) == "allocation_exceeds_open_amount"
    assert _code([AllocationRequest(RECEIPT, DAY, (ToInvoice("INV-1", Decimal("60")),))],
                 books) == "allocation_exceeds_unallocated"
    assert _code([AllocationRequest(SourceRef(SourceKind.RECEIPT, number="RCT-X"), DAY)],
                 books) == "not_found"


def test_a_policy_spreads_what_is_unallocated_oldest_first():
    plan = plan_allocations([AllocationRequest(RECEIPT, DAY, policy=Policy.OLDEST_FIRST)],
                            _books(15_000, [0, 10_000, 10_000]))
    assert [(r.instalment.id, r.amount, r.open_after) for r in plan.rows] == [
        (2, 10_000, 0), (3, 5_000, 5_000)]
    assert plan.references == {0: []}


def test_each_receipt_has_its_own_problem_in_the_commands_order():
    def check(day: date) -> None:
        if day < DAY:
            raise LedgerError("closed")

    books = ReceiptBooks("EUR", {"C1": Payer(1, "C1", "Acme", "")}, {1: Payer(1, "C1", "Acme", "")},
                         {("EUR", None, DAY): Decimal(1), ("EUR", None, DAY - timedelta(1)):
                          Decimal(1)}, check, ("bank_transfer",), {"MAIN": (1, 11)}, "MAIN")
    plan = plan_receipts([
        ReceiptRequest(DAY, Decimal("10.00"), customer_code="C1"),
        ReceiptRequest(DAY, Decimal("10.00"), customer_code="C9"),
        ReceiptRequest(DAY, Decimal("0.001"), customer_code="C1"),
        ReceiptRequest(DAY, -5, customer_id=1),
        ReceiptRequest(DAY, 500, customer_id=1, method="cash"),
        ReceiptRequest(DAY - timedelta(1), 500, customer_id=1, currency="XXX"),
        ReceiptRequest(DAY - timedelta(1), 500, customer_id=1),
        ReceiptRequest(DAY, 500, customer_id=1, bank_account="SAVINGS"),
    ], books)
    assert [(p.position, p.amount, p.base_amount, p.bank_account)
            for p in plan.receipts] == [(0, 1000, 1000, (1, 11))]
    assert [(n, exc.code) for n, exc in plan.problems] == [
        (1, "unknown_customer"), (2, "invalid"), (3, "negative_amount"), (4, "invalid"),
        (5, "invalid"), (6, "ledger_error"), (7, "not_found")]


def test_of_several_payments_on_an_instalment_the_last_one_earns_its_discount():
    invoice = AdjustedInvoice(10, "INV-1", 7, "EUR", Decimal(1), 2_000, 12_000, DAY)
    candidate = DiscountCandidate(AdjustedItem(1, DAY, 12_000, 11_760, 12_000, 11_760),
                                  invoice, 240, DAY + timedelta(days=10),
                                  (DAY + timedelta(days=2), DAY + timedelta(days=4)), False)
    payments = [Payment(1, "RCT-1", DAY + timedelta(days=2), DAY + timedelta(days=2), (1,)),
                Payment(2, "RCT-2", DAY + timedelta(days=4), DAY + timedelta(days=4), (1,))]
    [discount] = plan_discounts(payments, [candidate], with_tax=False, base_currency="EUR")
    assert (discount.receipt_number, discount.day, discount.amount, discount.base_amount) == (
        "RCT-2", DAY + timedelta(days=4), 240, 240)
    assert discount.shares[0].settled_after == 12_000
    # taken already, or paid late: nothing
    assert plan_discounts(payments, [candidate._replace(taken=True)], with_tax=False,
                          base_currency="EUR") == []
    late = candidate._replace(paid_on=(DAY + timedelta(days=11),))
    assert plan_discounts(payments, [late], with_tax=False, base_currency="EUR") == []
