"""The bank pages: the company's bank accounts and statements, a statement imported by the
worker, the lines by status, the review queue, matching (a dry run on the page, the
automatic application in the worker), the bank rules and a remittance advice for a line.
Each form calls the banking service the command line calls:

- import: ``banking.tasks.statement_import_later`` (keeps the file, queues
  ``statement_import_task``, which calls ``services.statement_import``, as ``bank import``);
- lines, statements, review: ``banking.selectors``; a line: ``statement_line_detail``;
- confirm, reject, unmatch: ``banking.matching.bank_confirm``, ``bank_reject``,
  ``bank_unmatch`` (``bank confirm|reject|unmatch``);
- match: ``banking.tasks.bank_match_later`` queues ``bank match --auto-apply``, or its
  ``--dry-run`` (what would be done, the first lines listed on the job's page);
- rules: ``banking.rules.bank_rules``, ``bank_rule_add``, ``bank_rule_remove``;
- remittance: ``banking.remittance.bank_remittance`` (``bank remittance``).

Every member reads them; a form's address refuses a viewer before it reads a field (the
services check the role again). Writes are dated the workspace's day (``?as_of=``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from salesledger.apps.banking.matching import (
    auto_apply_threshold,
    bank_confirm,
    bank_reject,
    bank_unmatch,
)
from salesledger.apps.banking.remittance import bank_remittance
from salesledger.apps.banking.rules import bank_rule_add, bank_rule_remove, bank_rules
from salesledger.apps.banking.selectors import (
    LINE_STATUSES,
    mappings_list,
    review_queue,
    statement_line_detail,
    statement_lines,
    statements_list,
)
from salesledger.apps.banking.tasks import bank_match_later, statement_import_later
from salesledger.apps.ledger.banks import bank_accounts
from salesledger.domain.amounts import parse_decimal
from salesledger.domain.bank_rules import DIRECTIONS, POSTABLE
from salesledger.domain.errors import LedgerError, PermissionDenied

from .params import PAGE_SIZE, choice_param, page_param
from .tenancy import Workspace, or_404, workspace
from .writing import MANAGES, may, not_for_role, page, refused

MAX_READ = 50 * 1024 * 1024 + 1
RULE_ACCOUNTS = tuple(r.value for r in POSTABLE)


def _with_error(response: HttpResponse, error: LedgerError | None) -> HttpResponse:
    if error is not None:
        response.status_code = 403 if isinstance(error, PermissionDenied) else 400
    return response


@login_required
@require_safe
def bank(request: HttpRequest, code: str) -> HttpResponse:
    """The bank accounts and their statements, newest last per account."""
    ws = workspace(request, code)
    return page(request, ws, "web/bank/home.html", accounts=bank_accounts(ws.company),
                statements=statements_list(ws.company))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def bank_import(request: HttpRequest, code: str) -> HttpResponse:
    """Upload a statement; the worker imports it and the job's page shows the report."""
    ws = workspace(request, code)
    error: LedgerError | None = None
    if request.method == "POST":
        if not may(ws):
            return not_for_role(request, ws)
        upload = request.FILES.get("file")
        try:
            task_id = statement_import_later(
                actor=request.user, company=ws.company,
                content=upload.read(MAX_READ) if upload else b"",
                file_name=upload.name if upload else "",
                account=str(request.POST.get("account", ""))[:20],
                new_account=request.POST.get("new_account") == "on",
                mapping=str(request.POST.get("mapping", ""))[:60])
        except LedgerError as exc:
            error = exc
        else:
            messages.info(request, _("The statement is queued; this page follows its import."))
            return redirect("web:job", ws.company.code, task_id)
    return _with_error(page(request, ws, "web/bank/import.html", error=error,
                            accounts=bank_accounts(ws.company),
                            mappings=mappings_list(ws.company), typed=request.POST), error)


@login_required
@require_safe
def lines(request: HttpRequest, code: str) -> HttpResponse:
    """The statement lines, oldest first, by status and account."""
    ws = workspace(request, code)
    status = choice_param(request, "status", LINE_STATUSES)
    account = request.GET.get("account", "")[:20]
    page_no = page_param(request)
    rows = statement_lines(ws.company, status=status, account=account, limit=PAGE_SIZE + 1,
                           offset=(page_no - 1) * PAGE_SIZE)
    return page(request, ws, "web/bank/lines.html", rows=rows[:PAGE_SIZE], page=page_no,
                has_next=len(rows) > PAGE_SIZE, has_previous=page_no > 1, status=status,
                statuses=LINE_STATUSES, account=account)


@login_required
@require_safe
def review(request: HttpRequest, code: str) -> HttpResponse:
    """The lines waiting for review, each with its ranked suggestions. The first line's top
    suggestion has the focus: Enter confirms it and the next line comes up with the focus
    on its own, so a right suggestion costs one keystroke (Alt+1..3 picks another, Alt+X
    rejects them)."""
    ws = workspace(request, code)
    page_no = page_param(request)
    rows = review_queue(ws.company, limit=PAGE_SIZE + 1, offset=(page_no - 1) * PAGE_SIZE)
    return page(request, ws, "web/bank/review.html", rows=rows[:PAGE_SIZE], page=page_no,
                has_next=len(rows) > PAGE_SIZE, has_previous=page_no > 1)


@login_required
@require_safe
def line(request: HttpRequest, code: str, line_id: int) -> HttpResponse:
    ws = workspace(request, code)
    return _line_page(request, ws, or_404(statement_line_detail, ws.company, line_id))


def _line_page(request: HttpRequest, ws: Workspace, d: dict[str, Any], *,
               error: LedgerError | None = None) -> HttpResponse:
    response = page(request, ws, "web/bank/line.html", d=d, li=d["line"], error=error)
    if error is not None:
        response.status_code = 403 if isinstance(error, PermissionDenied) else 409
    return response


def _line_action(request: HttpRequest, code: str, line_id: int,
                 act: Callable[[Workspace], str]) -> HttpResponse:
    """Run one service on a line: back to the review queue (when it came from there) or to
    the line, with a notice; a refusal is shown on the line's page, answered 409 (the
    role's refusal: the refused page, 403)."""
    ws = workspace(request, code)
    if not may(ws):
        return not_for_role(request, ws)
    d = or_404(statement_line_detail, ws.company, line_id)
    try:
        done = act(ws)
    except LedgerError as exc:
        if exc.http_status == 403:
            return refused(request, ws, exc)
        return _line_page(request, ws, d, error=exc)
    messages.success(request, done)
    if request.POST.get("next") == "review":
        return redirect(reverse("web:bank_review", args=[ws.company.code]) + "#queue")
    return redirect("web:bank_line", ws.company.code, line_id)


def _applied_message(line_id: int, number: str) -> str:
    return _("Line %(line)s applied: %(what)s.") % {"line": line_id, "what": number}


@login_required
@require_POST
def line_confirm(request: HttpRequest, code: str, line_id: int) -> HttpResponse:
    raw = str(request.POST.get("choice", "1"))
    choice = int(raw) if raw.isdigit() and len(raw) < 3 else 0
    return _line_action(request, code, line_id, lambda ws: _applied_message(
        line_id, bank_confirm(actor=request.user, company=ws.company, line_id=line_id,
                              choice=choice)))


@login_required
@require_POST
def line_reject(request: HttpRequest, code: str, line_id: int) -> HttpResponse:
    def act(ws: Workspace) -> str:
        bank_reject(actor=request.user, company=ws.company, line_id=line_id)
        return _("Line %(line)s: suggestions rejected; it waits unmatched.") % {"line": line_id}

    return _line_action(request, code, line_id, act)


@login_required
@require_POST
def line_unmatch(request: HttpRequest, code: str, line_id: int) -> HttpResponse:
    def act(ws: Workspace) -> str:
        number = bank_unmatch(actor=request.user, company=ws.company, line_id=line_id,
                              day=ws.as_of)
        return (_("Line %(line)s unmatched: receipt %(receipt)s reversed.")
                % {"line": line_id, "receipt": number} if number else
                _("Line %(line)s unmatched: its posting reversed.") % {"line": line_id})

    return _line_action(request, code, line_id, act)


@login_required
@require_POST
def line_remittance(request: HttpRequest, code: str, line_id: int) -> HttpResponse:
    """A remittance advice (CSV or the text of a message) for the line: its allocations
    become the line's suggestion, confirmed at once when asked."""
    upload = request.FILES.get("file")
    typed = str(request.POST.get("text", ""))[:200_000]

    def act(ws: Workspace) -> str:
        data = upload.read(MAX_READ) if upload else typed.encode()
        bank_remittance(actor=request.user, company=ws.company, line_id=line_id, data=data,
                        file_name=upload.name if upload else "advice.txt")
        if request.POST.get("apply") == "on":
            return _applied_message(line_id, bank_confirm(
                actor=request.user, company=ws.company, line_id=line_id))
        return _("The remittance advice is kept: it is the line's suggestion.")

    return _line_action(request, code, line_id, act)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def match(request: HttpRequest, code: str) -> HttpResponse:
    """Run matching in the worker: a dry run (what would be done, nothing written) or the
    real run with the sure lines applied; the job's page follows either."""
    ws = workspace(request, code)
    error: LedgerError | None = None
    if request.method == "POST":
        if not may(ws):
            return not_for_role(request, ws)
        try:
            task_id = bank_match_later(actor=request.user, company=ws.company,
                                       dry_run=request.POST.get("action") != "apply")
        except LedgerError as exc:
            error = exc
        else:
            messages.info(request, _("Matching is queued; this page follows it."))
            return redirect("web:job", ws.company.code, task_id)
    return _with_error(page(request, ws, "web/bank/match.html", error=error,
                            threshold=auto_apply_threshold(ws.company)), error)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def rules(request: HttpRequest, code: str) -> HttpResponse:
    """The bank rules in the order they are tried; a manager adds or removes one."""
    ws = workspace(request, code)
    error: LedgerError | None = None
    if request.method == "POST":
        if not may(ws):
            return not_for_role(request, ws)
        try:
            done = _rule_change(request, ws)
        except LedgerError as exc:
            error = exc
        else:
            messages.success(request, done)
            return redirect("web:bank_rules", ws.company.code)
    return _with_error(page(request, ws, "web/bank/rules.html", error=error,
                            rows=bank_rules(ws.company), directions=DIRECTIONS,
                            accounts=RULE_ACCOUNTS, typed=request.POST,
                            may_rule=may(ws, MANAGES)), error)


def _rule_change(request: HttpRequest, ws: Workspace) -> str:
    def text(name: str, limit: int = 200) -> str:
        return str(request.POST.get(name, "")).strip()[:limit]

    if request.POST.get("action") == "remove":
        bank_rule_remove(actor=request.user, company=ws.company, name=text("name"))
        return _("The rule is removed.")
    low, high, position = text("amount_min", 40), text("amount_max", 40), text("position", 6)
    then = text("then", 20)
    bank_rule_add(actor=request.user, company=ws.company, name=text("name"),
                  pattern=text("pattern", 500), counterparty=text("counterparty"),
                  amount_min=parse_decimal(low, "amount_min") if low else None,
                  amount_max=parse_decimal(high, "amount_max") if high else None,
                  direction=text("direction", 10) or "any",
                  customer=text("customer", 40) if then == "customer" else "",
                  account=text("account", 40) if then == "account" else "",
                  position=int(position) if position.isdigit() else None)
    return _("The rule is added.")
