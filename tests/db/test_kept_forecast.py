"""The kept cash-flow forecast (docs/design/forecast.md, "The kept forecast"): kept, it is the
forecast computed from the books; every kind of change to what the forecast reads makes it
stale (its stamp, the company's audit chain's head, moves: each writer audits in its
transaction), and nothing else that the forecast reads does not; ``salesledger check``
finds a kept forecast that is not the books'."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from salesledger.apps.collections.services import plan_create, promise_add
from salesledger.apps.core.invariants import check_company
from salesledger.apps.credit import prediction
from salesledger.apps.customers.merge import customer_merge
from salesledger.apps.customers.services import payment_terms_update
from salesledger.apps.fx.services import rate_add
from salesledger.apps.payments.adjustments.write_offs import invoice_adjust
from salesledger.apps.payments.services import allocation_reverse
from salesledger.apps.recurring.services import ScheduleInput, recurring_add, recurring_set_active
from salesledger.apps.reporting.forecast_keep import forecast_keep, kept_forecast
from salesledger.apps.reporting.models import KeptForecast
from salesledger.apps.reporting.selectors import ReportFilters, cash_forecast
from salesledger.domain.invoicing import LineInput
from salesledger.domain.terms import parse_terms

D = date(2025, 3, 31)  # the forecast's day


@pytest.fixture
def ledger(company: Any, owner: Any, make_customer: Callable[..., Any],
           post_invoice: Callable[..., Any], record_receipt: Callable[..., Any],
           allocate_to: Callable[..., Any]) -> dict[str, Any]:
    """Two customers, EUR and USD invoices open on D, one paid in part; a receipt recorded,
    not yet applied; a USD rate on D."""
    make_customer("C001")
    make_customer("C002")
    rate_add(actor=owner, company=company, currency="USD", rate=Decimal("0.9"), day=D)
    first = post_invoice("C001", lines=[("Work", "1", "1000.00", "0")],
                         issue_date=date(2025, 3, 1), terms="NET30")
    second = post_invoice("C002", lines=[("Work", "1", "600.00", "0")],
                          issue_date=date(2025, 2, 1), terms="NET30")
    usd = post_invoice("C002", lines=[("Work", "1", "800.00", "0")],
                       issue_date=date(2025, 3, 10), terms="NET30", currency="USD",
                       rate=Decimal("0.9"))
    paid = record_receipt("C002", "100.00", date(2025, 3, 20))
    allocation = allocate_to(paid.number, {second.number: "100.00"}, day=date(2025, 3, 20))
    spare = record_receipt("C001", "250.00", D)
    return {"first": first, "second": second, "usd": usd, "spare": spare,
            "allocation": allocation}


def _fresh(company: Any, currency: str = "") -> bool:
    kept = kept_forecast(company, day=D, currency=currency)
    assert kept is not None
    return kept.fresh


@pytest.mark.django_db
def test_kept_is_the_forecast_computed_in_each_view(ledger: dict[str, Any], company: Any
                                                    ) -> None:
    for currency in ("", "USD", "EUR"):
        kept_weeks = forecast_keep(company, day=D, currency=currency)
        fresh = cash_forecast(company, as_of=D, filters=ReportFilters(currency=currency))
        kept = kept_forecast(company, day=D, currency=currency)
        assert kept is not None and kept.fresh
        assert kept.weeks == kept_weeks == fresh
        assert sum(fresh.naive) > 0
    assert kept_forecast(company, day=D, currency="", weeks=6) is None
    assert kept_forecast(company, day=date(2025, 4, 1)) is None
    assert check_company(company) == []


@pytest.mark.django_db
def test_reading_and_keeping_again_leave_it_fresh(ledger: dict[str, Any], company: Any,
                                                  client: Any, owner: Any) -> None:
    forecast_keep(company, day=D)
    forecast_keep(company, day=D, currency="USD")  # keeping another view audits nothing
    assert _fresh(company) and _fresh(company, "USD")
    cash_forecast(company, as_of=D)  # nor does computing one
    assert _fresh(company)


# One change of each kind of input the forecast reads, each through its service (and so its
# audit); the ledger kept just before.
def _post(b: dict[str, Any], **_: Any) -> None:
    b["post_invoice"]("C001", issue_date=D)


def _allocate(b: dict[str, Any], **_: Any) -> None:
    b["allocate_to"](b["spare"].number, {b["first"].number: "250.00"}, day=D)


def _reverse(b: dict[str, Any], company: Any, owner: Any) -> None:
    allocation_reverse(actor=owner, company=company, allocation_id=b["allocation"][0].pk,
                       day=D, reason="wrong invoice")


def _adjust(b: dict[str, Any], company: Any, owner: Any) -> None:
    invoice_adjust(actor=owner, company=company, number=b["second"].number,
                   kind="deduction", day=D, amount=Decimal("50.00"), reason_code="damaged_goods")


def _schedule(company: Any, owner: Any) -> Any:
    return recurring_add(actor=owner, company=company, as_of=D, data=ScheduleInput(
        customer_code="C001", lines=[LineInput("Rent", Decimal(1), Decimal("500.00"),
                                               Decimal(0), Decimal(0))],
        every="month", start=date(2025, 4, 15)))


def _recurring_add(b: dict[str, Any], company: Any, owner: Any) -> None:
    _schedule(company, owner)


def _recurring_stop(b: dict[str, Any], company: Any, owner: Any) -> None:
    recurring_set_active(actor=owner, company=company, schedule_id=b["schedule"].pk,
                         active=False, as_of=D)


def _promise(b: dict[str, Any], company: Any, owner: Any) -> None:
    promise_add(actor=owner, company=company, customer="C001", invoice=b["first"].number,
                amount=Decimal("400.00"), promised_date=date(2025, 5, 5), day=D)


def _plan(b: dict[str, Any], company: Any, owner: Any) -> None:
    plan_create(actor=owner, company=company, customer="C002", day=D, instalments=2,
                first_due=date(2025, 4, 14), every_days=14)


def _rate(b: dict[str, Any], company: Any, owner: Any) -> None:
    rate_add(actor=owner, company=company, currency="USD", rate=Decimal("0.95"), day=D,
             replace=True)


def _payment_model(b: dict[str, Any], company: Any, owner: Any) -> None:
    # the training itself is the credit app's (and slow); what is tested here is that
    # storing a model, which changes the forecast's estimator, moves the stamp
    b["monkeypatch"].setattr(prediction, "train", lambda ledger: SimpleNamespace(
        rows=1, items=1))
    assert pickle.dumps(SimpleNamespace(rows=1, items=1))
    assert prediction.payment_model_train(actor=owner, company=company, as_of=D) is not None


def _terms(b: dict[str, Any], company: Any, owner: Any) -> None:
    payment_terms_update(actor=owner, company=company, code="NET30", name="Net 45",
                         terms=parse_terms("45"))


def _merge(b: dict[str, Any], company: Any, owner: Any) -> None:
    customer_merge(actor=owner, company=company, alias="C002", survivor="C001",
                   reason="the same firm")


CHANGES = {"posting": _post, "allocation": _allocate, "reversal": _reverse,
           "adjustment": _adjust, "recurring schedule added": _recurring_add,
           "recurring schedule stopped": _recurring_stop, "promise": _promise,
           "payment plan": _plan, "exchange rate": _rate, "payment model": _payment_model,
           "payment terms": _terms,
           "merge (the delays' payer)": _merge}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(CHANGES))
def test_each_kind_of_input_changed_makes_it_stale(
        kind: str, ledger: dict[str, Any], company: Any, owner: Any,
        post_invoice: Callable[..., Any], allocate_to: Callable[..., Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    b = {**ledger, "post_invoice": post_invoice, "allocate_to": allocate_to,
         "monkeypatch": monkeypatch}
    if kind == "recurring schedule stopped":
        b["schedule"] = _schedule(company, owner)
    forecast_keep(company, day=D)
    forecast_keep(company, day=D, currency="USD")
    assert _fresh(company) and _fresh(company, "USD")
    CHANGES[kind](b, company=company, owner=owner)
    assert not _fresh(company) and not _fresh(company, "USD"), kind
    monkeypatch.undo()  # the payment model's training as it is
    # kept again, it is fresh and is the forecast of the changed books
    forecast_keep(company, day=D)
    kept = kept_forecast(company, day=D)
    assert kept is not None and kept.fresh
    assert kept.weeks == cash_forecast(company, as_of=D)


@pytest.mark.django_db
def test_check_names_a_fresh_kept_week_that_is_not_the_books(ledger: dict[str, Any],
                                                             company: Any) -> None:
    w = forecast_keep(company, day=D)
    row = KeptForecast.objects.get(company=company, day=D, currency="")
    KeptForecast.objects.filter(pk=row.pk).update(
        expected=[w.expected[0] + 1234, *w.expected[1:]])
    [found] = [str(p) for p in check_company(company)]
    assert found.startswith(f"kept forecast: company acme, forecast of {D} over 13 weeks, "
                            "the company's currency at the booking rates, week 1: expected "
                            f"kept ")
    assert "EUR" in found and "books" in found
    # a stale row is shown as stale, never read as the books: not a finding
    post = KeptForecast.objects.filter(pk=row.pk)
    post.update(stamp=row.stamp - 1)
    assert check_company(company) == []


@pytest.mark.django_db
def test_a_row_kept_by_other_rules_is_stale(ledger: dict[str, Any], company: Any) -> None:
    # an upgrade (the forecast's code, the payment model's features or library) is not
    # audited: the rules the row was kept by say it
    forecast_keep(company, day=D)
    KeptForecast.objects.filter(company=company).update(rules="0/model-1/scikit-learn-0")
    assert not _fresh(company)
    assert check_company(company) == []  # stale: shown as such, not a finding
