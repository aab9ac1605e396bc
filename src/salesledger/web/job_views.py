"""Long work started from the workspace and run by the worker: a bank statement's import,
matching with the sure lines applied, the automatic allocation of every receipt and a batch
of PDFs, the payment model's backtest (``credit.tasks.credit_backtest_later``, started from
the credit pages). Each start page calls the service that queues the task (it checks the role and
what it can before anything is queued):

- allocate: ``payments.tasks.auto_allocate_later`` (``receipt auto-allocate``, in the
  worker); what it would do first: ``payments.autoallocate.auto_allocate_all(dry_run=True)``;
- PDFs: ``documents.tasks.pdf_batch_later`` (the PDFs of the posted documents that have
  none yet, frozen by ``freeze_pdfs_task``, as at posting).

The job's page (``/c/<company>/jobs/<task id>/``) follows any of them as the import page
follows a CSV import: it asks the task's state every two seconds (htmx) until it is done,
then shows the result. A PDF batch shows how many of its documents are frozen so far, an
automatic allocation how many customers it has walked (``runs.selectors.allocation_progress``:
the run commits its place with each chunk), a matching run how many lines it has decided
(``banking.selectors.match_progress``: each decision commits as it is made), a statement
import how many of its file's lines it has written (one transaction, all or nothing: the
task keeps the count beside the file, ``banking.tasks.statement_import_progress``, as a CSV
import keeps the share of its file read for its own page, ``interchange.tasks.
import_progress``). A matching preview says only whether it waits, runs or is done.
Another company's task, or a task of another kind, is "not found"."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from salesledger.apps.banking.selectors import match_progress
from salesledger.apps.banking.tasks import BANK_TASKS, statement_import_progress
from salesledger.apps.core.selectors import queued_task
from salesledger.apps.credit.tasks import CREDIT_TASKS
from salesledger.apps.documents.tasks import (
    BATCH_LIMIT,
    DOCUMENT_TASKS,
    pdf_batch_later,
    pdfs_frozen_count,
)
from salesledger.apps.payments.autoallocate import auto_allocate_all
from salesledger.apps.payments.tasks import PAYMENT_TASKS, auto_allocate_later
from salesledger.apps.runs.selectors import allocation_progress
from salesledger.domain.errors import LedgerError, PermissionDenied

from .forms import POLICIES
from .settings_views import day_param_post
from .tenancy import Workspace, or_404, workspace
from .writing import may, not_for_role, page

FOLLOWED = BANK_TASKS | PAYMENT_TASKS | DOCUMENT_TASKS | CREDIT_TASKS
# The automatic policies (the allocation form's "manual" is not one).
AUTO_POLICIES = tuple(p for p in POLICIES if p[0] != "manual")
GET_POST = require_http_methods(["GET", "HEAD", "POST"])


def _answer(request: HttpRequest, ws: Workspace, template: str, error: LedgerError | None,
            **context: Any) -> HttpResponse:
    response = page(request, ws, template, error=error, **context)
    if error is not None:
        response.status_code = 403 if isinstance(error, PermissionDenied) else 400
    return response


@login_required
@require_safe
def job(request: HttpRequest, code: str, task_id: str) -> HttpResponse:
    ws = workspace(request, code)
    task = or_404(queued_task, ws.company, task_id[:64], FOLLOWED)
    progress: dict[str, int] | None = None
    if task.name == "freeze_pdfs_task":
        ids = [int(i) for i in task.kwargs.get("invoice_ids", [])]
        done = (len(ids) if task.finished else pdfs_frozen_count(ws.company, ids))
        progress = {"done": done, "total": len(ids)}
    elif task.name == "auto_allocate_task" and not task.finished:
        progress = allocation_progress(ws.company)
    elif (task.name == "bank_match_task" and task.state == "running" and task.started_at
          and not task.kwargs.get("dry_run")):
        progress = match_progress(ws.company, task.started_at)
    elif task.name == "statement_import_task" and task.state == "running":
        progress = statement_import_progress(task.kwargs)
    return page(request, ws, "web/jobs/job.html", job=task, result=task.result,
                progress=progress)


@login_required
@GET_POST
def allocate(request: HttpRequest, code: str) -> HttpResponse:
    """Allocate every customer's unapplied cash by a policy: what it would do (a dry run,
    on the page), then the run itself in the worker."""
    ws = workspace(request, code)
    policy = str(request.POST.get("policy", "oldest_first"))
    context: dict[str, Any] = {"policies": AUTO_POLICIES, "policy": policy}
    error: LedgerError | None = None
    if request.method == "POST":
        if not may(ws):
            return not_for_role(request, ws)
        try:
            if request.POST.get("action") == "run":
                task_id = auto_allocate_later(actor=request.user, company=ws.company,
                                              day=ws.as_of, policy=policy)
                messages.info(request, _("The allocation is queued; this page follows it."))
                return redirect("web:job", ws.company.code, task_id)
            context["preview"] = auto_allocate_all(actor=request.user, company=ws.company,
                                                   day=ws.as_of, policy=policy, dry_run=True,
                                                   preview_limit=50)
        except LedgerError as exc:
            error = exc
    return _answer(request, ws, "web/jobs/allocate.html", error, **context)


@login_required
@GET_POST
def pdfs(request: HttpRequest, code: str) -> HttpResponse:
    """Freeze the PDFs of the posted documents (issued between two days) that have none."""
    ws = workspace(request, code)
    error: LedgerError | None = None
    if request.method == "POST":
        if not may(ws):
            return not_for_role(request, ws)
        try:
            task_id, count = pdf_batch_later(
                actor=request.user, company=ws.company,
                issued_from=day_param_post(request, "from"),
                issued_to=day_param_post(request, "to"))
        except LedgerError as exc:
            error = exc
        else:
            messages.info(request, _("%(n)s documents are queued; this page follows them.")
                          % {"n": count})
            return redirect("web:job", ws.company.code, task_id)
    return _answer(request, ws, "web/jobs/pdfs.html", error, limit=BATCH_LIMIT,
                   typed=request.POST)
