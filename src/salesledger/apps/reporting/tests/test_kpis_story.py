"""The KPIs of the worked example of docs/design/kpis.md, from a ledger written through the
services; and the trends of a generated ledger with a known late-payment behaviour."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from tests.unit.test_kpis import FEB, JAN_TO_MAR, MAR

from salesledger.apps.payments.adjustments.bad_debts import invoice_write_off
from salesledger.apps.payments.services import allocation_reverse
from salesledger.apps.reporting.selectors import ReportFilters, kpi_report, trend_report
from salesledger.domain.errors import ValidationFailed
from salesledger.domain.kpis import month_kpis

pytestmark = pytest.mark.django_db


def _pay(record_receipt: Any, allocate_to: Any, number: str, amount: str, day: date,
         customer: str = "C001") -> Any:
    r = record_receipt(customer, amount, day)
    return allocate_to(r.number, {number: amount}, day=day)


def _write_example(company: Any, owner: Any, post_invoice: Any, record_receipt: Any,
                   allocate_to: Any, customer: str, currency: str = "",
                   rate: Decimal | None = None) -> None:
    """The worked example's ledger for ``customer``, in ``currency`` at ``rate`` (units of
    the company's currency per unit of it) when given, in the company's otherwise."""

    def invoice(amount: str, day: date) -> str:
        return str(post_invoice(customer, lines=[("Work", "1", amount, "0")], issue_date=day,
                                terms="NET30", currency=currency, rate=rate).number)

    def pay(number: str, amount: str, day: date) -> Any:
        r = record_receipt(customer, amount, day, currency=currency, rate=rate)
        return allocate_to(r.number, {number: amount}, day=day)

    inv1 = invoice("1000.00", date(2026, 1, 10))  # due 9 February
    inv2 = invoice("500.00", date(2026, 1, 20))  # due 19 February
    pay(inv1, "1000.00", date(2026, 2, 5))
    inv3 = invoice("2000.00", date(2026, 2, 15))  # due 17 March
    pay(inv2, "500.00", date(2026, 3, 1))
    invoice("600.00", date(2026, 3, 10))  # due 9 April
    pay(inv3, "1500.00", date(2026, 3, 20))
    # a payment applied by mistake and undone the same month does not count as paid
    [wrong] = pay(inv3, "100.00", date(2026, 3, 21))
    allocation_reverse(actor=owner, company=company, allocation_id=wrong.pk,
                       day=date(2026, 3, 22))
    invoice_write_off(actor=owner, company=company, number=inv3, day=date(2026, 3, 31),
                      reason="the customer's business failed", amount=Decimal("100.00"))


@pytest.fixture
def example(company: Any, owner: Any, make_customer: Any, post_invoice: Any,
            record_receipt: Any, allocate_to: Any) -> None:
    make_customer("C001")
    _write_example(company, owner, post_invoice, record_receipt, allocate_to, "C001")


def test_the_worked_example_from_the_books(example: None, company: Any) -> None:
    jan, feb, mar = kpi_report(company, as_of=date(2026, 4, 3), months=3)
    assert [m.month for m in (jan, feb, mar)] == ["2026-01", "2026-02", "2026-03"]
    assert feb.inputs == FEB
    assert mar.inputs == MAR
    assert feb.kpis == month_kpis(FEB, JAN_TO_MAR[1:])
    assert mar.kpis == month_kpis(MAR, JAN_TO_MAR)
    # January: everything it sold is owed and not yet due; nothing collectable, so no CEI
    assert jan.kpis.dso == jan.kpis.best_dso == Decimal("31.0")
    assert jan.kpis.cei is None and jan.kpis.days_to_pay is None


def test_the_kpis_of_a_set_of_customers(example: None, company: Any, make_customer: Any,
                                        post_invoice: Any, record_receipt: Any,
                                        allocate_to: Any) -> None:
    """Another customer beside the example's: the KPIs filtered to C001 are the example's,
    to C002 its own, and the two add up to the company's."""
    make_customer("C002", country="DE")
    inv = post_invoice("C002", lines=[("Work", "1", "300.00", "0")],
                       issue_date=date(2026, 2, 3), terms="NET30").number
    _pay(record_receipt, allocate_to, str(inv), "300.00", date(2026, 3, 10), customer="C002")
    as_of = date(2026, 4, 3)
    _, feb, mar = kpi_report(company, as_of=as_of, months=3, filters=ReportFilters(
        customer="C001"))
    assert (feb.inputs, mar.inputs) == (FEB, MAR)
    assert mar.kpis == month_kpis(MAR, JAN_TO_MAR)
    _, feb2, mar2 = kpi_report(company, as_of=as_of, months=3, filters=ReportFilters(
        country="de"))
    assert (feb2.inputs.sales, mar2.inputs.paid, mar2.inputs.receivable_end) == (30000, 30000, 0)
    whole = kpi_report(company, as_of=as_of, months=3)
    assert [w.inputs.sales for w in whole] == [150000, 230000, 60000]
    assert whole[2].inputs.paid == MAR.paid + mar2.inputs.paid
    # a filter that keeps nobody: zero inputs, figures without a divisor
    [none] = kpi_report(company, as_of=as_of, months=1, filters=ReportFilters(country="IT"))
    assert (none.inputs.sales, none.inputs.receivable_end, none.kpis.dso) == (0, 0, None)


def test_the_kpis_in_a_document_currency_are_of_its_documents_in_it(
        example: None, company: Any, owner: Any, make_customer: Any, post_invoice: Any,
        record_receipt: Any, allocate_to: Any) -> None:
    """docs/design/kpis.md, "In a document currency": the worked example written again for
    an American customer in USD, booked and paid at 0.5 EUR to the dollar. The KPIs in USD
    are the example's, figure for figure, in dollars; those in EUR, the EUR example's alone;
    in the company's currency, the two together at the booking rates."""
    make_customer("U001", currency="USD", country="US")
    _write_example(company, owner, post_invoice, record_receipt, allocate_to, "U001",
                   currency="USD", rate=Decimal("0.5"))
    as_of = date(2026, 4, 3)
    for currency in ("USD", "usd", "EUR"):
        jan, feb, mar = kpi_report(company, as_of=as_of, months=3,
                                   filters=ReportFilters(currency=currency))
        assert (feb.inputs, mar.inputs) == (FEB, MAR), currency
        assert mar.kpis == month_kpis(MAR, JAN_TO_MAR), currency
        assert jan.kpis.dso == Decimal("31.0"), currency
    # in EUR at the booking rates: the EUR example plus half of the USD one; the ratios
    # (days, percentages) are the example's, both halves having the same shape
    _, feb, mar = kpi_report(company, as_of=as_of, months=3)
    assert (feb.inputs.sales, mar.inputs.paid, mar.inputs.bad_debt) == (
        FEB.sales * 3 // 2, MAR.paid * 3 // 2, MAR.bad_debt * 3 // 2)
    assert mar.kpis == month_kpis(MAR, JAN_TO_MAR) and mar.inputs != MAR
    # one customer and one currency: the American's dollars; the French customer has none
    _, _, mine = kpi_report(company, as_of=as_of, months=3,
                            filters=ReportFilters(customer="U001", currency="USD"))
    assert mine.inputs == MAR
    [none] = kpi_report(company, as_of=as_of, months=1,
                        filters=ReportFilters(customer="C001", currency="USD"))
    assert (none.inputs.sales, none.inputs.receivable_end, none.kpis.dso) == (0, 0, None)
    with pytest.raises(ValidationFailed, match="not an ISO 4217 currency code"):
        kpi_report(company, as_of=as_of, filters=ReportFilters(currency="DOLLARS"))
    # the trends likewise: the USD invoices' cohorts in dollars (invoice 2's 500.00 paid 10
    # days late, invoice 3's 1,500.00 3 days late), and in the company's currency both
    usd = trend_report(company, as_of=as_of, months=4, filters=ReportFilters(currency="USD"))
    assert [(t.row.cohort, t.row.items, t.row.amount, t.row.late_amount.part) for t in usd] == [
        ("2026-01", 2, 150000, 50000), ("2026-02", 1, 200000, 150000),
        ("2026-03", 1, 60000, 0)]
    whole = trend_report(company, as_of=as_of, months=4)
    assert [(t.row.items, t.row.amount, t.row.late_amount.part) for t in whole] == [
        (4, 225000, 75000), (2, 300000, 225000), (2, 90000, 0)]


def test_months_are_whole_and_bounded(example: None, company: Any) -> None:
    assert [m.month for m in kpi_report(company, as_of=date(2026, 3, 31), months=2)] == [
        "2026-02", "2026-03"]
    assert [m.month for m in kpi_report(company, as_of=date(2026, 3, 30), months=1)] == [
        "2026-02"]
    for bad in (0, 121):
        with pytest.raises(ValidationFailed):
            kpi_report(company, as_of=date(2026, 3, 31), months=bad)


# ---------------------------------------------------------------- trends
def test_a_month_of_late_payers_is_flagged(company: Any, owner: Any, make_customer: Any,
                                           post_invoice: Any, record_receipt: Any,
                                           allocate_to: Any) -> None:
    """Ten invoices a month for eight months, due 30 days after the 1st; one of the ten is
    paid ten days late, except in the seventh month where six are. In the third month one
    is never paid and another is written off as a bad debt 120 days after its due date."""
    make_customer("C001")
    make_customer("D001", country="DE")
    late_in = {m: 1 for m in range(1, 9)} | {7: 6}
    for m in range(1, 9):
        issued = date(2025, m, 1)
        due = issued + timedelta(days=30)
        for k in range(10):
            who = "D001" if k == 0 else "C001"
            inv = post_invoice(who, lines=[("Work", "1", "100.00", "0")], issue_date=issued,
                               terms="NET30")
            if m == 3 and k == 8:
                continue  # never paid
            if m == 3 and k == 9:
                invoice_write_off(actor=owner, company=company, number=inv.number,
                                  day=due + timedelta(days=120), reason="insolvent")
                continue
            day = due + timedelta(days=10) if k < late_in[m] else due - timedelta(days=5)
            _pay(record_receipt, allocate_to, inv.number, "100.00", day, customer=who)
    rows = trend_report(company, as_of=date(2025, 12, 31), months=12)
    assert [t.row.cohort for t in rows] == [f"2025-{m:02d}" for m in range(1, 9)]
    late = [t.row.late.percent for t in rows]
    assert late == [Decimal("10.0")] * 6 + [Decimal("60.0"), Decimal("10.0")]
    assert [t.row.late_amount.part for t in rows] == [10000] * 6 + [60000, 10000]
    assert [t.flagged for t in rows] == [()] * 6 + [("late",), ()]
    march = rows[2].row
    assert (march.unpaid_90.part, march.unpaid_90.whole) == (2, 10)  # the unpaid and the bad
    assert march.unpaid_90_amount.part == 20000
    assert (march.written_off.part, march.written_off_amount.part) == (1, 10000)
    # on 15 November, August's items (due 31 August) are not yet 90 days past due: none is
    # counted in the rate; July's (due 31 July) are
    november = trend_report(company, as_of=date(2025, 11, 15), months=12)
    assert [t.row.unpaid_90.whole for t in november][-2:] == [10, 0]
    # by country: the German customer has one invoice a month and the French one nine,
    # too few (under ten) to flag anything, though July's French rate is 5 of 9
    by_country = trend_report(company, as_of=date(2025, 12, 31), months=12, by="country")
    assert {(t.row.segment, t.row.items) for t in by_country} == {("DE", 1), ("FR", 9)}
    assert [t.row.late.part for t in by_country if t.row.segment == "FR"][6] == 5
    assert all(not t.flagged for t in by_country)
    # filtered to a set of customers: the French one's rows are the "by country" FR rows,
    # and by country within the filter, the same; a country keeps its customers
    only_fr = trend_report(company, as_of=date(2025, 12, 31), months=12,
                           filters=ReportFilters(customer="C001"))
    fr_rows = [t.row for t in by_country if t.row.segment == "FR"]
    assert [t.row.late for t in only_fr] == [r.late for r in fr_rows]
    assert [t.row.items for t in only_fr] == [9] * 8 and {t.row.segment for t in only_fr} == {""}
    assert [t.row for t in trend_report(company, as_of=date(2025, 12, 31), months=12,
                                        by="country", filters=ReportFilters(country="DE"))] == [
        t.row for t in by_country if t.row.segment == "DE"]
    # every invoice is in EUR, the company's currency: the trends of EUR are the whole's,
    # those of USD have no cohort
    assert [t.row for t in trend_report(company, as_of=date(2025, 12, 31), months=12,
                                        filters=ReportFilters(currency="EUR"))] == [
        t.row for t in rows]
    assert trend_report(company, as_of=date(2025, 12, 31), months=12,
                        filters=ReportFilters(currency="USD")) == []
    # the day before July's late payments (10 August), July had none paid late yet
    early = trend_report(company, as_of=date(2025, 8, 9), months=2)
    assert [(t.row.cohort, t.row.late.part) for t in early] == [("2025-07", 0), ("2025-08", 0)]
    assert [t.row.late.part for t in trend_report(company, as_of=date(2025, 8, 10),
                                                  months=2)] == [6, 0]
