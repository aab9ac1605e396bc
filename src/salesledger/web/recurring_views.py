"""Recurring invoice schedules in the browser, each a call of the recurring app as the
``recurring`` commands make it:

- the schedules (``recurring list``): ``recurring.selectors.recurring_list``, a page at a
  time, with each one's state on the page's day;
- a schedule's periods (``recurring show``): ``recurring_runs``;
- stop, resume (``recurring stop|resume``, a clerk's): ``recurring.services.
  recurring_set_active`` (a resumed schedule's missed periods are issued by the next run).

The periods due are issued by the worker's daily run (``recurring run``), not from a page.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from salesledger.apps.recurring.selectors import recurring_get, recurring_list, recurring_runs
from salesledger.apps.recurring.services import (
    ScheduleInput,
    recurring_add,
    recurring_run,
    recurring_set_active,
)
from salesledger.domain.errors import LedgerError

from .forms import TAX_CATEGORIES, TermsForm, day, text
from .invoice_views import blank_lines, editor_forms
from .params import PAGE_SIZE, page_param, paged
from .tenancy import or_404, workspace
from .writing import act_then_back, may, not_for_role, page, refused


@login_required
@require_safe
def schedules(request: HttpRequest, code: str) -> HttpResponse:
    ws = workspace(request, code)
    page_no = page_param(request)
    rows = recurring_list(ws.company, as_of=ws.as_of, limit=PAGE_SIZE + 1,
                          offset=(page_no - 1) * PAGE_SIZE)
    return page(request, ws, "web/recurring.html", **paged(rows, page_no))


@login_required
@require_safe
def schedule(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    ws = workspace(request, code)
    found = or_404(recurring_get, ws.company, pk)
    return page(request, ws, "web/recurring_schedule.html", schedule=found,
                runs=recurring_runs(ws.company, found.pk))


def _set_active(request: HttpRequest, code: str, pk: int, active: bool) -> HttpResponse:
    ws = workspace(request, code)
    found = or_404(recurring_get, ws.company, pk)
    return act_then_back(request, ws, lambda: recurring_set_active(
        actor=request.user, company=ws.company, schedule_id=found.pk, active=active,
        as_of=ws.as_of), "web:recurring")


@login_required
@require_POST
def schedule_stop(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    return _set_active(request, code, pk, False)


@login_required
@require_POST
def schedule_resume(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    return _set_active(request, code, pk, True)


class ScheduleForm(TermsForm):
    """A schedule's head (``recurring add``); its lines are the draft editor's."""

    field_order = ("customer", "every", "start", "end", "count", "currency", "terms",
                   "po_number", "notes", "auto_send")
    customer = text(_("Customer code"), required=True, max_length=40, autocomplete="off")
    every = text(_("Every (month, 3 months, 2 weeks, 10 days)"), required=True, max_length=40)
    start = day(_("First period starts"))
    end = day(_("Last period starts on or before (blank: no end)"), required=False)
    count = forms.IntegerField(label=_("Number of invoices (blank: no limit)"),
                               required=False, min_value=1, max_value=100000)
    currency = text(_("Currency (blank for the customer's)"), max_length=3)
    po_number = text(_("Purchase order"), max_length=100)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=2000,
                            widget=forms.Textarea(attrs={"rows": 2}))
    auto_send = forms.BooleanField(label=_("E-mail each invoice when it is issued"),
                                   required=False)


@login_required
@require_http_methods(["GET", "POST"])
def schedule_new(request: HttpRequest, code: str) -> HttpResponse:
    """Write a schedule (``recurring add``): the service checks the rule and the lines as an
    invoice's; the worker's run (or *Issue what is due* on its page) issues its invoices."""
    ws = workspace(request, code)
    if not may(ws):
        return not_for_role(request, ws)
    form, lines, saving = editor_forms(request, ws, ScheduleForm, {
        "customer": request.GET.get("customer", "")[:40], "start": ws.as_of,
        "every": "month"}, 2)
    if saving:
        v = form.cleaned_data
        try:
            made = recurring_add(actor=request.user, company=ws.company, as_of=ws.as_of,
                                 data=ScheduleInput(
                                     customer_code=v["customer"].strip(),
                                     lines=lines.inputs(), every=v["every"].strip(),
                                     start=v["start"], end=v["end"], count=v["count"],
                                     currency=v["currency"].strip().upper(),
                                     terms_code=v["terms"], po_number=v["po_number"],
                                     notes=v["notes"], auto_send=v["auto_send"]))
        except LedgerError as exc:
            if not lines.refuse(exc):
                form.refuse(exc, customer_code="customer", terms_code="terms",
                            unit="every", interval="every")
        else:
            return redirect(reverse("web:recurring_schedule",
                                    args=[ws.company.code, made.pk]))
    if not lines.rows:
        lines = blank_lines(1)
    return page(request, ws, "web/recurring_new.html", form=form, lines=lines,
                categories=TAX_CATEGORIES, totals=None)


@login_required
@require_POST
def schedule_run(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """``recurring run --schedule ID``: issue this schedule's periods due by the page's day
    (each in its own transaction; at most the service's 500 a run, the rest next time)."""
    ws = workspace(request, code)
    found = or_404(recurring_get, ws.company, pk)
    try:
        summary = recurring_run(actor=request.user, company=ws.company, as_of=ws.as_of,
                                schedule_id=found.pk)
    except LedgerError as exc:
        return refused(request, ws, exc)
    for problem in summary.problems:
        messages.error(request, gettext("Period %(period)d, from %(start)s: %(code)s: "
                                        "%(message)s") % {
            "period": problem["period"], "start": problem["period_start"],
            "code": problem["code"], "message": problem["message"]})
    messages.success(request, gettext(
        "%(issued)d invoices issued, %(already)d periods already issued, %(left)d left for "
        "the next run.") % {"issued": len(summary.issued), "already": summary.already_issued,
                            "left": summary.remaining})
    return redirect(reverse("web:recurring_schedule", args=[ws.company.code, found.pk]))
