"""Adjustments as a state machine: random sequences of invoices, receipts, allocations,
payments exactly in full or less the early-payment discount, short payments written off or
deducted, bad-debt write-offs and recoveries, allocations undone, refunds, returned payments
and reversals of each, with the books checked after every step.

Invariants after each step: ``check_company`` finds nothing; no instalment is settled beyond
its amount or below zero; each customer's balance is the sum of their open items and their
share of the receivable and unapplied-cash accounts, now and as of earlier days; and a
customer who paid exactly what was open (or that less the discount, in time) leaves nothing
open, not a minor unit; and a write-off or deduction made with a payment stands only while
that payment does.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db.models import F, Q, Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from salesledger.apps.core.invariants import check_company
from salesledger.apps.core.services import company_create
from salesledger.apps.customers.services import CustomerInput, customer_create
from salesledger.apps.invoicing.models import Instalment, Invoice
from salesledger.apps.invoicing.services import InvoiceInput, invoice_create, invoice_post
from salesledger.apps.payments.adjustments.bad_debts import (
    customer_write_off,
    invoice_recover,
    invoice_write_off,
)
from salesledger.apps.payments.adjustments.settings import settlement_settings_set
from salesledger.apps.payments.adjustments.write_offs import receipt_allocate_short
from salesledger.apps.payments.adjustments.writer import adjustment_reverse
from salesledger.apps.payments.models import Adjustment, Allocation, Receipt, Refund
from salesledger.apps.payments.refunds import receipt_refund, receipt_reverse, refund_reverse
from salesledger.apps.payments.services import (
    ReceiptInput,
    Target,
    allocate,
    allocation_reverse,
    receipt_record,
)
from salesledger.domain.errors import (
    AlreadyReversed,
    NegativeAmount,
    ReceiptReversed,
    RefundExceedsUnapplied,
    ValidationFailed,
    WriteOffExceedsTolerance,
)
from salesledger.domain.invoicing import LineInput
from salesledger.money import Money
from tests.support import balances_by_code, control_by_code, ledger_state, open_item_sums

# A pays 2 % 10 days net 30; B in thirds at 30/60/90 days.
CUSTOMERS = {"A": "2-10-NET30", "B": "30-60-90"}
START = date(2025, 1, 1)
_codes = itertools.count(1)

LINES = st.lists(
    st.builds(LineInput, st.just("item"), st.sampled_from([Decimal(1), Decimal(3)]),
              st.decimals("0.01", "300.00", places=2),
              st.sampled_from([Decimal(0), Decimal(20), Decimal("5.5")])),
    min_size=1, max_size=2)
CENTS = st.integers(1, 40000)
PICK = st.integers(0, 1000)
DAYS = st.integers(0, 12)


def _dec(minor: int) -> Decimal:
    return Money.from_minor(minor, "EUR").amount


class AdjustmentMachine(RuleBasedStateMachine):
    """Each rule picks what it acts on among the rows it can act on now (``pick`` indexes
    them), so that every step does something; refusals are asserted where they arise."""

    def __init__(self) -> None:
        super().__init__()
        self.user, _ = get_user_model().objects.get_or_create(username="adjuster")
        self.company = company_create(actor=self.user, code=f"adjust{next(_codes)}",
                                      name="Adjust", owner=self.user)
        for code, terms in CUSTOMERS.items():
            customer_create(actor=self.user, company=self.company,
                            data=CustomerInput(code=code, name=f"Customer {code}",
                                               terms_code=terms, country="FR"))
        settlement_settings_set(actor=self.user, company=self.company,
                                writeoff_tolerance_amount=Decimal("3.00"),
                                writeoff_tolerance_percent=Decimal("2"))
        self.day = START

    # ------------------------------------------------------------ helpers
    def _open(self, number: str) -> int:
        return (Instalment.objects.filter(invoice__company=self.company, invoice__number=number)
                .aggregate(s=Sum(F("amount") - F("settled")))["s"] or 0)

    def _open_invoices(self) -> list[str]:
        return list(Invoice.objects.filter(
            company=self.company, instalments__settled__lt=F("instalments__amount"))
            .order_by("number").values_list("number", flat=True).distinct())

    def _live_receipts(self) -> Any:
        return Receipt.objects.filter(company=self.company, reversal__isnull=True).order_by("id")

    def _live_refunds(self) -> Any:
        return Refund.objects.filter(company=self.company, amount__gt=0,
                                     reversed_by__isnull=True).order_by("id")

    def _live_adjustments(self) -> Any:
        return Adjustment.objects.filter(company=self.company, amount__gt=0,
                                         reversed_by__isnull=True).order_by("id")

    def _written_off(self) -> Any:
        return self._live_adjustments().filter(kind="bad_debt")

    @staticmethod
    def _pick(rows: Any, pick: int) -> Any:
        items = list(rows)
        return items[pick % len(items)]

    def _refused(self, error: type[Exception] | tuple[type[Exception], ...],
                 call: Callable[[], object]) -> None:
        before = ledger_state(self.company)
        with pytest.raises(error):
            call()
        assert ledger_state(self.company) == before

    def _receipt(self, customer: str, minor: int) -> Receipt:
        return receipt_record(actor=self.user, company=self.company, data=ReceiptInput(
            customer_code=customer, date=self.day, amount=_dec(minor)))

    # ------------------------------------------------------------ documents and money in
    @rule(customer=st.sampled_from(sorted(CUSTOMERS)), lines=LINES, days=DAYS)
    def post_invoice(self, customer: str, lines: list[LineInput], days: int) -> None:
        self.day += timedelta(days=days)
        draft = invoice_create(actor=self.user, company=self.company, data=InvoiceInput(
            customer_code=customer, issue_date=self.day, lines=lines))
        invoice_post(actor=self.user, company=self.company, invoice_id=draft.pk)

    @rule(customer=st.sampled_from(sorted(CUSTOMERS)), cents=CENTS, days=DAYS, auto=st.booleans())
    def receive_on_account(self, customer: str, cents: int, days: int, auto: bool) -> None:
        self.day += timedelta(days=days)
        receipt = self._receipt(customer, cents)
        if auto:
            allocate(actor=self.user, company=self.company, day=self.day,
                     receipt=receipt.number, auto=True)

    @precondition(lambda self: self._open_invoices())
    @rule(pick=PICK, discounted=st.booleans())
    def pay_exactly(self, pick: int, discounted: bool) -> None:
        """The customer pays exactly what is open, or that less the discount when in time:
        nothing may stay open, not a minor unit."""
        invoice = self._pick(self._open_invoices(), pick)
        inv = Invoice.objects.get(company=self.company, number=invoice)
        open_now = self._open(invoice)
        insts = list(inv.instalments.filter(settled__lt=F("amount")))
        discount = 0
        if discounted and len(insts) == 1 and insts[0].settled == 0 and (
                insts[0].discount_date and self.day <= insts[0].discount_date):
            discount = insts[0].discount_amount
        if open_now - discount <= 0:
            return
        receipt = self._receipt(inv.customer.code, open_now - discount)
        allocate(actor=self.user, company=self.company, day=self.day, receipt=receipt.number,
                 targets=[Target(invoice, _dec(open_now - discount))])
        assert self._open(invoice) == 0
        if discount:
            assert Adjustment.objects.filter(invoice=inv, kind="discount", amount=discount,
                                             receipt=receipt).exists()

    @precondition(lambda self: self._open_invoices())
    @rule(pick=PICK, short=st.integers(1, 500),
          mode=st.sampled_from(["write_off", "pricing", "freight"]), dispute=st.booleans())
    def pay_short(self, pick: int, short: int, mode: str, dispute: bool) -> None:
        invoice = self._pick(self._open_invoices(), pick)
        inv = Invoice.objects.get(company=self.company, number=invoice)
        open_now = self._open(invoice)
        if open_now - short <= 0:
            return
        receipt = self._receipt(inv.customer.code, open_now - short)
        write_off = mode == "write_off"

        def call() -> Any:
            return receipt_allocate_short(
                actor=self.user, company=self.company, receipt=receipt.number,
                invoice=invoice, day=self.day, write_off=write_off,
                deduction="" if write_off else mode, dispute_requested=dispute and not write_off)

        if write_off and (short > 300 or short * 100 > inv.total * 2):
            self._refused(WriteOffExceedsTolerance, call)
            return
        result = call()
        assert self._open(invoice) == 0
        if result.adjustment is not None:  # else: the discount earned was the residual
            assert (result.adjustment.kind, result.adjustment.amount) == (
                "write_off" if write_off else "deduction", short)

    # ------------------------------------------------------------ bad debts
    @precondition(lambda self: self._open_invoices())
    @rule(pick=PICK, part=st.sampled_from([None, 1, 2]), tax_relief=st.booleans())
    def write_off_bad_debt(self, pick: int, part: int | None, tax_relief: bool) -> None:
        invoice = self._pick(self._open_invoices(), pick)
        open_now = self._open(invoice)
        amount = open_now if part is None else open_now // (part + 1)
        call = lambda: invoice_write_off(  # noqa: E731
            actor=self.user, company=self.company, number=invoice, day=self.day,
            reason="gone", amount=None if part is None else _dec(amount),
            tax_relief=tax_relief)
        if amount <= 0:
            self._refused((ValidationFailed, NegativeAmount), call)
            return
        call()
        assert self._open(invoice) == open_now - amount

    @precondition(lambda self: len(self._open_invoices()) >= 2)
    @rule(customer=st.sampled_from(sorted(CUSTOMERS)))
    def write_off_customer(self, customer: str) -> None:
        try:
            customer_write_off(actor=self.user, company=self.company, code=customer,
                               day=self.day, reason="ceased trading")
        except ValidationFailed:
            return  # nothing open after its credits: refused, nothing written
        assert balances_by_code(self.company).get((customer, "EUR"), 0) <= 0

    @precondition(lambda self: self._written_off().exists())
    @rule(pick=PICK, cents=CENTS)
    def recover(self, pick: int, cents: int) -> None:
        inv = self._pick(self._written_off(), pick).invoice
        written = (Adjustment.objects.filter(invoice=inv, kind="bad_debt")
                   .aggregate(s=Sum("amount"))["s"] or 0)
        receipt = self._receipt(inv.customer.code, cents)
        open_before = self._open(inv.number)
        result = invoice_recover(actor=self.user, company=self.company, number=inv.number,
                                 receipt=receipt.number, day=self.day)
        paid = min(cents, open_before + written)
        assert result.recovered == max(0, paid - open_before)
        assert self._open(inv.number) == max(0, open_before - paid)

    @precondition(lambda self: self._live_adjustments().exists())
    @rule(pick=PICK)
    def reverse_adjustment(self, pick: int) -> None:
        adj = self._pick(self._live_adjustments(), pick)
        before = self._open(adj.invoice.number)
        adjustment_reverse(actor=self.user, company=self.company, adjustment_id=adj.pk,
                           day=self.day)
        assert self._open(adj.invoice.number) == before + adj.amount
        self._refused(AlreadyReversed, lambda: adjustment_reverse(
            actor=self.user, company=self.company, adjustment_id=adj.pk, day=self.day))

    @precondition(lambda self: self._live_payments().exists())
    @rule(pick=PICK)
    def undo_allocation(self, pick: int) -> None:
        """A payment's allocation undone: it, the discount it earned and the write-off or
        deduction made with it no longer settle anything."""
        a = self._pick(self._live_payments(), pick)
        number = a.instalment.invoice.number
        with_it = (Adjustment.objects.filter(
            invoice=a.instalment.invoice, receipt=a.receipt, kind__in=["write_off", "deduction"],
            amount__gt=0, reversed_by__isnull=True).aggregate(s=Sum("amount"))["s"] or 0)
        # what the payment recovered of a bad debt is written off again, the recovered part
        # first (adjustments.bad_debts.recoveries_lost)
        recovered = -(Adjustment.objects.filter(
            invoice=a.instalment.invoice, receipt=a.receipt, kind="bad_debt")
            .aggregate(s=Sum("amount"))["s"] or 0)
        again = min(a.amount, max(0, recovered))
        before = self._open(number)
        allocation_reverse(actor=self.user, company=self.company, allocation_id=a.pk,
                           day=self.day)
        # a discount on the instalment is lost too, whoever earned it
        assert self._open(number) >= before + a.amount + with_it - again
        assert -(Adjustment.objects.filter(
            invoice=a.instalment.invoice, receipt=a.receipt, kind="bad_debt")
            .aggregate(s=Sum("amount"))["s"] or 0) == max(0, recovered) - again
        self._refused(AlreadyReversed, lambda: allocation_reverse(
            actor=self.user, company=self.company, allocation_id=a.pk, day=self.day))

    def _live_payments(self) -> Any:
        return Allocation.objects.filter(company=self.company, receipt__isnull=False,
                                         amount__gt=0, reversed_by__isnull=True).order_by("id")

    # ------------------------------------------------------------ money out
    @precondition(lambda self: self._live_receipts().filter(allocated__lt=F("amount")).exists())
    @rule(pick=PICK, part=st.sampled_from([1, 2, 3, 0]), undo=st.booleans())
    def refund(self, pick: int, part: int, undo: bool) -> None:
        """All, half or a third of what is unapplied, or a cent more than all (part 0); with
        ``undo``, the refund is reversed at once (the transfer came back)."""
        rc = self._pick(self._live_receipts().filter(allocated__lt=F("amount")), pick)
        unapplied = rc.amount - rc.allocated
        cents = unapplied + 1 if part == 0 else max(1, unapplied // part)
        call = lambda: receipt_refund(  # noqa: E731
            actor=self.user, company=self.company, number=rc.number, day=self.day,
            amount=_dec(cents))
        if part == 0:
            self._refused(RefundExceedsUnapplied, call)
            return
        refund = call()
        rc.refresh_from_db()
        assert rc.amount - rc.allocated == unapplied - cents
        if undo:
            refund_reverse(actor=self.user, company=self.company, number=refund.number,
                           day=self.day)
            rc.refresh_from_db()
            assert rc.amount - rc.allocated == unapplied

    @precondition(lambda self: self._live_refunds().exists())
    @rule(pick=PICK)
    def reverse_refund(self, pick: int) -> None:
        refund = self._pick(self._live_refunds(), pick)
        rc = refund.receipt
        before = rc.amount - rc.allocated
        refund_reverse(actor=self.user, company=self.company, number=refund.number,
                       day=self.day)
        rc.refresh_from_db()
        assert rc.amount - rc.allocated == before + refund.amount

    @precondition(lambda self: self._live_receipts().exists())
    @rule(pick=PICK, fee=st.sampled_from([None, "5.00"]))
    def bounce(self, pick: int, fee: str | None) -> None:
        rc = self._pick(self._live_receipts(), pick)

        def call() -> object:
            return receipt_reverse(actor=self.user, company=self.company, number=rc.number,
                                   day=self.day, reason="returned",
                                   fee=Decimal(fee) if fee else None)

        if self._live_refunds().filter(receipt=rc).exists():
            self._refused(ValidationFailed, call)
            return
        call()
        rc.refresh_from_db()
        assert rc.allocated == rc.amount
        assert not rc.allocations.filter(amount__gt=0, reversed_by__isnull=True).exists()
        # (a bad debt naming it was written off with its recovery of a written-off invoice,
        # or again when it was undone: it stands)
        assert not rc.adjustments.filter(amount__gt=0, reversed_by__isnull=True).exclude(
            kind="bad_debt").exists()
        assert (rc.adjustments.filter(kind="bad_debt").aggregate(s=Sum("amount"))["s"]
                or 0) >= 0
        self._refused(AlreadyReversed, call)
        self._refused(ReceiptReversed, lambda: receipt_refund(
            actor=self.user, company=self.company, number=rc.number, day=self.day))

    # ------------------------------------------------------------ invariants
    @invariant()
    def books_are_consistent(self) -> None:
        assert [str(p) for p in check_company(self.company)] == []

    @invariant()
    def a_residual_stands_only_with_its_payment(self) -> None:
        """A write-off or deduction made with a payment on an invoice stands only while that
        payment still pays something of the invoice."""
        for adj in Adjustment.objects.filter(
                company=self.company, receipt__isnull=False, amount__gt=0,
                reversed_by__isnull=True, kind__in=["write_off", "deduction"]):
            assert Allocation.objects.filter(
                receipt_id=adj.receipt_id, instalment__invoice_id=adj.invoice_id,
                amount__gt=0, reversed_by__isnull=True).exists(), adj.pk

    @invariant()
    def no_instalment_is_over_settled(self) -> None:
        assert not Instalment.objects.filter(
            Q(settled__gt=F("amount")) | Q(settled__lt=0), company=self.company).exists()

    @invariant()
    def balance_is_open_items_is_control(self) -> None:
        now = balances_by_code(self.company)
        assert now == open_item_sums(self.company) == control_by_code(self.company)
        # as of an earlier day, with documents, payments and refunds after it to leave out
        earlier = self.day - timedelta(days=10)
        assert open_item_sums(self.company, earlier) == balances_by_code(self.company, earlier)


@pytest.mark.django_db
def test_adjustment_state_machine() -> None:
    run_state_machine_as_test(AdjustmentMachine, settings=settings(
        max_examples=8, stateful_step_count=20, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
