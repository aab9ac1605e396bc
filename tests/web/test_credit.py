"""The credit pages and the customers' records in the workspace: the overview of limits,
exposure, holds and risk; a customer's credit panel and its forms; a hold that stops posting
in the editor and a credit controller's audited override; suggested limits accepted by a
manager; records to review and their confirmation; duplicates merged and unmerged. Each
form goes through the service the command line calls (same refusals, same audit), each role
is offered only what it may do and refused the rest, a stranger finds nothing, and each page
costs a bounded number of queries."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django_tasks_db.management.commands import db_worker

from salesledger.apps.core.models import AuditEvent
from salesledger.apps.core.services import company_today, membership_set
from salesledger.apps.credit.prediction import backtest
from salesledger.apps.credit.selectors import customer_exposure, limit_suggestions, on_hold
from salesledger.apps.credit.services import credit_hold, credit_limit_set
from salesledger.apps.customers.selectors import customer_detail, customer_get, review_list
from salesledger.worker import make_worker

from .conftest import AS_OF
from .test_writes import LINES, draft_id

pytestmark = pytest.mark.usefixtures("no_pdf_freezing")

# Every credit page read with GET, and every address a credit form posts to.
CREDIT_PAGES = ["/c/acme/credit/", "/c/acme/credit/?held=1&q=C0",
                "/c/acme/credit/suggestions/", "/c/acme/credit/review/",
                "/c/acme/credit/duplicates/", "/c/acme/credit/predictions/C001/",
                "/c/acme/credit/backtest/", "/c/acme/credit/behaviour/C002/"]
CREDIT_POSTS = {
    "/c/acme/credit/limit/C001/": {"amount": "5000", "reason": "review"},
    "/c/acme/credit/hold/C001/": {"reason": "cheque returned"},
    "/c/acme/credit/release/C001/": {"reason": "paid"},
    "/c/acme/credit/suggestions/": {"accept": "C002"},
    "/c/acme/credit/confirm/C001/": {},
    "/c/acme/credit/duplicates/": {"a": "C001", "b": "C002", "survivor": "C001"},
    "/c/acme/credit/unmerge/C001/": {"reason": "two after all"},
    "/c/acme/credit/backtest/": {"as_of": "2025-04-01", "until": AS_OF},
}


def _member(books: dict[str, Any], django_user_model: Any, name: str, role: str) -> Any:
    user = django_user_model.objects.create_user(name)
    membership_set(actor=books["owner"], company=books["company"], username=name, role=role)
    return user


@pytest.fixture
def carla(books: dict[str, Any], django_user_model: Any) -> Any:
    """acme's credit controller."""
    return _member(books, django_user_model, "carla", "credit_controller")


@pytest.fixture
def vera(books: dict[str, Any], django_user_model: Any) -> Any:
    """acme's viewer."""
    return _member(books, django_user_model, "vera", "viewer")


def _audits(company: Any, action: str) -> list[Any]:
    return list(AuditEvent.objects.filter(company=company, action=action).order_by("seq"))


def _text(response: Any) -> str:
    return response.content.decode()


# ---------------------------------------------------------------- the overview
def test_the_overview_shows_limits_exposure_holds_and_risk(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    owner, company = books["owner"], books["company"]
    c001, c002 = (customer_get(company, c) for c in ("C001", "C002"))
    credit_limit_set(actor=owner, company=company, customer_id=c001.pk, amount="5000",
                     reason="review")
    credit_hold(actor=owner, company=company, customer_id=c002.pk, reason="cheque returned")
    client = as_user(books["clerk"])
    page = _text(client.get(f"/c/acme/credit/?as_of={AS_OF}"))
    # C001 owes 1,200.00 of a 5,000.00 limit: 3,800.00 available, as credit exposure says
    exposure = customer_exposure(company, "C001", date.fromisoformat(AS_OF))
    assert exposure["available"] == {"amount": "3800.00", "currency": "EUR"}
    # the page's day goes with its links (web/keepday.py)
    row = page.split(f'href="/c/acme/customers/C001/?as_of={AS_OF}"', 1)[1].split("</tr>", 1)[0]
    assert "€5,000.00" in row and "€1,200.00" in row and "€3,800.00" in row
    assert "overdue now, the oldest by 36 days" in row  # a risk factor, in words
    held = _text(client.get(f"/c/acme/credit/?held=1&as_of={AS_OF}"))
    assert "cheque returned" in held and "/customers/C001/" not in held
    assert "/customers/C002/" not in _text(client.get("/c/acme/credit/?q=dupont"))
    assert 'aria-current="page">Credit</a>' in page  # in the menu, marked


def test_a_group_limit_counts_its_members_in_other_currencies(
        books: dict[str, Any], as_user: Callable[[Any], Any], make_customer: Any,
        post_invoice: Any) -> None:
    from salesledger.apps.fx.services import rate_add

    owner, company = books["owner"], books["company"]
    make_customer("GRP", name="Dupont Group")
    make_customer("DUS", name="Dupont Inc", currency="USD", country="US", parent_code="GRP")
    rate_add(actor=owner, company=company, currency="USD", rate=Decimal("0.90"),
             day=date(2025, 3, 1))
    credit_limit_set(actor=owner, company=company, customer_id=customer_get(company, "GRP").pk,
                     amount="10000", reason="group review")
    post_invoice("DUS", lines=(("Licences", 1, "4000.00", "0"),), currency="USD")
    page = _text(as_user(owner).get(f"/c/acme/credit/?as_of={AS_OF}"))
    row = page.split(f'href="/c/acme/customers/DUS/?as_of={AS_OF}"', 1)[1].split("</tr>", 1)[0]
    # 4,000.00 USD at 0.90: 3,600.00 EUR of the group's 10,000.00 EUR
    assert "group GRP, 2 customers" in row and "€3,600.00" in row and "€6,400.00" in row


@pytest.mark.parametrize("extra", [0, 30])
def test_the_credit_pages_cost_a_bounded_number_of_queries(
        books: dict[str, Any], as_user: Callable[[Any], Any], make_customer: Any,
        post_invoice: Any, django_assert_max_num_queries: Any, extra: int) -> None:
    owner, company = books["owner"], books["company"]
    for i in range(extra):
        c = make_customer(f"Q{i:03d}", name=f"Quentin {i}")
        post_invoice(f"Q{i:03d}")
        if i % 3 == 0:
            credit_limit_set(actor=owner, company=company, customer_id=c.pk, amount="100",
                             reason="small")
        if i % 5 == 0:
            credit_hold(actor=owner, company=company, customer_id=c.pk, reason="watch")
    client = as_user(owner)
    budgets = {f"/c/acme/credit/?as_of={AS_OF}": 25, f"/c/acme/credit/?held=1&as_of={AS_OF}": 25,
               f"/c/acme/credit/suggestions/?as_of={AS_OF}": 16,
               f"/c/acme/credit/review/?as_of={AS_OF}": 8, "/c/acme/credit/duplicates/": 10,
               f"/c/acme/credit/predictions/C001/?as_of={AS_OF}": 6,
               f"/c/acme/credit/backtest/?as_of={AS_OF}": 5,
               f"/c/acme/credit/behaviour/C001/?as_of={AS_OF}": 14}
    for url, budget in budgets.items():
        with django_assert_max_num_queries(budget):
            assert client.get(url).status_code == 200, url


# ---------------------------------------------------------------- a customer's credit
def test_a_credit_controller_sets_a_limit_holds_and_releases_from_the_customer_page(
        books: dict[str, Any], as_user: Callable[[Any], Any], carla: Any) -> None:
    company = books["company"]
    client = as_user(carla)
    page = _text(client.get(f"/c/acme/customers/C001/?as_of={AS_OF}"))
    assert "Set the credit limit" in page and "Put on credit hold" in page
    assert "class B" in page or "class A" in page or "class C" in page

    done = client.post("/c/acme/credit/limit/C001/", {"amount": "5000", "reason": "review"})
    assert done.status_code == 302 and done["Location"] == "/c/acme/customers/C001/"
    assert customer_detail(company, "C001")["credit_limit"] == {"amount": "5000.00",
                                                                "currency": "EUR"}
    [event] = _audits(company, "credit.limit_set")
    assert event.data["reason"] == "review" and event.data["after"]["amount"] == "5000.00"
    assert "The credit limit is set." in _text(client.get("/c/acme/customers/C001/"))

    # no reason: the service's refusal, beside the form, nothing written
    refused = client.post("/c/acme/credit/hold/C001/", {"reason": " "})
    assert refused.status_code == 409
    assert 'id="hold-error" role="alert">invalid: give a reason (--reason)' in _text(refused)
    assert not on_hold(company, customer_get(company, "C001").pk)

    assert client.post("/c/acme/credit/hold/C001/",
                       {"reason": "cheque returned"}).status_code == 302
    [h] = on_hold(company, customer_get(company, "C001").pk)
    assert (h.source, h.reason, h.by) == ("manual", "cheque returned", "carla")
    page = _text(client.get("/c/acme/customers/C001/"))
    assert "Release the hold" in page and "manual (cheque returned)" in page
    assert client.post("/c/acme/credit/release/C001/", {"reason": "paid"}).status_code == 302
    assert not on_hold(company, customer_get(company, "C001").pk)
    assert [e.data["reason"] for e in _audits(company, "credit.release")] == ["paid"]
    # a limit in words the service cannot read: its message, beside the amount
    bad = client.post("/c/acme/credit/limit/C001/", {"amount": "lots", "reason": "x"})
    assert bad.status_code == 409 and 'id="limit-error"' in _text(bad)
    assert 'aria-describedby="limit-error" aria-invalid="true"' in _text(bad)


def test_a_clerk_is_offered_no_credit_form_and_the_services_refuse_one(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    company = books["company"]
    clerk = as_user(books["clerk"])
    page = _text(clerk.get("/c/acme/customers/C001/"))
    assert "Credit exposure" in page and "Put on credit hold" not in page
    for url in ("/c/acme/credit/limit/C001/", "/c/acme/credit/hold/C001/",
                "/c/acme/credit/release/C001/"):
        response = clerk.post(url, {"amount": "1", "reason": "mine"})
        assert response.status_code == 403 and "permission_denied" in _text(response), url
    assert not _audits(company, "credit.hold") and not _audits(company, "credit.limit_set")


def test_one_hold_source_is_released_alone_each_by_the_role_the_service_asks(
        books: dict[str, Any], as_user: Callable[[Any], Any], carla: Any) -> None:
    company, owner = books["company"], books["owner"]
    c001 = customer_get(company, "C001").pk
    credit_hold(actor=owner, company=company, customer_id=c001, reason="cheque returned")
    credit_hold(actor=owner, company=company, customer_id=c001, reason="level 3",
                source="dunning")
    clerk = as_user(books["clerk"])
    page = _text(clerk.get("/c/acme/customers/C001/"))
    # a clerk may release the dunning level's hold alone, not the manual one, nor all
    assert '<label for="release-source">Hold to release</label>' in page
    assert '<option value="dunning">dunning</option>' in page
    assert 'value="manual"' not in page and "every hold" not in page
    for source in ("manual", ""):
        refused = clerk.post("/c/acme/credit/release/C001/", {"reason": "x", "source": source})
        assert refused.status_code == 403, source
    assert {h.source for h in on_hold(company, c001)} == {"manual", "dunning"}
    done = clerk.post("/c/acme/credit/release/C001/", {"reason": "paid", "source": "dunning"})
    assert done.status_code == 302
    assert [h.source for h in on_hold(company, c001)] == ["manual"]
    [event] = _audits(company, "credit.release")
    assert event.data["sources"] == ["dunning"] and event.data["reason"] == "paid"
    assert "The dunning hold is released." in _text(clerk.get("/c/acme/customers/C001/"))
    # a source the service does not know: its refusal beside the form, nothing released
    controller = as_user(carla)
    bad = controller.post("/c/acme/credit/release/C001/", {"reason": "x", "source": "moon"})
    assert bad.status_code == 409 and "unknown hold source" in _text(bad)
    assert [h.source for h in on_hold(company, c001)] == ["manual"]
    # the credit controller is offered each source and every hold at once
    credit_hold(actor=owner, company=company, customer_id=c001, reason="plan 2",
                source="plan")
    page = _text(controller.get("/c/acme/customers/C001/"))
    assert ('<option value="">every hold</option><option value="manual">manual</option>'
            '<option value="plan">payment plan</option>') in page
    assert controller.post("/c/acme/credit/release/C001/",
                           {"reason": "settled", "source": ""}).status_code == 302
    assert not on_hold(company, c001)
    # another company's user: not found, whatever the source
    stranger = as_user(books["stranger"])
    assert stranger.post("/c/acme/credit/release/C001/",
                         {"reason": "x", "source": "dunning"}).status_code == 404


def test_a_hold_stops_posting_and_a_credit_controller_overrides_it_with_a_comment(
        books: dict[str, Any], as_user: Callable[[Any], Any], carla: Any) -> None:
    from salesledger.apps.payments.selectors import invoice_detail

    company = books["company"]
    credit_hold(actor=books["owner"], company=company,
                customer_id=customer_get(company, "C001").pk, reason="two cheques returned")
    clerk = as_user(books["clerk"])
    head = {"customer": "C001", "issue_date": "2025-03-12", **LINES}
    pk = draft_id(clerk.post("/c/acme/drafts/new/", head))
    refused = _text(clerk.post(f"/c/acme/drafts/{pk}/", {**head, "action": "post"}))
    assert "credit_hold: customer C001 is on credit hold (manual: two cheques returned)" \
        in html.unescape(refused)
    assert "Post with the override" not in refused  # a clerk may not override
    # a clerk who posts an override all the same is refused by the service
    assert clerk.post(f"/c/acme/drafts/{pk}/", {**head, "action": "post",
                                                "credit_override": "me"}).status_code == 403

    controller = as_user(carla)
    offered = _text(controller.post(f"/c/acme/drafts/{pk}/", {**head, "action": "post"}))
    assert "Post with the override" in offered and 'name="credit_override"' in offered
    blank = _text(controller.post(f"/c/acme/drafts/{pk}/", {**head, "action": "post",
                                                            "credit_override": " "}))
    assert "an override of a credit refusal needs a comment" in blank
    assert invoice_detail(company, pk)["status"] == "draft"

    posted = controller.post(f"/c/acme/drafts/{pk}/", {
        **head, "action": "post", "credit_override": "order confirmed by their CFO"})
    assert posted.status_code == 302, _text(posted)[:3000]
    assert invoice_detail(company, pk)["status"] == "posted"
    [event] = _audits(company, "credit.override")
    assert event.data["comment"] == "order confirmed by their CFO"
    assert event.data["refused"] == "credit_hold" and event.actor.username == "carla"


@pytest.mark.parametrize("model", [False, True])
def test_predicted_payment_dates_come_only_from_a_stored_model(
        books: dict[str, Any], as_user: Callable[[Any], Any], monkeypatch: Any,
        model: bool) -> None:
    from salesledger.web import credit_panel, credit_views

    # (a stored model needs hundreds of settled items: its being there is what is faked
    # here; the predictions are then the prediction module's own, from the ledger)
    monkeypatch.setattr(credit_panel, "payment_model_usable", lambda *a: model)
    monkeypatch.setattr(credit_views, "payment_model_usable", lambda *a: model)
    client = as_user(books["clerk"])
    page = _text(client.get(f"/c/acme/customers/C001/?as_of={AS_OF}"))
    assert ("/c/acme/credit/predictions/C001/?as_of=" in page) is model
    part = _text(client.get(f"/c/acme/credit/predictions/C001/?as_of={AS_OF}",
                            HTTP_HX_REQUEST="true"))
    assert "<html" not in part
    if model:
        assert books["first"].number in part and "Expected payment" in part
    else:
        assert "No payment model is stored" in part


# ---------------------------------------------------------------- the backtest
@pytest.fixture
def worker(monkeypatch: Any, settings: Any, tmp_path: Any) -> Any:
    # the real worker and queue; only its closing of old connections between tasks, which
    # would end the test's transaction, is left out
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    settings.VAR_DIR = tmp_path
    return make_worker(worker_id="test")


def test_the_backtest_runs_in_the_worker_and_its_page_shows_the_commands_figures(
        books: dict[str, Any], as_user: Callable[[Any], Any], vera: Any, worker: Any,
        record_receipt: Callable[..., Any], allocate_to: Callable[..., Any]) -> None:
    # the first invoice, open on 1 April, paid on 20 April: one date to measure
    paid = record_receipt("C001", "1200.00", date(2025, 4, 20))
    allocate_to(paid.number, {books["first"].number: "1200.00"}, date(2025, 4, 20))
    clerk = as_user(books["clerk"])
    form = _text(clerk.get(f"/c/acme/credit/backtest/?as_of={AS_OF}"))
    assert 'aria-current="page">Backtest</a>' in form
    assert 'id="backtest-as-of" name="as_of" value="2025-02-14"' in form  # 90 days before
    # the days checked before anything is queued, as the command checks them
    backwards = clerk.post("/c/acme/credit/backtest/", {"as_of": AS_OF, "until": "2025-04-01"})
    assert backwards.status_code == 400 and "must be after the day predicted from" in _text(
        backwards)
    assert clerk.post("/c/acme/credit/backtest/", {"as_of": "soon"}).status_code == 400
    # a viewer reads the page, is offered no form and may not queue one
    assert 'method="post"' not in _text(as_user(vera).get("/c/acme/credit/backtest/")).split(
        "</header>", 1)[1]
    assert as_user(vera).post("/c/acme/credit/backtest/", {}).status_code == 403

    queued = clerk.post("/c/acme/credit/backtest/", {"as_of": "2025-04-01", "until": AS_OF})
    assert queued.status_code == 302
    waiting = _text(clerk.get(queued["Location"]))
    assert "Backtest of the payment model" in waiting and 'hx-trigger="every 2s"' in waiting
    assert '<progress id="job-progress"></progress>' in waiting
    worker.run()
    done = clerk.get(queued["Location"])
    expected = backtest(books["company"], as_of=date(2025, 4, 1), known=date(2025, 5, 15))
    result = done.context["result"]
    assert result["ok"] and result["invoices"] == expected.invoices == 1
    assert result["model"] == expected.as_dict()["model"]
    assert result["baseline"] == expected.as_dict()["baseline"]
    text = _text(done)
    assert "Items open on Apr 1, 2025 and paid by May 15, 2025: 1" in text
    # too little history for a model: its figures are dashes, the baseline's are measured
    baseline = expected.as_dict()["baseline"]
    assert baseline["mae_days"] is not None
    assert f'<td class="num">{baseline["mae_days"]:g}</td>' in text
    assert f"Trained on {expected.trained_rows} payments" in text
    assert '<progress id="job-progress" max="100" value="100">' in text
    # another company's user does not find the job
    task = queued["Location"].rstrip("/").rsplit("/", 1)[1]
    assert as_user(books["stranger"]).get(f"/c/globex/jobs/{task}/").status_code == 404
    assert as_user(books["stranger"]).get(f"/c/acme/jobs/{task}/").status_code == 404


# ---------------------------------------------------------------- suggested limits
def test_a_manager_accepts_a_suggested_limit_and_a_clerk_cannot(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    company = books["company"]
    [suggestion] = limit_suggestions(company, date.fromisoformat(AS_OF))
    assert suggestion["customer"] == "C002"  # paid on time
    url = f"/c/acme/credit/suggestions/?as_of={AS_OF}"
    clerk = as_user(books["clerk"])
    page = _text(clerk.get(url))
    assert "C002" in page and "Accept the limits ticked" not in page
    assert clerk.post(url, {"accept": "C002"}).status_code == 403
    owner = as_user(books["owner"])
    assert owner.post(url, {}).status_code == 409  # nothing ticked
    assert owner.post(url, {"accept": "C001"}).status_code == 409  # nothing suggested for it
    done = owner.post(url, {"accept": "C002"})
    assert done.status_code == 302
    assert customer_detail(company, "C002")["credit_limit"] == suggestion["suggested"]
    [event] = _audits(company, "credit.limit_set")
    assert event.data["reason"].startswith("suggested limit accepted: C002")


def test_suggested_limits_are_cut_into_pages_before_they_are_computed(
        books: dict[str, Any], as_user: Callable[[Any], Any], make_customer: Any,
        post_invoice: Any, record_receipt: Any, allocate_to: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A page of suggestions is the customers with something paid on time, by code, cut in
    SQL: each page is the whole list's slice, and those paid late, in part or not at all
    are on none."""
    from salesledger.web import credit_views

    day = date.fromisoformat(AS_OF)
    for i, how in enumerate(["on time", "late", "on time", "in part", "unpaid", "on time",
                             "on time", "late", "on time"]):
        code = f"S{i:02d}"
        make_customer(code, name=f"Suggested {i}")
        invoice = post_invoice(code, lines=(("Audit", 1, "100.00", "20"),))
        if how == "unpaid":
            continue
        paid_on = date(2025, 3, 20) if how != "late" else date(2025, 5, 1)
        receipt = record_receipt(code, "120.00", paid_on)
        allocate_to(receipt.number, {invoice.number: "120.00" if how != "in part" else "60.00"},
                    paid_on)
    everyone = limit_suggestions(books["company"], day)
    codes = [s["customer"] for s in everyone]
    assert codes == ["C002", "S00", "S02", "S05", "S06", "S08"]
    pages = [limit_suggestions(books["company"], day, limit=4, offset=n) for n in (0, 4, 8)]
    assert pages == [everyone[:4], everyone[4:], []]
    monkeypatch.setattr(credit_views, "PAGE_SIZE", 4)
    client = as_user(books["owner"])
    first = _text(client.get(f"/c/acme/credit/suggestions/?as_of={AS_OF}"))
    second = _text(client.get(f"/c/acme/credit/suggestions/?page=2&as_of={AS_OF}"))
    assert all(f">{c}<" in first for c in codes[:4]) and f">{codes[4]}<" not in first
    assert all(f">{c}<" in second for c in codes[4:]) and ">S01<" not in first + second
    assert "page=2" in first and "page=3" not in second


# ---------------------------------------------------------------- records
def test_records_to_review_are_listed_and_confirmed(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.customers.services import (
        ContactInput,
        contact_add,
        emails_mark_doubtful,
    )

    owner, company = books["owner"], books["company"]
    later = _text(as_user(owner).get("/c/acme/credit/review/?as_of=2099-01-01"))
    assert "C001" in later and "never confirmed" in later
    contact_add(actor=owner, company=company, code="C002",
                contact=ContactInput("Lea", "bounce@martin.example"))
    emails_mark_doubtful(actor=owner, company=company,
                         customer_id=customer_get(company, "C002").pk,
                         refused={"bounce@martin.example": "550 5.1.1 unknown"},
                         communication_id=0)
    clerk = as_user(books["clerk"])
    page = _text(clerk.get("/c/acme/credit/review/"))
    assert "doubtful e-mail bounce@martin.example" in page and "C001" not in page
    done = clerk.post("/c/acme/credit/confirm/C002/")
    assert done.status_code == 302
    assert review_list(company, as_of=company_today(company)) == []
    [event] = _audits(company, "customer.verify")
    assert event.data["doubtful_cleared"] == ["bounce@martin.example"]
    assert "C002 is confirmed." in _text(clerk.get("/c/acme/credit/review/"))


def test_duplicates_are_merged_with_the_survivor_chosen_and_unmerged(
        books: dict[str, Any], as_user: Callable[[Any], Any], make_customer: Any) -> None:
    company = books["company"]
    make_customer("C003", name="DUPONT & FILS")
    clerk, owner = as_user(books["clerk"]), as_user(books["owner"])
    page = _text(clerk.get("/c/acme/credit/duplicates/"))
    assert "DUPONT &amp; FILS" in page and "Which of" not in page  # a clerk may not merge
    pair = {"a": "C001", "b": "C003", "reason": "entered twice"}
    assert clerk.post("/c/acme/credit/duplicates/", {**pair, "survivor": "C003"}
                      ).status_code == 403
    assert "Which of C001 and C003 survives" in _text(owner.get("/c/acme/credit/duplicates/"))
    # the survivor is the one chosen: C001 becomes an alias of C003
    assert owner.post("/c/acme/credit/duplicates/", {**pair, "survivor": "C003"}
                      ).status_code == 302
    assert customer_detail(company, "C001")["merged_into"] == "C003"
    [event] = _audits(company, "customer.merge")
    assert (event.data["alias"], event.data["survivor"], event.data["reason"]) == (
        "C001", "C003", "entered twice")
    merged = _text(owner.get("/c/acme/credit/duplicates/"))
    assert "C001 is merged into C003." in merged and "Unmerge C001" in merged
    # the service's refusal, as the command line words it: no chains
    again = owner.post("/c/acme/credit/duplicates/", {"a": "C003", "b": "C002",
                                                      "survivor": "C002"})
    assert again.status_code == 409 and "merge_refused:" in _text(again)
    assert owner.post("/c/acme/credit/unmerge/C001/", {"reason": "two after all"}
                      ).status_code == 302
    assert customer_detail(company, "C001")["merged_into"] is None
    assert owner.post("/c/acme/credit/unmerge/C001/", {}).status_code == 409  # not merged


def test_a_customers_payment_behaviour_is_the_commands_on_a_page_of_its_own(
        books: dict[str, Any], as_user: Callable[[Any], Any], carla: Any) -> None:
    from salesledger.apps.credit.selectors import behaviour_json, customer_behaviour
    from salesledger.apps.customers.merge import customer_merge

    company = books["company"]
    client = as_user(carla)
    # reached from the customer's overview and from the credit overview, on the page's day
    link = f'href="/c/acme/credit/behaviour/C002/?as_of={AS_OF}"'
    assert link in _text(client.get(f"/c/acme/customers/C002/?as_of={AS_OF}"))
    assert link in _text(client.get(f"/c/acme/credit/?as_of={AS_OF}"))
    page = _text(client.get(f"/c/acme/credit/behaviour/C002/?as_of={AS_OF}"))
    # what ``credit behaviour C002 --as-of`` says: its 300.00 paid on the day it was issued
    b = behaviour_json(customer_behaviour(company, "C002", date.fromisoformat(AS_OF)), "EUR")
    assert (b["payments"], b["paid"]["amount"], b["days_to_pay"], b["days_late"]) == (
        1, "300.00", 0.0, 0.0)
    assert 'data-figure="paid">€300.00' in page and "1 payment<" in page
    assert 'data-figure="days_to_pay">0<' in page and 'data-figure="share_late">0%' in page
    assert "How C002 pays" in page and "Martin SA" in page
    # C001 pays nothing and owes 1,200.00 since 9 April: overdue, the oldest 36 days late
    owing = _text(client.get(f"/c/acme/credit/behaviour/C001/?as_of={AS_OF}"))
    assert 'data-figure="overdue">€1,200.00 · the oldest 36 days late' in owing
    assert 'data-figure="days_to_pay">–<' in owing and "not enough payments to say" in owing
    # another day, other figures: before the invoice was due nothing is overdue
    early = _text(client.get("/c/acme/credit/behaviour/C001/?as_of=2025-03-11"))
    assert 'data-figure="overdue">€0.00<' in early
    # an alias of a merge shows its survivor's (the command line's too), and says so
    customer_merge(actor=books["owner"], company=company, alias="C001",
                   survivor="C002", reason="one company")
    alias = _text(client.get(f"/c/acme/credit/behaviour/C001/?as_of={AS_OF}"))
    assert "C001 was merged into C002" in alias
    assert 'data-figure="paid">€300.00' in alias and "€1,200.00" in alias
    assert client.get("/c/acme/credit/behaviour/NOPE/").status_code == 404


# ---------------------------------------------------------------- tenancy and roles
def test_every_credit_address_is_404_to_a_stranger(books: dict[str, Any],
                                                   as_user: Callable[[Any], Any]) -> None:
    stranger = as_user(books["stranger"])
    for url in CREDIT_PAGES:
        assert stranger.get(url).status_code == 404, url
    for url, data in CREDIT_POSTS.items():
        assert stranger.post(url, data).status_code == 404, url
    # and acme's customer under the stranger's own company is not found either
    assert stranger.post("/c/globex/credit/hold/C001/", {"reason": "x"}).status_code == 404
    assert stranger.get("/c/globex/credit/predictions/C001/").status_code == 404
    assert stranger.get("/c/globex/credit/behaviour/C001/").status_code == 404
    assert not _audits(books["company"], "credit.hold")


def test_a_viewer_reads_every_credit_page_and_may_write_nothing(
        books: dict[str, Any], as_user: Callable[[Any], Any], vera: Any) -> None:
    company = books["company"]
    viewer = as_user(vera)
    for url in [*CREDIT_PAGES, "/c/acme/customers/C001/"]:
        response = viewer.get(url)
        assert response.status_code == 200, url
        assert 'method="post"' not in _text(response).split("</header>", 1)[1], url
    before = AuditEvent.objects.filter(company=company).count()
    for url, data in CREDIT_POSTS.items():
        assert viewer.post(url, data).status_code == 403, url
    assert AuditEvent.objects.filter(company=company).count() == before


def test_the_credit_pages_speak_french(books: dict[str, Any],
                                       as_user: Callable[[Any], Any]) -> None:
    client = as_user(books["owner"])
    client.post("/i18n/setlang/", {"language": "fr", "next": "/c/acme/"})
    page = _text(client.get(f"/c/acme/credit/?as_of={AS_OF}"))
    assert "Limites suggérées" in page and "Encours" in page
    assert "1\u202f200,00\xa0€" in page
    # the risk factors too: the core gives codes, the page says them in French
    assert "le plus ancien de 36 jours (" in page
    assert "overdue now" not in page
    customer = _text(client.get("/c/acme/customers/C001/"))
    assert "Mettre en blocage" in customer
    credit_hold(actor=books["owner"], company=books["company"],
                customer_id=customer_get(books["company"], "C001").pk, reason="niveau 3",
                source="dunning")
    held = _text(client.get("/c/acme/customers/C001/"))
    backtest_page = _text(client.get("/c/acme/credit/backtest/"))
    assert "Lancer le test rétrospectif" in backtest_page
    assert "Prédire à partir du grand livre du" in backtest_page
    assert "relance (niveau 3)" in held and '<option value="dunning">relance</option>' in held
    behaviour = _text(client.get(f"/c/acme/credit/behaviour/C001/?as_of={AS_OF}"))
    assert "Comment C001 paie" in behaviour and "Part payée en retard" in behaviour
    assert "le plus ancien en retard de 36 jours" in behaviour
    assert "1\u202f200,00\xa0€" in behaviour and "Share paid late" not in behaviour
