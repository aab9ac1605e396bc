"""The collections and dunning pages: the worklist, the timeline, disputes, promises, plans,
policies and the dunning run (previewed on the page, sent by the real worker). Each form goes
to the service the command line calls; a refusal comes back in the service's words; a viewer
reads and writes nothing; a user of another company finds none of it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tasks_db.management.commands import db_worker

from salesledger.apps.collections.selectors import customer_timeline, disputes_list
from salesledger.apps.collections.services import (
    Attachment,
    DisputeSpec,
    call_tasks_open,
    customer_note_add,
    dispute_open,
    plan_create,
    promise_add,
)
from salesledger.apps.core.models import AuditEvent
from salesledger.apps.core.services import membership_set
from salesledger.apps.dunning.run import dunning_run
from salesledger.apps.dunning.selectors import (
    dunning_run_state,
    history,
    interest_rule_list,
    policy_show,
    rate_list,
)
from salesledger.apps.dunning.services import (
    RateRow,
    interest_rule_set,
    policy_add,
    rates_add,
)
from salesledger.apps.dunning.tasks import dunning_enqueue
from salesledger.domain.dunning import Level
from salesledger.domain.errors import NotFound
from salesledger.worker import make_worker

from .collection_urls import COLLECTION_FORMS, COLLECTION_URLS
from .conftest import AS_OF
from .test_writes import refusal, refusals

pytestmark = pytest.mark.usefixtures("no_pdf_freezing")

DAY = date.fromisoformat(AS_OF)
LEVELS = [Level(0, 5, "First reminder", ("letter",)),
          Level(0, 30, "Final notice", ("letter", "call"), fee_fixed=1500)]


# The edit form of STD as the page fills it (LEVELS), with nothing changed.
POLICY_FORM = {"code": "STD", "name": "Standard", "min_amount": "",
               "level-0-number": "1", "level-0-days": "5", "level-0-name": "First reminder",
               "level-0-letter": "on",
               "level-1-number": "2", "level-1-days": "30", "level-1-name": "Final notice",
               "level-1-letter": "on", "level-1-call": "on", "level-1-fee": "15.00"}


@pytest.fixture
def casework(books: dict[str, Any], django_user_model: Any) -> dict[str, Any]:
    """acme's books with a dunning policy (the default), a collector, a viewer, a dispute, a
    promise, a plan, a note and an inbound reply on C001 or C003."""
    owner, company = books["owner"], books["company"]
    policy_add(actor=owner, company=company, code="STD", name="Standard", levels=LEVELS,
               default=True)
    django_user_model.objects.create_user("cole")
    membership_set(actor=owner, company=company, username="cole", role="collector")
    django_user_model.objects.create_user("vera")
    membership_set(actor=owner, company=company, username="vera", role="viewer")
    books["collector"] = django_user_model.objects.get(username="cole")
    books["viewer"] = django_user_model.objects.get(username="vera")
    number = books["first"].number
    books["dispute"] = dispute_open(actor=owner, company=company, day=DAY, spec=DisputeSpec(
        invoice=number, reason="pricing", amount=Decimal("100.00"))).pk
    books["promise"] = promise_add(actor=owner, company=company, customer="C001",
                                   amount=Decimal("200"), promised_date=date(2025, 5, 30),
                                   day=DAY).pk
    books["plan"] = plan_create(actor=owner, company=company, customer="C001", day=DAY,
                                instalments=2, first_due=date(2025, 6, 1)).pk
    books["reply"] = customer_note_add(actor=owner, company=company, customer="C001", day=DAY,
                                       text="We will pay next week", inbound_reply=True).pk
    return books


def collection_urls(b: dict[str, Any]) -> tuple[list[str], dict[str, dict[str, str]]]:
    """Every collections and dunning address for acme's objects: those read, those posted
    to (with a form that the service would take)."""
    inv = b["first"].number
    gets = ["/c/acme/collections/", "/c/acme/collections/?collector=cole",
            "/c/acme/customers/C001/timeline/", f"/c/acme/customers/C001/timeline/?invoice={inv}",
            "/c/acme/disputes/", "/c/acme/disputes/?status=open&customer=C001",
            f"/c/acme/disputes/{b['dispute']}/", "/c/acme/promises/",
            "/c/acme/promises/?state=live", "/c/acme/plans/", f"/c/acme/plans/{b['plan']}/",
            "/c/acme/dunning/", f"/c/acme/dunning/?day={AS_OF}", "/c/acme/dunning/history/",
            "/c/acme/dunning/policies/", "/c/acme/dunning/policies/STD/",
            "/c/acme/dunning/interest/",
            "/c/acme/dunning/policies/STD/levels/2/text/",
            "/c/acme/dunning/policies/STD/levels/2/text/?language=fr"]
    posts = {
        "/c/acme/collections/": {"customers": "C001", "collector": "cole"},
        "/c/acme/customers/C001/timeline/": {"action": "note", "note-text": "hello"},
        "/c/acme/disputes/new/": {"invoice": inv, "reason": "quality", "amount": "10"},
        f"/c/acme/disputes/{b['dispute']}/": {"action": "reject"},
        "/c/acme/promises/new/": {"customer": "C001", "amount": "5",
                                  "promised_date": "2025-06-30"},
        "/c/acme/plans/new/": {"customer": "C001", "instalments": "2",
                               "first_due": "2025-07-01", "every_days": "30",
                               "grace_days": "0"},
        "/c/acme/dunning/policies/STD/": {"customer": "C002"},
        "/c/acme/dunning/policies/STD/edit/": {**POLICY_FORM, "name": "Changed"},
        "/c/acme/dunning/new-policy/": {**POLICY_FORM, "code": "NEW"},
        "/c/acme/dunning/send/": {"day": AS_OF},
        "/c/acme/dunning/interest/": {"action": "rate", "rate-valid_from": "2025-01-01",
                                      "rate-percent": "3.15"},
        "/c/acme/dunning/policies/STD/levels/2/text/?language=fr": {
            "subject": "Dernier avis", "body": "Bonjour,\n\n{items}\n\n{company}"},
    }
    return gets, posts


@pytest.fixture
def worker(monkeypatch: Any, settings: Any, tmp_path: Any) -> Any:
    # As in test_imports.py: the real worker on the real queue, in the test's transaction.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    settings.VAR_DIR = tmp_path
    return make_worker(worker_id="test")


def _text(response: Any) -> str:
    return response.content.decode()


# ---------------------------------------------------------------- tenancy and roles
def test_every_collections_address_is_404_to_a_stranger_even_when_posted_to(
        casework: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    stranger = as_user(casework["stranger"])
    gets, posts = collection_urls(casework)
    for url in gets + COLLECTION_URLS:
        assert stranger.get(url).status_code == 404, url
    before = AuditEvent.objects.filter(company=casework["company"]).count()
    for url, data in posts.items():
        assert stranger.post(url, data).status_code == 404, url
    assert AuditEvent.objects.filter(company=casework["company"]).count() == before
    # and acme's objects under the stranger's own company are not found either
    for url in [f"/c/globex/disputes/{casework['dispute']}/",
                f"/c/globex/plans/{casework['plan']}/", "/c/globex/customers/C001/timeline/",
                "/c/globex/dunning/policies/STD/", "/c/globex/dunning/policies/STD/edit/",
                "/c/acme/dunning/policies/NOPE/edit/", "/c/acme/dunning/letters/999999"]:
        assert as_user(casework["stranger"] if "globex" in url else casework["owner"]
                       ).get(url).status_code == 404, url


def test_a_viewer_reads_every_page_is_offered_no_write_and_every_post_is_refused(
        casework: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    viewer = as_user(casework["viewer"])
    gets, posts = collection_urls(casework)
    inv = casework["first"].number
    # a preview is a run the service lets a clerk and up make (``dunning run``): refused
    preview = viewer.get(f"/c/acme/dunning/?day={AS_OF}")
    assert preview.status_code == 403 and "permission_denied" in _text(preview)
    for url in [*gets, "/c/acme/customers/C001/", f"/c/acme/invoices/{inv}"]:
        if "?day=" in url:
            continue
        page = viewer.get(url)
        assert page.status_code == 200, url
        assert 'method="post"' not in _text(page).split("</header>", 1)[1], url
        for offer in ("Open a dispute", "Record a promise", "Create a payment plan",
                      "Log the call", "Mark handled", "Send and charge", "Assign"):
            assert offer not in _text(page), (url, offer)
    for url in COLLECTION_FORMS:
        assert viewer.get(url).status_code == 403, url
    before = AuditEvent.objects.filter(company=casework["company"]).count()
    for url, data in posts.items():
        response = viewer.post(url, data)
        assert response.status_code == 403, url
        assert "permission_denied" in _text(response), url
    assert AuditEvent.objects.filter(company=casework["company"]).count() == before


def test_a_clerk_may_not_record_promises_or_plans_nor_assign(
        casework: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    clerk = as_user(casework["clerk"])
    _, posts = collection_urls(casework)
    for url in ["/c/acme/promises/new/", "/c/acme/plans/new/", "/c/acme/collections/",
                "/c/acme/dunning/policies/STD/", "/c/acme/dunning/policies/STD/edit/",
                "/c/acme/dunning/new-policy/", "/c/acme/dunning/interest/"]:
        response = clerk.post(url, posts[url])
        assert response.status_code == 403, url  # the service refused the role
        assert "permission_denied" in _text(response), url
    assert "Record a promise to pay</a>" not in _text(clerk.get("/c/acme/promises/"))
    # the policy forms are a manager's: not even shown to a clerk
    for url in ["/c/acme/dunning/policies/STD/edit/", "/c/acme/dunning/new-policy/"]:
        assert clerk.get(url).status_code == 403, url
    assert "Edit the policy" not in _text(clerk.get("/c/acme/dunning/policies/STD/"))
    assert "Add the rate" not in _text(clerk.get("/c/acme/dunning/interest/"))


# ---------------------------------------------------------------- the worklist
def test_the_worklist_ranks_filters_and_a_manager_assigns(
        casework: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    owner = as_user(casework["owner"])
    text = _text(owner.get(f"/c/acme/collections/?as_of={AS_OF}"))
    # each row leads to the overview, on the page's day (web/keepday.py)
    assert f'href="/c/acme/customers/C001/?as_of={AS_OF}"' in text
    assert "C002" not in text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]  # paid
    assert "36 days late" in text and "dispute" in text  # paused by its dispute
    done = owner.post(f"/c/acme/collections/?as_of={AS_OF}",
                      {"customers": "C001", "collector": "cole", "next_action": "2025-05-20"})
    assert done.status_code == 302, refusals(done)
    mine = _text(owner.get(f"/c/acme/collections/?as_of={AS_OF}&collector=cole"))
    assert "C001" in mine and "May 20, 2025" in mine
    assert "Nobody to chase" in _text(owner.get("/c/acme/collections/?collector=owner"))
    bad = owner.post("/c/acme/collections/", {"customers": "NOPE", "collector": "cole"})
    assert bad.status_code == 409 and "no customer with code" in _text(bad)


def test_a_call_a_dunning_level_asked_for_is_on_the_worklist_until_logged(
        casework: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    owner = as_user(casework["owner"])
    call_tasks_open(actor=casework["owner"], company=casework["company"],
                    customer_ids=[casework["first"].customer_id], day=DAY,
                    reason="dunning level 2")
    row = _text(owner.get(f"/c/acme/collections/?as_of={AS_OF}")).split("C001", 1)[1]
    assert "call to make" in row.split("</tr>", 1)[0]
    assert "appel à passer" in _text(owner.get(f"/c/acme/collections/?as_of={AS_OF}",
                                               HTTP_ACCEPT_LANGUAGE="fr"))
    # the collector logs the call on the timeline: it leaves the worklist
    url = f"/c/acme/customers/C001/timeline/?as_of={AS_OF}"
    assert as_user(casework["collector"]).post(
        url, {"action": "call", "call-outcome": "reached"}).status_code == 302
    assert "call to make" not in _text(owner.get(f"/c/acme/collections/?as_of={AS_OF}"))


# ---------------------------------------------------------------- the timeline
def test_notes_calls_and_replies_go_on_the_timeline_of_the_customer_and_invoice(
        casework: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    company, inv = casework["company"], casework["first"].number
    collector = as_user(casework["collector"])
    overview = _text(collector.get(f"/c/acme/customers/C001/?as_of={AS_OF}"))
    assert "Timeline" in overview and "We will pay next week" in overview
    assert "Mark handled" in overview and "Promise to pay" in overview
    assert "Dispute opened" in overview and "Payment plan" in overview
    url = f"/c/acme/customers/C001/timeline/?as_of={AS_OF}"
    assert collector.post(url, {"action": "note", "note-text": "Sent a copy",
                                "note-invoice": inv}).status_code == 302
    assert collector.post(url, {"action": "call", "call-outcome": "no_answer",
                                "call-notes": "rang twice"}).status_code == 302
    assert collector.post(url, {"action": "handled",
                                "reply": str(casework["reply"])}).status_code == 302
    entries = customer_timeline(company, "C001", as_of=DAY)
    kinds = [(e.kind, e.status) for e in entries]
    assert ("note", "logged") in kinds and ("call", "no_answer") in kinds
    assert ("reply", "handled") in kinds
    # the invoice's page shows what concerns that invoice only
    invoice_page = _text(collector.get(f"/c/acme/invoices/{inv}?as_of={AS_OF}"))
    assert "Sent a copy" in invoice_page and "rang twice" not in invoice_page
    # a refusal in the service's own words, next to its field
    expected = refusal(lambda: customer_note_add(actor=casework["owner"], company=company,
                                                 customer="C001", day=DAY, text="x",
                                                 invoice=casework["second"].number))
    wrong = collector.post(url, {"action": "note", "note-text": "x",
                                 "note-invoice": casework["second"].number})
    assert wrong.status_code == 409
    assert f'<span class="error" id="id_note-invoice-error">{expected}</span>' in _text(wrong)
    again = collector.post(url, {"action": "handled", "reply": str(casework["reply"])})
    assert again.status_code == 409 and "was handled on" in _text(again)


# ---------------------------------------------------------------- disputes
def test_a_dispute_is_opened_listed_resolved_by_a_credit_note_and_another_rejected(
        casework: dict[str, Any], as_user: Callable[[Any], Any], tmp_path: Any,
        capsys: pytest.CaptureFixture[str]) -> None:
    company, inv = casework["company"], casework["first"].number
    clerk = as_user(casework["clerk"])
    form = _text(clerk.get(f"/c/acme/disputes/new/?invoice={inv}"))
    assert f'value="{inv}"' in form
    assert 'type="file" name="attach" multiple' in form
    opening = {"invoice": inv, "amount": "50.00", "reason": "quality", "owner": "claude",
               "due_date": "2025-06-15", "notes": "two boxes damaged"}
    # several files, each checked as ``dispute open --attach`` checks it: one too big refuses
    # them all, said beside the control, and nothing is opened
    big = SimpleUploadedFile("scan.tiff", b"x" * (5 * 1024 * 1024 + 1))
    too_big = clerk.post("/c/acme/disputes/new/", {**opening, "attach": [
        SimpleUploadedFile("photo.jpg", b"\xff\xd8 photo"), big]})
    assert too_big.status_code == 400 and 'id="id_attach-error"' in _text(too_big)
    assert "scan.tiff is 5242881 bytes: an attachment may be 5 MB at most" in _text(too_big)
    assert disputes_list(company, status="open").count() == 1
    made = clerk.post(f"/c/acme/disputes/new/?as_of={AS_OF}", {**opening, "attach": [
        SimpleUploadedFile("photo.jpg", b"\xff\xd8 photo", content_type="text/plain"),
        SimpleUploadedFile("delivery note.pdf", b"%PDF-1.4 note")]})
    assert made.status_code == 302, refusals(made)
    new = disputes_list(company, status="open").order_by("-pk").first()
    assert made["Location"] == f"/c/acme/disputes/{new.pk}/?as_of={AS_OF}"
    assert (new.amount, new.reason, new.owner.username) == (5000, "quality", "claude")
    # stored as the command stores them (the type told by the name), listed, downloaded
    files = list(new.attachments.order_by("pk").values_list("name", "mime", "size"))
    assert files == [("photo.jpg", "image/jpeg", 8), ("delivery note.pdf", "application/pdf", 13)]
    # the same files through ``dispute open --attach`` are stored alike
    from salesledger.cli.main import main

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "photo.jpg").write_bytes(b"\xff\xd8 photo")
    (tmp_path / "in" / "delivery note.pdf").write_bytes(b"%PDF-1.4 note")
    assert main(["dispute", "open", inv, "--reason", "quality", "--amount", "1",
                 "--attach", str(tmp_path / "in" / "photo.jpg"),
                 "--attach", str(tmp_path / "in" / "delivery note.pdf"),
                 "--company", "acme", "--as-of", AS_OF]) == 0
    capsys.readouterr()
    by_cli = disputes_list(company, status="open").order_by("-pk").first()
    assert list(by_cli.attachments.order_by("pk").values_list("name", "mime", "size")) == files
    assert Attachment.of("C:\\scans\\photo.jpg", b"").name == "photo.jpg"
    shown = _text(clerk.get(f"/c/acme/disputes/{new.pk}/"))
    photo, note = new.attachments.order_by("pk")
    assert f'href="/c/acme/disputes/{new.pk}/files/{note.pk}"' in shown
    assert "delivery note.pdf" in shown and "photo.jpg" in shown
    got = clerk.get(f"/c/acme/disputes/{new.pk}/files/{photo.pk}")
    assert got.status_code == 200 and got.content == b"\xff\xd8 photo"
    assert got["Content-Type"] == "image/jpeg"
    assert got["Content-Disposition"] == 'attachment; filename="photo.jpg"'
    # another dispute's number with this file, or another company's user: not found
    assert clerk.get(f"/c/acme/disputes/{casework['dispute']}/files/{photo.pk}"
                     ).status_code == 404
    assert as_user(casework["stranger"]).get(
        f"/c/acme/disputes/{new.pk}/files/{photo.pk}").status_code == 404
    listed = _text(clerk.get("/c/acme/disputes/?status=open"))
    assert "€50.00" in listed and "€100.00" in listed and "Quality" in listed
    assert "No dispute matches." in _text(clerk.get("/c/acme/disputes/?status=resolved"))
    # more than is open: the service's refusal, next to the amount
    too_much = clerk.post("/c/acme/disputes/new/", {"invoice": inv, "amount": "5000",
                                                    "reason": "pricing"})
    assert too_much.status_code == 400
    assert 'id="id_amount-error"' in _text(too_much) and "open on it" in _text(too_much)
    # resolved by a credit note of several lines (2 × 15.00 + 10.00 = 40.00, + 20 % = 48.00,
    # less than disputed), as ``--credit-note-line`` gives them
    url = f"/c/acme/disputes/{new.pk}/?as_of={AS_OF}"
    resolution = {"action": "resolve", "resolve-how": "credit_note_line", "rows": "2",
                  "line-1-description": "Damaged boxes", "line-1-quantity": "2",
                  "line-1-unit_price": "15.00", "line-1-tax_rate": "20",
                  "line-1-category": "S",
                  "line-2-description": "Freight", "line-2-quantity": "1",
                  "line-2-unit_price": "10.00", "line-2-tax_rate": "20",
                  "line-2-category": "S"}
    more = clerk.post(url, {**resolution, "more": "1"})  # *Add a line*: nothing written
    assert more.status_code == 200 and 'name="line-3-description"' in _text(more)
    assert 'value="Freight"' in _text(more)
    bad = clerk.post(url, {**resolution, "line-2-unit_price": "ten"})
    assert bad.status_code == 409
    assert 'id="line-2-error">invalid: line 2: unit price: &#x27;ten&#x27;' in _text(bad)
    none = clerk.post(url, {**resolution, "line-1-description": "", "line-1-quantity": "",
                            "line-1-unit_price": "", "line-1-tax_rate": "",
                            "line-2-description": "", "line-2-quantity": "",
                            "line-2-unit_price": "", "line-2-tax_rate": ""})
    assert none.status_code == 409 and "at least one line" in _text(none)
    done = clerk.post(url, resolution)
    assert done.status_code == 302, refusals(done)
    new.refresh_from_db()
    assert new.status == "resolved" and new.credit_note.total == 4800
    assert [(li.description, li.quantity) for li in new.credit_note.lines.order_by("pk")] == [
        ("Damaged boxes", Decimal(2)), ("Freight", Decimal(1))]
    shown = _text(clerk.get(url))
    assert new.credit_note.number in shown and "Resolve:" not in shown
    # the first is rejected: the amount is chased again
    first = f"/c/acme/disputes/{casework['dispute']}/?as_of={AS_OF}"
    assert clerk.post(first, {"action": "reject", "reject-notes": "price agreed"}
                      ).status_code == 302
    twice = clerk.post(first, {"action": "reject"})
    assert twice.status_code == 409 and "already rejected" in _text(twice)


# ---------------------------------------------------------------- promises and plans
def test_a_collector_records_a_promise_and_a_plan(
        casework: dict[str, Any], as_user: Callable[[Any], Any], make_customer: Any,
        post_invoice: Any) -> None:
    make_customer("C003", name="Petit SARL")
    post_invoice("C003", lines=(("Audit", 1, "600.00", "20"),))
    cole = as_user(casework["collector"])
    made = cole.post(f"/c/acme/promises/new/?as_of={AS_OF}", {
        "customer": "C003", "amount": "300", "promised_date": "2025-05-25"})
    assert made.status_code == 302, refusals(made)
    listed = _text(cole.get(f"/c/acme/promises/?as_of={AS_OF}&customer=C003"))
    assert "€300.00" in listed and "live" in listed
    assert "No promise matches." in _text(cole.get(f"/c/acme/promises/?as_of={AS_OF}"
                                                   "&state=kept"))
    past = cole.post(f"/c/acme/promises/new/?as_of={AS_OF}", {
        "customer": "C003", "amount": "300", "promised_date": "2025-05-01"})
    assert past.status_code == 400 and 'id="id_promised_date-error"' in _text(past)
    plan = cole.post(f"/c/acme/plans/new/?as_of={AS_OF}", {
        "customer": "C003", "instalments": "3", "first_due": "2025-06-01", "every_days": "30",
        "grace_days": "5"})
    assert plan.status_code == 302, refusals(plan)
    assert plan["Location"].endswith(f"?as_of={AS_OF}")  # back on the page's day
    shown = _text(cole.get(plan["Location"]))
    assert "€720.00" in shown and "€240.00" in shown and "live" in shown
    assert "Jul 1, 2025" in shown and "Jul 31, 2025" in shown
    assert "C003" in _text(cole.get(f"/c/acme/plans/?as_of={AS_OF}&state=live"))
    twice = cole.post(f"/c/acme/plans/new/?as_of={AS_OF}", {
        "customer": "C003", "instalments": "2", "first_due": "2025-06-01", "every_days": "30",
        "grace_days": "0"})
    assert twice.status_code == 400 and "already in payment plan" in _text(twice)


# ---------------------------------------------------------------- dunning
def test_policies_are_shown_and_a_manager_assigns_one(
        casework: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    owner = as_user(casework["owner"])
    interest_rule_set(actor=casework["owner"], company=casework["company"], country="FR",
                      margin=Decimal(8), compensation=4000, compensation_currency="EUR")
    rates_add(actor=casework["owner"], company=casework["company"],
              rows=[RateRow(date(2025, 3, 12), Decimal("2.65"), "ECB MRO")])
    listed = _text(owner.get("/c/acme/dunning/policies/"))
    assert "STD" in listed and "Standard" in listed
    assert "€40.00" in listed and "2.65" in listed and "ECB MRO" in listed
    shown = _text(owner.get("/c/acme/dunning/policies/STD/"))
    assert "Final notice" in shown and "€15.00" in shown and "letter, call" in shown
    done = owner.post("/c/acme/dunning/policies/STD/", {"customer": "C002"})
    assert done.status_code == 302
    assert "C002 (and its group) follows STD" in _text(owner.get("/c/acme/dunning/policies/STD/"))
    bad = owner.post("/c/acme/dunning/policies/STD/", {"customer": "NOPE"})
    assert bad.status_code == 409 and 'id="id_customer-error"' in _text(bad)
    assert owner.get("/c/acme/dunning/policies/NOPE/").status_code == 404


def test_a_manager_writes_reference_rates_and_interest_rules_with_errors_beside_each_field(
        casework: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    owner, company = as_user(casework["owner"]), casework["company"]
    url = "/c/acme/dunning/interest/"
    page = _text(owner.get(url))
    assert "Add the rate" in page and "Import the file" in page and "Save the rule" in page
    assert 'enctype="multipart/form-data"' in page
    # one rate (dunning rate add); the same day again is refused beside the day
    done = owner.post(url, {"action": "rate", "rate-valid_from": "2025-01-01",
                            "rate-percent": "3.15", "rate-source": "ECB MRO"})
    assert done.status_code == 302, refusals(done)
    assert rate_list(company) == [{"valid_from": "2025-01-01", "percent": "3.15",
                                   "source": "ECB MRO"}]
    again = owner.post(url, {"action": "rate", "rate-valid_from": "2025-01-01",
                             "rate-percent": "3.00"})
    expected = refusal(lambda: rates_add(actor=casework["owner"], company=company,
                                         rows=[RateRow(date(2025, 1, 1), Decimal(3))]))
    assert again.status_code == 409
    assert f'<span class="error" id="id_rate-valid_from-error">{expected}</span>' in _text(again)
    bad = owner.post(url, {"action": "rate", "rate-valid_from": "2025-07-01",
                           "rate-percent": "lots"})
    assert bad.status_code == 409 and 'id="id_rate-percent-error"' in _text(bad)
    assert "is not a percentage" in _text(bad) and 'value="lots"' in _text(bad)
    # a file (dunning rate import): all or nothing, every bad line named
    def upload(content: bytes) -> Any:
        return owner.post(url, {"action": "import", "import-file": SimpleUploadedFile(
            "rates.csv", content, content_type="text/csv")})

    wrong = upload(b"valid_from,percent,source\n2025-07-01,2.15,ECB\n2026-13-01,2\n"
                   b"2026-07-01,many\n")
    assert wrong.status_code == 409 and 'id="id_import-file-error"' in _text(wrong)
    assert "line 3:" in _text(wrong) and "line 4:" in _text(wrong)
    assert "line 2" not in _text(wrong)
    taken = upload(b"valid_from,percent\n2025-01-01,3.15\n2025-07-01,2.15\n")
    assert taken.status_code == 409 and "already a reference rate from 2025-01-01" in _text(taken)
    assert upload(b"\xff\xfe").status_code == 409
    assert len(rate_list(company)) == 1  # nothing of the refused files
    # a spreadsheet's file, with its byte order mark
    done = upload("\ufeffvalid_from,percent,source\n2025-07-01,2.15,ECB MRO\n"
                  "2026-01-01,2.00,ECB MRO\n".encode())
    assert done.status_code == 302, refusals(done)
    assert "2 reference rate(s) imported." in _text(owner.get(url))
    assert [r["percent"] for r in rate_list(company)] == ["3.15", "2.15", "2.00"]
    # an interest rule per country (dunning interest set)
    rule = {"action": "rule", "rule-country": "fr", "rule-margin": "8",
            "rule-compensation": "40.00", "rule-fee_vat": "20"}
    done = owner.post(url, rule)
    assert done.status_code == 302, refusals(done)
    assert interest_rule_list(company) == [{"country": "FR", "margin": "8",
                                            "compensation": 4000, "currency": "EUR",
                                            "fee_vat": "20"}]
    shown = _text(owner.get(url))
    assert "€40.00" in shown and "20 %" in shown
    for field, value, said in (("country", "XX", "not an ISO 3166-1"),
                               ("compensation", "40.001", "more decimals than EUR"),
                               ("margin", "eight", "not a percentage"),
                               ("fee_vat", "100", "not a percentage")):
        bad = owner.post(url, {**rule, f"rule-{field}": value})
        assert bad.status_code == 409, field
        assert f'id="id_rule-{field}-error"' in _text(bad) and said in _text(bad), field
    done = owner.post(url, {"action": "rule", "rule-margin": "9"})  # every other country
    assert done.status_code == 302, refusals(done)
    assert [(r["country"], r["margin"], r["compensation"], r["fee_vat"])
            for r in interest_rule_list(company)] == [("*", "9", 0, None),
                                                      ("FR", "8", 4000, "20")]
    assert AuditEvent.objects.filter(company=company, action="dunning.interest_set").count() == 2
    assert "Taux de référence" in _text(owner.get(url, HTTP_ACCEPT_LANGUAGE="fr"))


def test_a_manager_adds_a_policy_and_edits_its_levels_with_errors_beside_each_field(
        casework: dict[str, Any], as_user: Callable[[Any], Any], make_customer: Any,
        post_invoice: Any) -> None:
    owner, company = as_user(casework["owner"]), casework["company"]
    make_customer("C009")  # 36 days overdue on the day, nothing pausing it: level 2
    post_invoice("C009", issue_date=date(2025, 3, 10))
    before = _text(owner.get(f"/c/acme/dunning/?day={AS_OF}"))
    assert "C009" in before and "call, letter" in before
    assert "New dunning policy" in _text(owner.get("/c/acme/dunning/policies/"))
    form = _text(owner.get("/c/acme/dunning/policies/STD/edit/"))
    assert 'value="Final notice"' in form and 'value="15.00"' in form
    french = _text(owner.get("/c/acme/dunning/policies/STD/edit/", HTTP_ACCEPT_LANGUAGE="fr"))
    assert "Enregistrer la politique" in french and "Niveau 2" in french
    # two levels on one day: said beside the second one's days, nothing written
    new = {"code": "SOFT", "name": "Soft", "level-0-days": "10", "level-0-name": "Nudge",
           "level-0-email": "on", "level-1-days": "10", "level-1-name": "Again",
           "level-1-email": "on"}
    bad = owner.post("/c/acme/dunning/new-policy/", new)
    assert bad.status_code == 409
    assert 'id="id_level-1-days-error"' in _text(bad) and "same day" in _text(bad)
    bad = owner.post("/c/acme/dunning/new-policy/", {**new, "level-1-days": "20",
                                                      "level-1-fee": "ten"})
    assert bad.status_code == 400 and 'id="id_level-1-fee-error"' in _text(bad)
    assert policy_show(company, "STD")["default"]
    made = owner.post("/c/acme/dunning/new-policy/", {**new, "level-1-days": "20",
                                                       "level-1-fee": "2%", "default": "on"})
    assert made.status_code == 302
    soft = policy_show(company, "SOFT")
    assert soft["default"] and not policy_show(company, "STD")["default"]
    assert [(lv["days"], lv["name"], lv["fee_percent"]) for lv in soft["levels"]] == [
        (10, "Nudge", "0"), (20, "Again", "2")]
    # STD edited: level 2's fee and channels changed, a third level added, the default back
    edit = {**POLICY_FORM, "name": "Standard terms", "min_amount": "5.00",
            "level-1-fee": "20.00", "level-1-email": "on", "default": "on",
            "level-2-days": "60", "level-2-name": "Agency", "level-2-letter": "on",
            "level-2-agency": "on"}
    done = owner.post("/c/acme/dunning/policies/STD/edit/", edit)
    assert done.status_code == 302, _text(done)
    std = policy_show(company, "STD")
    assert (std["name"], std["min_amount"], std["default"]) == ("Standard terms", 500, True)
    assert [(lv["number"], lv["days"], lv["channels"], lv["fee_fixed"], lv["agency"])
            for lv in std["levels"]] == [(1, 5, ["letter"], 0, False),
                                         (2, 30, ["email", "letter", "call"], 2000, False),
                                         (3, 60, ["letter"], 0, True)]
    event = AuditEvent.objects.filter(company=company, action="dunning.policy_edit").get()
    assert event.data["levels_before"][1]["fee_fixed"] == "1500"
    assert event.data["levels_after"][1]["fee_fixed"] == "2000"
    assert event.data["name"] == ["Standard", "Standard terms"]
    # the agency only at the last level: beside that level's box
    bad = owner.post("/c/acme/dunning/policies/STD/edit/", {**edit, "level-1-agency": "on"})
    assert bad.status_code == 409 and 'id="id_level-1-agency-error"' in _text(bad)
    # the next run's preview follows the policy as it is now: e-mail at level 2
    preview = _text(owner.get(f"/c/acme/dunning/?day={AS_OF}"))
    assert "C009" in preview and "call, email, letter" in preview


def test_a_manager_writes_a_levels_text_per_language_and_names_it_in_the_level_form(
        casework: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    owner, company = as_user(casework["owner"]), casework["company"]
    url = "/c/acme/dunning/policies/STD/levels/2/text/"
    first = _text(owner.get(url + "?language=fr"))
    assert "the default reminder e-mail" in first and 'name="subject"' in first
    assert "s reminder text</a>" in _text(owner.get("/c/acme/dunning/policies/STD/"))
    bad = owner.post(url + "?language=fr", {"subject": "Avis {due_date}", "body": "x"})
    assert bad.status_code == 409 and "{due_date}" in _text(bad)
    done = owner.post(url + "?language=fr", {"subject": "Dernier avis de {company}",
                                             "body": "Bonjour,\n\n{items}\n\n{company}"})
    assert done.status_code == 302
    # level 2 now sends the text STD-2, in French to a French customer and, the company
    # being French, to a customer of a language the text has no version in
    shown = _text(owner.get(url))
    assert "s reminder text STD-2 (fr)" in shown
    assert "STD-2 (fr)" in _text(owner.get("/c/acme/dunning/policies/STD/"))
    std = policy_show(company, "STD")
    assert [lv["template"] for lv in std["levels"]] == ["", "STD-2"]
    # the level form shows the name and changes it like the level's other fields
    form = _text(owner.get("/c/acme/dunning/policies/STD/edit/"))
    assert 'name="level-1-template"' in form and 'value="STD-2"' in form
    edit = {**POLICY_FORM, "level-0-template": "FIRST"}
    assert owner.post("/c/acme/dunning/policies/STD/edit/", edit).status_code == 302
    assert [lv["template"] for lv in policy_show(company, "STD")["levels"]] == ["FIRST", ""]
    bad = owner.post("/c/acme/dunning/policies/STD/edit/", {**edit,
                                                            "level-0-template": "a b"})
    assert bad.status_code == 409 and 'id="id_level-0-template-error"' in _text(bad)


def test_a_manager_names_a_level_per_language_on_its_text_page(
        casework: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    owner, company = as_user(casework["owner"]), casework["company"]
    url = "/c/acme/dunning/policies/STD/levels/2/text/"
    assert 'name="level_name"' not in _text(owner.get(url))  # every language: the form's
    assert 'name="level_name"' in _text(owner.get(url + "?language=fr"))
    done = owner.post(url + "?language=fr", {
        "subject": "Dernier avis de {company}", "body": "Bonjour,\n\n{items}\n\n{company}",
        "level_name": "Dernier avis"})
    assert done.status_code == 302
    assert policy_show(company, "STD")["levels"][1]["names"] == {"fr": "Dernier avis"}
    shown = _text(owner.get(url))
    assert "Dernier avis" in shown  # what a customer of each language reads
    assert AuditEvent.objects.filter(action="dunning.level_name").count() == 1
    # editing the policy's levels keeps the level's names in other languages
    assert owner.post("/c/acme/dunning/policies/STD/edit/", POLICY_FORM).status_code == 302
    assert policy_show(company, "STD")["levels"][1]["names"] == {"fr": "Dernier avis"}
    # blank: the level's own name again
    owner.post(url + "?language=fr", {"subject": "Dernier avis de {company}",
                                      "body": "{items}", "level_name": ""})
    assert policy_show(company, "STD")["levels"][1]["names"] == {}


def test_a_level_customers_were_reminded_at_keeps_its_number(
        casework: dict[str, Any], as_user: Callable[[Any], Any], make_customer: Any,
        post_invoice: Any) -> None:
    owner, company = as_user(casework["owner"]), casework["company"]
    make_customer("C009")
    post_invoice("C009", issue_date=date(2025, 3, 10))
    # C009's item, 36 days overdue, is reminded at level 2 (Final notice)
    run = dunning_run(actor=casework["owner"], company=company, as_of=DAY, send=True)
    assert [(p["customer"], p["level"]) for p in run.planned] == [("C009", 2)]
    before = [lv["days"] for lv in policy_show(company, "STD")["levels"]]
    gone = owner.post("/c/acme/dunning/policies/STD/edit/",
                      {**POLICY_FORM, "level-1-remove": "on"})
    assert gone.status_code == 409 and "cannot be removed" in _text(gone)
    moved = owner.post("/c/acme/dunning/policies/STD/edit/", {**POLICY_FORM, "level-1-days": "3"})
    assert moved.status_code == 409 and 'id="id_level-1-days-error"' in _text(moved)
    assert "must stay level 2" in _text(moved)
    first_gone = owner.post("/c/acme/dunning/policies/STD/edit/",
                            {**POLICY_FORM, "level-0-remove": "on"})
    assert first_gone.status_code == 409 and "must stay level 2" in _text(first_gone)
    assert [lv["days"] for lv in policy_show(company, "STD")["levels"]] == before
    # level 1, never reminded at, may change; level 2 may change within its place
    ok = owner.post("/c/acme/dunning/policies/STD/edit/",
                    {**POLICY_FORM, "level-0-days": "-3", "level-1-days": "35"})
    assert ok.status_code == 302
    assert [lv["days"] for lv in policy_show(company, "STD")["levels"]] == [-3, 35]


def test_a_run_is_previewed_then_sent_by_the_worker_and_its_letter_downloaded(
        books: dict[str, Any], as_user: Callable[[Any], Any], worker: Any) -> None:
    policy_add(actor=books["owner"], company=books["company"], code="STD", levels=LEVELS,
               default=True)
    clerk = as_user(books["clerk"])
    preview = clerk.get(f"/c/acme/dunning/?day={AS_OF}")
    text = _text(preview)
    assert preview.status_code == 200 and "1 customer to remind" in text
    assert "C001" in text and "Send and charge" in text
    assert not AuditEvent.objects.filter(action="dunning.notice").exists()  # a dry run
    queued = clerk.post("/c/acme/dunning/send/", {"day": AS_OF})
    assert queued.status_code == 302
    status_url = queued["Location"]
    waiting = clerk.get(status_url)
    assert waiting.context["job"].state == "queued"
    assert 'hx-trigger="every 2s"' in _text(waiting)
    worker.run()
    done = clerk.get(status_url)
    text = _text(done)
    assert done.context["job"].state == "done" and "every 2s" not in text
    assert "1 letter" in text and "1 fee invoice" in text and "1 call to make" in text
    [event] = AuditEvent.objects.filter(action="dunning.notice")
    assert event.actor.username == "claude"  # the run is the user's who sent it
    history = _text(clerk.get("/c/acme/dunning/history/?customer=C001"))
    assert "Letter of notice" in history
    letter = clerk.get(f"/c/acme/dunning/letters/{event.entity_id}")
    assert letter.status_code == 200 and letter.content.startswith(b"%PDF")
    # the same day again writes and charges nothing
    assert dunning_run(actor=books["owner"], company=books["company"], as_of=DAY,
                       send=True).messages_sent == 0
    assert as_user(books["stranger"]).get(status_url).status_code == 404


def test_a_notice_handed_to_the_agency_gives_its_file_on_its_page_as_the_command_does(
        books: dict[str, Any], as_user: Callable[[Any], Any], tmp_path: Any,
        capsys: pytest.CaptureFixture[str], make_customer: Any, post_invoice: Any) -> None:
    from salesledger.cli.main import main

    owner, company = books["owner"], books["company"]
    make_customer("C005")  # ten days late on the day: the first level, no agency
    post_invoice("C005", issue_date=date(2025, 4, 5))
    policy_add(actor=owner, company=company, code="AGY", default=True, levels=[
        Level(0, 5, "First reminder", ("letter",)),
        Level(0, 30, "Final notice", ("letter",), agency=True)])
    dunning_run(actor=owner, company=company, as_of=DAY, send=True)
    [row] = [r for r in history(company) if r["agency"]]
    [other] = [r for r in history(company) if not r["agency"]]
    pk, clerk = row["id"], as_user(books["clerk"])
    # the list of notices and the notice's page offer it
    listed = _text(clerk.get("/c/acme/dunning/history/"))
    assert f'href="/c/acme/dunning/notices/{pk}/agency.csv"' in listed
    assert f'href="/c/acme/dunning/notices/{pk}/"' in listed
    shown = _text(clerk.get(f"/c/acme/dunning/notices/{pk}/"))
    assert f"Collection agency file of notice {pk} (CSV)" in shown
    assert row["customer"] in shown and books["first"].number in shown
    assert f'href="/c/acme/dunning/letters/{pk}"' in shown
    # and the customer's timeline leads to the notice
    timeline = _text(clerk.get(f"/c/acme/customers/{row['customer']}/timeline/?as_of={AS_OF}"))
    assert f'href="/c/acme/dunning/notices/{pk}/?as_of={AS_OF}"' in timeline  # (keepday)
    # the same bytes as ``dunning agency N --output FILE``
    got = clerk.get(f"/c/acme/dunning/notices/{pk}/agency.csv")
    assert got.status_code == 200 and got["Content-Type"] == "text/csv; charset=utf-8"
    assert got["Content-Disposition"] == f'attachment; filename="agency-{pk}.csv"'
    out = tmp_path / "agency.csv"
    assert main(["dunning", "agency", str(pk), "--output", str(out), "--company", "acme"]) == 0
    capsys.readouterr()
    assert got.content == out.read_bytes() and got.content.startswith(b"customer,name,")
    assert books["first"].number.encode() in got.content
    # a notice that handed nothing: refused in the command's words; another company's: 404
    assert other["customer"] == "C005"
    none = clerk.get(f"/c/acme/dunning/notices/{other['id']}/agency.csv")
    assert none.status_code == 409 and "handed nothing to a collection agency" in _text(none)
    assert "agency.csv" not in _text(clerk.get(f"/c/acme/dunning/notices/{other['id']}/"))
    stranger = as_user(books["stranger"])
    for url in (f"/c/acme/dunning/notices/{pk}/", f"/c/acme/dunning/notices/{pk}/agency.csv",
                f"/c/globex/dunning/notices/{pk}/", f"/c/globex/dunning/notices/{pk}/agency.csv"):
        assert stranger.get(url).status_code == 404, url
    assert clerk.get("/c/acme/dunning/notices/999999/agency.csv").status_code == 404
    assert clerk.get("/c/acme/dunning/notices/999999/").status_code == 404


# ---------------------------------------------------------------- queries and language
@pytest.mark.parametrize("extra", [0, 25])
def test_the_collections_pages_cost_a_bounded_number_of_queries(
        casework: dict[str, Any], as_user: Callable[[Any], Any], make_customer: Any,
        post_invoice: Any, django_assert_max_num_queries: Any, extra: int) -> None:
    owner, company = casework["owner"], casework["company"]
    for i in range(extra):
        make_customer(f"Q{i:03d}")
        number = post_invoice(f"Q{i:03d}").number
        dispute_open(actor=owner, company=company, day=DAY,
                     spec=DisputeSpec(invoice=number, reason="other", amount=Decimal("1")))
        promise_add(actor=owner, company=company, customer=f"Q{i:03d}", amount=Decimal("1"),
                    promised_date=date(2025, 6, 1), day=DAY)
        customer_note_add(actor=owner, company=company, customer="C001", day=DAY,
                          text=f"note {i}")
    client = as_user(owner)
    gets, _ = collection_urls(casework)
    # The lists and forms read a few rows each; the worklist reads the aged receivables and
    # the risk scores (as the dashboard does), the preview runs the run's selection, the
    # overview and the invoice add the timeline (eight queries) to what they read before
    # (the overview's credit panel, with the customer's risk: test_pages.py); the run's
    # selection reads the payment plans' instalments due and the plans broken, and what was
    # reminded of them (seven queries, whatever the number of plans); the worklist reads the
    # calls to make (one), those of them already paid (one) and what disputes and plans hold
    # back (one); the timeline reads the call tasks and those paid (two), and dunning's
    # notices (one): the timeline page 17.
    budgets = {url: 17 if "/timeline/" in url else 16 for url in gets}
    budgets.update({f"/c/acme/customers/C001/?as_of={AS_OF}": 54,
                    f"/c/acme/invoices/{casework['first'].number}": 31,
                    f"/c/acme/dunning/?day={AS_OF}": 33,
                    # the worklist's aging asks first whether the aging summary is of its day
                    "/c/acme/collections/": 36, "/c/acme/collections/?collector=cole": 36})
    for url, budget in budgets.items():
        with django_assert_max_num_queries(budget):
            assert client.get(url).status_code == 200, url


def test_the_collections_pages_speak_french(casework: dict[str, Any],
                                            as_user: Callable[[Any], Any]) -> None:
    client = as_user(casework["owner"])
    client.post("/i18n/setlang/", {"language": "fr", "next": "/c/acme/"})
    assert "Recouvrement" in _text(client.get("/c/acme/"))
    assert "Qui relancer aujourd" in _text(client.get(f"/c/acme/collections/?as_of={AS_OF}"))
    assert "Litiges" in _text(client.get("/c/acme/disputes/"))
    assert "Promesses de paiement" in _text(client.get("/c/acme/promises/"))


def test_the_calendars_daily_run_is_followed_on_the_same_page(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    task_id = dunning_enqueue(books["company"], AS_OF)  # the worker's calendar: no user
    job = dunning_run_state(books["company"], task_id)
    assert (job.state, job.as_of, job.finished) == ("queued", AS_OF, False)
    with pytest.raises(NotFound):
        dunning_run_state(books["other"], task_id)
    assert "Waiting for the worker" in _text(as_user(books["clerk"]).get(
        f"/c/acme/dunning/runs/{task_id}/"))
    assert as_user(books["stranger"]).get(f"/c/globex/dunning/runs/{task_id}/"
                                          ).status_code == 404
