"""The aged receivables of any day are exact, on generated ledgers and on the demo company;
and a customer's statement for a period adds up.

Hypothesis writes a ledger in the order people work, not in date order: invoices in EUR and
USD, receipts (some in USD at another rate), allocations dated back to any day from the
receipt on, reversals dated later still, credit notes applied or left open, deductions, refunds
and payments the bank returned. Then,
for days before, between and after all of it, the report (rolled back from today's caches,
reporting/aging.py) must equal what a plain reading of the rows dated up to that day gives,
item by item; its buckets must sum to its total; and its base total must be the receivable
control account of the day in the journal, as must each currency's total in that currency.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Sum
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from salesledger.apps.core.services import company_create
from salesledger.apps.customers.models import Customer
from salesledger.apps.customers.services import CustomerInput, customer_create
from salesledger.apps.interchange.demo import demo_load
from salesledger.apps.invoicing.models import Instalment, Invoice
from salesledger.apps.invoicing.services import InvoiceInput, invoice_create, invoice_post
from salesledger.apps.payments.adjustments.write_offs import invoice_adjust
from salesledger.apps.payments.models import Allocation, ReceiptReversal, Refund
from salesledger.apps.payments.refunds import receipt_refund, receipt_reverse
from salesledger.apps.payments.services import (
    ReceiptInput,
    Target,
    allocate,
    allocation_reverse,
    receipt_record,
)
from salesledger.apps.reporting import kpis
from salesledger.apps.reporting.kpi_keep import kept_parts, kpi_inputs_among
from salesledger.apps.reporting.kpi_keep import kpi_inputs as kept_kpi_inputs
from salesledger.apps.reporting.kpis import (
    add_months,
    kpi_inputs_by,
    month_end,
    month_end_receivables,
    receivable_at,
)
from salesledger.apps.reporting.selectors import (
    aging_items,
    aging_report,
    customer_statement,
    unapplied_items,
)
from salesledger.apps.reporting.tests.support import control_account
from salesledger.apps.reporting.trends import (
    cohort_rows,
    cohort_rows_reference,
    fold_segments,
)
from salesledger.domain.errors import LedgerError
from salesledger.domain.invoicing import LineInput
from salesledger.domain.journal import AccountRole
from salesledger.domain.kpis import MonthInputs

START = date(2026, 1, 1)
_codes = itertools.count(1)

DOCUMENTS = st.lists(st.one_of(
    st.tuples(st.just("invoice"), st.integers(0, 2), st.integers(100, 90000),
              st.integers(0, 60), st.sampled_from(["NET30", "30-60-90", "NET14"])),
    st.tuples(st.just("credit"), st.integers(0, 2), st.integers(100, 20000), st.integers(0, 60),
              st.booleans()),
    st.tuples(st.just("receipt"), st.integers(0, 2), st.integers(100, 90000),
              st.integers(0, 60), st.booleans()),
), min_size=3, max_size=12)
ALLOCATE = st.tuples(st.just("allocate"), st.integers(0, 30), st.integers(0, 30),
                     st.integers(1, 100), st.integers(0, 40))
REVERSE = st.tuples(st.just("reverse"), st.integers(0, 30), st.integers(0, 40))
WORK = st.lists(st.one_of(
    ALLOCATE, ALLOCATE, ALLOCATE, REVERSE, REVERSE,
    st.tuples(st.just("deduct"), st.integers(0, 30), st.integers(1, 5000), st.integers(0, 40)),
    st.tuples(st.just("refund"), st.integers(0, 30), st.integers(1, 100), st.integers(0, 40)),
    st.tuples(st.just("return"), st.integers(0, 30), st.integers(0, 40)),
), min_size=2, max_size=14)
# Documents first, then the work on them, in any order and dated back or forth.
OPS = st.tuples(DOCUMENTS, WORK).map(lambda p: p[0] + p[1])


class Books:
    """A fresh company and what has been written in it."""

    def __init__(self) -> None:
        self.user, _ = get_user_model().objects.get_or_create(username="aging")
        self.company = company_create(actor=self.user, code=f"aging{next(_codes)}",
                                      name="Aging", owner=self.user)
        self.customers = ["A", "B", "U"]
        for code in self.customers:
            customer_create(actor=self.user, company=self.company, data=CustomerInput(
                code=code, name=code, country="FR", currency="USD" if code == "U" else ""))
        self.invoices: list[Invoice] = []
        self.receipts: list[Any] = []
        self.allocations: list[int] = []

    def _post(self, customer: str, cents: int, day: date, **kw: Any) -> Invoice:
        rate = Decimal("0.9") if customer == "U" else None
        draft = invoice_create(actor=self.user, company=self.company, data=InvoiceInput(
            customer_code=customer, issue_date=day, rate=rate,
            lines=[LineInput("x", Decimal(1), Decimal(cents) / 100)], **kw))
        return invoice_post(actor=self.user, company=self.company, invoice_id=draft.pk)

    def run(self, op: tuple[Any, ...]) -> None:
        kind, *a = op
        try:
            if kind == "invoice":
                inv = self._post(self.customers[a[0]], a[1], START + timedelta(days=a[2]),
                                 terms_code=a[3])
                self.invoices.append(inv)
            elif kind == "credit":
                corrects = ""
                if a[3]:  # correcting an invoice of the customer: applied at once
                    mine = [i for i in self.invoices if i.customer.code == self.customers[a[0]]]
                    corrects = mine[-1].number if mine else ""
                day = START + timedelta(days=a[2])
                self._post(self.customers[a[0]], a[1], day, kind="credit_note",
                           corrects_number=corrects)
            elif kind == "receipt":
                code = self.customers[a[0]]
                rate = (Decimal("0.95") if a[3] else Decimal("0.9")) if code == "U" else None
                self.receipts.append(receipt_record(
                    actor=self.user, company=self.company, data=ReceiptInput(
                        customer_code=code, date=START + timedelta(days=a[2]),
                        amount=Decimal(a[1]) / 100, currency="USD" if code == "U" else "",
                        rate=rate)))
            elif kind == "allocate" and self.receipts and self.invoices:
                rc = self.receipts[a[0] % len(self.receipts)]
                rc.refresh_from_db()
                mine = [i for i in self.invoices if i.customer_id == rc.customer_id] or \
                    self.invoices
                inv = mine[a[1] % len(mine)]
                owed = sum(i.amount - i.settled for i in inv.instalments.all())
                # a share (a[2] %) of what can be allocated, at least a cent
                cents = max(1, min(owed, rc.amount - rc.allocated) * a[2] // 100)
                day = max(rc.date, inv.issue_date) + timedelta(days=a[3])
                rows = allocate(actor=self.user, company=self.company, day=day,
                                receipt=rc.number, targets=[Target(inv.number,
                                                                   Decimal(cents) / 100)])
                self.allocations += [r.pk for r in rows]
            elif kind == "reverse" and self.allocations:
                # mostly one of the latest allocations
                orig = Allocation.objects.get(
                    pk=self.allocations[-1 - a[0] % min(3, len(self.allocations))])
                allocation_reverse(actor=self.user, company=self.company,
                                   allocation_id=orig.pk,
                                   day=orig.date + timedelta(days=a[1]))
            elif kind == "deduct" and self.invoices:
                inv = self.invoices[a[0] % len(self.invoices)]
                invoice_adjust(actor=self.user, company=self.company, number=inv.number,
                               kind="deduction", reason_code="pricing",
                               amount=Decimal(a[1]) / 100,
                               day=inv.issue_date + timedelta(days=a[2]))
            elif kind == "refund" and self.receipts:
                rc = self.receipts[a[0] % len(self.receipts)]
                rc.refresh_from_db()
                cents = max(1, (rc.amount - rc.allocated) * a[1] // 100)
                receipt_refund(actor=self.user, company=self.company, number=rc.number,
                               amount=Decimal(cents) / 100, day=rc.date + timedelta(days=a[2]))
            elif kind == "return" and self.receipts:
                # the bank returns a payment: its allocations are reversed with it
                rc = self.receipts[a[0] % len(self.receipts)]
                receipt_reverse(actor=self.user, company=self.company, number=rc.number,
                                day=rc.date + timedelta(days=a[1]), reason="returned")
        except LedgerError as exc:
            # refused (too much, already reversed, nothing open): nothing was written
            event(f"refused {kind}: {exc.code}")


def plain_open_items(company: Any, as_of: date) -> dict[tuple[str, int], tuple[int, int]]:
    """What was open on ``as_of``, read the simplest way: each instalment and credit note
    issued by then, less every allocation dated up to then, in document and base currency."""
    out: dict[tuple[str, int], tuple[int, int]] = {}
    settled: dict[int, tuple[int, int]] = defaultdict(lambda: (0, 0))
    for r in (Allocation.objects.filter(company=company, date__lte=as_of)
              .values("instalment_id").annotate(s=Sum("amount"), b=Sum("base_receivable"))):
        settled[r["instalment_id"]] = (r["s"], r["b"])
    for i in Instalment.objects.filter(company=company, invoice__issue_date__lte=as_of):
        s, b = settled[i.pk]
        if i.amount - s:
            out[("instalment", i.pk)] = (i.amount - s, i.base_amount - b)
    used: dict[int, tuple[int, int]] = defaultdict(lambda: (0, 0))
    for r in (Allocation.objects.filter(company=company, date__lte=as_of,
                                        credit_note__isnull=False)
              .values("credit_note_id").annotate(s=Sum("amount"), b=Sum("base_unapplied"))):
        used[r["credit_note_id"]] = (r["s"], r["b"])
    for c in Invoice.objects.filter(company=company, kind="credit_note", status="posted",
                                    issue_date__lte=as_of):
        s, b = used[c.pk]
        if c.total - s:
            out[("credit_note", c.pk)] = (-(c.total - s), -(c.base_total - b))
    return out


def assert_exact(company: Any, as_of: date, buckets: str = "current,30,60,90") -> None:
    report = aging_report(company, as_of=as_of, buckets=buckets)
    base, per_currency = control_account(company, as_of)
    assert report.base_total == base
    assert {c: sum(v) for c, v in report.by_currency.items() if sum(v)} == per_currency
    plain = plain_open_items(company, as_of)
    assert report.items == len(plain)
    assert report.base_total == sum(b for _, b in plain.values())
    # unapplied cash beside the buckets: the unapplied-cash account, and the list
    cash = -control_account(company, as_of, AccountRole.UNAPPLIED)[0]
    assert sum(b for _, b in report.unapplied.values()) == cash
    assert cash == sum(i["base_open"] for i in unapplied_items(company, as_of=as_of,
                                                                kind="receipts"))
    _, streamed = aging_items(company, as_of=as_of, buckets=buckets)
    items = list(streamed)
    listed = sorted((i["type"], i["open"], i["base_open"]) for i in items)
    assert listed == sorted((k[0], o, b) for k, (o, b) in plain.items())
    # customer by customer, currency by currency and bucket by bucket, the report's grouped
    # statement (a past day: what is open now and what was allocated after the day, summed
    # apart) is its items summed: no customer without an item open on the day
    n = len(report.buckets)
    amounts: dict[str, dict[str, list[int]]] = defaultdict(dict)
    bases: dict[str, list[int]] = {}
    for i in items:
        amounts[i["customer"]].setdefault(i["currency"], [0] * n)[i["bucket"]] += i["open"]
        bases.setdefault(i["customer"], [0] * n)[i["bucket"]] += i["base_open"]
    assert {c.code: c.amounts for c in report.customers} == amounts
    assert {c.code: c.base for c in report.customers} == bases


@pytest.mark.django_db
@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_every_day_is_exact_after_back_dated_allocations_and_reversals(
        ops: list[tuple[Any, ...]]) -> None:
    books = Books()
    for n, op in enumerate(ops):
        if n == len(ops) // 2:
            # the company's KPI figures kept halfway: the rest, dated back or not, may make
            # them stale, and a filter's figures taken from them must still be the books'
            for currency in ("", "USD"):
                kept_kpi_inputs(books.company, KPI_MONTHS, currency, keep=True)
        books.run(op)
    allocs = Allocation.objects.filter(company=books.company)
    event(f"allocations: {allocs.filter(amount__gt=0).exists()}, "
          f"reversals: {allocs.filter(amount__lt=0).exists()}")
    event(f"refunds: {Refund.objects.filter(company=books.company).exists()}, returned: "
          f"{ReceiptReversal.objects.filter(company=books.company).exists()}")
    for n in (-1, 0, 7, 15, 29, 31, 45, 60, 75, 100, 140, 400):
        assert_exact(books.company, START + timedelta(days=n))
    assert_month_ends_at_once(books.company, date(2025, 12, 31), 15)
    for n in (-1, 20, 45, 100, 130, 400):
        assert_cohorts_as_reference(books.company, START + timedelta(days=n))
    assert_customers_kept_as_segment(books.company)
    assert_set_is_the_company_less_the_others(books.company)
    for code in books.customers:
        for first, last in ((0, 20), (21, 70), (0, 400)):
            assert_statement_adds_up(books.company, code, START + timedelta(days=first),
                                     START + timedelta(days=last))


def assert_month_ends_at_once(company: Any, first: date, count: int) -> None:
    """The KPIs' one statement for many month ends gives, on each, what the aging of that
    day gives (receivable, not yet due, over 90 days)."""
    ends = [month_end(add_months(first, k)) for k in range(count)]
    at_once = month_end_receivables(company, ends)
    assert at_once == {e: receivable_at(company, e) for e in ends}
    # any run of consecutive month ends, not only from the first
    assert month_end_receivables(company, ends[3:5]) == {e: at_once[e] for e in ends[3:5]}


def assert_cohorts_as_reference(company: Any, as_of: date) -> None:
    """The trends' two grouped statements give, cohort by cohort and segment by segment,
    what the reference's join of every item to its payments gives: the whole company, by
    country, by customer and in a document currency."""
    first, last = date(2025, 12, 1), date(2026, 3, 1)
    for kw in ({}, {"by_country": True}, {"by_customer": True}, {"currency": "USD"},
               {"currency": "EUR", "by_customer": True}):
        rows = cohort_rows(company, first=first, last=last, as_of=as_of, **kw)
        assert rows == cohort_rows_reference(company, first=first, last=last, as_of=as_of, **kw)
    # of a set of customers: the reference's rows by customer, of those, folded
    ids = set(Customer.objects.filter(company=company, code__in=["A", "U"])
              .values_list("pk", flat=True))
    by_customer = cohort_rows_reference(company, first=first, last=last, as_of=as_of,
                                        by_customer=True)
    assert cohort_rows(company, first=first, last=last, as_of=as_of, customers=ids) == \
        fold_segments([r for r in by_customer if int(r.segment) in ids], dict.fromkeys(ids, ""))


def assert_customers_kept_as_segment(company: Any) -> None:
    """The KPIs' inputs of a set of customers, each query keeping their rows, are those of
    the segment of those customers when every row is grouped by customer."""
    months = [add_months(date(2025, 12, 1), k) for k in range(5)]
    ids = dict(Customer.objects.filter(company=company).values_list("code", "pk"))
    for chosen in ({"A"}, {"A", "U"}, set()):
        kept = {ids[c] for c in chosen}
        of = {pk: "in" if pk in kept else "out" for pk in ids.values()} | {0: "in"}
        for currency in ("", "USD"):
            assert kpi_inputs_by(company, months, None, currency, kept)[""] == \
                kpi_inputs_by(company, months, of, currency)["in"]


KPI_MONTHS = [add_months(date(2025, 12, 1), k) for k in range(5)]


def fold_inputs(segments: list[Any], shape: Any) -> Any:
    """The KPIs' inputs of several segments summed, month by month (``shape``: any one's,
    for the months, the days and the countback's months); of none, zeros."""
    summed = [f.name for f in dataclasses.fields(MonthInputs) if f.name != "days"]
    out = []
    for k, (m, inputs, history) in enumerate(shape):
        totals = {f: sum(getattr(s[k][1], f) for s in segments) for f in summed}
        out.append((m, dataclasses.replace(inputs, **totals),
                    [(sum(s[k][2][j][0] for s in segments), days)
                     for j, (_, days) in enumerate(history)]))
    return out


def assert_set_is_the_company_less_the_others(company: Any) -> None:
    """The KPIs' inputs of a set of customers are the sum of theirs, each customer a
    segment: read from the set's rows (sought by customer, or kept from the company's in
    the order of due dates), or for a set of most customers the company's figures (kept at
    the version of halfway if no later write made them stale, else from the books; then kept
    again now) less those of the others."""
    ids = dict(Customer.objects.filter(company=company).values_list("code", "pk"))
    of = {pk: code for code, pk in ids.items()}
    seek = kpis.SEEK_AT_MOST
    try:
        for kpis.SEEK_AT_MOST in (seek, 0):  # a set's items sought by customer, or kept
            for chosen in ({"A", "U"}, {"A", "B", "U"}, {"B"}, set()):
                kept = {ids[c] for c in chosen}
                for currency in ("", "USD"):
                    direct = kpi_inputs_by(company, KPI_MONTHS, of, currency)
                    want = fold_inputs([direct[c] for c in sorted(chosen)], direct["A"])
                    assert kpi_inputs_by(company, KPI_MONTHS, None, currency, kept)[""] == want
                    assert kpi_inputs_among(company, KPI_MONTHS, currency, kept) == want
                    kept_kpi_inputs(company, KPI_MONTHS, currency, keep=True)
                    assert kept_parts(company, KPI_MONTHS, currency) is not None
                    assert kpi_inputs_among(company, KPI_MONTHS, currency, kept) == want
    finally:
        kpis.SEEK_AT_MOST = seek


def assert_statement_adds_up(company: Any, code: str, start: date, end: date) -> None:
    """Opening balance + the period's movements = closing balance, in every currency, and
    the closing balance is the customer's balance of that day."""
    st = customer_statement(company, code=code, start=start, end=end)
    moved: dict[str, int] = defaultdict(int, st.opening)
    for m in st.movements:
        assert start <= m.date <= end
        moved[m.currency] += m.amount
    assert {c: v for c, v in moved.items() if v} == {c: v for c, v in st.closing.items() if v}


@pytest.mark.django_db
def test_the_demo_company_is_exact_on_every_month_end() -> None:
    demo_load(code="agingdemo", customers=25)
    from salesledger.apps.core.selectors import company_resolve

    company = company_resolve("agingdemo")
    for month in range(24):  # the last day of each month of 2025 and 2026
        first_of_next = date(2025 + (month + 1) // 12, (month + 1) % 12 + 1, 1)
        assert_exact(company, first_of_next - timedelta(days=1))
    assert_month_ends_at_once(company, date(2025, 1, 31), 24)
    for day in (date(2025, 6, 30), date(2026, 11, 20)):
        for kw in ({}, {"by_country": True}, {"by_customer": True}):
            first = add_months(day.replace(day=1), -23)
            assert cohort_rows(company, first=first, last=day, as_of=day, **kw) == \
                cohort_rows_reference(company, first=first, last=day, as_of=day, **kw)
    report = aging_report(company, as_of=date(2026, 11, 20))
    assert report.items > 20 and report.base_total > 0
    for row in report.customers[:8]:
        assert_statement_adds_up(company, row.code, date(2025, 7, 1), date(2026, 6, 30))
