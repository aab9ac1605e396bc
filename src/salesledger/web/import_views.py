"""Imports from the workspace: a CSV file uploaded, its import queued for the worker
(``interchange.services.csv_import_queue``), and a page that follows it. While the import
waits or runs the page asks again every two seconds (htmx swaps the status in place; without
scripts it says to reload); when it is done it shows what was written, or the refusal with
every problem found and the line of each (nothing written: an import is all or nothing)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from salesledger.apps.interchange.selectors import csv_import_state
from salesledger.apps.interchange.services import csv_import_queue
from salesledger.domain.errors import LedgerError, PermissionDenied

from .tenancy import or_404, workspace
from .views import _page

KINDS = ("customers", "invoices", "receipts")
MAX_READ = 200 * 1024 * 1024 + 1


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def imports(request: HttpRequest, code: str) -> HttpResponse:
    ws = workspace(request, code)
    error: LedgerError | None = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        kind = request.POST.get("kind", "")
        try:
            task_id = csv_import_queue(
                actor=request.user, company=ws.company, kind=kind,
                content=upload.read(MAX_READ) if upload else b"",
                filename=upload.name if upload else "", force=request.POST.get("force") == "on")
        except LedgerError as exc:
            error = exc
        else:
            messages.info(request, _("The import is queued; this page follows it."))
            return redirect("web:import", ws.company.code, task_id)
    response = _page(request, ws, "web/imports.html", kinds=KINDS, error=error,
                     may_import=ws.role not in ("viewer",))
    if error is not None:
        response.status_code = 403 if isinstance(error, PermissionDenied) else 400
    return response


@login_required
@require_safe
def import_status(request: HttpRequest, code: str, task_id: str) -> HttpResponse:
    ws = workspace(request, code)
    job = or_404(csv_import_state, ws.company, task_id[:64])
    context: dict[str, Any] = {"job": job, "result": job.result}
    return _page(request, ws, "web/import.html", **context)
