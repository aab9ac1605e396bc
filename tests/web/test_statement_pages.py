"""Scheduled statements in the settings: the schedules listed, set and stopped by a manager
(``customer statement --schedule set|show|stop``), and the run of a day previewed and sent by
the real worker (``--schedule run --dry-run|--send``), followed on its page. A clerk runs but
does not set; a viewer reads; a user of another company finds none of it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django_tasks_db.management.commands import db_worker

from salesledger.apps.core.models import AuditEvent
from salesledger.apps.core.services import membership_set
from salesledger.apps.dunning.models import DunningNotice, NoticeKind
from salesledger.apps.dunning.statement_selectors import schedule_list, statement_run_state
from salesledger.apps.dunning.statements import statement_schedule_set
from salesledger.apps.dunning.tasks import statements_enqueue
from salesledger.worker import make_worker

from .test_writes import refusal, refusals

pytestmark = pytest.mark.usefixtures("no_pdf_freezing")

URL = "/c/acme/settings/statements/"
SCHEDULE = {"action": "set", "code": "STATEMENTS", "every": "monthly", "day": "1",
            "customers": ""}


@pytest.fixture
def worker(monkeypatch: Any, settings: Any, tmp_path: Any) -> Any:
    # As in test_collections.py: the real worker on the real queue, in the test's transaction.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    settings.VAR_DIR = tmp_path
    return make_worker(worker_id="test")


@pytest.fixture
def mailed(books: dict[str, Any], make_customer: Any, post_invoice: Any,
           django_user_model: Any) -> dict[str, Any]:
    """acme's books with a customer that owes and has an e-mail address (C001 owes and has
    none), and a viewer."""
    make_customer("C007", name="Petit SARL", email="ap@petit.example")
    post_invoice("C007", lines=(("Audit", 1, "100.00", "20"),), issue_date=date(2025, 4, 2))
    django_user_model.objects.create_user("vera")
    membership_set(actor=books["owner"], company=books["company"], username="vera",
                   role="viewer")
    books["viewer"] = django_user_model.objects.get(username="vera")
    return books


def _text(response: Any) -> str:
    return response.content.decode()


def test_a_manager_sets_a_schedule_with_errors_beside_each_field_and_stops_it(
        mailed: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    owner, company = as_user(mailed["owner"]), mailed["company"]
    page = _text(owner.get(URL))
    assert "No statement schedule" in page and "Save the schedule" in page
    assert 'value="STATEMENTS"' in page  # the command's default name
    done = owner.post(f"{URL}?as_of=2025-04-15", SCHEDULE)
    assert done.status_code == 302, refusals(done)
    assert done["Location"] == f"{URL}?as_of=2025-04-15"  # back on the page's day
    assert schedule_list(company) == [{"code": "STATEMENTS", "every": "monthly", "day": 1,
                                       "starts_on": "2025-04-15", "active": True,
                                       "customers": "all with a balance"}]
    shown = _text(owner.get(URL))
    assert "every customer with a balance" in shown and "Stop schedule STATEMENTS" in shown
    # the service's refusals, beside their fields; nothing saved
    expected = refusal(lambda: statement_schedule_set(
        actor=mailed["owner"], company=company, code="W", every="weekly", day=8,
        as_of=date(2025, 4, 15)))
    bad = owner.post(URL, {**SCHEDULE, "code": "W", "every": "weekly", "day": "8"})
    assert bad.status_code == 409
    assert f'<span class="error" id="id_day-error">{expected}</span>' in _text(bad)
    bad = owner.post(URL, {**SCHEDULE, "code": "W", "customers": "C007, NOPE"})
    assert bad.status_code == 409 and 'id="id_customers-error"' in _text(bad)
    assert "no customer with code &#x27;NOPE&#x27;" in _text(bad)
    assert owner.post(URL, {**SCHEDULE, "day": "first"}).status_code == 400
    assert [r["code"] for r in schedule_list(company)] == ["STATEMENTS"]
    # to the customers named, weekly on Mondays
    done = owner.post(URL, {**SCHEDULE, "code": "WEEKLY", "every": "weekly",
                            "customers": "C007 C001"})
    assert done.status_code == 302, refusals(done)
    weekly = [r for r in schedule_list(company) if r["code"] == "WEEKLY"][0]
    assert weekly["customers"] == ["C001", "C007"] and weekly["every"] == "weekly"
    # stopped: kept, listed as stopped, no stop button any more
    assert owner.post(URL, {"action": "stop", "schedule": "WEEKLY"}).status_code == 302
    assert not [r for r in schedule_list(company) if r["code"] == "WEEKLY"][0]["active"]
    assert "Stop schedule WEEKLY" not in _text(owner.get(URL))
    assert owner.post(URL, {"action": "stop", "schedule": "NOPE"}).status_code == 404
    assert AuditEvent.objects.filter(company=company,
                                     action="statement.schedule_stop").count() == 1
    assert "Relevés programmés" in _text(owner.get(URL, HTTP_ACCEPT_LANGUAGE="fr"))


def test_a_clerk_previews_then_sends_the_statements_of_a_day_in_the_worker(
        mailed: dict[str, Any], as_user: Callable[[Any], Any], worker: Any,
        django_capture_on_commit_callbacks: Any, mailoutbox: Any) -> None:
    company = mailed["company"]
    statement_schedule_set(actor=mailed["owner"], company=company, code="STATEMENTS",
                           every="monthly", day=1, as_of=date(2025, 4, 15))
    clerk = as_user(mailed["clerk"])
    page = _text(clerk.get(URL))
    assert "Preview in the worker" in page and "Save the schedule" not in page
    queued = clerk.post(URL, {"action": "preview", "day": "2025-05-01"})
    assert queued.status_code == 302, refusals(queued)
    status_url = queued["Location"]
    waiting = clerk.get(status_url)
    assert waiting.context["job"].state == "queued" and 'hx-trigger="every 2s"' in _text(waiting)
    worker.run()
    done = _text(clerk.get(status_url))
    assert "1 statement would be sent" in done and "nothing was written" in done
    assert "C007" in done and "2025-05-01" in done and "every 2s" not in done
    assert "C001 · 2025-05-01: no e-mail address" in done
    assert not DunningNotice.objects.filter(company=company, kind=NoticeKind.STATEMENT).exists()
    assert mailoutbox == []
    # sent: the notice written, the statement e-mailed with its PDF, as the user who sent it
    sent = clerk.post(URL, {"action": "send", "day": "2025-05-01"})
    assert sent.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        worker.run()
    job = statement_run_state(company, sent["Location"].rstrip("/").rsplit("/", 1)[1])
    assert job.state == "done" and job.send
    assert (job.result["customers"], job.result["messages_sent"]) == (1, 1)
    assert "1 message sent" in _text(clerk.get(sent["Location"]))
    [notice] = DunningNotice.objects.filter(company=company, kind=NoticeKind.STATEMENT)
    assert (notice.customer.code, notice.day) == ("C007", date(2025, 5, 1))
    [event] = AuditEvent.objects.filter(company=company, action="statement.scheduled")
    assert event.actor.username == "claude"
    [message] = mailoutbox
    assert message.to == ["ap@petit.example"]
    assert [a[0] for a in message.attachments] == ["statement-C007-2025-05-01.pdf"]
    # the same day again sends nothing twice
    again = clerk.post(URL, {"action": "send", "day": "2025-05-01"})
    worker.run()
    job = statement_run_state(company, again["Location"].rstrip("/").rsplit("/", 1)[1])
    assert (job.result["customers"], job.result["messages_sent"]) == (0, 0)
    assert len(mailoutbox) == 1
    # a day that is not one
    bad = clerk.post(URL, {"action": "send", "day": "someday"})
    assert bad.status_code == 400 and 'id="id_day-error"' in _text(bad)


def test_roles_and_another_companys_user(mailed: dict[str, Any],
                                         as_user: Callable[[Any], Any]) -> None:
    company = mailed["company"]
    task_id = statements_enqueue(company, "2025-05-01")  # the worker's calendar: no user
    run_url = f"{URL}runs/{task_id}/"
    viewer, clerk = as_user(mailed["viewer"]), as_user(mailed["clerk"])
    stranger = as_user(mailed["stranger"])
    before = AuditEvent.objects.filter(company=company).count()
    # a viewer reads, is offered no form, and every post is refused
    page = _text(viewer.get(URL))
    assert 'method="post"' not in page.split("</header>", 1)[1]
    assert "Waiting for the worker" in _text(viewer.get(run_url))
    for data in (SCHEDULE, {"action": "stop", "schedule": "STATEMENTS"},
                 {"action": "preview", "day": "2025-05-01"},
                 {"action": "send", "day": "2025-05-01"}):
        response = viewer.post(URL, data)
        assert response.status_code == 403 and "permission_denied" in _text(response), data
    # a clerk runs them but neither sets nor stops a schedule
    for data in (SCHEDULE, {"action": "stop", "schedule": "STATEMENTS"}):
        response = clerk.post(URL, data)
        assert response.status_code == 403 and "permission_denied" in _text(response), data
    assert AuditEvent.objects.filter(company=company).count() == before
    # another company's user: not found, whatever the address or the method
    for url in (URL, run_url, f"/c/globex/settings/statements/runs/{task_id}/"):
        assert stranger.get(url).status_code == 404, url
    assert stranger.post(URL, {"action": "send", "day": "2025-05-01"}).status_code == 404
    assert clerk.get(f"{URL}runs/nope/").status_code == 404
    # a dunning run's task is not a statement run
    from salesledger.apps.dunning.tasks import dunning_enqueue

    assert clerk.get(f"{URL}runs/{dunning_enqueue(company, '2025-05-01')}/").status_code == 404


@pytest.mark.parametrize("extra", [0, 30])
def test_the_statements_page_costs_a_bounded_number_of_queries(
        mailed: dict[str, Any], as_user: Callable[[Any], Any], make_customer: Any,
        django_assert_max_num_queries: Any, extra: int) -> None:
    codes = []
    for i in range(extra):
        codes.append(make_customer(f"S{i:03d}").code)
        statement_schedule_set(actor=mailed["owner"], company=mailed["company"],
                               code=f"S{i:03d}", every="weekly", day=1 + i % 7,
                               customers=codes[-3:], as_of=date(2025, 4, 15))
    client = as_user(mailed["owner"])
    task_id = statements_enqueue(mailed["company"], "2025-05-01")
    # the session, the user and their membership (three), the schedules and their customers
    # (two), and the session saved again (three, with its savepoint); the run's page reads
    # its task instead of the schedules: nine, whatever the number of schedules
    for url in (URL, f"{URL}runs/{task_id}/"):
        with django_assert_max_num_queries(9):
            assert client.get(url).status_code == 200, url
