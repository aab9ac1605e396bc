"""What the dunning run reads from collections (``dunning_pauses``, ``plan_instalments_due``):
told from the casework written through the services, checked day by day, with the queries
counted for many customers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from salesledger.apps.collections.selectors import (
    DunningPause,
    PlanInstalmentDue,
    dunning_pauses,
    plan_instalments_due,
)
from salesledger.apps.collections.services import (
    DisputeSpec,
    customer_note_add,
    dispute_open,
    dispute_reject,
    plan_create,
    promise_add,
    reply_handle,
)

pytestmark = pytest.mark.django_db

ISSUED = date(2025, 3, 10)  # due 30 days later (NET30): 2025-04-09
DUE = date(2025, 4, 9)


@pytest.fixture
def books(company: Any, owner: Any, make_customer: Callable[..., Any],
          post_invoice: Callable[..., Any]) -> dict[str, Any]:
    make_customer("C1")
    make_customer("C2")
    return {"a": post_invoice("C1", lines=[("Consulting", 1, "1000.00", "20")]),
            "b": post_invoice("C1", lines=[("Support", 1, "250.00", "20")]),
            "c": post_invoice("C2", lines=[("Training", 1, "600.00", "0")])}


def test_a_partial_dispute_holds_back_its_amount_until_it_is_closed(
        company: Any, owner: Any, books: dict[str, Any]) -> None:
    a = books["a"]
    day = DUE + timedelta(days=10)
    d = dispute_open(actor=owner, company=company, day=day, spec=DisputeSpec(
        invoice=a.number, reason="pricing", amount=Decimal("200.00")))
    assert dunning_pauses(company.pk, day - timedelta(days=1)) == []
    assert dunning_pauses(company.pk, day) == [
        DunningPause(a.customer_id, a.pk, "dispute", 20000, None)]
    dispute_reject(actor=owner, company=company, dispute_id=d.pk, day=day + timedelta(days=5))
    # Still paused the day before it was rejected, back in the sequence on the day.
    assert dunning_pauses(company.pk, day + timedelta(days=4)) != []
    assert dunning_pauses(company.pk, day + timedelta(days=5)) == []


def test_a_promise_pauses_until_the_day_after_the_promised_day(
        company: Any, owner: Any, books: dict[str, Any]) -> None:
    a, c = books["a"], books["c"]
    made, promised = DUE + timedelta(days=2), DUE + timedelta(days=12)
    promise_add(actor=owner, company=company, customer="C1", invoice=a.number,
                amount=Decimal("1200.00"), promised_date=promised, day=made)
    promise_add(actor=owner, company=company, customer="C2", amount=Decimal("100.00"),
                promised_date=promised, day=made)
    resume = promised + timedelta(days=1)
    assert dunning_pauses(company.pk, promised) == [
        DunningPause(a.customer_id, a.pk, "promise", None, resume),
        DunningPause(c.customer_id, None, "promise", None, resume)]
    assert dunning_pauses(company.pk, resume) == []


def test_an_inbound_reply_pauses_the_whole_customer_until_handled(
        company: Any, owner: Any, books: dict[str, Any]) -> None:
    day = DUE + timedelta(days=6)
    comm = customer_note_add(actor=owner, company=company, customer="C2", day=day,
                             text="We never received the goods.", inbound_reply=True)
    assert dunning_pauses(company.pk, day) == [
        DunningPause(books["c"].customer_id, None, "reply", None, None)]
    reply_handle(actor=owner, company=company, communication_id=comm.pk,
                 day=day + timedelta(days=3))
    assert dunning_pauses(company.pk, day + timedelta(days=2)) != []
    assert dunning_pauses(company.pk, day + timedelta(days=3)) == []


def test_a_plan_pauses_its_items_lists_its_open_instalments_and_breaks_when_one_is_missed(
        company: Any, owner: Any, books: dict[str, Any], record_receipt: Callable[..., Any],
        allocate_to: Callable[..., Any]) -> None:
    a, b = books["a"], books["b"]
    day = DUE + timedelta(days=20)
    plan = plan_create(actor=owner, company=company, customer="C1", day=day, instalments=3,
                       first_due=day + timedelta(days=10), every_days=30, grace_days=2)
    # 1200.00 + 300.00 in three: 500.00 each, exactly.
    assert sorted(dunning_pauses(company.pk, day), key=lambda p: p.invoice_id or 0) == [
        DunningPause(a.customer_id, a.pk, "plan", 120000, None),
        DunningPause(a.customer_id, b.pk, "plan", 30000, None)]
    first = day + timedelta(days=10)
    assert plan_instalments_due(company.pk, day) == [
        PlanInstalmentDue(plan.pk, a.customer_id, n, first + timedelta(days=30 * (n - 1)),
                          50000, "EUR", 50000) for n in (1, 2, 3)]
    # The first instalment is paid on time, and 100.00 of the second.
    rc = record_receipt("C1", "600.00", first)
    allocate_to(rc.number, {a.number: "600.00"}, first)
    due = plan_instalments_due(company.pk, first)
    assert [(i.number, i.open_amount) for i in due] == [(2, 40000), (3, 50000)]
    # The second is still short two days after its due day: the plan breaks the day after.
    second = first + timedelta(days=30)
    assert plan_instalments_due(company.pk, second + timedelta(days=2)) != []
    assert dunning_pauses(company.pk, second + timedelta(days=2)) != []
    assert plan_instalments_due(company.pk, second + timedelta(days=3)) == []
    assert dunning_pauses(company.pk, second + timedelta(days=3)) == []


def test_the_pauses_of_many_customers_take_a_handful_of_queries(
        company: Any, owner: Any, make_customer: Callable[..., Any],
        post_invoice: Callable[..., Any], django_assert_max_num_queries: Any) -> None:
    day = DUE + timedelta(days=15)
    for n in range(6):
        code = f"M{n}"
        make_customer(code)
        inv = post_invoice(code, lines=[("Goods", 1, "100.00", "0")])
        dispute_open(actor=owner, company=company, day=day,
                     spec=DisputeSpec(invoice=inv.number, reason="quality"))
        promise_add(actor=owner, company=company, customer=code, amount=Decimal("10.00"),
                    promised_date=day + timedelta(days=5), day=day)
        plan_create(actor=owner, company=company, customer=code, day=day, instalments=2,
                    first_due=day + timedelta(days=7))
        customer_note_add(actor=owner, company=company, customer=code, day=day, text="Why?",
                          inbound_reply=True)
    with django_assert_max_num_queries(7):
        pauses = dunning_pauses(company.pk, day)
    assert len(pauses) == 6 * 4
    with django_assert_max_num_queries(4):
        assert len(plan_instalments_due(company.pk, day)) == 12
