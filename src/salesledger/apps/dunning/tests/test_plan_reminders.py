"""A payment plan's instalments reminded of through the dunning run, day by day, against a real
SMTP server: before each falls due and when one is missed, in the customer's one message; the
missed instalment breaks the plan, the customer is told once, and the original invoice
resumes its sequence at its level."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from salesledger.apps.collections.models import PaymentPlan
from salesledger.apps.collections.services import plan_create
from salesledger.apps.credit.models import CreditSignal
from salesledger.apps.dunning.models import PlanReminder
from salesledger.apps.dunning.run import dunning_run
from salesledger.domain.dunning import CustomerPlan, Policy
from salesledger.domain.plan_reminders import PlanDue, select_plan_reminders, stage_on

pytestmark = pytest.mark.django_db

DUE = date(2025, 3, 10)
ISSUED = date(2025, 2, 8)


def on(day: int) -> date:
    return DUE + timedelta(days=day)


def test_the_stage_of_an_instalment():
    d = PlanDue(1, 1, 7, 1, date(2025, 5, 10), "EUR", 100)
    assert [stage_on(d, as_of=date(2025, 5, day), lead_days=3) for day in (6, 7, 10, 11)] == [
        None, "before", "before", "missed"]
    assert stage_on(d, as_of=date(2025, 5, 7), lead_days=0) is None
    broken = PlanDue(1, 1, 7, 1, date(2025, 5, 10), "EUR", 100, broken_on=date(2025, 5, 16))
    assert stage_on(broken, as_of=date(2025, 5, 16), lead_days=3) == "broken"
    # once per stage; customers with no policy are not dunned
    got = select_plan_reminders([d], as_of=date(2025, 5, 11), lead_of={7: 3},
                                sent={(1, "missed")})
    assert got == {}
    assert select_plan_reminders([d], as_of=date(2025, 5, 11), lead_of={}, sent=set()) == {}
    assert CustomerPlan(7, Policy("P", ())).top_level.number == 0


def run(company, owner, day, capture):
    with capture(execute=True):
        return dunning_run(actor=owner, company=company, as_of=on(day), send=True)


def test_a_plan_day_by_day_reminders_then_broken_and_the_original_resumes(
        dunning, owner, make_customer, post_invoice, record_receipt, allocate_to,
        smtp_server, django_capture_on_commit_callbacks):
    cap = django_capture_on_commit_callbacks
    make_customer("C100", name="Dupont SA", email="compta@dupont.example")
    inv = post_invoice("C100", lines=(("Consulting", 1, "1000.00", "20"),), issue_date=ISSUED)
    # day 5: the first reminder; day 10: the customer agrees a plan of three instalments
    # of 400.00, the first due on day 30, every 30 days, five days' grace
    assert run(dunning, owner, 5, cap).messages_sent == 1
    plan = plan_create(actor=owner, company=dunning, customer="C100", day=on(10), instalments=3,
                       first_due=on(30), every_days=30, grace_days=5)
    # day 20: the invoice would be at level 3, but it is in the plan: nothing is sent
    day20 = run(dunning, owner, 20, cap)
    assert day20.messages_sent == 0
    assert [s["reason"] for s in day20.skipped] == ["plan"]
    # day 26 nothing; day 27 (the policy's three days' lead) the first instalment falls due
    assert run(dunning, owner, 26, cap).messages_sent == 0
    day27 = run(dunning, owner, 27, cap)
    assert day27.messages_sent == 1
    [p] = day27.planned
    assert [(r["number"], r["stage"]) for r in p["plan_instalments"]] == [(1, "before")]
    got = smtp_server.received[-1].message
    body = got.get_body(("plain",)).get_content()
    assert got["Subject"].startswith("Payment plan: instalment falling due")
    assert f"plan {plan.pk} #1" in body and "400,00" in body and inv.number not in body
    assert run(dunning, owner, 28, cap).messages_sent == 0
    # day 29: the first instalment is paid; day 57 the second falls due
    rc = record_receipt("C100", "400.00", on(29))
    allocate_to(rc.number, {inv.number: "400.00"}, on(29))
    assert run(dunning, owner, 31, cap).messages_sent == 0  # paid: nothing missed
    assert run(dunning, owner, 57, cap).messages_sent == 1
    # day 61: the second was not paid: missed, still within the grace
    day61 = run(dunning, owner, 61, cap)
    assert [(r["number"], r["stage"]) for r in day61.planned[0]["plan_instalments"]] == [
        (2, "missed")]
    assert "instalment missed" in smtp_server.received[-1].message["Subject"]
    assert run(dunning, owner, 65, cap).messages_sent == 0
    # day 66: the grace is over, the plan is broken: the customer is told once, and the
    # invoice is back in its sequence at its level of the day (the final notice, 40 days)
    day66 = run(dunning, owner, 66, cap)
    [p] = day66.planned
    assert [(r["number"], r["stage"]) for r in p["plan_instalments"]] == [(2, "broken")]
    assert [(i["item"], i["level"]) for i in p["items"]] == [(inv.number, 4)]
    body = smtp_server.received[-1].message.get_body(("plain",)).get_content()
    assert "Payment plan ended" in body and inv.number in body and "800,00" in body
    assert PaymentPlan.objects.get().broken_on == on(66)
    assert CreditSignal.objects.filter(kind="plan_broken").count() == 1
    assert [f["invoice"] for f in day66.fees] != []  # the final notice charges
    # day 67: the plan is not spoken of again (only the invoice of charges, due at once,
    # is reminded of, as any invoice is)
    day67 = run(dunning, owner, 67, cap)
    [p] = day67.planned
    assert p["plan_instalments"] == []
    assert [(i["item"], i["new"]) for i in p["items"]] == [
        (inv.number, False), (day66.fees[0]["invoice"], True)]
    assert list(PlanReminder.objects.order_by("pk").values_list("stage", flat=True)) == [
        "before", "before", "missed", "broken"]
