"""The ledger as a state machine: random sequences of postings, credit notes, receipts,
allocations (some asking too much) and reversals, with the books checked after every step.

Invariants after each step: ``check_company`` finds nothing; no instalment is settled beyond
its amount or below zero; each customer's balance equals the sum of their open items, now
and as of the current day.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db.models import F, Q, Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from salesledger.apps.core.invariants import check_company
from salesledger.apps.core.services import company_create
from salesledger.apps.customers.services import CustomerInput, customer_create
from salesledger.apps.invoicing.models import Instalment, Invoice
from salesledger.apps.invoicing.services import InvoiceInput, invoice_create, invoice_post
from salesledger.apps.payments.models import Allocation, Receipt
from salesledger.apps.payments.services import (
    ReceiptInput,
    Target,
    allocate,
    allocation_reverse,
    receipt_record,
)
from salesledger.domain.errors import (
    AllocationCustomerMismatch,
    AllocationExceedsOpenAmount,
    AllocationExceedsUnallocated,
    AlreadyReversed,
    CreditExceedsInvoice,
    NegativeAmount,
)
from salesledger.domain.invoicing import LineInput
from tests.support import balances_by_code, ledger_state, open_item_sums

CUSTOMERS = ("A", "B")
START = date(2025, 1, 1)
_company_codes = itertools.count(1)

LINES = st.lists(
    st.builds(LineInput, st.just("item"), st.sampled_from([Decimal(1), Decimal(2), Decimal("0.5"),
                                                           Decimal(7)]),
              st.decimals("0.01", "400.00", places=2), st.sampled_from([Decimal(0), Decimal(20),
                                                                        Decimal("5.5")]),
              st.sampled_from([Decimal(0), Decimal(10)])),
    min_size=1, max_size=3)
CENTS = st.integers(1, 60000)


class LedgerMachine(RuleBasedStateMachine):
    invoices = Bundle("invoices")
    receipts = Bundle("receipts")
    credit_notes = Bundle("credit_notes")
    allocations = Bundle("allocations")

    def __init__(self) -> None:
        super().__init__()
        self.user, _ = get_user_model().objects.get_or_create(username="machine")
        self.company = company_create(actor=self.user, code=f"machine{next(_company_codes)}",
                                      name="Machine", owner=self.user)
        for code in CUSTOMERS:
            customer_create(actor=self.user, company=self.company,
                            data=CustomerInput(code=code, name=f"Customer {code}",
                                               country="FR"))
        self.day = START
        self.reversed: list[int] = []

    # ------------------------------------------------------------ helpers
    def _post(self, customer: str, lines: list[LineInput], **kw: object) -> Invoice:
        draft = invoice_create(actor=self.user, company=self.company, data=InvoiceInput(
            customer_code=customer, issue_date=self.day, lines=lines, **kw))
        return invoice_post(actor=self.user, company=self.company, invoice_id=draft.pk)

    def _open(self, invoice_number: str) -> int:
        return (Instalment.objects.filter(invoice__company=self.company,
                                          invoice__number=invoice_number)
                .aggregate(s=Sum(F("amount") - F("settled")))["s"] or 0)

    def _refused(self, error: type[Exception], call: Callable[[], object]) -> None:
        before = ledger_state(self.company)
        with pytest.raises(error):
            call()
        assert ledger_state(self.company) == before

    # ------------------------------------------------------------ rules
    @initialize(target=invoices, lines=LINES)
    def first_invoices(self, lines: list[LineInput]) -> object:
        return multiple(*[self._post(c, lines, terms_code="30-60-90").number for c in CUSTOMERS])

    @initialize(target=receipts, cents=CENTS)
    def first_receipts(self, cents: int) -> object:
        return multiple(*[self.record_receipt(c, cents, 0) for c in CUSTOMERS])

    @rule(target=invoices, customer=st.sampled_from(CUSTOMERS), lines=LINES,
          terms=st.sampled_from(["NET30", "30-60-90"]), days=st.integers(0, 20))
    def post_invoice(self, customer: str, lines: list[LineInput], terms: str, days: int) -> str:
        self.day += timedelta(days=days)
        inv = self._post(customer, lines, terms_code=terms)
        # an invoice rounded to nothing (0.5 x 0.01 less 10 %) has no instalment at all
        assert sum(inv.instalments.values_list("amount", flat=True)) == inv.total >= 0
        return inv.number

    @rule(target=credit_notes, customer=st.sampled_from(CUSTOMERS), cents=CENTS)
    def post_standalone_credit_note(self, customer: str, cents: int) -> str:
        cn = self._post(customer, [LineInput("credit", Decimal(1), Decimal(cents) / 100)],
                        kind="credit_note")
        assert cn.allocated == 0
        return cn.number

    @rule(target=credit_notes, invoice=invoices, cents=CENTS)
    def post_correcting_credit_note(self, invoice: str, cents: int) -> object:
        inv = Invoice.objects.get(company=self.company, number=invoice)
        credited = (Invoice.objects.filter(corrects=inv, status="posted")
                    .aggregate(s=Sum("total"))["s"] or 0)
        lines = [LineInput("credit", Decimal(1), Decimal(cents) / 100)]
        open_before = self._open(invoice)
        if credited + cents > inv.total:
            before = ledger_state(self.company)
            with pytest.raises(CreditExceedsInvoice):
                self._post(inv.customer.code, lines, kind="credit_note", corrects_number=invoice)
            after = ledger_state(self.company)
            # the refused draft stays a draft; the books did not move
            assert {k: v for k, v in after.items() if k not in ("events", "credit")} == {
                k: v for k, v in before.items() if k not in ("events", "credit")}
            return multiple()
        cn = self._post(inv.customer.code, lines, kind="credit_note", corrects_number=invoice)
        cn.refresh_from_db()
        # applied to the invoice at once, up to what was open
        assert cn.allocated == min(open_before, cents)
        assert self._open(invoice) == open_before - cn.allocated
        return cn.number

    @rule(target=receipts, customer=st.sampled_from(CUSTOMERS), cents=CENTS,
          days=st.integers(0, 20))
    def record_receipt(self, customer: str, cents: int, days: int) -> str:
        self.day += timedelta(days=days)
        return receipt_record(actor=self.user, company=self.company, data=ReceiptInput(
            customer_code=customer, date=self.day, amount=Decimal(cents) / 100)).number

    @rule(target=allocations, receipt=receipts, invoice=invoices,
          how=st.sampled_from(["open", "most", "over_open", "any"]), cents=CENTS,
          same_customer=st.integers(0, 3))
    def allocate_explicit(self, receipt: str, invoice: str, how: str, cents: int,
                          same_customer: int) -> object:
        inv = Invoice.objects.get(company=self.company, number=invoice)
        src = Receipt.objects.get(company=self.company, number=receipt)
        if same_customer and src.customer_id != inv.customer_id:
            # mostly allocate to the payer's own invoices: the interesting cases are there
            src = (Receipt.objects.filter(company=self.company, customer_id=inv.customer_id)
                   .order_by("-allocated", "id").first() or src)
            receipt = src.number
        open_amount, unallocated = self._open(invoice), src.amount - src.allocated
        amount = {"open": open_amount, "most": min(open_amount, unallocated),
                  "over_open": open_amount + 1, "any": cents}[how]

        def call() -> list[Allocation]:
            return allocate(actor=self.user, company=self.company, day=self.day,
                            receipt=receipt, targets=[Target(invoice, Decimal(amount) / 100)])

        if inv.customer_id != src.customer_id:
            self._refused(AllocationCustomerMismatch, call)
        elif amount > open_amount:
            self._refused(AllocationExceedsOpenAmount, call)
        elif amount > unallocated:
            self._refused(AllocationExceedsUnallocated, call)
        elif amount <= 0:
            self._refused(NegativeAmount, call)
        else:
            rows = call()
            assert sum(r.amount for r in rows) == amount
            assert self._open(invoice) == open_amount - amount
            src.refresh_from_db()
            assert src.amount - src.allocated == unallocated - amount
            return multiple(*[r.pk for r in rows])
        return multiple()

    @rule(target=allocations, invoice=invoices, cents=CENTS)
    def customer_pays_an_invoice(self, invoice: str, cents: int) -> object:
        inv = Invoice.objects.get(company=self.company, number=invoice)
        src = (Receipt.objects.filter(company=self.company, customer_id=inv.customer_id,
                                      allocated__lt=F("amount")).order_by("id").first())
        receipt = src.number if src else self.record_receipt(inv.customer.code, cents, 0)
        return self.allocate_explicit(receipt, invoice, "most", cents, 1)

    @rule(target=allocations, source=st.one_of(receipts, credit_notes))
    def allocate_auto(self, source: str) -> object:
        is_receipt = source.startswith("RCT")
        src = (Receipt if is_receipt else Invoice).objects.get(company=self.company,
                                                              number=source)
        left = src.amount - src.allocated if is_receipt else src.total - src.allocated
        owed = (Instalment.objects.filter(company=self.company, customer_id=src.customer_id,
                                          invoice__issue_date__lte=self.day)
                .aggregate(s=Sum(F("amount") - F("settled")))["s"] or 0)
        rows = allocate(actor=self.user, company=self.company, day=self.day, auto=True,
                        receipt=source if is_receipt else None,
                        credit_note=None if is_receipt else source)
        assert sum(r.amount for r in rows) == min(left, owed)
        return multiple(*[r.pk for r in rows])

    @rule(allocation_id=consumes(allocations))
    def reverse_allocation(self, allocation_id: int) -> None:
        orig = Allocation.objects.get(pk=allocation_id)
        settled_before = Instalment.objects.get(pk=orig.instalment_id).settled
        rev = allocation_reverse(actor=self.user, company=self.company, allocation_id=orig.pk,
                                 day=self.day)
        assert (rev.amount, rev.reversal_of_id) == (-orig.amount, orig.pk)
        assert Instalment.objects.get(pk=orig.instalment_id).settled == (
            settled_before - orig.amount)
        self.reversed.append(orig.pk)

    @precondition(lambda self: self.reversed)
    @rule(pick=st.integers(0, 10))
    def reverse_again(self, pick: int) -> None:
        allocation_id = self.reversed[pick % len(self.reversed)]
        self._refused(AlreadyReversed, lambda: allocation_reverse(
            actor=self.user, company=self.company, allocation_id=allocation_id, day=self.day))

    # ------------------------------------------------------------ invariants
    @invariant()
    def books_are_consistent(self) -> None:
        assert [str(p) for p in check_company(self.company)] == []

    @invariant()
    def no_instalment_is_over_settled(self) -> None:
        assert not Instalment.objects.filter(
            Q(settled__gt=F("amount")) | Q(settled__lt=0), company=self.company).exists()

    @invariant()
    def balance_is_the_sum_of_open_items(self) -> None:
        for as_of in (None, self.day, self.day - timedelta(days=15)):
            assert open_item_sums(self.company, as_of) == balances_by_code(self.company, as_of)


@pytest.mark.django_db
def test_ledger_state_machine() -> None:
    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=15, stateful_step_count=15, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
