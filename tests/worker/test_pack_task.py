"""The monthly pack through the worker: the calendar enqueues it on the schedule's day, a
worker that ticks twice, or whose task dies half-way and is run again, sends the month's pack
once, read from a real SMTP server (aiosmtpd) with the PDF attached and readable.

The clock is the test's, and the worker keeps the test's connection open, as in
``test_worker.py``; the other daily jobs are left out so that the queue holds the pack's."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from conftest import line_inputs
from django.utils import timezone
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from salesledger.apps.documents.tests.conftest import smtp_server
from salesledger.apps.recurring.models import DailyJob
from salesledger.apps.reporting import pack_sending
from salesledger.apps.reporting.models import PackSending
from salesledger.apps.reporting.pack_sending import pack_schedule_set
from salesledger.worker import make_worker, worker_round
from tests.worker.clock import T0, Clock

__all__ = ["smtp_server"]
pytestmark = pytest.mark.usefixtures("no_pdf_freezing")

@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock(T0)
    monkeypatch.setattr(timezone, "now", c)
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    monkeypatch.setattr("salesledger.worker.DAILY", {})
    return c


@pytest.fixture
def scheduled(company: Any, owner: Any, make_customer: Any, django_user_model: Any) -> Any:
    from salesledger.apps.core.services import membership_set
    from salesledger.apps.invoicing.services import InvoiceInput, invoice_create, invoice_post

    django_user_model.objects.create_user("bea", email="bea@acme.example")
    membership_set(actor=owner, company=company, username="bea", role="viewer")
    pack_schedule_set(actor=owner, company=company, day=1, users=["bea", "owner"],
                      as_of=date(2025, 4, 10))
    make_customer("C8")
    draft = invoice_create(actor=owner, company=company, data=InvoiceInput(
        customer_code="C8", issue_date=date(2025, 4, 15),
        lines=line_inputs([("Audit", 1, "100.00", "20")])))
    invoice_post(actor=owner, company=company, invoice_id=draft.pk)
    return company


def _pack_tasks() -> list[str]:
    return list(DBTaskResult.objects.filter(
        task_path="salesledger.apps.reporting.tasks.pack_run_task")
        .order_by("enqueued_at").values_list("status", flat=True))


def _pdf_text(message: Any) -> str:
    from pypdf import PdfReader

    [part] = list(message.iter_attachments())
    assert part.get_content_type() == "application/pdf"
    reader = PdfReader(io.BytesIO(part.get_content()))
    return " ".join(p.extract_text() for p in reader.pages)


def test_the_worker_sends_the_months_pack_once(scheduled: Any, clock: Clock,
                                                smtp_server: Any) -> None:
    worker = make_worker(worker_id="w1")
    # when a worker ticks twice on the day, and again the next day
    worker_round(worker, now=clock)
    worker_round(worker, now=clock)
    clock.advance(days=1)
    worker_round(worker, now=clock)
    assert _pack_tasks() == ["SUCCESSFUL"]
    # then April's pack was enqueued once and arrived once, to both users, with its PDF
    assert list(DailyJob.objects.filter(job="report_pack").values_list("day", "done")) == [
        (date(2025, 5, 1), True)]
    [mail] = smtp_server.received
    assert sorted(mail.rcpt_tos) == ["bea@acme.example", "owner@example.com"]
    text = _pdf_text(mail.message)
    assert "Receivables pack 2025-04" in text and "Receivable 120.00 EUR" in text
    [row] = PackSending.objects.filter(company=scheduled)
    assert (row.month, row.day, row.status) == (date(2025, 4, 1), date(2025, 5, 1), "sent")


def test_a_task_that_died_before_sending_is_run_again_and_sends_once(
        scheduled: Any, clock: Clock, smtp_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a worker whose task dies once the pack is written, before it is handed over
    original = pack_sending._deliver

    def dies(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("worker process killed")

    monkeypatch.setattr(pack_sending, "_deliver", dies)
    worker = make_worker(worker_id="w1")
    worker_round(worker, now=clock)
    assert PackSending.objects.get().status == "planned" and smtp_server.received == []
    assert _pack_tasks() == ["FAILED"]
    # when the fault is gone: a minute later nothing is retried yet; after five it is
    monkeypatch.setattr(pack_sending, "_deliver", original)
    clock.advance(minutes=1)
    worker_round(worker, now=clock)
    assert _pack_tasks() == ["FAILED"]
    clock.advance(minutes=5)
    worker_round(worker, now=clock)
    clock.advance(minutes=10)
    worker_round(worker, now=clock)
    assert _pack_tasks() == ["FAILED", "SUCCESSFUL"]
    # then the pack went once, and the day's job is over
    assert len(smtp_server.received) == 1
    assert PackSending.objects.get().status == "sent"
    [job] = DailyJob.objects.filter(job="report_pack")
    assert (job.attempts, job.done) == (2, True)
