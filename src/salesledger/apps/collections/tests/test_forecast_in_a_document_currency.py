"""The cash-flow forecast in a document currency (docs/design/forecast.md, "In a document
currency"): with ``--document-currency USD`` the forecast, its commitments and its backtest
are of the documents in dollars alone, every amount in dollars as invoiced; without it, of
every document in the company's currency at the booking rates. The worked example of the
design note, written through the services."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from tests.support import run_json

from salesledger.apps.collections.services import promise_add
from salesledger.apps.reporting.selectors import (
    ReportFilters,
    cash_forecast,
    forecast_backtest,
)
from salesledger.domain.errors import ValidationFailed

pytestmark = pytest.mark.django_db

D = date(2026, 3, 31)  # the forecast's day: week 1 is 1-7 April, week 2 8-14, week 3 15-21
USD = ReportFilters(currency="USD")


@pytest.fixture
def example(company: Any, owner: Any, make_customer: Any, post_invoice: Any) -> dict[str, str]:
    """C001 (France) owes 1,000.00 EUR due 1 April; U001 (United States) 800.00 USD due 20
    April, booked at 0.50 EUR to the dollar, and promises on 31 March 300.00 USD of it by 10
    April. Nobody has a history: every item is expected on its due date."""
    make_customer("C001")
    make_customer("U001", currency="USD", country="US")
    eur = post_invoice("C001", lines=[("Work", "1", "1000.00", "0")],
                       issue_date=date(2026, 3, 2), terms="NET30")
    usd = post_invoice("U001", lines=[("Work", "1", "800.00", "0")],
                       issue_date=date(2026, 3, 21), terms="NET30", currency="USD",
                       rate=Decimal("0.50"))
    assert (eur.due_date, usd.due_date) == (date(2026, 4, 1), date(2026, 4, 20))
    promise_add(actor=owner, company=company, customer="U001", invoice=usd.number,
                amount=Decimal("300.00"), promised_date=date(2026, 4, 10), day=D)
    return {"eur": str(eur.number), "usd": str(usd.number)}


def test_the_forecast_in_a_document_currency_is_of_its_documents_in_it(
        example: dict[str, str], company: Any) -> None:
    four = slice(0, 4)
    # in dollars: the promised 300.00 in week 2, the rest of the invoice on its due date
    w = cash_forecast(company, as_of=D, weeks=13, filters=USD)
    assert w.naive[four] == [0, 0, 80000, 0] and sum(w.naive) == 80000
    assert w.expected[four] == [0, 30000, 50000, 0] and sum(w.expected) == 80000
    assert cash_forecast(company, as_of=D, weeks=13,
                         filters=ReportFilters(currency="usd")) == w
    # in euros as invoiced: C001's invoice alone
    e = cash_forecast(company, as_of=D, weeks=13, filters=ReportFilters(currency="EUR"))
    assert e.expected[four] == [100000, 0, 0, 0] and sum(e.expected) == 100000
    # in the company's currency at the booking rates: both, the dollars at 0.50
    b = cash_forecast(company, as_of=D, weeks=13)
    assert b.naive[four] == [100000, 0, 40000, 0]
    assert b.expected[four] == [100000, 15000, 25000, 0] and sum(b.expected) == 140000
    # a customer with no dollar document: nothing
    none = cash_forecast(company, as_of=D, weeks=13,
                         filters=ReportFilters(customer="C001", currency="USD"))
    assert sum(none.naive) == sum(none.expected) == sum(none.high) == 0
    with pytest.raises(ValidationFailed, match="not an ISO 4217 currency code"):
        cash_forecast(company, as_of=D, filters=ReportFilters(currency="DOLLARS"))


def test_its_backtest_compares_dollars_forecast_with_dollars_received(
        example: dict[str, str], company: Any, record_receipt: Any, allocate_to: Any,
        capsys: pytest.CaptureFixture[str]) -> None:
    """U001 pays 300.00 USD on 9 April and 500.00 on 24 April, at 0.60 EUR to the dollar;
    C001 pays on 3 April. The forecast made on 31 March, over 4 weeks: in dollars, received
    [0, 300, 0, 500] against expected [0, 300, 500, 0]: error 1,000 ÷ 800 = 125.0 %, naive
    [0, 0, 800, 0]: 1,600 ÷ 800 = 200.0 %. In euros, what the receipts took off the
    receivable at the booking rate (0.50), with C001's 1,000.00."""
    for who, number, amount, day, currency, rate in (
            ("C001", example["eur"], "1000.00", date(2026, 4, 3), "", None),
            ("U001", example["usd"], "300.00", date(2026, 4, 9), "USD", Decimal("0.60")),
            ("U001", example["usd"], "500.00", date(2026, 4, 24), "USD", Decimal("0.60"))):
        r = record_receipt(who, amount, day, currency=currency, rate=rate)
        allocate_to(r.number, {number: amount}, day=day)
    as_of = date(2026, 4, 30)
    bt = forecast_backtest(company, as_of=as_of, weeks=4, runs=1, filters=USD)
    [run] = bt.runs
    assert run.made_on == D and run.actual == [0, 30000, 0, 50000]
    assert run.forecast.expected == [0, 30000, 50000, 0]
    assert (bt.naive_error, bt.expected_error) == (Decimal("200.0"), Decimal("125.0"))
    [base] = forecast_backtest(company, as_of=as_of, weeks=4, runs=1).runs
    assert base.actual == [100000, 15000, 0, 25000]
    assert base.forecast.expected == [100000, 15000, 25000, 0]
    # the command: every amount in dollars, the currency said
    out = run_json(capsys, "report", "forecast", "--as-of", str(D), "--weeks", "4",
                   "--document-currency", "USD")
    assert out["currency"] == "USD"
    assert [x["expected"] for x in out["weeks"]][:3] == [
        {"amount": "0.00", "currency": "USD"}, {"amount": "300.00", "currency": "USD"},
        {"amount": "500.00", "currency": "USD"}]
    assert out["total"]["naive"] == {"amount": "800.00", "currency": "USD"}
    out = run_json(capsys, "report", "forecast", "--backtest", "--as-of", str(as_of),
                   "--weeks", "4", "--runs", "1", "--document-currency", "USD")
    assert (out["currency"], out["naive_error"], out["expected_error"]) == ("USD", "200.0",
                                                                             "125.0")
    assert out["runs"][0]["received"] == {"amount": "800.00", "currency": "USD"}
