"""The bank pages, the numbering and tax settings and the long work started from the
workspace: a statement imported by the real worker and its report, the review queue
(confirm, reject, unmatch), matching (a dry run, then the worker), rules, a remittance
advice; a prefix and the tax settings through their services; the automatic allocation and
a PDF batch in the worker. Who may do what, strangers' 404s and the pages' query budgets."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tasks_db.management.commands import db_worker

from salesledger.apps.banking.matching import bank_match
from salesledger.apps.banking.selectors import statement_line_detail, statement_lines
from salesledger.apps.banking.services import statement_import
from salesledger.apps.core.models import AuditEvent
from salesledger.apps.core.selectors import number_counters
from salesledger.apps.core.services import membership_set
from salesledger.apps.customers.models import Customer
from salesledger.apps.ledger.banks import BankAccountSpec, bank_account_add
from salesledger.apps.payments.selectors import receipt_detail, receipt_list
from salesledger.apps.runs.models import AllocationRun
from salesledger.worker import make_worker

from .bank_urls import BANK_POSTS, BANK_URLS
from .conftest import AS_OF

pytestmark = pytest.mark.usefixtures("no_pdf_freezing")

IBAN = "NL26VAYB8060476890"
def mt940(lines: list[tuple[str, str, str, str]], number: str = "1") -> bytes:
    """An MT940 statement of account ``IBAN``: (day YYMMDD, C/D and amount, payer name,
    text) per line; balances that add up."""
    body = [":20:STMT", f":25:{IBAN}", f":28C:{number}/1", ":60F:C250501EUR0,00"]
    total = Decimal(0)
    for day, mark_amount, name, text in lines:
        mark, amount = mark_amount[0], mark_amount[1:]
        total += Decimal(amount.replace(",", ".")) * (1 if mark == "C" else -1)
        body += [f":61:{day}{day[2:]}{mark}{amount}NTRFNONREF", f":86:/NAME/{name}/REMI/{text}"]
    body += [f":62F:C250531EUR{str(total).replace('.', ',')}", "-"]
    return "\r\n".join(body).encode()


@pytest.fixture
def worker(monkeypatch: Any, settings: Any, tmp_path: Any) -> Any:
    # The worker closes old connections between tasks, which would end the test's
    # transaction; everything else is the real worker and the real queue.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    settings.VAR_DIR = tmp_path
    return make_worker(worker_id="test")


@pytest.fixture
def bank(books: dict[str, Any]) -> dict[str, Any]:
    bank_account_add(actor=books["owner"], company=books["company"], spec=BankAccountSpec(
        code="NL", name="Rabo", iban=IBAN, currency="EUR"))
    return books


def _statement(books: dict[str, Any]) -> bytes:
    """Three lines: the first invoice paid by its RF reference (sure), a payment with
    nothing but a payer's name close to a customer's (for review), bank fees (money out)."""
    rf = books["first"].payment_reference
    return mt940([("250510", "C1200,00", "Someone", rf),
                  ("250511", "C300,00", "Martin S.A.", "merci"),
                  ("250512", "D4,50", "Bank", "fees")])


def _audits(company: Any) -> int:
    return AuditEvent.objects.filter(company=company).count()


def _text(response: Any) -> str:
    return response.content.decode()


# ---------------------------------------------------------------- import in the worker
def test_a_statement_is_imported_by_the_worker_and_the_page_shows_the_report(
        bank: dict[str, Any], as_user: Callable[[Any], Any], worker: Any,
        tmp_path: Any) -> None:
    clerk = as_user(bank["clerk"])
    upload = clerk.post("/c/acme/bank/import/", {
        "file": SimpleUploadedFile("may.sta", _statement(bank))})
    assert upload.status_code == 302
    job_url = upload["Location"]
    waiting = clerk.get(job_url)
    assert waiting.context["job"].state == "queued"
    assert 'hx-trigger="every 2s"' in _text(waiting)
    assert list((tmp_path / "bank" / "acme").iterdir())  # kept for the worker
    worker.run()
    done = clerk.get(job_url)
    text = _text(done)
    assert done.context["job"].state == "done" and "every 2s" not in text
    [s] = done.context["result"]["statements"]
    assert (s["account"], s["lines"], s["imported"], s["duplicates_skipped"]) == ("NL", 3, 3, 0)
    assert s["balance_difference"] == 0 and "mt940" in text and "€1,495.50" in text
    assert not list((tmp_path / "bank" / "acme").iterdir())  # removed once imported
    assert len(statement_lines(bank["company"])) == 3
    # the same file again: every line is a duplicate, none added
    again = clerk.post("/c/acme/bank/import/", {
        "file": SimpleUploadedFile("may.sta", _statement(bank))})["Location"]
    worker.run()
    [s] = clerk.get(again).context["result"]["statements"]
    assert (s["imported"], s["duplicates_skipped"]) == (0, 3)
    assert len(statement_lines(bank["company"])) == 3
    home = _text(clerk.get("/c/acme/bank/"))
    assert "mt940" in home and "Rabo" in home


def test_the_job_page_counts_the_lines_a_running_statement_import_has_written(
        bank: dict[str, Any], as_user: Callable[[Any], Any], worker: Any,
        monkeypatch: Any, tmp_path: Any) -> None:
    """A statement import is one transaction: its task keeps beside the file how many of its
    lines are written, and the job page's bar shows it while the worker imports; the count
    goes with the file."""
    from salesledger.apps.banking import services
    from salesledger.apps.core import progress_files

    clerk = as_user(bank["clerk"])
    job_url = clerk.post("/c/acme/bank/import/", {
        "file": SimpleUploadedFile("may.sta", _statement(bank))})["Location"]
    monkeypatch.setattr(progress_files, "PROGRESS_EVERY", 0.0)
    monkeypatch.setattr(services, "LINES_PER_WRITE", 1)  # a write, and a count, per line
    seen: list[tuple[str, Any, str]] = []
    keep = progress_files.ProgressFile.keep

    def and_look(self: Any, **figures: Any) -> None:
        keep(self, **figures)
        page = clerk.get(job_url)  # asked while the worker imports
        seen.append((page.context["job"].state, page.context["progress"], _text(page)))

    monkeypatch.setattr(progress_files.ProgressFile, "keep", and_look)
    worker.run()
    assert [state for state, _, _ in seen] == ["running"] * 4
    assert [p for _, p, _ in seen] == [{"done": n, "total": 3} for n in range(4)]
    assert 'max="3" value="2"' in seen[2][2] and "2 of 3" in seen[2][2]
    done = clerk.get(job_url)
    assert done.context["job"].state == "done" and done.context["progress"] is None
    assert not list((tmp_path / "bank" / "acme").iterdir())  # file and count gone


def test_an_unreadable_or_unknown_statement_says_why_and_imports_nothing(
        books: dict[str, Any], as_user: Callable[[Any], Any], worker: Any) -> None:
    owner = as_user(books["owner"])
    bad = owner.post("/c/acme/bank/import/", {
        "file": SimpleUploadedFile("x.sta", b"not a statement at all")})["Location"]
    unknown = owner.post("/c/acme/bank/import/", {
        "file": SimpleUploadedFile("may.sta", _statement(books))})["Location"]
    worker.run()
    page = owner.get(bad)
    assert page.context["result"]["ok"] is False and 'role="alert"' in _text(page)
    page = owner.get(unknown)
    assert page.context["result"]["code"] == "unknown_bank_account"
    assert "bank account add" in _text(page)
    assert statement_lines(books["company"]) == []
    empty = owner.post("/c/acme/bank/import/", {})
    assert empty.status_code == 400 and "the file is empty" in _text(empty)


# ---------------------------------------------------------------- review, confirm, unmatch
@pytest.fixture
def matched(bank: dict[str, Any]) -> dict[str, Any]:
    statement_import(actor=bank["owner"], company=bank["company"], data=_statement(bank))
    bank_match(actor=bank["owner"], company=bank["company"])
    bank["lines"] = [r["id"] for r in statement_lines(bank["company"])]
    return bank


def test_the_review_queue_confirms_a_line_in_one_post_and_the_next_takes_the_focus(
        matched: dict[str, Any], as_user: Callable[[Any], Any], post_invoice: Any) -> None:
    company = matched["company"]
    first, second, fees = matched["lines"]
    assert statement_line_detail(company, fees)["status"] == "other"
    clerk = as_user(matched["clerk"])
    page = clerk.get("/c/acme/bank/review/")
    text = _text(page)
    waiting = [r["line"].pk for r in page.context["rows"]]
    assert first in waiting
    # the first line's best suggestion has the focus and the keys
    top = text.split(f'id="line-{waiting[0]}"', 1)[1]
    assert 'accesskey="1"' in top and "autofocus" in top and 'accesskey="x"' in text
    assert text.count("autofocus") == 1
    done = clerk.post(f"/c/acme/bank/lines/{first}/confirm/", {"choice": "1",
                                                               "next": "review"})
    assert done.status_code == 302 and done["Location"] == "/c/acme/bank/review/#queue"
    d = statement_line_detail(company, first)
    assert d["status"] == "applied" and d["customer"] == "C001"
    r = receipt_detail(company, d["receipt"])
    assert [a["invoice"] for a in r["allocations"]] == [matched["first"].number]
    assert first not in [row["line"].pk for row in clerk.get(
        "/c/acme/bank/review/").context["rows"]]
    # confirming it again is refused on the line's page (409), nothing written
    before = _audits(company)
    again = clerk.post(f"/c/acme/bank/lines/{first}/confirm/", {"choice": "1"})
    assert again.status_code == 409 and "no suggestion to confirm" in _text(again)
    assert _audits(company) == before
    # unmatch: the receipt is reversed and the line waits again
    undo = clerk.post(f"/c/acme/bank/lines/{first}/unmatch/")
    assert undo.status_code == 302
    assert statement_line_detail(company, first)["status"] == "unmatched"
    assert receipt_detail(company, d["receipt"])["reversal"]
    applied = _text(clerk.get(f"/c/acme/bank/lines/{first}/"))
    assert "Unmatch this line" not in applied and "Remittance advice" in applied


def test_the_dashboard_counts_the_lines_waiting_for_review_and_links_to_the_queue(
        matched: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    company = matched["company"]
    waiting = len(statement_lines(company, status="suggested"))
    assert waiting
    clerk = as_user(matched["clerk"])
    text = _text(clerk.get("/c/acme/"))
    shown = ("1 bank line waits for review" if waiting == 1
             else f"{waiting} bank lines wait for review")
    assert f'<a href="/c/acme/bank/review/">{shown}</a>' in text
    for line in statement_lines(company, status="suggested"):
        assert clerk.post(f"/c/acme/bank/lines/{line['id']}/reject/").status_code == 302
    assert "wait for review" not in _text(clerk.get("/c/acme/"))
    assert "waits for review" not in _text(clerk.get("/c/acme/"))


def test_a_line_s_suggestions_are_rejected(matched: dict[str, Any],
                                           as_user: Callable[[Any], Any]) -> None:
    company = matched["company"]
    suggested = [r["id"] for r in statement_lines(company, status="suggested")]
    assert suggested
    clerk = as_user(matched["clerk"])
    assert clerk.post(f"/c/acme/bank/lines/{suggested[0]}/reject/").status_code == 302
    assert statement_line_detail(company, suggested[0])["status"] == "unmatched"
    lines = clerk.get("/c/acme/bank/lines/?status=unmatched")
    assert suggested[0] in [r["id"] for r in lines.context["rows"]]
    assert clerk.get("/c/acme/bank/lines/999999/").status_code == 404


def test_a_remittance_advice_becomes_the_suggestion_and_is_applied(
        matched: dict[str, Any], as_user: Callable[[Any], Any], post_invoice: Any) -> None:
    company = matched["company"]
    second = matched["lines"][1]
    clerk = as_user(matched["clerk"])
    # an advice naming an invoice that is paid already is refused, and says why
    paid = clerk.post(f"/c/acme/bank/lines/{second}/remittance/", {
        "text": f"{matched['second'].number} 300.00"})
    assert paid.status_code == 409 and 'role="alert"' in _text(paid)
    assert clerk.post(f"/c/acme/bank/lines/{second}/remittance/", {"text": ""}
                      ).status_code == 409
    assert statement_line_detail(company, second)["status"] != "applied"
    a, b = (post_invoice("C002", lines=(("Audit", 1, "125.00", "20"),)) for _ in range(2))
    advice = f"Paid:\n{a.number}  150.00\n{b.number}  150.00\n"
    kept = clerk.post(f"/c/acme/bank/lines/{second}/remittance/", {"text": advice})
    assert kept.status_code == 302
    d = statement_line_detail(company, second)
    assert d["status"] == "suggested"
    assert [n for n, _ in d["suggestions"][0]["allocations"]] == [a.number, b.number]
    applied = clerk.post(f"/c/acme/bank/lines/{second}/confirm/", {"choice": "1"})
    assert applied.status_code == 302
    d = statement_line_detail(company, second)
    assert d["status"] == "applied" and d["customer"] == "C002"
    paid_now = receipt_detail(company, d["receipt"])["allocations"]
    assert sorted(x["invoice"] for x in paid_now) == sorted([a.number, b.number])


# ---------------------------------------------------------------- matching
def test_matching_is_previewed_then_applied_by_the_worker(
        bank: dict[str, Any], as_user: Callable[[Any], Any], worker: Any) -> None:
    company = bank["company"]
    statement_import(actor=bank["owner"], company=company, data=_statement(bank))
    clerk = as_user(bank["clerk"])
    before = _audits(company)
    preview = clerk.post("/c/acme/bank/match/", {"action": "preview"})
    assert preview.status_code == 302
    worker.run()
    page = clerk.get(preview["Location"])
    result = page.context["result"]
    assert result["dry_run"] and result["lines"] == 3 and len(result["preview"]) == 3
    assert "would be applied" in _text(page) and "€1,200.00" in _text(page)
    assert _audits(company) == before  # a dry run writes nothing
    assert {r["status"] for r in statement_lines(company)} == {"unmatched"}
    queued = clerk.post("/c/acme/bank/match/", {"action": "apply"})
    assert queued.status_code == 302
    worker.run()
    page = clerk.get(queued["Location"])
    assert page.context["result"]["ok"] and page.context["result"]["lines"] == 3
    assert page.context["result"]["decisions"]["applied"] >= 1
    applied = statement_lines(company, status="applied")
    assert applied and applied[0]["receipt"]
    assert len(receipt_list(company)) == 2


def test_a_running_match_counts_the_lines_it_has_decided(
        bank: dict[str, Any], as_user: Callable[[Any], Any], worker: Any) -> None:
    """The job page of a matching run counts the lines whose decision the run has committed
    since the worker took it, of those it found waiting; a preview (nothing written) and a
    queued run show only their state."""
    from django_tasks_db.models import DBTaskResult

    company = bank["company"]
    statement_import(actor=bank["owner"], company=company, data=_statement(bank))
    clerk = as_user(bank["clerk"])
    url = clerk.post("/c/acme/bank/match/", {"action": "apply"})["Location"]
    assert clerk.get(url).context["progress"] is None  # waiting for the worker
    task = DBTaskResult.objects.get(pk=url.rstrip("/").rsplit("/", 1)[1])
    task.claim("test")  # the worker has taken it, as it does before running it
    assert clerk.get(url).context["progress"] == {"done": 0, "total": 3}
    # the run decides the first line (committed as it is decided), as bank_match does
    first = statement_lines(company)[0]["id"]
    bank_match(actor=bank["owner"], company=company, line_ids=[first])
    page = clerk.get(url)
    assert page.context["progress"] == {"done": 1, "total": 3} and "1 of 3" in _text(page)
    bank_match(actor=bank["owner"], company=company)
    assert clerk.get(url).context["progress"] == {"done": 3, "total": 3}
    preview = clerk.post("/c/acme/bank/match/", {"action": "preview"})["Location"]
    DBTaskResult.objects.get(pk=preview.rstrip("/").rsplit("/", 1)[1]).claim("test")
    assert clerk.get(preview).context["progress"] is None  # a dry run writes nothing


# ---------------------------------------------------------------- rules
def test_a_manager_adds_and_removes_a_rule_and_a_clerk_may_not(
        bank: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    owner, clerk = as_user(bank["owner"]), as_user(bank["clerk"])
    rule = {"name": "fees", "pattern": "fees", "direction": "out", "then": "account",
            "account": "bank_charges"}
    refused = clerk.post("/c/acme/bank/rules/", rule)
    assert refused.status_code == 403 and "permission_denied" in _text(refused)
    assert "Add a rule" not in _text(clerk.get("/c/acme/bank/rules/"))
    bad = owner.post("/c/acme/bank/rules/", {**rule, "then": "customer", "customer": "C001"})
    assert bad.status_code == 400 and "money out" in _text(bad)
    assert owner.post("/c/acme/bank/rules/", rule).status_code == 302
    page = owner.get("/c/acme/bank/rules/")
    assert [r.rule.name for r in page.context["rows"]] == ["fees"]
    assert "post to 6270 Bank charges" in _text(page)
    assert owner.post("/c/acme/bank/rules/", {"action": "remove", "name": "fees"}
                      ).status_code == 302
    assert owner.get("/c/acme/bank/rules/").context["rows"] == []


# ---------------------------------------------------------------- numbering and tax
def test_a_prefix_is_set_for_a_year_that_has_issued_no_number(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    company = books["company"]
    owner, clerk = as_user(books["owner"]), as_user(books["clerk"])
    page = _text(owner.get("/c/acme/settings/numbering/"))
    assert "INV2025-00003" in page  # two invoices issued in 2025: the next one
    issued = owner.post("/c/acme/settings/numbering/", {"series": "INV",
                                                        "fiscal_year": "2025",
                                                        "prefix": "FA"})
    assert issued.status_code == 400 and "its prefix stays" in _text(issued)
    clash = owner.post("/c/acme/settings/numbering/", {"series": "INV", "fiscal_year": "2026",
                                                       "prefix": "cn"})
    assert clash.status_code == 400 and "series CN" in _text(clash)
    before = _audits(company)
    denied = clerk.post("/c/acme/settings/numbering/", {"series": "INV",
                                                        "fiscal_year": "2026",
                                                        "prefix": "FA"})
    assert denied.status_code == 403 and _audits(company) == before
    done = owner.post("/c/acme/settings/numbering/", {"series": "INV", "fiscal_year": "2026",
                                                      "prefix": "fa-"})
    assert done.status_code == 302
    assert {"series": "INV", "fiscal_year": 2026, "prefix": "FA-", "last": 0} in \
        number_counters(company)
    assert "FA-2026-00001" in _text(owner.get("/c/acme/settings/numbering/"))


def test_the_tax_settings_go_through_their_services(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.payments.adjustments.settings import settlement_settings

    company = books["company"]
    owner, clerk = as_user(books["owner"]), as_user(books["clerk"])
    page = owner.get("/c/acme/settings/tax/")
    assert "VATEX-EU-IC" in _text(page) and "per_line" in _text(page)
    form = dict(page.context["typed"])
    before = _audits(company)
    assert clerk.post("/c/acme/settings/tax/", form).status_code == 403
    bad = owner.post("/c/acme/settings/tax/", {**form, "write_off_percent": "150",
                                               "vat_on_debits": "yes"})
    assert bad.status_code == 400 and _audits(company) == before
    company.refresh_from_db()
    assert not company.vat_on_debits  # nothing half-saved
    same = owner.post("/c/acme/settings/tax/", form)
    assert same.status_code == 302 and _audits(company) == before
    good = owner.post("/c/acme/settings/tax/", {**form, "vat_on_debits": "yes",
                                                "write_off_amount": "2.50",
                                                "discount_tax_policy": "adjust_vat"})
    assert good.status_code == 302
    company.refresh_from_db()
    s = settlement_settings(company)
    assert company.vat_on_debits and s.tolerance.amount == 250
    assert s.discount_tax_policy.value == "adjust_vat"


def test_the_tax_settings_change_in_one_transaction_or_not_at_all(
        books: dict[str, Any], as_user: Callable[[Any], Any],
        capsys: pytest.CaptureFixture[str]) -> None:
    """The settlement settings are accepted and VAT on debits refused: the page's one service
    leaves the settlement settings as they were, audits nothing, and the command line's
    ``adjustment settings`` (the same service) refuses alike."""
    from salesledger.apps.payments.adjustments.settings import settlement_settings
    from salesledger.cli.main import main

    company = books["company"]
    owner = as_user(books["owner"])
    form = dict(owner.get("/c/acme/settings/tax/").context["typed"])
    before, audits = settlement_settings(company), _audits(company)
    refused = owner.post("/c/acme/settings/tax/", {**form, "write_off_amount": "2.50",
                                                   "discount_tax_policy": "adjust_vat",
                                                   "vat_on_debits": "maybe"})
    assert refused.status_code == 400 and "vat on debits is yes or no" in _text(refused)
    assert settlement_settings(company) == before and _audits(company) == audits
    assert before.tolerance.amount != 250
    code = main(["adjustment", "settings", "--company", "acme", "--write-off-amount", "2.50",
                 "--vat-on-debits", "maybe"])
    err = capsys.readouterr().err
    assert code == 2 and "vat on debits is yes or no" in err and "Traceback" not in err
    assert settlement_settings(company) == before and _audits(company) == audits
    done = owner.post("/c/acme/settings/tax/", {**form, "write_off_amount": "2.50",
                                                "vat_on_debits": "yes"})
    assert done.status_code == 302
    company.refresh_from_db()
    assert settlement_settings(company).tolerance.amount == 250 and company.vat_on_debits


# ---------------------------------------------------------------- long work
def test_every_receipt_is_allocated_by_the_worker(
        books: dict[str, Any], as_user: Callable[[Any], Any], worker: Any,
        record_receipt: Any) -> None:
    rct = record_receipt("C001", "1200.00")
    clerk = as_user(books["clerk"])
    assert "Allocate every receipt" in _text(clerk.get("/c/acme/receipts/"))
    preview = clerk.post(f"/c/acme/jobs/allocate/?as_of={AS_OF}", {
        "policy": "oldest_first", "action": "preview"})
    assert preview.status_code == 200 and preview.context["preview"].allocations == 1
    assert receipt_detail(books["company"], rct.number)["allocations"] == []
    bad = clerk.post("/c/acme/jobs/allocate/", {"policy": "manual", "action": "run"})
    assert bad.status_code == 400 and "unknown allocation policy" in _text(bad)
    queued = clerk.post(f"/c/acme/jobs/allocate/?as_of={AS_OF}", {
        "policy": "oldest_first", "action": "run"})
    assert queued.status_code == 302
    waiting = clerk.get(queued["Location"])
    assert 'hx-trigger="every 2s"' in _text(waiting)
    customers = sorted(Customer.objects.filter(company=books["company"])
                       .values_list("pk", flat=True))
    assert waiting.context["progress"] == {"done": 0, "total": len(customers)}
    # a run that has committed its first chunk (as a killed one would have left it)
    run = AllocationRun.objects.create(company=books["company"], day=AS_OF,
                                       policy="oldest_first", last_customer_id=customers[0])
    walking = clerk.get(queued["Location"])
    assert walking.context["progress"] == {"done": 1, "total": len(customers)}
    assert f"1 of {len(customers)}" in _text(walking)
    run.delete()
    worker.run()
    page = clerk.get(queued["Location"])
    assert page.context["result"]["allocations"] == 1 and "€1,200.00" in _text(page)
    assert page.context["progress"] is None
    allocated = receipt_detail(books["company"], rct.number)["allocations"]
    assert [a["invoice"] for a in allocated] == [books["first"].number]


def test_a_pdf_batch_is_frozen_by_the_worker_with_its_count(
        books: dict[str, Any], as_user: Callable[[Any], Any], worker: Any) -> None:
    clerk = as_user(books["clerk"])
    assert "PDF batch" in _text(clerk.get("/c/acme/invoices/"))
    queued = clerk.post("/c/acme/jobs/pdfs/", {"from": "2025-01-01", "to": AS_OF})
    assert queued.status_code == 302
    waiting = clerk.get(queued["Location"])
    assert waiting.context["progress"] == {"done": 0, "total": 2}
    assert "0 of 2" in _text(waiting)
    worker.run()
    done = clerk.get(queued["Location"])
    assert done.context["result"]["frozen"] == 2 and "2 PDFs frozen" in _text(done)
    # the worker froze them for the clerk who started the batch, and audited them as such
    frozen = AuditEvent.objects.filter(company=books["company"], action="invoice.pdf")
    assert sorted(e.data["number"] for e in frozen) == sorted(
        [books["first"].number, books["second"].number])
    assert {e.actor_name for e in frozen} == {"claude"}
    again = clerk.post("/c/acme/jobs/pdfs/", {})
    assert again.status_code == 400 and "has its PDF already" in _text(again)
    backwards = clerk.post("/c/acme/jobs/pdfs/", {"from": AS_OF, "to": "2025-01-01"})
    assert backwards.status_code == 400


def test_a_job_of_another_company_or_kind_is_not_found(
        books: dict[str, Any], as_user: Callable[[Any], Any], worker: Any) -> None:
    from salesledger.apps.interchange.services import csv_import_queue

    owner = as_user(books["owner"])
    task_id = owner.post("/c/acme/jobs/pdfs/", {})["Location"].rstrip("/").rsplit("/", 1)[1]
    assert as_user(books["stranger"]).get(f"/c/globex/jobs/{task_id}/").status_code == 404
    csv_task = csv_import_queue(actor=books["owner"], company=books["company"],
                                kind="customers", content=b"code,name\n", filename="c.csv")
    assert owner.get(f"/c/acme/jobs/{csv_task}/").status_code == 404
    assert owner.get("/c/acme/jobs/nonsense/").status_code == 404


# ---------------------------------------------------------------- tenancy, roles, queries
def test_every_address_is_404_to_a_stranger_even_when_posted_to(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    stranger = as_user(books["stranger"])
    for url in [*BANK_URLS, "/c/acme/bank/lines/1/"]:
        assert stranger.get(url).status_code == 404, url
    before = _audits(books["company"])
    for url in BANK_POSTS:
        assert stranger.post(url, {"action": "apply"}).status_code == 404, url
    assert _audits(books["company"]) == before


def test_a_viewer_reads_every_page_is_offered_no_form_and_every_post_is_refused(
        matched: dict[str, Any], as_user: Callable[[Any], Any], django_user_model: Any
        ) -> None:
    from django_tasks_db.models import DBTaskResult

    django_user_model.objects.create_user("vera")
    membership_set(actor=matched["owner"], company=matched["company"], username="vera",
                   role="viewer")
    viewer = as_user(django_user_model.objects.get(username="vera"))
    for url in [*BANK_URLS, f"/c/acme/bank/lines/{matched['lines'][0]}/"]:
        response = viewer.get(url)
        assert response.status_code == 200, url
        assert 'method="post"' not in _text(response).split("</header>", 1)[1], url
    before = (_audits(matched["company"]), DBTaskResult.objects.count())
    line = matched["lines"][0]
    for url in [*BANK_POSTS, f"/c/acme/bank/lines/{line}/confirm/"]:
        response = viewer.post(url, {"action": "apply", "choice": "1", "text": "x"})
        assert response.status_code == 403, url
    assert (_audits(matched["company"]), DBTaskResult.objects.count()) == before
    assert statement_line_detail(matched["company"], line)["status"] != "applied"


@pytest.mark.parametrize("extra", [0, 30])
def test_the_bank_pages_cost_a_bounded_number_of_queries(
        matched: dict[str, Any], as_user: Callable[[Any], Any],
        django_assert_max_num_queries: Any, extra: int) -> None:
    if extra:
        statement_import(actor=matched["owner"], company=matched["company"], data=mt940(
            [("250520", f"C{n + 1},00", f"Payer {n}", f"ref {n}") for n in range(extra)],
            number="2"))
        bank_match(actor=matched["owner"], company=matched["company"])
    client = as_user(matched["owner"])
    line = matched["lines"][0]
    budgets = {"/c/acme/bank/": 10, "/c/acme/bank/import/": 6, "/c/acme/bank/lines/": 6,
               "/c/acme/bank/lines/?status=suggested": 6, "/c/acme/bank/review/": 6,
               f"/c/acme/bank/lines/{line}/": 8, "/c/acme/bank/match/": 6,
               "/c/acme/bank/rules/": 8, "/c/acme/settings/numbering/": 6,
               "/c/acme/settings/tax/": 6, "/c/acme/jobs/allocate/": 6,
               "/c/acme/jobs/pdfs/": 6}
    for url, budget in budgets.items():
        with django_assert_max_num_queries(budget, info=url):
            assert client.get(url).status_code == 200, url


def test_the_bank_pages_speak_french(matched: dict[str, Any],
                                     as_user: Callable[[Any], Any]) -> None:
    client = as_user(matched["owner"])
    client.post("/i18n/setlang/", {"language": "fr", "next": "/c/acme/"})
    assert "Relevés" in _text(client.get("/c/acme/bank/"))
    assert "Rapprochement" in _text(client.get("/c/acme/bank/review/"))
    assert "Numérotation" in _text(client.get("/c/acme/settings/numbering/"))
