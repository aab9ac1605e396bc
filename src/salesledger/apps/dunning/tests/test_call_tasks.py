"""A dunning level whose channel is a call gives the customer's collector a call to make: on
the worklist, its day the next action, until a call to the customer is logged."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from salesledger.apps.collections.models import CallTask
from salesledger.apps.collections.selectors import worklist
from salesledger.apps.collections.services import customer_call_log, worklist_assign
from salesledger.apps.core.services import membership_set
from salesledger.apps.dunning.run import dunning_run

pytestmark = pytest.mark.django_db

DUE = date(2025, 3, 10)


def on(day: int) -> date:
    return DUE + timedelta(days=day)


def test_a_call_level_puts_a_call_on_the_worklist_until_one_is_logged(
        dunning, owner, django_user_model, make_customer, post_invoice, smtp_server,
        django_capture_on_commit_callbacks):
    django_user_model.objects.create_user("cole")
    membership_set(actor=owner, company=dunning, username="cole", role="collector")
    make_customer("C100", name="Dupont SA", email="compta@dupont.example")
    post_invoice("C100", lines=(("Consulting", 1, "1000.00", "20"),),
                 issue_date=date(2025, 2, 8))
    # the collector planned to look at the account again on day 60
    worklist_assign(actor=owner, company=dunning, customers=["C100"], collector="cole",
                    day=on(1), next_action=on(60))
    with django_capture_on_commit_callbacks(execute=True):
        before = dunning_run(actor=owner, company=dunning, as_of=on(20), send=True)
    assert before.calls == 0 and not CallTask.objects.exists()
    [row] = worklist(dunning, as_of=on(20))
    assert (row.call_due, row.next_action) == (None, on(60))
    # day 40: the final notice, whose channels include a call
    with django_capture_on_commit_callbacks(execute=True):
        final = dunning_run(actor=owner, company=dunning, as_of=on(40), send=True)
    assert final.calls == 1
    [task] = CallTask.objects.all()
    assert (task.due_on, task.collector.username, task.done_on) == (on(40), "cole", None)
    # it is on the worklist, first among what is due, from that day until a call is logged
    for day in (40, 44):
        [row] = worklist(dunning, as_of=on(day), collector="cole")
        assert (row.call_due, row.next_action) == (on(40), on(40))
    # a second run the same day adds no second call
    with django_capture_on_commit_callbacks(execute=True):
        dunning_run(actor=owner, company=dunning, as_of=on(40), send=True)
    assert CallTask.objects.count() == 1
    # the collector calls on day 45: the task is done, the next action the collector's own
    comm = customer_call_log(actor=owner, company=dunning, customer="C100", day=on(45),
                             outcome="reached", notes="will pay next week")
    task.refresh_from_db()
    assert (task.done_on, task.call_id) == (on(45), comm.pk)
    [row] = worklist(dunning, as_of=on(45))
    assert (row.call_due, row.next_action) == (None, on(60))
