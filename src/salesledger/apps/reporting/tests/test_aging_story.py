"""Aged receivables told as a story: a month of invoices, a credit note, payments, a wrong
allocation reversed later, a USD invoice paid at another rate, a write-off. Each day's report
is exact (back-dated work included), its buckets sum to its total, and the total is the
receivable control account of that day."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from salesledger.apps.payments.adjustments.write_offs import invoice_adjust
from salesledger.apps.payments.services import allocation_reverse
from salesledger.apps.reporting.selectors import (
    AgingReport,
    ReportFilters,
    aging_items,
    aging_report,
    unapplied_items,
)
from salesledger.domain.errors import UnknownCustomer, ValidationFailed
from salesledger.domain.journal import AccountRole

from .support import control_account

D0 = date(2026, 1, 5)

pytestmark = pytest.mark.django_db


def _day(n: int) -> date:
    return D0 + timedelta(days=n)


@pytest.fixture
def books(company: Any, owner: Any, make_customer: Any, post_invoice: Any,
          record_receipt: Any, allocate_to: Any) -> dict[str, Any]:
    make_customer("C001", terms_code="NET14")
    make_customer("C002", country="DE")
    make_customer("US1", currency="USD", country="US")
    inv1 = post_invoice("C001", lines=[("Audit", "1", "100.00", "20")], issue_date=_day(0))
    inv2 = post_invoice("C001", lines=[("Support", "3", "100.00", "20")], issue_date=_day(1),
                        terms="30-60-90")
    cn = post_invoice("C001", kind="credit_note", lines=[("Goodwill", "1", "10.00", "20")],
                      issue_date=_day(2))
    inv3 = post_invoice("C002", lines=[("Licence", "2", "25.00", "20")], issue_date=_day(3))
    inv4 = post_invoice("US1", lines=[("Hardware", "1", "1000.00", "0")], issue_date=_day(4),
                        rate=Decimal("0.90"), terms="30-60-90")
    r1 = record_receipt("C001", "150.00", _day(10))
    allocate_to(r1.number, auto=True, day=_day(10))
    r2 = record_receipt("C002", "100.00", _day(12))
    [wrong] = allocate_to(r2.number, {inv3.number: "30.00"}, day=_day(12))
    r3 = record_receipt("US1", "400.00", _day(20), currency="USD", rate=Decimal("0.95"))
    allocate_to(r3.number, auto=True, day=_day(20))
    # Back-dated work, written last: the wrong allocation reversed on day 15 and the right
    # one made on day 15; a deduction of 5.00 from inv2 on day 40.
    allocation_reverse(actor=owner, company=company, allocation_id=wrong.pk, day=_day(15))
    allocate_to(r2.number, {inv3.number: "60.00"}, day=_day(15))
    invoice_adjust(actor=owner, company=company, number=inv2.number,
                   kind="deduction", reason_code="pricing", amount=Decimal("5.00"),
                   day=_day(40))
    return {"inv1": inv1, "inv2": inv2, "inv3": inv3, "inv4": inv4, "cn": cn, "r1": r1,
            "r2": r2, "r3": r3}


def _check(report: AgingReport, company: Any) -> None:
    base, per_currency = control_account(company, report.as_of)
    assert report.base_total == base
    assert {c: sum(v) for c, v in report.by_currency.items() if sum(v)} == per_currency
    # the customers' rows add up to the report, bucket by bucket
    n = len(report.buckets)
    assert [sum(r.base[b] for r in report.customers) for b in range(n)] == report.base
    for cur, amounts in report.by_currency.items():
        assert [sum(r.amounts.get(cur, [0] * n)[b] for r in report.customers)
                for b in range(n)] == amounts


def test_every_day_of_the_month_is_exact_and_equals_the_control_account(
        books: dict[str, Any], company: Any) -> None:
    for n in range(-1, 120, 3):
        _check(aging_report(company, as_of=_day(n)), company)
        _check(aging_report(company, as_of=_day(n), by="issue",
                            buckets="30,60"), company)


def test_a_past_day_shows_what_was_open_then(books: dict[str, Any], company: Any) -> None:
    # Day 13: C002's wrong allocation of 30.00 still stood (reversed on day 15).
    r = aging_report(company, as_of=_day(13), filters=ReportFilters(customer="C002"))
    assert r.by_currency == {"EUR": [6000 - 3000, 0, 0, 0, 0, 0]}
    assert r.unapplied == {"EUR": (7000, 7000)}
    # Day 16: 60.00 of it paid; the invoice is due on day 33 (NET30), so "current".
    r = aging_report(company, as_of=_day(16), filters=ReportFilters(customer="C002"))
    assert r.by_currency == {} and r.items == 0 and r.base_total == 0
    assert r.unapplied == {"EUR": (4000, 4000)}


def test_buckets_by_due_date(books: dict[str, Any], company: Any) -> None:
    r = aging_report(company, as_of=_day(50), filters=ReportFilters(customer="C001"))
    # inv1 (120.00, due day 14) paid in full by r1 (150.00 oldest first), the rest of r1
    # (30.00) on inv2's first third (due day 31, 19 days late), less the deduction of 5.00
    # on day 40; the two other thirds not yet due; the credit note of 12.00 (day 2, 48 days
    # old) a negative item.
    assert r.by_currency == {"EUR": [24000, 12000 - 3000 - 500, -1200, 0, 0, 0]}
    labels = [b.label for b in r.buckets]
    assert labels == ["current", "1-30", "31-60", "61-90", "91-120", "over 120"]


def test_base_currency_uses_the_booking_rate(books: dict[str, Any], company: Any) -> None:
    r = aging_report(company, as_of=_day(25), filters=ReportFilters(customer="US1"))
    # 1000 USD in thirds at 0.90, 400 USD paid: the first third (333.33) and 66.67 of the
    # second; open 600.00 USD carried at the booking rate: 540.00 EUR
    assert r.by_currency == {"USD": [60000, 0, 0, 0, 0, 0]}
    assert sum(r.base) == control_account(company, _day(25))[0] - sum(
        aging_report(company, as_of=_day(25),
                     filters=ReportFilters(currency="EUR")).base)
    # 600.00 USD at 0.90, give or take the cent each allocation's base was rounded to
    assert abs(sum(r.base) - 54000) <= 1


def test_detail_items_sum_to_the_summary(books: dict[str, Any], company: Any) -> None:
    for n in (5, 13, 33, 90):
        summary = aging_report(company, as_of=_day(n))
        buckets, items = aging_items(company, as_of=_day(n))
        totals = [0] * len(buckets)
        for i in items:
            totals[i["bucket"]] += i["base_open"]
            assert buckets[i["bucket"]].holds(i["days"])
        assert totals == summary.base


def test_filters(books: dict[str, Any], company: Any) -> None:
    de = aging_report(company, as_of=_day(5), filters=ReportFilters(country="de"))
    assert [c.code for c in de.customers] == ["C002"]
    usd = aging_report(company, as_of=_day(5), filters=ReportFilters(currency="usd"))
    assert list(usd.by_currency) == ["USD"]
    with pytest.raises(UnknownCustomer):
        aging_report(company, as_of=_day(5), filters=ReportFilters(customer="NOPE"))
    for bad in (ReportFilters(country="XX"), ReportFilters(currency="EURO")):
        with pytest.raises(ValidationFailed):
            aging_report(company, as_of=_day(5), filters=bad)
    with pytest.raises(ValidationFailed):
        aging_report(company, as_of=_day(5), by="posted")


def test_an_empty_ledger(company: Any) -> None:
    r = aging_report(company, as_of=D0)
    assert r.base == [0] * 6 and r.customers == [] and r.unapplied == {}


def test_unapplied_cash_and_credit_notes(books: dict[str, Any], company: Any) -> None:
    def listed(n: int) -> list[tuple[str, str, int, int]]:
        return [(i["type"], i["document"], i["open"], i["base_open"])
                for i in unapplied_items(company, as_of=_day(n))]

    assert listed(11) == [("credit_note", books["cn"].number, 1200, 1200)]
    assert listed(13) == [("receipt", books["r2"].number, 7000, 7000),
                          ("credit_note", books["cn"].number, 1200, 1200)]
    assert listed(16) == [("receipt", books["r2"].number, 4000, 4000),
                          ("credit_note", books["cn"].number, 1200, 1200)]
    # the unapplied cash of a day is the unapplied-cash account of that day
    for n in (11, 13, 16, 21, 60):
        cash = sum(i["base_open"] for i in unapplied_items(company, as_of=_day(n),
                                                           kind="receipts"))
        assert cash == -control_account(company, _day(n), AccountRole.UNAPPLIED)[0]


def test_a_report_costs_the_same_few_queries_whatever_the_books(
        books: dict[str, Any], company: Any, post_invoice: Any,
        django_assert_num_queries: Any) -> None:
    # two index look-ups (anything dated after the day?), the grouped cells with the
    # customers' names, the unapplied cash: four, for a past day and for today alike; and
    # the day of the aging summary (not of these days: the items are read)
    for day in (_day(13), _day(400)):
        with django_assert_num_queries(5):
            aging_report(company, as_of=day)
        with django_assert_num_queries(4):
            aging_report(company, as_of=day, summary=False)
    for n in range(6):
        post_invoice("C002", lines=[("More", "1", "10.00", "20")], issue_date=_day(50 + n))
    with django_assert_num_queries(5):
        aging_report(company, as_of=_day(13))
