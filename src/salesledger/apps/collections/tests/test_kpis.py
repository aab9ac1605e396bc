"""The dispute rate, time to resolve and promise-kept rate of docs/design/kpis.md ("Disputes
and promises"): the worked example written through the collections and payments services,
read back through reporting's registry of KPI providers (at the command line:
tests/cli/test_casework_kpis_cli.py); the registry itself (a provider's KPIs for every
month, ``None`` where it gives none)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tests.unit.test_kpis import CASEWORK_APR, CASEWORK_MAR

from salesledger.apps.collections.kpis import KPIS, PROVIDER, casework_inputs
from salesledger.apps.collections.services import (
    DisputeSpec,
    dispute_open,
    dispute_reject,
    dispute_resolve,
    promise_add,
)
from salesledger.apps.reporting import providers
from salesledger.apps.reporting.selectors import provided_kpi_report

pytestmark = pytest.mark.django_db

MAR, APR = date(2026, 3, 1), date(2026, 4, 1)


def _pay(record_receipt: Any, allocate_to: Any, number: str, amount: str, day: date) -> None:
    r = record_receipt("C001", amount, day)
    allocate_to(r.number, {number: amount}, day=day)


@pytest.fixture
def example(company: Any, owner: Any, customer: Any, post_invoice: Callable[..., Any],
            record_receipt: Any, allocate_to: Any) -> None:
    def invoice(amount: str, day: date) -> str:
        return str(post_invoice("C001", lines=[("Work", "1", amount, "0")], issue_date=day,
                                terms="NET30").number)

    e = invoice("800.00", date(2026, 2, 10))
    a = invoice("1000.00", date(2026, 3, 1))
    b = invoice("500.00", date(2026, 3, 2))
    c = invoice("2000.00", date(2026, 3, 3))
    d = invoice("500.00", date(2026, 3, 4))

    def dispute(number: str, amount: str, day: date) -> int:
        return int(dispute_open(actor=owner, company=company, day=day, spec=DisputeSpec(
            invoice=number, reason="quality", amount=Decimal(amount))).pk)

    a1 = dispute(a, "200.00", date(2026, 3, 5))
    e1 = dispute(e, "800.00", date(2026, 3, 12))
    a2 = dispute(a, "100.00", date(2026, 3, 20))
    dispute_resolve(actor=owner, company=company, dispute_id=a1, day=date(2026, 3, 25),
                    write_off=True)  # 20 days
    dispute_reject(actor=owner, company=company, dispute_id=e1, day=date(2026, 3, 31))  # 19
    dispute_resolve(actor=owner, company=company, dispute_id=a2, day=date(2026, 4, 10),
                    write_off=True)  # 21 days, in April

    def promise(number: str, amount: str, made: date, by: date) -> None:
        promise_add(actor=owner, company=company, customer="C001", invoice=number,
                    amount=Decimal(amount), promised_date=by, day=made)

    promise(b, "500.00", date(2026, 3, 2), date(2026, 3, 15))
    _pay(record_receipt, allocate_to, b, "500.00", date(2026, 3, 14))  # kept
    promise(c, "2000.00", date(2026, 3, 10), date(2026, 3, 20))
    _pay(record_receipt, allocate_to, c, "1500.00", date(2026, 3, 20))  # broken: 1,500 of 2,000
    promise(d, "500.00", date(2026, 3, 25), date(2026, 3, 31))
    _pay(record_receipt, allocate_to, d, "500.00", date(2026, 3, 31))  # kept on its day
    # on account (any payment of the customer's counts), made after the last payment, due in
    # April and never paid: broken
    promise_add(actor=owner, company=company, customer="C001", amount=Decimal("300.00"),
                promised_date=date(2026, 4, 5), day=date(2026, 4, 1))


def test_the_worked_example_from_the_books(example: None, company: Any) -> None:
    assert casework_inputs(company, [MAR, APR]) == {"2026-03": CASEWORK_MAR,
                                                    "2026-04": CASEWORK_APR}
    with CaptureQueriesContext(connection) as q:
        given = provided_kpi_report(company, as_of=date(2026, 4, 30), months=2)
    assert len(q) <= 5  # invoices, opened, closed, promises and what paid them
    assert given == {
        "2026-03": {"dispute_rate": Decimal("50.0"), "dispute_amount_rate": Decimal("27.5"),
                    "days_to_resolve": Decimal("19.5"), "disputes_closed": 2,
                    "promise_kept_rate": Decimal("66.7"), "promises_due": 3},
        "2026-04": {"dispute_rate": None, "dispute_amount_rate": None,
                    "days_to_resolve": Decimal("21.0"), "disputes_closed": 1,
                    "promise_kept_rate": Decimal("0.0"), "promises_due": 1}}


def test_a_provider_gives_every_month_and_names_are_its_own(company: Any) -> None:
    def only_march(company: Any, months: list[date]) -> dict[str, dict[str, Any]]:
        return {"2026-03": {"late_calls": 4}}

    extra = providers.KpiProvider((providers.ProvidedKpi("late_calls", "calls", "count"),),
                                  only_march)
    providers.register(extra)
    try:
        given = providers.provided_kpis(company, [date(2026, 2, 1), MAR])
        assert given["2026-02"]["late_calls"] is None and given["2026-03"]["late_calls"] == 4
        # collections' KPIs are there too, for both months
        assert set(given["2026-02"]) == {"late_calls", *(k.name for k in KPIS)}
        with pytest.raises(ValueError, match="already provided: dispute_rate"):
            providers.register(providers.KpiProvider(KPIS[:1], only_march))
    finally:
        providers.unregister(extra)
    assert providers.registered() == [providers._name(PROVIDER)]
