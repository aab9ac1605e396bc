"""Recurring invoices through the services: schedules, due periods, one invoice per
period however often the run is repeated, problems reported per schedule, automatic
sending recorded on the run."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from conftest import line_inputs
from tests.support import events, journal, last_seq, raw_sql

from salesledger.apps.core.invariants import check_company
from salesledger.apps.core.services import company_close_period
from salesledger.apps.customers.services import ContactInput
from salesledger.apps.invoicing.models import Invoice
from salesledger.apps.recurring import delivery as recurring_delivery
from salesledger.apps.recurring.delivery import recurring_deliver
from salesledger.apps.recurring.models import RecurringRun
from salesledger.apps.recurring.selectors import recurring_list, recurring_runs
from salesledger.apps.recurring.services import (
    ScheduleInput,
    recurring_add,
    recurring_run,
    recurring_set_active,
)
from salesledger.domain.errors import (
    LedgerError,
    PostedIsImmutable,
    UnknownCustomer,
    ValidationFailed,
)

TODAY = date(2025, 5, 1)
LINES = [("Maintenance", "1", "250.00", "20")]


@pytest.fixture
def schedule(company, owner, customer):
    def add(every="1 month", start=date(2025, 1, 31), lines=LINES, **kw):
        kw.setdefault("customer_code", "C001")
        return recurring_add(actor=owner, company=company, as_of=TODAY, data=ScheduleInput(
            lines=line_inputs(lines), every=every, start=start, **kw))
    return add


def _issued(company):
    return list(Invoice.objects.filter(company=company).order_by("seq")
                .values_list("number", "issue_date"))


def test_a_schedule_is_written_and_audited(company, owner, schedule):
    seq = last_seq(company)
    s = schedule(every="quarterly", count=4, po_number="PO-1", auto_send=True)
    assert (s.unit, s.interval, s.count, s.end_date, s.currency) == ("month", 3, 4, None, "EUR")
    assert list(s.lines.values_list("description", "unit_price")) == [
        ("Maintenance", Decimal("250.00"))]
    [ev] = events(company, seq)
    assert (ev.action, ev.data["after"]["every"], ev.data["after"]["count"]) == (
        "recurring.add", "3 months", 4)


@pytest.mark.parametrize(("kw", "error", "words"), [
    ({"every": "1 fortnight"}, ValidationFailed, "--every"),
    ({"end": date(2025, 6, 1), "count": 3}, ValidationFailed, "not both"),
    ({"end": date(2024, 6, 1)}, ValidationFailed, "before the start"),
    ({"currency": "USD"}, ValidationFailed, "needs an exchange rate"),
    ({"customer_code": "NOPE"}, UnknownCustomer, "NOPE"),
    ({"lines": [("x", "1", "-5")]}, LedgerError, "line 1: unit price -5 is negative"),
])
def test_a_bad_schedule_is_refused(company, schedule, kw, error, words):
    with pytest.raises(error, match=words):
        schedule(**kw)
    assert recurring_list(company, as_of=TODAY) == []


def test_the_run_issues_every_due_period_once_at_its_month_end(company, owner, customer,
                                                              schedule):
    # given a monthly schedule from 31 January
    s = schedule()
    seq = last_seq(company)
    # when the run goes on 1 May
    summary = recurring_run(actor=owner, company=company, as_of=TODAY)
    # then the four periods due are invoiced, dated on the month ends, numbered in order
    assert _issued(company) == [
        ("INV2025-00001", date(2025, 1, 31)), ("INV2025-00002", date(2025, 2, 28)),
        ("INV2025-00003", date(2025, 3, 31)), ("INV2025-00004", date(2025, 4, 30))]
    assert [(i["period"], i["invoice"]) for i in summary.issued] == [
        (1, "INV2025-00001"), (2, "INV2025-00002"), (3, "INV2025-00003"), (4, "INV2025-00004")]
    assert (summary.problems, summary.remaining) == ([], 0)
    inv = Invoice.objects.get(number="INV2025-00002")
    assert (inv.status, inv.total, inv.recurring_run.period_index) == ("posted", 30000, 1)
    assert inv.notes == "Period 2025-02-28 to 2025-03-30"
    assert journal(inv.journal_entry) == [("receivable", 30000, 30000, customer.pk),
                                          ("revenue", -25000, -25000, None),
                                          ("tax_payable", -5000, -5000, None)]
    assert [(r["period"], r["start"], r["end"]) for r in recurring_runs(company, s.pk)][:2] == [
        (1, date(2025, 1, 31), date(2025, 2, 27)), (2, date(2025, 2, 28), date(2025, 3, 30))]
    issue_events = [e for e in events(company, seq) if e.action == "recurring.issue"]
    assert [(e.data["period"], e.data["invoice"]) for e in issue_events] == [
        (1, "INV2025-00001"), (2, "INV2025-00002"), (3, "INV2025-00003"), (4, "INV2025-00004")]
    # when it runs again for the same day, nothing more is issued
    again = recurring_run(actor=owner, company=company, as_of=TODAY)
    assert (again.issued, again.problems) == ([], [])
    assert Invoice.objects.count() == 4 and RecurringRun.objects.count() == 4
    # and the next month brings exactly the next period
    recurring_run(actor=owner, company=company, as_of=date(2025, 5, 31))
    assert _issued(company)[-1] == ("INV2025-00005", date(2025, 5, 31))
    assert check_company(company) == []
    [row] = recurring_list(company, as_of=date(2025, 5, 31))
    assert (row["issued"], row["next"], row["state"], row["last_invoice"]) == (
        5, date(2025, 6, 30), "active", "INV2025-00005")


def test_end_date_and_count_bound_the_schedule(company, owner, make_customer, schedule):
    make_customer("C002")
    schedule(every="2 weeks", start=date(2025, 3, 3), count=3)
    schedule(every="1 month", start=date(2025, 1, 15), end=date(2025, 3, 15),
             customer_code="C002")
    recurring_run(actor=owner, company=company, as_of=date(2025, 12, 31))
    assert sorted(RecurringRun.objects.values_list("schedule__customer__code",
                                                   "period_start")) == [
        ("C001", date(2025, 3, 3)), ("C001", date(2025, 3, 17)), ("C001", date(2025, 3, 31)),
        ("C002", date(2025, 1, 15)), ("C002", date(2025, 2, 15)), ("C002", date(2025, 3, 15))]
    assert [r["state"] for r in recurring_list(company, as_of=date(2025, 12, 31))] == [
        "finished", "finished"]


def test_a_refused_period_stops_its_schedule_only(company, owner, make_customer, schedule):
    # given one schedule for a customer who requires a PO (and has none) and one fine one
    make_customer("C002", po_required=True)
    bad = schedule(customer_code="C002", start=date(2025, 3, 1))
    good = schedule(start=date(2025, 3, 1))
    # when the run goes
    summary = recurring_run(actor=owner, company=company, as_of=TODAY)
    # then the good one is issued and the bad one reported, with nothing half-written
    assert [i["schedule"] for i in summary.issued] == [good.pk, good.pk, good.pk]
    assert summary.problems == [{
        "schedule": bad.pk, "period": 1, "period_start": "2025-03-01",
        "code": "purchase_order_required",
        "message": "customer C002 requires a purchase order number on every invoice"}]
    assert not Invoice.objects.filter(customer__code="C002").exists()
    assert check_company(company) == []
    assert [r["state"] for r in recurring_list(company, as_of=TODAY)] == ["due", "active"]


def test_a_closed_period_is_reported_not_skipped(company, owner, schedule):
    schedule(start=date(2025, 1, 31))
    company_close_period(actor=owner, company=company, through=date(2025, 2, 28))
    summary = recurring_run(actor=owner, company=company, as_of=TODAY)
    assert [p["code"] for p in summary.problems] == ["period_closed"]
    assert summary.issued == [] and not Invoice.objects.exists()


def test_a_stopped_schedule_issues_nothing_until_resumed(company, owner, schedule):
    s = schedule(start=date(2025, 3, 1))
    recurring_set_active(actor=owner, company=company, schedule_id=s.pk, active=False,
                         as_of=TODAY)
    assert recurring_run(actor=owner, company=company, as_of=TODAY).issued == []
    assert recurring_list(company, as_of=TODAY)[0]["state"] == "stopped"
    recurring_set_active(actor=owner, company=company, schedule_id=s.pk, active=True,
                         as_of=TODAY)
    assert len(recurring_run(actor=owner, company=company, as_of=TODAY).issued) == 3
    assert [e.action for e in events(company)].count("recurring.stop") == 1


def test_a_foreign_currency_schedule_books_at_its_rate(company, owner, make_customer,
                                                       schedule):
    make_customer("US1", currency="USD")
    schedule(customer_code="US1", start=date(2025, 4, 1), rate=Decimal("0.9"))
    recurring_run(actor=owner, company=company, as_of=TODAY)
    assert list(Invoice.objects.order_by("seq").values_list(
        "issue_date", "currency", "rate", "total", "base_total")) == [
        (date(2025, 4, 1), "USD", Decimal("0.9"), 30000, 27000),
        (date(2025, 5, 1), "USD", Decimal("0.9"), 30000, 27000)]


def test_the_issued_period_is_immutable(company, owner, schedule):
    schedule(start=date(2025, 4, 2))
    recurring_run(actor=owner, company=company, as_of=TODAY)
    run = RecurringRun.objects.get()
    with pytest.raises(PostedIsImmutable):
        run.delete()
    with pytest.raises(Exception, match="posted_is_immutable"):
        raw_sql("DELETE FROM recurring_recurringrun")
    with pytest.raises(Exception, match="posted_is_immutable"):
        raw_sql("UPDATE recurring_recurringrun SET period_index = 7")
    with pytest.raises(Exception, match="recurring_run_once_per_period|UNIQUE|unique"):
        raw_sql("INSERT INTO recurring_recurringrun (company_id, schedule_id, period_index, "
                "period_start, period_end, invoice_id, send_status, send_detail, created_at) "
                "SELECT company_id, schedule_id, period_index, '2030-01-01', '2030-01-31', "
                "invoice_id, '', '', created_at FROM recurring_recurringrun")


def test_automatic_sending_is_queued_after_commit_and_recorded(
        company, owner, schedule, monkeypatch, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    # given a schedule that sends automatically
    schedule(start=date(2025, 4, 2), auto_send=True)
    # when the run commits, a send task is queued for the invoice
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        summary = recurring_run(actor=owner, company=company, as_of=TODAY)
    assert len(callbacks) == 1 and summary.issued[0]["auto_send"] is True
    [task] = DBTaskResult.objects.filter(task_path__endswith="invoice_send_task")
    assert task.task_path == "salesledger.apps.recurring.tasks.invoice_send_task"
    run = RecurringRun.objects.get()
    assert task.args_kwargs == {"args": ["acme", run.pk, "2025-05-01"], "kwargs": {}}
    assert run.send_status == "queued"

    # when the invoice cannot be e-mailed (the customer has no address), the failure is
    # recorded on the run and audited, and raised
    with pytest.raises(LedgerError) as err:
        recurring_deliver(actor=None, company=company, run_id=run.pk, as_of=TODAY)
    assert err.value.code == "no_recipients"
    run.refresh_from_db()
    assert run.send_status == "failed" and run.send_detail.startswith("no_recipients: ")
    assert events(company)[-1].action == "recurring.send_failed"

    # when it can (a stand-in recording the call), the run is marked sent, once
    calls = []
    monkeypatch.setattr(recurring_delivery, "invoice_send",
                        lambda **kw: calls.append(kw) or "to billing@c001.example")
    for _ in range(2):
        recurring_deliver(actor=None, company=company, run_id=run.pk, as_of=TODAY)
    assert [(c["number"], c["as_of"], c["actor"]) for c in calls] == [
        ("INV2025-00001", TODAY, None)]
    run.refresh_from_db()
    assert (run.send_status, run.send_detail) == ("sent",
                                                  "sent INV2025-00001: to billing@c001.example")
    assert run.sent_at is not None


def test_an_issued_period_is_e_mailed_through_the_documents_app(
        company, owner, make_customer, mailoutbox, django_capture_on_commit_callbacks):
    # given a schedule that sends automatically to a customer with a billing contact
    make_customer("C002", name="Dupont et Fils", language="fr", contacts=[
        ContactInput("Anne Compta", "compta@dupont.example", roles=("billing",))])
    recurring_add(actor=owner, company=company, as_of=TODAY, data=ScheduleInput(
        customer_code="C002", lines=line_inputs(LINES), every="1 month", start=TODAY,
        count=1, auto_send=True))
    recurring_run(actor=None, company=company, as_of=TODAY)
    run = RecurringRun.objects.get()
    # when the sending task delivers the period's invoice (as the system)
    with django_capture_on_commit_callbacks(execute=True):
        detail = recurring_deliver(actor=None, company=company, run_id=run.pk, as_of=TODAY)
    # then the invoice reached the billing contact, in French, and the run says so
    [message] = mailoutbox
    assert message.to == ["compta@dupont.example"]
    assert message.subject == f"Facture {run.invoice.number} de Acme SARL"
    assert detail.startswith(f"sent {run.invoice.number}")
    run.refresh_from_db()
    assert run.send_status == "sent"
