"""Statements of account on a schedule, against a real SMTP server: once per customer and
period whatever the number of runs, resumed after a stop midway without a duplicate, on the
customer's timeline, the statement PDF attached."""

from __future__ import annotations

from datetime import date

import pytest

from salesledger.apps.customers.models import Communication
from salesledger.apps.dunning.models import DunningNotice, NoticeKind
from salesledger.apps.dunning.statements import (
    statement_run,
    statement_schedule_set,
    statement_schedule_stop,
)
from salesledger.domain.errors import ValidationFailed
from salesledger.domain.statement_schedule import Every, due_day, period_day

from .conftest import pdf_text

pytestmark = pytest.mark.django_db


def test_the_period_of_a_day_monthly_and_weekly():
    assert period_day(Every.MONTH, 1, date(2025, 5, 20)) == date(2025, 5, 1)
    assert period_day(Every.MONTH, 31, date(2025, 2, 28)) == date(2025, 2, 28)
    assert period_day(Every.MONTH, 31, date(2025, 2, 27)) == date(2025, 1, 31)
    assert period_day(Every.MONTH, 15, date(2025, 1, 3)) == date(2024, 12, 15)
    assert period_day(Every.WEEK, 1, date(2025, 5, 21)) == date(2025, 5, 19)  # a Wednesday
    assert period_day(Every.WEEK, 3, date(2025, 5, 21)) == date(2025, 5, 21)
    # nothing is owed for a period before the schedule started
    assert due_day(Every.MONTH, 1, starts_on=date(2025, 5, 2), as_of=date(2025, 5, 30)) is None
    assert due_day(Every.MONTH, 1, starts_on=date(2025, 5, 2),
                   as_of=date(2025, 6, 3)) == date(2025, 6, 1)


@pytest.fixture
def books(seller, owner, make_customer, post_invoice):
    make_customer("C1", name="Dupont SA", email="compta@dupont.example", language="fr")
    make_customer("C2", name="Martin SARL", email="ap@martin.example")
    make_customer("C3", name="Paid Up Ltd", email="ap@paidup.example")  # nothing owed
    make_customer("C4", name="No Mail SA")  # owes, no address to send to
    post_invoice("C1", lines=(("Conseil", 1, "1000.00", "20"),), issue_date=date(2025, 4, 2))
    post_invoice("C2", lines=(("Audit", 1, "500.00", "20"),), issue_date=date(2025, 4, 10))
    post_invoice("C4", lines=(("Audit", 1, "50.00", "20"),), issue_date=date(2025, 4, 10))
    return seller


def run(company, owner, day, capture, send=True, **kw):
    with capture(execute=True):
        return statement_run(actor=owner, company=company, as_of=day, send=send, **kw)


def test_monthly_statements_to_every_customer_with_a_balance_once_per_period(
        books, owner, smtp_server, django_capture_on_commit_callbacks):
    cap = django_capture_on_commit_callbacks
    statement_schedule_set(actor=owner, company=books, code="MONTHLY", every="monthly", day=1,
                           as_of=date(2025, 4, 15))
    # before the first day of the schedule nothing is due
    assert run(books, owner, date(2025, 4, 30), cap).as_dict()["customers"] == 0
    preview = run(books, owner, date(2025, 5, 1), cap, send=False)
    assert [p["customer"] for p in preview.planned] == ["C1", "C2"]
    assert smtp_server.received == []
    first = run(books, owner, date(2025, 5, 1), cap).as_dict()
    assert (first["customers"], first["messages_sent"]) == (2, 2)
    assert [(s["customer"], s["reason"]) for s in first["skipped"]] == [
        ("C4", "no_email_address")]
    # what arrived: one message each, the statement of 1 May attached, in their language
    got = {r.rcpt_tos[0]: r.message for r in smtp_server.received}
    assert sorted(got) == ["ap@martin.example", "compta@dupont.example"]
    [pdf] = list(got["compta@dupont.example"].iter_attachments())
    assert pdf.get_filename() == "statement-C1-2025-05-01.pdf"
    text = pdf_text(pdf.get_content())
    assert "INV2025-00001" in text and "1 200,00 €" in text
    # re-running the same day, a day later, or the whole period long sends nothing again
    for day in (date(2025, 5, 1), date(2025, 5, 2), date(2025, 5, 31)):
        again = run(books, owner, day, cap).as_dict()
        assert (again["customers"], again["messages_sent"]) == (0, 0)
    assert len(smtp_server.received) == 2
    # on the timeline, with its delivery status
    comm = Communication.objects.get(customer__code="C2")
    assert comm.channel == "email" and comm.status == "sent"
    assert DunningNotice.objects.get(customer__code="C2").communication_id == comm.pk
    # the next period sends again; a stopped schedule does not
    assert run(books, owner, date(2025, 6, 1), cap).messages_sent == 2
    statement_schedule_stop(actor=owner, company=books, code="MONTHLY")
    assert run(books, owner, date(2025, 7, 1), cap).messages_sent == 0
    assert len(smtp_server.received) == 4


def test_a_chosen_set_weekly_and_a_run_stopped_midway_resumes_without_a_duplicate(
        books, owner, smtp_server, django_capture_on_commit_callbacks):
    cap = django_capture_on_commit_callbacks
    statement_schedule_set(actor=owner, company=books, code="WEEKLY", every="weekly", day=1,
                           customers=["C2", "C3"], as_of=date(2025, 5, 1))
    monday = date(2025, 5, 5)

    class Stop(Exception):
        pass

    def stop(_notice_id: int) -> None:
        raise Stop

    # a run stopped after writing its first statement, before sending anything
    with pytest.raises(Stop):
        run(books, owner, monday, cap, after_notice=stop)
    assert smtp_server.received == []
    assert DunningNotice.objects.filter(kind=NoticeKind.STATEMENT).count() == 1
    # resumed the next day: the period of Monday, each chosen customer once (C3 owes
    # nothing, and asked for it all the same)
    resumed = run(books, owner, monday.replace(day=6), cap).as_dict()
    assert resumed["messages_sent"] == 2
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == [
        "ap@martin.example", "ap@paidup.example"]
    assert run(books, owner, monday.replace(day=7), cap).messages_sent == 0
    assert len(smtp_server.received) == 2


def test_a_statement_whose_outcome_is_unknown_is_not_sent_again(
        books, owner, smtp_server, django_capture_on_commit_callbacks):
    statement_schedule_set(actor=owner, company=books, code="M", every="monthly", day=1,
                           customers=["C1"], as_of=date(2025, 5, 1))
    # the process died while the mail server had the message: the e-mail is recorded,
    # queued, and its delivery never ran
    with django_capture_on_commit_callbacks(execute=False):
        statement_run(actor=owner, company=books, as_of=date(2025, 5, 1), send=True)
    assert Communication.objects.get(customer__code="C1").status == "queued"
    again = run(books, owner, date(2025, 5, 2), django_capture_on_commit_callbacks).as_dict()
    assert again["messages_sent"] == 0
    assert [s["reason"] for s in again["skipped"]] == ["outcome_unknown"]
    assert smtp_server.received == []


def test_a_schedule_is_checked(books, owner):
    with pytest.raises(ValidationFailed, match="monthly or weekly"):
        statement_schedule_set(actor=owner, company=books, code="X", every="daily", day=1,
                               as_of=date(2025, 5, 1))
    with pytest.raises(ValidationFailed, match="day of the week"):
        statement_schedule_set(actor=owner, company=books, code="X", every="weekly", day=8,
                               as_of=date(2025, 5, 1))
