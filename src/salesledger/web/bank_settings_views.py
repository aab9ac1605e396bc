"""The bank's settings and the direct-debit file in the workspace, each calling the service the
command line calls:

- CSV column mappings: ``banking.selectors.mappings_list``, ``banking.services.mapping_add``
  and ``mapping_remove`` (``bank mapping list|add|remove``; a manager adds and removes);
- the direct-debit file: ``banking.direct_debits.direct_debit_collect`` with ``dry_run`` for
  the preview of what falls due by a day, without it to write and keep the file, then the
  kept file downloaded (``banking.selectors.direct_debit_file``) — ``bank direct-debit``.
  A collection is one set-based read and one file of at most a few thousand debits, written
  in well under a second, so it runs in the request rather than the worker;
- the auto-apply threshold: ``banking.matching.auto_apply_threshold_set``, which audits the
  change (``bank settings --auto-apply-threshold``; a manager sets it).

Every member reads them; a form refuses a role that may not use it before it reads a field
(the services check the role again).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from salesledger.apps.banking.direct_debits import direct_debit_collect
from salesledger.apps.banking.matching import auto_apply_threshold, auto_apply_threshold_set
from salesledger.apps.banking.selectors import (
    direct_debit_collections,
    direct_debit_file,
    mapping_named,
    mappings_list,
)
from salesledger.apps.banking.services import FIELDS, mapping_add, mapping_remove
from salesledger.apps.ledger.banks import bank_accounts
from salesledger.domain.errors import LedgerError, PermissionDenied, ValidationFailed

from .tenancy import Workspace, or_404, workspace
from .writing import MANAGES, may, not_for_role, page, refused

GET_POST = require_http_methods(["GET", "HEAD", "POST"])
DECIMALS = (".", ",")


def _answer(response: HttpResponse, error: LedgerError | None) -> HttpResponse:
    if error is not None:
        response.status_code = 403 if isinstance(error, PermissionDenied) else 400
    return response


def _text(request: HttpRequest, name: str, limit: int = 200) -> str:
    return str(request.POST.get(name, "")).strip()[:limit]


@login_required
@GET_POST
def mappings(request: HttpRequest, code: str) -> HttpResponse:
    """The CSV column mappings, and a form for one more (a manager's)."""
    ws = workspace(request, code)
    error: LedgerError | None = None
    if request.method == "POST":
        if not may(ws, MANAGES):
            return not_for_role(request, ws, MANAGES)
        skip = _text(request, "skip_lines", 4)
        try:
            if skip and not skip.isdigit():
                raise ValidationFailed(_("lines before the header: a whole number, not %s")
                                       % skip, field="skip_lines")
            row = mapping_add(
                actor=request.user, company=ws.company, name=_text(request, "name", 41),
                columns={f: _text(request, f"col_{f}", 80) for f in FIELDS
                         if _text(request, f"col_{f}", 80)},
                date_format=_text(request, "date_format", 30) or "%Y-%m-%d",
                decimal=_text(request, "decimal", 1) or ".",
                delimiter=str(request.POST.get("delimiter", ""))[:1],
                skip_lines=int(skip) if skip else 0, currency=_text(request, "currency", 10))
        except LedgerError as exc:
            error = exc
        else:
            messages.success(request, _("Column mapping %(name)s is added.") % {"name": row.name})
            return redirect("web:bank_mappings", ws.company.code)
    return _answer(page(request, ws, "web/bank/mappings.html", error=error,
                        rows=mappings_list(ws.company), fields=FIELDS, decimals=DECIMALS,
                        typed=request.POST), error)


@login_required
@require_POST
def mapping_remove_view(request: HttpRequest, code: str, name: str) -> HttpResponse:
    """``bank mapping remove NAME``: another company's mapping, or none of that name, is
    "not found" whatever the role."""
    ws = workspace(request, code)
    or_404(mapping_named, ws.company, name[:40])
    if not may(ws, MANAGES):
        return not_for_role(request, ws, MANAGES)
    try:
        mapping_remove(actor=request.user, company=ws.company, name=name[:40])
    except LedgerError as exc:
        return refused(request, ws, exc)
    messages.success(request, _("Column mapping %(name)s is removed.") % {"name": name})
    return redirect("web:bank_mappings", ws.company.code)


def _due_by(request: HttpRequest, ws: Workspace) -> str:
    """The day asked for, as typed (a week after the workspace's day when none is)."""
    source = request.POST if request.method == "POST" else request.GET
    raw = str(source.get("due_by", "")).strip()[:20]
    return raw or (ws.as_of + timedelta(days=7)).isoformat()


def _day(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(_("due by: %s is not a date (YYYY-MM-DD)") % raw,
                               field="due_by") from None


@login_required
@GET_POST
def direct_debit(request: HttpRequest, code: str) -> HttpResponse:
    """What falls due by a day and would be collected (a dry run: the file checked, nothing
    kept), the button that writes and keeps the file, and the files written before."""
    ws = workspace(request, code)
    raw = _due_by(request, ws)
    error: LedgerError | None = None
    account = str(request.POST.get("account") or request.GET.get("account") or "")[:20]
    preview = None
    if request.method == "POST" and not may(ws):
        return not_for_role(request, ws)
    if may(ws):
        try:
            due_by = _day(raw)
            if request.method == "POST":
                done = direct_debit_collect(actor=request.user, company=ws.company,
                                            due_by=due_by, account_code=account,
                                            today=ws.as_of)
                if done.collection_id is None:
                    messages.info(request, _("Nothing to collect by direct debit."))
                else:
                    messages.success(request, _(
                        "The collection file is written: %(count)s debit(s).")
                        % {"count": len(done.debits)})
                return redirect("web:bank_direct_debit", ws.company.code)
            preview = direct_debit_collect(actor=request.user, company=ws.company,
                                           due_by=due_by, account_code=account,
                                           today=ws.as_of, dry_run=True)
        except LedgerError as exc:
            error = exc
    response = page(request, ws, "web/bank/direct_debit.html", error=error, due_by=raw,
                    account=account, preview=preview, accounts=bank_accounts(ws.company),
                    collections=direct_debit_collections(ws.company))
    # what the company lacks to collect (a creditor id) is said on the page, which reads
    # well; a day typed wrong or a refused write is the request's fault
    typed_wrong = error is not None and (request.method == "POST" or error.fields.get(
        "field") in ("due_by", "account", "bank_account"))
    return _answer(response, error if typed_wrong else None)


@login_required
@require_safe
def direct_debit_download(request: HttpRequest, code: str, collection_id: int) -> HttpResponse:
    """A collection's pain.008 file, as kept when it was written."""
    ws = workspace(request, code)
    message_id, content = or_404(direct_debit_file, ws.company, collection_id)
    response = HttpResponse(content, content_type="application/xml")
    name = "".join(ch for ch in message_id if ch.isalnum() or ch in "-_") or "collection"
    response["Content-Disposition"] = f'attachment; filename="{name}.xml"'
    return response


@login_required
@GET_POST
def matching_settings(request: HttpRequest, code: str) -> HttpResponse:
    """The confidence from which matching applies a proposal with no review."""
    ws = workspace(request, code)
    error: LedgerError | None = None
    if request.method == "POST":
        if not may(ws, MANAGES):
            return not_for_role(request, ws, MANAGES)
        raw = _text(request, "threshold", 20).replace(",", ".")
        try:
            try:
                value = Decimal(raw)
            except InvalidOperation:
                raise ValidationFailed(_("the auto-apply threshold is a number between 0.5 "
                                         "and 1, not %s") % (raw or _("nothing")),
                                       field="threshold") from None
            auto_apply_threshold_set(actor=request.user, company=ws.company,
                                     threshold=float(value))
        except LedgerError as exc:
            error = exc
        else:
            messages.success(request, _("The auto-apply threshold is %(t)s.")
                             % {"t": f"{float(value):.2f}"})
            return redirect("web:bank_settings", ws.company.code)
    return _answer(page(request, ws, "web/bank/settings.html", error=error,
                        threshold=auto_apply_threshold(ws.company), typed=request.POST), error)
