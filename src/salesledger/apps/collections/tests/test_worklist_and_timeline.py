"""The collector worklist ranked by the expected value of acting, and the customer timeline in
order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from salesledger.apps.collections import selectors
from salesledger.apps.collections.selectors import customer_timeline, worklist
from salesledger.apps.collections.services import (
    DisputeSpec,
    customer_call_log,
    customer_note_add,
    dispute_open,
    dispute_reject,
    plan_create,
    promise_add,
    worklist_assign,
)
from salesledger.apps.core.services import membership_set
from salesledger.apps.credit.prediction import Outlook
from salesledger.apps.credit.selectors import risk_scores
from salesledger.domain.collections import expected_value, value_at_stake, waiting_share
from salesledger.domain.errors import ValidationFailed

DAY = date(2025, 3, 10)


def test_the_expected_value_weighs_amount_probability_and_age() -> None:
    # 1000.00 overdue 60 days at a 10 % default probability: 100000 x 0.1 x (1 + 60/30).
    assert expected_value(100000, Decimal("0.1"), 60) == Decimal(30000)
    assert expected_value(100000, Decimal("0.1"), 0) == 0
    assert expected_value(0, Decimal("0.5"), 90) == 0


@pytest.mark.django_db
def test_the_worklist_ranks_by_expected_value_and_puts_later_actions_last(
        company: Any, owner: Any, make_customer: Callable[..., Any],
        post_invoice: Callable[..., Any], django_user_model: Any,
        django_assert_max_num_queries: Any, monkeypatch: Any) -> None:
    for code, price, issued in (("BIG", "900.00", DAY), ("OLD", "300.00", DAY - timedelta(90)),
                                ("SMALL", "100.00", DAY), ("NEXT", "5000.00", DAY),
                                ("NOTYET", "100.00", DAY + timedelta(40))):
        make_customer(code)
        post_invoice(code, lines=[("Goods", 1, price, "0")], issue_date=issued)
    django_user_model.objects.create_user("cole")
    membership_set(actor=owner, company=company, username="cole", role="collector")
    as_of = DAY + timedelta(days=60)  # due 30 days after issue
    worklist_assign(actor=owner, company=company, customers=["NEXT"], collector="cole",
                    day=as_of, next_action=as_of + timedelta(days=3))
    with django_assert_max_num_queries(30):
        rows = worklist(company, as_of=as_of)
    risks = risk_scores(company, as_of)
    # Those due today by the expected value of acting: the value at stake (BIG 900.00 x
    # (1 + 30/30), OLD 300.00 x (1 + 120/30)) times the likelihood of losing it.
    due = [r for r in rows if r.next_action <= as_of]
    assert [r.code for r in due] == sorted(["BIG", "OLD", "SMALL"], key=lambda c: next(
        (-r.value, r.code) for r in due if r.code == c))
    assert all(r.value <= value_at_stake(r.overdue, r.days_overdue) for r in rows)
    # A page is the ranking cut, whether the risk of the rest was read or not (one customer's
    # risk read at a time: the walk stops once nothing further down can enter the page).
    monkeypatch.setattr(selectors, "RISK_CHUNK", 1)
    # Each chunk is twice the last, up to RISK_CHUNK_MOST (so the reads stay few on a large
    # ledger); only the customers walked are read.
    reads: list[Any] = []
    read = selectors.risk_scores
    monkeypatch.setattr(selectors, "risk_scores", lambda company, as_of, ids=None, **kw: (
        reads.append(ids), read(company, as_of, ids, **kw))[1])
    for most in (3200, 2):
        monkeypatch.setattr(selectors, "RISK_CHUNK_MOST", most)
        for offset in range(5):
            for limit in (1, 2, 3):
                reads.clear()
                assert worklist(company, as_of=as_of, offset=offset, limit=limit) == rows[
                    offset:offset + limit], (offset, limit, most)
                assert None not in reads
                assert all(len(ids) <= max(most, offset + limit) for ids in reads), reads
    for r in rows:
        p = Decimal(str(risks[r.customer_id].default_probability))
        assert r.held == 0 and r.value == expected_value(r.overdue, p, r.days_overdue)
    assert {r.code: (r.overdue, r.days_overdue) for r in rows} == {
        "BIG": (90000, 30), "OLD": (30000, 120), "SMALL": (10000, 30), "NEXT": (500000, 30)}
    assert rows[-1].code == "NEXT" and rows[-1].collector == "cole"
    assert [r.code for r in worklist(company, as_of=as_of, collector="cole")] == ["NEXT"]
    django_user_model.objects.create_user("nobody")  # a user, but not of the company
    with pytest.raises(ValidationFailed, match="may not chase customers"):
        worklist_assign(actor=owner, company=company, customers=["BIG"], collector="nobody",
                        day=as_of)


def test_what_the_model_expects_paid_soon_waits_less() -> None:
    day = date(2025, 6, 1)
    # nothing predicted: everything counts
    assert waiting_share((), day) == 1
    # expected in 30 days or more: in full; in 3 days: 3/30 of it; weighed by amount
    assert waiting_share(((1000, day + timedelta(days=45)),), day) == 1
    assert waiting_share(((1000, day + timedelta(days=3)),), day) == Decimal("0.1")
    assert waiting_share(((3000, day + timedelta(days=3)), (1000, day + timedelta(days=60))),
                         day) == Decimal("0.325")
    # the value at stake stays a bound of the expected value
    assert expected_value(100000, Decimal("0.1"), 60, Decimal("0.5")) == Decimal(15000)


@pytest.mark.django_db
def test_the_worklist_uses_the_payment_models_dates_when_there_is_one(
        company: Any, make_customer: Callable[..., Any], post_invoice: Callable[..., Any],
        monkeypatch: Any) -> None:
    for code in ("SOON", "LATE"):
        make_customer(code)
        post_invoice(code, lines=[("Goods", 1, "900.00", "0")], issue_date=DAY)
    as_of = DAY + timedelta(days=60)  # 30 days overdue
    # without a stored model (the test's company has none): as before, by the risk from
    # behaviour alone; both owe alike and have no history, so they rank alike
    plain = {r.code: r for r in worklist(company, as_of=as_of)}
    risks = risk_scores(company, as_of)
    for r in plain.values():
        p = Decimal(str(risks[r.customer_id].default_probability))
        assert r.value == expected_value(r.overdue, p, r.days_overdue)
    assert plain["SOON"].value == plain["LATE"].value > 0
    # with one: the model's probability and dates; SOON is expected to pay in 3 days, LATE
    # in 40, so a call to LATE is worth more although the model gives them one probability
    ids = {r.code: r.customer_id for r in plain.values()}
    outlooks = {ids["SOON"]: Outlook(0.2, ((90000, as_of + timedelta(days=3)),)),
                ids["LATE"]: Outlook(0.2, ((90000, as_of + timedelta(days=40)),))}
    asked: list[Any] = []

    def outlook(company: Any, *, as_of: date, customer_ids: Any = None) -> Any:
        asked.append(customer_ids)
        return {c: o for c, o in outlooks.items() if customer_ids is None or c in customer_ids}

    monkeypatch.setattr(selectors, "payment_outlooks", outlook)
    rows = worklist(company, as_of=as_of)
    assert [r.code for r in rows] == ["LATE", "SOON"] and asked
    by = {r.code: r for r in rows}
    assert by["LATE"].default_probability == by["SOON"].default_probability == 0.2
    assert by["LATE"].value == expected_value(90000, Decimal("0.2"), 30)
    assert by["SOON"].value == expected_value(90000, Decimal("0.2"), 30, Decimal("0.1"))
    # a page, and the rows of a few customers, rank the same
    assert worklist(company, as_of=as_of, limit=1) == rows[:1]
    assert worklist(company, as_of=as_of, customer_ids=[ids["SOON"]]) == rows[1:]


@pytest.mark.django_db
def test_what_a_dispute_or_a_plan_holds_back_earns_no_expected_value(
        company: Any, owner: Any, make_customer: Callable[..., Any],
        post_invoice: Callable[..., Any]) -> None:
    invoices = {}
    for code, price in (("DISP", "900.00"), ("PLAN", "100.00"), ("PLAIN", "400.00")):
        make_customer(code)
        invoices[code] = post_invoice(code, lines=[("Goods", 1, price, "0")], issue_date=DAY)
    due = DAY + timedelta(days=30)
    dispute_open(actor=owner, company=company, day=due + timedelta(1), spec=DisputeSpec(
        invoice=invoices["DISP"].number, reason="quality", amount=Decimal("200.00")))
    plan_create(actor=owner, company=company, customer="PLAN", day=due + timedelta(1),
                instalments=2, first_due=due + timedelta(40), every_days=30)
    as_of = due + timedelta(days=10)
    rows = {r.code: r for r in worklist(company, as_of=as_of)}
    risks = risk_scores(company, as_of)
    # still overdue (it stays in receivables), but only what is not held back is chased
    assert {c: (r.overdue, r.held) for c, r in rows.items()} == {
        "DISP": (90000, 20000), "PLAN": (10000, 10000), "PLAIN": (40000, 0)}
    for r in rows.values():
        p = Decimal(str(risks[r.customer_id].default_probability))
        assert r.value == expected_value(r.overdue - r.held, p, r.days_overdue)
    assert rows["PLAN"].value == 0 and "plan" in rows["PLAN"].paused


@pytest.mark.django_db
def test_the_timeline_tells_every_exchange_and_casework_event_in_order(
        company: Any, owner: Any, customer: Any, post_invoice: Callable[..., Any]) -> None:
    a = post_invoice("C001", lines=[("Pallets", 1, "500.00", "0")])
    b = post_invoice("C001", lines=[("Crates", 1, "100.00", "0")])
    due = DAY + timedelta(days=30)
    customer_call_log(actor=owner, company=company, customer="C001", day=due + timedelta(2),
                      outcome="no-answer")
    customer_note_add(actor=owner, company=company, customer="C001", day=due + timedelta(1),
                      text="Sales: client moving offices", invoice=a.number)
    d = dispute_open(actor=owner, company=company, day=due + timedelta(3), spec=DisputeSpec(
        invoice=b.number, reason="quantity", amount=Decimal("20.00")))
    promise_add(actor=owner, company=company, customer="C001", invoice=a.number,
                amount=Decimal("500.00"), promised_date=due + timedelta(6),
                day=due + timedelta(3))
    customer_note_add(actor=owner, company=company, customer="C001", day=due + timedelta(4),
                      text="Please send the delivery note", inbound_reply=True)
    dispute_reject(actor=owner, company=company, dispute_id=d.pk, day=due + timedelta(5))
    plan_create(actor=owner, company=company, customer="C001", day=due + timedelta(8),
                instalments=2, first_due=due + timedelta(10), every_days=10)
    as_of = due + timedelta(days=25)
    kinds = [(e.day - due).days for e in customer_timeline(company, "C001", as_of=as_of)]
    assert kinds == sorted(kinds)
    assert [(e.kind, e.invoice) for e in customer_timeline(company, "C001", as_of=as_of)] == [
        ("note", a.number), ("call", ""), ("dispute_opened", b.number),
        ("promise_made", a.number), ("reply", ""), ("dispute_rejected", b.number),
        ("promise_broken", a.number), ("plan_created", ""), ("plan_broken", "")]
    assert [e.kind for e in customer_timeline(company, "C001", as_of=as_of,
                                              invoice=b.number)] == [
        "dispute_opened", "dispute_rejected", "plan_created", "plan_broken"]
    # As it stood earlier: only what had happened by then.
    assert [e.kind for e in customer_timeline(company, "C001", as_of=due + timedelta(2))] == [
        "note", "call"]


@pytest.mark.django_db
def test_the_timeline_takes_the_same_queries_however_long_it_is(
        company: Any, owner: Any, customer: Any, post_invoice: Callable[..., Any]) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as q:
            customer_timeline(company, "C001", as_of=DAY + timedelta(days=90))
        return len(q)

    a = post_invoice("C001", lines=[("Pallets", 1, "500.00", "0")])
    day = DAY + timedelta(days=40)
    customer_note_add(actor=owner, company=company, customer="C001", day=day, text="first")
    dispute_open(actor=owner, company=company, day=day,
                 spec=DisputeSpec(invoice=a.number, reason="other", amount=Decimal("1.00")))
    promise_add(actor=owner, company=company, customer="C001", amount=Decimal("1.00"),
                promised_date=day, day=day)
    plan_create(actor=owner, company=company, customer="C001", day=day, instalments=2,
                first_due=day + timedelta(days=1))
    few = count()
    for n in range(5):
        customer_call_log(actor=owner, company=company, customer="C001", day=day,
                          outcome="voicemail", notes=f"try {n}")
        promise_add(actor=owner, company=company, customer="C001", amount=Decimal("1.00"),
                    promised_date=day, day=day)
        dispute_open(actor=owner, company=company, day=day,
                     spec=DisputeSpec(invoice=a.number, reason="other", amount=Decimal("1.00")))
    assert count() == few


@pytest.mark.django_db
def test_a_page_of_the_worklist_costs_the_same_queries_however_many_customers(
        company: Any, make_customer: Callable[..., Any], post_invoice: Callable[..., Any]
        ) -> None:
    as_of = DAY + timedelta(days=60)

    def page_queries(offset: int) -> tuple[int, list[Any]]:
        with CaptureQueriesContext(connection) as q:
            rows = worklist(company, as_of=as_of, offset=offset, limit=5)
        return len(q), rows

    for i in range(3):
        make_customer(f"A{i:02d}")
        post_invoice(f"A{i:02d}", lines=[("Goods", 1, f"{100 + i}.00", "0")], issue_date=DAY)
    few, _ = page_queries(0)
    for i in range(3, 40):
        make_customer(f"A{i:02d}")
        post_invoice(f"A{i:02d}", lines=[("Goods", 1, f"{100 + i}.00", "0")], issue_date=DAY)
    many, first = page_queries(0)
    again, second = page_queries(5)
    assert few == many == again
    # the pages are the ranking cut in order: the largest amounts at stake first
    whole = worklist(company, as_of=as_of)
    assert len(whole) == 40 and first + second == whole[:10]
    assert [r.code for r in first] == ["A39", "A38", "A37", "A36", "A35"]
