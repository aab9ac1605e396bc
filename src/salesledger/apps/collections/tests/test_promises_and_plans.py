"""Promises to pay kept or broken from real allocations; payment plans split exactly and broken
by a missed instalment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesledger.apps.collections.selectors import plan_get, plans_list, promises_list
from salesledger.apps.collections.services import (
    plan_create,
    plans_observe,
    promise_add,
    promises_observe,
)
from salesledger.apps.core.invariants import check_company
from salesledger.apps.core.services import membership_set
from salesledger.apps.credit.models import CreditSignal
from salesledger.apps.credit.selectors import on_hold
from salesledger.domain.collections import plan_progress, plan_schedule
from salesledger.domain.errors import PermissionDenied, ValidationFailed

DUE = date(2025, 4, 9)  # of an invoice of 2025-03-10 on NET30


@given(total=st.integers(min_value=1, max_value=10**12), count=st.integers(1, 60))
def test_a_plan_splits_exactly_in_minor_units(total: int, count: int) -> None:
    if total < count:
        with pytest.raises(ValidationFailed):
            plan_schedule(total, "EUR", count=count, first_due=DUE, every_days=30)
        return
    lines = plan_schedule(total, "EUR", count=count, first_due=DUE, every_days=30)
    assert sum(li.amount for li in lines) == total
    assert max(li.amount for li in lines) - min(li.amount for li in lines) <= 1
    assert [li.number for li in lines] == list(range(1, count + 1))


def test_plan_progress_fills_instalments_in_order_and_breaks_after_the_grace() -> None:
    lines = plan_schedule(1000, "EUR", count=3, first_due=DUE, every_days=10)
    assert [li.amount for li in lines] == [333, 333, 334]
    paid = [(DUE, 333), (DUE + timedelta(days=12), 100)]
    p = plan_progress(lines, paid, already_settled=0, grace_days=2, as_of=DUE + timedelta(12))
    assert (p.paid, p.open, p.broken_on) == (433, (0, 233, 334), None)
    p = plan_progress(lines, paid, already_settled=0, grace_days=2, as_of=DUE + timedelta(13))
    assert p.broken_on == DUE + timedelta(days=13)


pytestmark_db = pytest.mark.django_db


@pytestmark_db
def test_a_promise_is_kept_by_what_was_paid_by_its_day_and_broken_otherwise(
        company: Any, owner: Any, customer: Any, post_invoice: Callable[..., Any],
        record_receipt: Callable[..., Any], allocate_to: Callable[..., Any]) -> None:
    a = post_invoice("C001", lines=[("Pallets", 1, "500.00", "0")])
    b = post_invoice("C001", lines=[("Crates", 1, "300.00", "0")])
    made = DUE + timedelta(days=3)
    promise_add(actor=owner, company=company, customer="C001", invoice=a.number,
                amount=Decimal("500.00"), promised_date=made + timedelta(days=7), day=made)
    promise_add(actor=owner, company=company, customer="C001", invoice=b.number,
                amount=Decimal("300.00"), promised_date=made + timedelta(days=7), day=made)
    # 500.00 paid on the promised day to a; only 200.00 to b, and the rest the day after.
    rc = record_receipt("C001", "700.00", made + timedelta(days=7))
    allocate_to(rc.number, {a.number: "500.00", b.number: "200.00"}, made + timedelta(days=7))
    rc2 = record_receipt("C001", "100.00", made + timedelta(days=8))
    allocate_to(rc2.number, {b.number: "100.00"}, made + timedelta(days=8))

    def states(day: date) -> list[tuple[str, str, int]]:
        return [(v.promise.invoice.number, v.state.value, v.paid)
                for v in promises_list(company, as_of=day)]

    assert states(made + timedelta(days=6)) == [(a.number, "live", 0), (b.number, "live", 0)]
    assert states(made + timedelta(days=7)) == [(a.number, "kept", 50000),
                                                (b.number, "live", 20000)]
    assert states(made + timedelta(days=8)) == [(a.number, "kept", 50000),
                                                (b.number, "broken", 20000)]
    # the list pages in the selector, a state filter included: a page is the filtered list cut
    day = made + timedelta(days=8)
    whole = promises_list(company, as_of=day)
    for state in ("", "live", "kept", "broken"):
        kept = [v for v in whole if not state or v.state.value == state]
        for offset, limit in ((0, 1), (1, 1), (0, 5), (2, 1)):
            assert promises_list(company, as_of=day, state=state, offset=offset,
                                 limit=limit) == kept[offset:offset + limit], (state, offset)


@pytestmark_db
def test_a_promise_needs_a_collector_and_a_day_not_yet_past(
        company: Any, owner: Any, customer: Any, django_user_model: Any) -> None:
    clerk = django_user_model.objects.create_user("clara")
    membership_set(actor=owner, company=company, username="clara", role="clerk")
    with pytest.raises(PermissionDenied, match="to chase customers"):
        promise_add(actor=clerk, company=company, customer="C001", amount=Decimal("1"),
                    promised_date=DUE, day=DUE)
    with pytest.raises(ValidationFailed, match="a day already past"):
        promise_add(actor=owner, company=company, customer="C001", amount=Decimal("1"),
                    promised_date=DUE, day=DUE + timedelta(days=1))


@pytestmark_db
def test_a_plan_reschedules_the_overdue_items_exactly_and_a_missed_instalment_breaks_it(
        company: Any, owner: Any, customer: Any, post_invoice: Callable[..., Any],
        record_receipt: Callable[..., Any], allocate_to: Callable[..., Any]) -> None:
    a = post_invoice("C001", lines=[("Pallets", 1, "100.00", "0")])
    post_invoice("C001", lines=[("Crates", 1, "0.01", "0")], issue_date=DUE)  # not yet due
    rc = record_receipt("C001", "0.01", DUE)
    allocate_to(rc.number, {a.number: "0.01"}, DUE)
    day = DUE + timedelta(days=5)
    plan = plan_create(actor=owner, company=company, customer="C001", day=day, instalments=3,
                       first_due=day + timedelta(days=1), every_days=7)
    view = plan_get(company, plan.pk, as_of=day)
    assert [li.amount for li in view.lines] == [3333, 3333, 3333]  # 99.99 in three
    assert [(i.invoice_id, i.amount) for i in view.items] == [(a.pk, 9999)]
    assert check_company(company) == []
    with pytest.raises(ValidationFailed, match="already in payment plan"):
        plan_create(actor=owner, company=company, customer="C001", day=day, instalments=2,
                    first_due=day + timedelta(days=1))
    rc = record_receipt("C001", "33.33", day + timedelta(days=1))
    allocate_to(rc.number, {a.number: "33.33"}, day + timedelta(days=1))
    assert plan_get(company, plan.pk, as_of=day + timedelta(days=8)).state == "live"
    broken = plan_get(company, plan.pk, as_of=day + timedelta(days=9))
    assert (broken.state, broken.progress.broken_on) == ("broken", day + timedelta(days=9))
    # the list pages in the selector: filtered by state, then cut
    later = day + timedelta(days=9)
    assert plans_list(company, as_of=later, state="broken", limit=1) == [broken]
    assert plans_list(company, as_of=later, state="live", limit=1) == []
    assert plans_list(company, as_of=later, offset=1, limit=1) == []


@pytestmark_db
def test_observed_once_kept_and_broken_promises_and_a_broken_plan_reach_credit(
        company: Any, owner: Any, customer: Any, post_invoice: Callable[..., Any],
        record_receipt: Callable[..., Any], allocate_to: Callable[..., Any]) -> None:
    a = post_invoice("C001", lines=[("Pallets", 1, "500.00", "0")])
    made = DUE + timedelta(days=1)
    promise_add(actor=owner, company=company, customer="C001", amount=Decimal("100.00"),
                promised_date=made + timedelta(days=2), day=made)
    promise_add(actor=owner, company=company, customer="C001", amount=Decimal("900.00"),
                promised_date=made + timedelta(days=2), day=made)
    rc = record_receipt("C001", "100.00", made + timedelta(days=1))
    allocate_to(rc.number, {a.number: "100.00"}, made + timedelta(days=1))
    plan = plan_create(actor=owner, company=company, customer="C001", day=made, instalments=2,
                       first_due=made + timedelta(days=5), hold_on_break=True)

    seen = promises_observe(actor=owner, company=company, as_of=made + timedelta(days=3))
    assert [v.state.value for v in seen] == ["kept", "broken"]
    assert promises_observe(actor=owner, company=company, as_of=made + timedelta(days=9)) == []
    assert plans_observe(actor=owner, company=company, as_of=made + timedelta(days=5)) == []
    [v] = plans_observe(actor=owner, company=company, as_of=made + timedelta(days=6))
    assert v.plan.pk == plan.pk
    assert plans_observe(actor=owner, company=company, as_of=made + timedelta(days=7)) == []
    assert sorted(CreditSignal.objects.filter(customer=customer).values_list("kind", "day")) == [
        ("plan_broken", made + timedelta(days=6)),
        ("promise_broken", made + timedelta(days=2)),
        ("promise_kept", made + timedelta(days=3)),
        ("promise_made", made), ("promise_made", made)]
    assert [h.source for h in on_hold(company, customer.pk)] == ["plan"]
