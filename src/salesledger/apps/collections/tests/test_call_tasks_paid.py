"""A call task a dunning level asked for closes when the customer pays what it was about
(receipts, credit notes, write-offs and deductions alike), and says so on the timeline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from salesledger.apps.collections.models import CallTask
from salesledger.apps.collections.selectors import call_tasks_paid, customer_timeline, worklist
from salesledger.apps.collections.services import call_tasks_open, customer_call_log
from salesledger.apps.core.models import AuditEvent
from salesledger.apps.payments.adjustments.write_offs import invoice_adjust

DUE = date(2025, 4, 9)  # of an invoice of 2025-03-10 on NET30
CALL = DUE + timedelta(days=20)


def _task(company: Any) -> CallTask:
    return CallTask.objects.get(company=company)


@pytest.mark.django_db
def test_a_call_task_closes_as_paid_when_the_receipts_settle_what_it_was_about(
        company: Any, owner: Any, customer: Any, post_invoice: Callable[..., Any],
        record_receipt: Callable[..., Any], allocate_to: Callable[..., Any]) -> None:
    a = post_invoice("C001", lines=[("Pallets", 1, "500.00", "0")])
    b = post_invoice("C001", lines=[("Crates", 1, "300.00", "0")])
    call_tasks_open(actor=owner, company=company, customer_ids=[customer.pk], day=CALL,
                    reason="dunning level 3")
    # A part paid: there is still someone to call.
    rc = record_receipt("C001", "600.00", CALL + timedelta(days=2))
    allocate_to(rc.number, {a.number: "500.00", b.number: "100.00"}, CALL + timedelta(days=2))
    assert _task(company).done_on is None
    assert worklist(company, as_of=CALL + timedelta(days=2))[0].call_due == CALL
    # The rest paid: the task closes as paid, in the allocation's transaction, audited.
    rc = record_receipt("C001", "200.00", CALL + timedelta(days=4))
    allocate_to(rc.number, {b.number: "200.00"}, CALL + timedelta(days=4))
    task = _task(company)
    assert (task.done_on, task.outcome, task.call_id) == (CALL + timedelta(days=4), "paid", None)
    assert AuditEvent.objects.filter(company=company, action="call_task.paid").count() == 1
    entries = [(e.day, e.kind, e.status) for e in customer_timeline(
        company, "C001", as_of=CALL + timedelta(days=10)) if e.kind.startswith("call_task")]
    assert entries == [(CALL, "call_task", "paid"),
                       (CALL + timedelta(days=4), "call_task_paid", "paid")]
    # the next level's call opens a new task: the paid one no longer blocks it
    c = post_invoice("C001", lines=[("Boxes", 1, "50.00", "0")], issue_date=CALL)
    assert c.number
    call_tasks_open(actor=owner, company=company, customer_ids=[customer.pk],
                    day=CALL + timedelta(days=40), reason="dunning level 2")
    assert CallTask.objects.filter(company=company, done_on__isnull=True).count() == 1


@pytest.mark.django_db
def test_a_deduction_settling_everything_makes_the_task_paid_without_any_event(
        company: Any, owner: Any, customer: Any, post_invoice: Callable[..., Any]) -> None:
    a = post_invoice("C001", lines=[("Pallets", 1, "500.00", "0")])
    call_tasks_open(actor=owner, company=company, customer_ids=[customer.pk], day=CALL,
                    reason="dunning level 3")
    assert call_tasks_paid(company, as_of=CALL + timedelta(days=5)) == {}
    invoice_adjust(actor=owner, company=company, number=a.number, kind="deduction",
                   day=CALL + timedelta(days=5), reason_code="damaged_goods")
    # derived: paid on the day of the deduction; off the worklist's calls
    assert call_tasks_paid(company, as_of=CALL + timedelta(days=6)) == {
        _task(company).pk: CALL + timedelta(days=5)}
    assert [r.call_due for r in worklist(company, as_of=CALL + timedelta(days=6))] == []
    assert [e.kind for e in customer_timeline(company, "C001", as_of=CALL + timedelta(days=6))
            if e.kind.startswith("call_task")] == ["call_task", "call_task_paid"]
    # a call logged afterwards does not claim it: it was paid before
    customer_call_log(actor=owner, company=company, customer="C001",
                      day=CALL + timedelta(days=6), outcome="reached")
    task = _task(company)
    assert (task.outcome, task.done_on, task.call_id) == ("paid", CALL + timedelta(days=5), None)
