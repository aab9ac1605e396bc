"""Payments in any currency as a state machine: receipts in the customer's currency or in
another, allocations by every policy (one receipt, or all customers' unapplied cash in
bulk), cross-currency payments, reversals, rate changes, revaluation runs and their
reversal, and the adjustments (bad-debt write-offs, deductions, early-payment discounts,
refunds, bounced receipts, and their reversal), with the books checked after every step.

Invariants after each step: ``check_company`` finds nothing (entries balance in base and
per currency, caches equal their allocations, open items equal the control accounts...);
no instalment is settled beyond its amount; the trial balance is zero; each customer's
balance equals the sum of its open items; and no base residue is left where nothing is open
in a currency: a foreign item settled in full is relieved of exactly its booked base amount.
A customer who pays exactly what is open (in the invoice's currency or, at the day's rate,
in another) leaves nothing open, not one minor unit.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
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
from salesledger.apps.fx.selectors import cross_rate_on
from salesledger.apps.fx.services import fx_revalue, fx_revalue_reverse, rate_add
from salesledger.apps.invoicing.models import Instalment, Invoice
from salesledger.apps.invoicing.services import InvoiceInput, invoice_create, invoice_post
from salesledger.apps.ledger.models import JournalLine
from salesledger.apps.payments.autoallocate import auto_allocate_all
from salesledger.apps.payments.models import Allocation, Receipt
from salesledger.apps.payments.policies import receipt_allocate_policy
from salesledger.apps.payments.services import (
    ReceiptInput,
    Target,
    allocation_reverse,
    receipt_record,
)
from salesledger.domain.errors import AlreadyReversed, LedgerError
from salesledger.domain.fx import available_in, convert_back
from salesledger.domain.invoicing import LineInput
from salesledger.money import Money
from tests.support import balances_by_code, ledger_state, open_item_sums

try:  # the adjustments of the same issue (write-offs, deductions, refunds, bounces)
    from salesledger.apps.payments.adjustments.bad_debts import invoice_write_off
    from salesledger.apps.payments.adjustments.write_offs import invoice_adjust
    from salesledger.apps.payments.adjustments.writer import adjustment_reverse
    from salesledger.apps.payments.refunds import receipt_refund, receipt_reverse
except ImportError:  # pragma: no cover - only while that work is not there
    adjustment_reverse = invoice_adjust = invoice_write_off = None  # type: ignore[assignment]
    receipt_refund = receipt_reverse = None  # type: ignore[assignment]

CUSTOMERS = {"A": "EUR", "B": "EUR", "U": "USD"}
START = date(2025, 1, 1)
RATES = st.sampled_from([Decimal("0.8733"), Decimal("0.90"), Decimal("0.9517"),
                         Decimal("1.0311")])
CENTS = st.integers(1, 90000)
POLICIES = st.sampled_from(["oldest_first", "by_reference", "proportional", "manual"])
_codes = itertools.count(1)


class CurrenciesMachine(RuleBasedStateMachine):
    invoices = Bundle("invoices")
    receipts = Bundle("receipts")
    allocations = Bundle("allocations")
    runs = Bundle("runs")
    adjustments = Bundle("adjustments")

    def __init__(self) -> None:
        super().__init__()
        self.user, _ = get_user_model().objects.get_or_create(username="machine4")
        self.company = company_create(actor=self.user, code=f"fxm{next(_codes)}",
                                      name="Machine", owner=self.user)
        for code, currency in CUSTOMERS.items():
            customer_create(actor=self.user, company=self.company,
                            data=CustomerInput(code=code, name=f"Customer {code}",
                                               currency=currency, country="FR"))
        self.day = START
        rate_add(actor=self.user, company=self.company, currency="USD", rate="0.90", day=START)

    # ------------------------------------------------------------ helpers
    def _post(self, customer: str, cents: int, terms: str, rate: Decimal | None) -> str:
        draft = invoice_create(actor=self.user, company=self.company, data=InvoiceInput(
            customer_code=customer, issue_date=self.day, terms_code=terms, rate=rate,
            lines=[LineInput("item", Decimal(1), Decimal(cents) / 100, Decimal(20))]))
        return invoice_post(actor=self.user, company=self.company,
                            invoice_id=draft.pk).number or ""

    def _receipt(self, customer: str, amount: int, currency: str, rate: Decimal | None = None,
                 memo: str = "") -> str:
        return receipt_record(actor=self.user, company=self.company, data=ReceiptInput(
            customer_code=customer, date=self.day, currency=currency, rate=rate, memo=memo,
            amount=Money.from_minor(amount, currency).amount)).number

    def _open(self, number: str) -> int:
        return (Instalment.objects.filter(company=self.company, invoice__number=number)
                .aggregate(s=Sum(F("amount") - F("settled")))["s"] or 0)

    def _invoice(self, number: str) -> Invoice:
        return Invoice.objects.get(company=self.company, number=number)

    def _unallocated(self, number: str) -> int:
        r = Receipt.objects.get(company=self.company, number=number)
        return r.amount - r.allocated

    def _tolerated(self, call: object) -> object:
        """Run a service that may refuse; a refusal must leave the books as they were."""
        before = ledger_state(self.company)
        try:
            return call()  # type: ignore[operator]
        except LedgerError:
            assert ledger_state(self.company) == before
            return None

    # ------------------------------------------------------------ documents
    @initialize(target=invoices, cents=CENTS)
    def first_invoices(self, cents: int) -> object:
        return multiple(*[self._post(c, cents, "30-60-90", None) for c in CUSTOMERS])

    @rule(target=invoices, customer=st.sampled_from(sorted(CUSTOMERS)), cents=CENTS,
          terms=st.sampled_from(["NET30", "30-60-90", "2-10-NET30"]), rate=st.one_of(
              st.none(), RATES), days=st.integers(0, 12))
    def post_invoice(self, customer: str, cents: int, terms: str, rate: Decimal | None,
                     days: int) -> str:
        self.day += timedelta(days=days)
        return self._post(customer, cents, terms, rate if CUSTOMERS[customer] != "EUR" else None)

    @rule(target=receipts, customer=st.sampled_from(sorted(CUSTOMERS)), cents=CENTS,
          other_currency=st.booleans(), rate=st.one_of(st.none(), RATES),
          names=st.one_of(st.none(), invoices), days=st.integers(0, 12))
    def record_receipt(self, customer: str, cents: int, other_currency: bool,
                       rate: Decimal | None, names: str | None, days: int) -> str:
        self.day += timedelta(days=days)
        own = CUSTOMERS[customer]
        currency = ("USD" if own == "EUR" else "EUR") if other_currency else own
        return self._receipt(customer, cents, currency, rate if currency != "EUR" else None,
                             memo=f"paying {names}" if names else "")

    @rule(rate=RATES, days=st.integers(0, 12))
    def new_rate(self, rate: Decimal, days: int) -> None:
        self.day += timedelta(days=days)
        rate_add(actor=self.user, company=self.company, currency="USD", rate=rate,
                 day=self.day, replace=True)

    # ------------------------------------------------------------ allocations
    @rule(target=allocations, receipt=receipts, policy=POLICIES, invoice=invoices)
    def allocate_by_policy(self, receipt: str, policy: str, invoice: str) -> object:
        src = Receipt.objects.get(company=self.company, number=receipt)
        targets = None
        if policy == "manual":
            inv = self._invoice(invoice)
            if inv.customer_id != src.customer_id or inv.issue_date > self.day:
                return multiple()
            rate = cross_rate_on(self.company, src.currency, inv.currency, self.day)
            can_pay = available_in(src.amount - src.allocated, src.currency, inv.currency,
                                   rate)
            amount = min(self._open(invoice), can_pay)
            if amount <= 0:
                return multiple()
            targets = [Target(invoice, Money.from_minor(amount, inv.currency).amount)]
        preview = receipt_allocate_policy(actor=self.user, company=self.company,
                                          receipt=receipt, policy=policy, day=self.day,
                                          targets=targets, dry_run=True)
        before = src.amount - src.allocated
        done = receipt_allocate_policy(actor=self.user, company=self.company, receipt=receipt,
                                       policy=policy, day=self.day, targets=targets)
        assert [(p.instalment_id, p.amount, p.source_amount) for p in done.planned] == [
            (p.instalment_id, p.amount, p.source_amount) for p in preview.planned]
        assert self._unallocated(receipt) == before - done.total >= 0
        return multiple(*[a.pk for a in done.allocations])

    @rule(target=allocations, invoice=invoices, cross=st.booleans(), named=st.booleans())
    def customer_pays_exactly(self, invoice: str, cross: bool, named: bool) -> object:
        """A new payment of exactly what is open, allocated by naming the invoice (in the
        transfer's reference, or by hand); it must leave nothing open."""
        inv = self._invoice(invoice)
        open_amount = self._open(invoice)
        if open_amount <= 0:
            return multiple()
        currency = ("USD" if inv.currency == "EUR" else "EUR") if cross else inv.currency
        amount, rate = open_amount, Decimal(1)
        if cross:
            rate = cross_rate_on(self.company, currency, inv.currency, self.day)
            amount = convert_back(open_amount, inv.currency, currency, rate)
            while available_in(amount, currency, inv.currency, rate) < open_amount:
                amount += 1
        by_reference = named and not cross  # the automatic policies stay in one currency
        receipt = self._receipt(inv.customer.code, amount, currency,
                                memo=f"invoice {invoice}" if by_reference else "")
        done = receipt_allocate_policy(
            actor=self.user, company=self.company, receipt=receipt,
            policy="by_reference" if by_reference else "manual", day=self.day,
            targets=None if by_reference else [
                Target(invoice, Money.from_minor(open_amount, inv.currency).amount)])
        assert self._open(invoice) == 0
        if available_in(amount, currency, inv.currency, rate) == open_amount:
            assert self._unallocated(receipt) == 0  # paid exactly: used exactly
        return multiple(*[a.pk for a in done.allocations])

    @rule(policy=st.sampled_from(["oldest_first", "by_reference", "proportional"]),
          chunk=st.integers(1, 3))
    def allocate_everyones_cash(self, policy: str, chunk: int) -> None:
        preview = auto_allocate_all(actor=self.user, company=self.company, day=self.day,
                                    policy=policy, dry_run=True, chunk_customers=chunk)
        before = Allocation.objects.filter(company=self.company).count()
        result = auto_allocate_all(actor=self.user, company=self.company, day=self.day,
                                   policy=policy, chunk_customers=chunk)
        assert result.run is not None and result.run.status == "finished"
        assert (result.allocations, result.totals) == (preview.allocations, preview.totals)
        assert Allocation.objects.filter(company=self.company).count() >= (
            before + result.allocations)

    @rule(allocation_id=consumes(allocations))
    def reverse_allocation(self, allocation_id: int) -> None:
        orig = Allocation.objects.get(pk=allocation_id)
        try:
            rev = allocation_reverse(actor=self.user, company=self.company,
                                     allocation_id=orig.pk, day=self.day)
        except AlreadyReversed:  # its receipt was reversed meanwhile
            return
        assert (rev.amount, rev.source_amount) == (
            -orig.amount, None if orig.source_amount is None else -orig.source_amount)

    # ------------------------------------------------------------ revaluation
    @rule(target=runs)
    def revalue(self) -> object:
        done = fx_revalue(actor=self.user, company=self.company, as_of=self.day)
        again = fx_revalue(actor=self.user, company=self.company, as_of=self.day)
        assert again.run.pk == done.run.pk and not again.created
        return done.run.pk

    @rule(run_id=consumes(runs))
    def revalue_reverse(self, run_id: int) -> None:
        self._tolerated(lambda: fx_revalue_reverse(actor=self.user, company=self.company,
                                                   run_id=run_id))

    # ------------------------------------------------------------ adjustments
    @precondition(lambda self: invoice_write_off is not None)
    @rule(target=adjustments, invoice=invoices)
    def write_off_bad_debt(self, invoice: str) -> object:
        if self._open(invoice) <= 0:
            return multiple()
        adj = invoice_write_off(actor=self.user, company=self.company, number=invoice,
                                day=self.day, reason="insolvent")
        assert self._open(invoice) == 0
        return adj.pk

    @precondition(lambda self: invoice_adjust is not None)
    @rule(target=adjustments, invoice=invoices, cents=CENTS,
          reason=st.sampled_from(["pricing", "damaged_goods", "freight"]))
    def deduction(self, invoice: str, cents: int, reason: str) -> object:
        open_amount = self._open(invoice)
        if open_amount <= 0:
            return multiple()
        amount = min(cents, open_amount)
        currency = self._invoice(invoice).currency
        adj = invoice_adjust(actor=self.user, company=self.company, number=invoice,
                             kind="deduction", day=self.day, reason_code=reason,
                             amount=Money.from_minor(amount, currency).amount)
        assert self._open(invoice) == open_amount - amount
        return adj.pk

    @precondition(lambda self: adjustment_reverse is not None)
    @rule(adjustment_id=consumes(adjustments))
    def undo_adjustment(self, adjustment_id: int) -> None:
        self._tolerated(lambda: adjustment_reverse(actor=self.user, company=self.company,
                                                   adjustment_id=adjustment_id, day=self.day))

    @precondition(lambda self: receipt_refund is not None)
    @rule(receipt=receipts, half=st.booleans())
    def refund(self, receipt: str, half: bool) -> None:
        left = self._unallocated(receipt)
        if left <= 0:
            return
        currency = Receipt.objects.get(company=self.company, number=receipt).currency
        amount = left // 2 if half and left > 1 else left
        self._tolerated(lambda: receipt_refund(
            actor=self.user, company=self.company, number=receipt, day=self.day,
            amount=Money.from_minor(amount, currency).amount))

    @precondition(lambda self: receipt_reverse is not None)
    @rule(receipt=consumes(receipts))
    def bounce(self, receipt: str) -> None:
        self._tolerated(lambda: receipt_reverse(actor=self.user, company=self.company,
                                                number=receipt, day=self.day,
                                                reason="returned direct debit"))

    # ------------------------------------------------------------ invariants
    @invariant()
    def books_are_consistent(self) -> None:
        assert [str(p) for p in check_company(self.company)] == []

    @invariant()
    def no_instalment_is_over_settled(self) -> None:
        assert not Instalment.objects.filter(
            Q(settled__gt=F("amount")) | Q(settled__lt=0), company=self.company).exists()

    @invariant()
    def books_balance(self) -> None:
        total = JournalLine.objects.filter(company=self.company).aggregate(s=Sum("amount"))
        assert (total["s"] or 0) == 0

    @invariant()
    def balance_is_the_sum_of_open_items(self) -> None:
        for as_of in (None, self.day):
            assert open_item_sums(self.company, as_of) == balances_by_code(self.company, as_of)

    @invariant()
    def nothing_open_means_no_base_left(self) -> None:
        carried: dict[tuple[str, int, str], list[int]] = defaultdict(lambda: [0, 0])
        for role, customer, currency, cur, base in (
                JournalLine.objects.filter(company=self.company,
                                           account__role__in=["receivable", "unapplied_cash"])
                .values_list("account__role", "customer_id", "currency")
                .annotate(cur=Sum("amount_currency"), base=Sum("amount"))
                .values_list("account__role", "customer_id", "currency", "cur", "base")):
            carried[(role, customer, currency)] = [cur, base]
        residue = {k: v for k, v in carried.items() if v[0] == 0 and v[1] != 0}
        assert residue == {}


@pytest.mark.django_db
def test_payments_in_any_currency_as_a_state_machine() -> None:
    run_state_machine_as_test(CurrenciesMachine, settings=settings(
        max_examples=10, stateful_step_count=15, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
