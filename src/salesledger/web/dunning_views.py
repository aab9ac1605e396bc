"""Dunning in the browser: the policies (levels, channels, fees, interest) and who follows
them, the run of a day, previewed then sent by the worker, the notices sent and their
letters. Each page calls what ``dunning ...`` calls on the command line:

- policies: ``dunning.selectors.policy_list``, ``policy_show``, with the interest rules and
  reference rates (``interest_rule_list``, ``rate_list``); assigning one to a customer
  or as the company's default: ``dunning.services.policy_assign`` (manager);
- the run: the preview is ``dunning.run.dunning_run`` without ``send`` (it writes nothing:
  ``dunning run --dry-run``); *Send* queues the same run with ``send`` for the worker
  (``dunning.services.dunning_run_queue``), whose page follows it
  (``dunning.selectors.dunning_run_state``) as the import page follows an import;
- history: ``dunning.selectors.history``; a notice's page: ``notice_detail``; its letter:
  ``dunning.run.notice_letter_pdf``; the file it handed to the collection agency:
  ``notice_agency_file`` (the bytes ``dunning agency N --output FILE`` writes).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from salesledger.apps.dunning.run import dunning_run, notice_letter_pdf
from salesledger.apps.dunning.selectors import (
    dunning_run_state,
    history,
    interest_rule_list,
    notice_agency_file,
    notice_detail,
    notice_get,
    policy_list,
    policy_show,
    rate_list,
)
from salesledger.apps.dunning.services import dunning_run_queue, policy_assign
from salesledger.domain.errors import LedgerError, ValidationFailed
from salesledger.money import Money

from .forms import ServiceForm, text
from .params import PAGE_SIZE, day_param
from .tenancy import or_404, workspace
from .writing import MANAGES, may, not_for_role, page, refused

# The customers a preview lists on the page (the rest are counted).
PREVIEW_ROWS = 200


class AssignForm(ServiceForm):
    customer = text(_("Customer code (blank with the box ticked: the company's default)"),
                    max_length=40, autocomplete="off")
    default = forms.BooleanField(label=_("Make it the company's default policy"),
                                 required=False)


def _levels(p: dict[str, Any], currency: str) -> list[dict[str, Any]]:
    """The levels with their fixed fee as money (the policy's currency is the company's)."""
    return [{**lv, "fee": Money.from_minor(lv["fee_fixed"], currency) if lv["fee_fixed"]
             else None, "percent": lv["fee_percent"] if float(lv["fee_percent"]) else ""}
            for lv in p["levels"]]


@login_required
@require_safe
def policies(request: HttpRequest, code: str) -> HttpResponse:
    ws = workspace(request, code)
    """The policies, and the late-payment interest they charge: the rules per customer
    country and the reference rates (``dunning interest list``, ``dunning rate list``)."""
    return page(request, ws, "web/dunning/policies.html", rows=policy_list(ws.company),
                base=ws.company.base_currency, rules=interest_rule_list(ws.company),
                rates=rate_list(ws.company))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def policy(request: HttpRequest, code: str, policy_code: str) -> HttpResponse:
    """A policy's levels; a manager assigns it to a customer (and its group) here."""
    ws = workspace(request, code)
    p = or_404(policy_show, ws.company, policy_code[:40])
    form = AssignForm(request.POST or None,
                      initial={"customer": request.GET.get("customer", "")[:40]})
    status = 200
    if request.method == "POST":
        if not may(ws):
            return not_for_role(request, ws, MANAGES)
        if form.is_valid():
            customer, default = form.value("customer").strip(), form.value("default")
            try:
                if bool(customer) == bool(default):
                    raise ValidationFailed("give a customer code or tick the default box",
                                           field="customer")
                said = policy_assign(actor=request.user, company=ws.company,
                                     policy_code=p["code"], customer_code=customer,
                                     default=default)
            except LedgerError as exc:
                if exc.http_status == 403:
                    return refused(request, ws, exc)
                form.refuse(exc, customer_code="customer")
                status = 409
            else:
                messages.success(request, said)
                return redirect(request.path)
        else:
            status = 400
    response = page(request, ws, "web/dunning/policy.html", p=p, form=form,
                    levels=_levels(p, ws.company.base_currency),
                    base=ws.company.base_currency)
    response.status_code = status
    return response


@login_required
@require_safe
def run_page(request: HttpRequest, code: str) -> HttpResponse:
    """The run of a day: ``?day=`` previews it (a dry run, nothing written); *Send* queues
    it for the worker."""
    ws = workspace(request, code)
    day = day_param(request, "day")
    preview = None
    error: LedgerError | None = None
    if day is not None:
        try:
            preview = dunning_run(actor=request.user, company=ws.company, as_of=day,
                                  send=False).as_dict()
        except LedgerError as exc:
            error = exc
    response = page(request, ws, "web/dunning/run.html", day=day or ws.as_of,
                    previewed=day is not None, preview=preview, error=error,
                    planned=(preview or {}).get("planned", [])[:PREVIEW_ROWS],
                    more=max(len((preview or {}).get("planned", [])) - PREVIEW_ROWS, 0))
    if error is not None:
        response.status_code = 403 if error.http_status == 403 else 409
    return response


@login_required
@require_POST
def run_send(request: HttpRequest, code: str) -> HttpResponse:
    ws = workspace(request, code)
    if not may(ws):
        return not_for_role(request, ws)
    raw = str(request.POST.get("day", "")).strip()
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        day = ws.as_of
    try:
        task_id = dunning_run_queue(actor=request.user, company=ws.company, as_of=day)
    except LedgerError as exc:
        return refused(request, ws, exc)
    messages.info(request, gettext("The run is queued; this page follows it."))
    return redirect("web:dunning_run", ws.company.code, task_id)


@login_required
@require_safe
def run_status(request: HttpRequest, code: str, task_id: str) -> HttpResponse:
    ws = workspace(request, code)
    job = or_404(dunning_run_state, ws.company, task_id[:64])
    return page(request, ws, "web/dunning/run_status.html", job=job, result=job.result)


@login_required
@require_safe
def history_page(request: HttpRequest, code: str) -> HttpResponse:
    ws = workspace(request, code)
    customer = request.GET.get("customer", "").strip()[:40]
    rows = history(ws.company, customer_code=customer, limit=PAGE_SIZE * 2)
    return page(request, ws, "web/dunning/history.html", rows=rows, customer=customer)


@login_required
@require_safe
def letter(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """A notice's letter (PDF): the one kept when it was sent, else rendered now."""
    ws = workspace(request, code)
    notice = or_404(notice_get, ws.company, pk)
    try:
        pdf = notice_letter_pdf(ws.company, notice)
    except LedgerError as exc:
        return refused(request, ws, exc)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="reminder-{notice.pk}.pdf"'
    return response


@login_required
@require_safe
def notice(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """A notice: the day, the level, the items it listed, its fee invoices, how it went, and
    its letter and collection agency file to download."""
    ws = workspace(request, code)
    n = or_404(notice_detail, ws.company, pk)
    return page(request, ws, "web/dunning/notice.html", n=n)


@login_required
@require_safe
def agency_file(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """The CSV a notice handed to the collection agency (``dunning agency N``)."""
    ws = workspace(request, code)
    try:
        content = or_404(notice_agency_file, ws.company, pk)
    except LedgerError as exc:  # a notice that handed nothing to the agency
        return refused(request, ws, exc)
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="agency-{pk}.csv"'
    return response
