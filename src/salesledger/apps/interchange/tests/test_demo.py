"""The demo loader: seeded, deterministic, and books that pass every ledger check."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from django.db.models import Count, Sum
from tests.support import loaded_once_per_module

from salesledger.apps.core.invariants import check_company
from salesledger.apps.core.models import Company, Membership
from salesledger.apps.customers.models import Customer
from salesledger.apps.dunning.run import dunning_run
from salesledger.apps.dunning.selectors import policy_show
from salesledger.apps.fx.models import ExchangeRate
from salesledger.apps.interchange.demo import (
    DEMO_PASSWORD,
    DEMO_USER,
    DemoRefused,
    _write_off_bad_debts,
    demo_load,
)
from salesledger.apps.interchange.demo_plan import Plan, build_plan
from salesledger.apps.invoicing.models import Instalment, Invoice
from salesledger.apps.payments.models import Adjustment, Allocation, Receipt

SMALL = 30
TODAY = date(2026, 11, 20)


def fingerprint(code: str) -> dict[str, Any]:
    """What two loads of the same seed must share (ids aside)."""
    scope = {"company__code": code}
    return {
        "customers": list(Customer.objects.filter(**scope).order_by("code")
                          .values_list("code", "name", "currency", "tax_id")),
        "documents": list(Invoice.objects.filter(**scope).order_by("number")
                          .values_list("number", "customer__code", "issue_date", "total",
                                       "base_total")),
        "instalments": Instalment.objects.filter(**scope).aggregate(
            n=Count("id"), amount=Sum("amount"), settled=Sum("settled")),
        "receipts": list(Receipt.objects.filter(**scope).order_by("number")
                         .values_list("number", "customer__code", "date", "amount",
                                      "allocated")),
        "allocations": Allocation.objects.filter(**scope).aggregate(
            n=Count("id"), amount=Sum("amount"), base=Sum("base_receivable")),
    }


@pytest.fixture(scope="module")
def _demo_books(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    """Loaded once for the module's tests; each still starts from the books as loaded
    (tests/support.py)."""
    yield from loaded_once_per_module(
        django_db_blocker, lambda: demo_load(code="demo", customers=SMALL, seed=7))


@pytest.fixture
def demo(_demo_books: dict[str, Any], db: None) -> dict[str, Any]:
    return _demo_books


def test_demo_loads_a_company_with_history(demo: dict[str, Any]) -> None:
    from django.contrib.auth import get_user_model

    assert demo["company"] == "demo"
    assert demo["customers"] == SMALL
    for key in ("invoices", "credit_notes", "receipts", "allocations"):
        assert demo[key] > 0, key
    company = Company.objects.get(code="demo")
    assert (company.name, company.base_currency, company.country, company.time_zone) == (
        "Demo Trading SARL", "EUR", "FR", "Europe/Paris")
    assert Invoice.objects.filter(company=company, kind="invoice").count() == demo["invoices"]
    # Two years of history, none of it after the demo's fixed day.
    dates = Invoice.objects.filter(company=company).values_list("issue_date", flat=True)
    assert min(dates) >= date(2024, 11, 20) and max(dates) <= TODAY
    assert Receipt.objects.filter(company=company, date__gt=TODAY).count() == 0
    # Some items are still open (late payers, disputes) and some are settled.
    inst = Instalment.objects.filter(company=company)
    assert inst.filter(settled=0).exists() and inst.filter(settled__gt=0).exists()
    user = get_user_model().objects.get(username=DEMO_USER)
    assert demo["user"] == DEMO_USER and demo["password"] == DEMO_PASSWORD
    assert user.check_password(DEMO_PASSWORD) and user.is_staff and user.is_superuser
    assert Membership.objects.get(company=company, user=user).role == "owner"
    # A seller profile complete enough for e-invoices, and the month's exchange rates the
    # foreign-currency documents were issued at.
    assert company.tax_id.startswith("FR") and company.iban and company.city

    foreign = Invoice.objects.filter(company=company).exclude(currency="EUR")
    for inv in foreign[:20]:
        month_rate = ExchangeRate.objects.get(company=company, currency=inv.currency,
                                              rate_date=inv.issue_date.replace(day=1))
        assert month_rate.rate == inv.rate, inv.number


def test_demo_books_pass_every_ledger_check(demo: dict[str, Any]) -> None:
    assert [str(p) for p in check_company(Company.objects.get(code="demo"))] == []


def test_same_seed_gives_the_same_books(db: None) -> None:
    demo_load(code="one", customers=SMALL, seed=11)
    demo_load(code="two", customers=SMALL, seed=11)
    demo_load(code="three", customers=SMALL, seed=12)
    one, two, three = fingerprint("one"), fingerprint("two"), fingerprint("three")
    assert one["documents"] and one["receipts"]
    assert one == two
    assert one["documents"] != three["documents"]


def test_refuses_a_company_that_already_has_data(demo: dict[str, Any]) -> None:
    with pytest.raises(DemoRefused) as err:
        demo_load(code="demo", customers=SMALL, seed=7)
    assert "already has" in err.value.message
    # A second demo company next to the first is fine (the demo user is shared).
    assert demo_load(code="demo2", customers=5, seed=7)["customers"] == 5


def test_plan_covers_every_payment_behaviour() -> None:
    plan = build_plan(random.Random(20261123), customers=300, today=TODAY)
    again = build_plan(random.Random(20261123), customers=300, today=TODAY)
    assert [c.name for c in plan.customers] == [c.name for c in again.customers]
    assert [(d.customer, d.issue_date, d.lines) for d in plan.invoices] == [
        (d.customer, d.issue_date, d.lines) for d in again.invoices]
    behaviours = Counter(c.behaviour for c in plan.customers)
    assert set(behaviours) == {"prompt", "late", "partial", "chronic", "dispute"}
    assert {c.currency for c in plan.customers} == {"EUR", "USD", "GBP"}
    assert {c.country for c in plan.customers} == {"FR", "DE", "ES", "GB", "US"}
    assert len({c.name for c in plan.customers}) == 300
    rates = {li.tax_rate for d in plan.invoices for li in d.lines}
    assert {20, 10, 5.5} <= {float(r) for r in rates}
    assert any(li.discount_percent for d in plan.invoices for li in d.lines)
    assert any(d.corrects is not None for d in plan.credit_notes)
    assert any(d.apply_to for d in plan.credit_notes)  # volume rebates
    assert all(d.issue_date <= TODAY for d in plan.invoices + plan.credit_notes)


def test_the_payment_behaviour_is_frozen() -> None:
    """The demo's payment behaviour, frozen before the payment-date model was tuned on it
    (docs/design/payment-prediction.md): a change to the generator changes these figures,
    and the model's published backtest must then be measured again."""
    plan = build_plan(random.Random(20261123), customers=300, today=TODAY)
    first_delays = [d.events[0][0] for d in plan.invoices if d.events]
    summary = (len(plan.invoices), len(plan.credit_notes),
               sum(1 for c in plan.customers if c.turns_bad),
               sum(1 for c in plan.customers if c.written_off),
               len(first_delays), sum(first_delays),
               sum(1 for d in plan.invoices if not d.events))
    assert summary == (7126, 109, 15, 6, 6872, 144315, 254)


def test_a_customers_delay_varies_with_time_and_amount() -> None:
    """Within one late payer, delays drift and large invoices wait longer: a customer's
    average is not already the best guess."""
    plan = build_plan(random.Random(20261123), customers=300, today=TODAY)
    drifting = 0
    for c in plan.customers:
        if c.behaviour != "late" or c.turns_bad:
            continue
        docs = [d for d in plan.invoices if d.customer == c.index and d.events]
        if len(docs) < 20:
            continue
        half = len(docs) // 2
        early = sum(d.events[0][0] for d in docs[:half]) / half
        late = sum(d.events[0][0] for d in docs[half:]) / (len(docs) - half)
        drifting += abs(late - early) > 7
    assert drifting >= 5
    assert any(c.written_off for c in plan.customers)


def test_bad_debts_are_written_off(demo: dict[str, Any]) -> None:
    plan = build_plan(random.Random(7), customers=SMALL, today=TODAY)
    lost = [c.code for c in plan.customers if c.written_off]
    assert lost  # seed 7 has customers who turn bad and are written off
    written = set(Adjustment.objects.filter(company__code="demo", kind="bad_debt")
                  .values_list("customer__code", flat=True))
    assert demo["written_off"] == Adjustment.objects.filter(
        company__code="demo", kind="bad_debt").count()
    assert written == set(lost)


def test_a_dunning_run_on_the_demo_shows_every_level(demo: dict[str, Any]) -> None:
    """The demo's default policy has five levels (a friendly reminder before the due day to
    the collection agency): the preview of a run on the demo's day lists items at each, so a
    first look at dunning shows every level (issue 15)."""
    company = Company.objects.get(code="demo")
    owner = _owner(company)
    levels = [lv["number"] for lv in policy_show(company, "STANDARD")["levels"]]
    assert levels == [1, 2, 3, 4, 5]
    summary = dunning_run(actor=owner, company=company, as_of=TODAY, send=False)
    reached = {item["level"] for row in summary.planned for item in row["items"]}
    assert reached == set(levels)
    # and the run's channels: letters, calls and the agency's file among them
    assert summary.letters > 0 and summary.calls > 0


def _owner(company: Company) -> Any:
    return Membership.objects.select_related("user").get(company=company, role="owner").user


@pytest.mark.django_db
def test_a_bad_payer_whose_over_payment_covers_what_it_owes_is_not_written_off(
        company: Any, owner: Any, make_customer: Any, post_invoice: Any,
        record_receipt: Any) -> None:
    """Seed 20261208 at 300 customers failed to load (``customer C00251 has nothing open to
    write off``): an over-payment of 200.00 left 97.71 unapplied, more than the 33.24 invoice
    the customer stopped paying. Such a customer lost the company nothing and is skipped; one
    who owes more than its credits is written off as before."""
    day = date(2025, 6, 30)
    for code in ("OVER", "BAD"):
        make_customer(code)
    post_invoice("OVER", lines=[("Goods", 1, "33.24", "0")], issue_date=date(2025, 3, 3))
    record_receipt("OVER", "97.71", date(2025, 1, 10))  # left unapplied
    bad = post_invoice("BAD", lines=[("Goods", 1, "80.00", "0")], issue_date=date(2025, 3, 3))
    plan = Plan(today=day, customers=[], invoices=[], credit_notes=[], rates={})
    plan.customers = [_bad(plan, "OVER", day), _bad(plan, "BAD", day)]
    assert _write_off_bad_debts(company, owner, plan) == 1
    assert Adjustment.objects.filter(company=company, kind="bad_debt").get().invoice_id == bad.pk
    assert check_company(company) == []


def _bad(plan: Plan, code: str, day: date) -> Any:
    """A customer of ``plan`` who turned bad and is written off on ``day``: only its code
    and that day matter to the write-off."""
    from types import SimpleNamespace

    return SimpleNamespace(code=code, written_off=day)
