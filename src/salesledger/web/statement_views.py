"""Statements of account on a schedule, in the settings (docs/design/dunning.md, "Statements
on a schedule"). Each form calls what ``customer statement --schedule ...`` calls:

- the schedules: ``dunning.statement_selectors.schedule_list`` (``--schedule show``);
- set one (a manager's): ``dunning.statements.statement_schedule_set`` (``--schedule set``:
  monthly or weekly on a day, to every customer with a balance or to the customers named,
  from the page's day on); stop one: ``statement_schedule_stop`` (``--schedule stop``);
- run them for a day (a clerk's and up): *Preview* and *Send* both queue
  ``statement_run`` for the worker (``dunning.services.statement_run_queue``), the preview
  without ``send`` (``--schedule run --dry-run``: it writes nothing, but reads every customer
  with a balance and their contacts, too long for a request on a large ledger); the run's
  page follows it (``statement_run_state``) as the dunning run's page does, and lists what
  was, or would be, sent and skipped.
"""

from __future__ import annotations

import re
from datetime import date

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_safe

from salesledger.apps.dunning.services import statement_run_queue
from salesledger.apps.dunning.statement_selectors import schedule_list, statement_run_state
from salesledger.apps.dunning.statements import statement_schedule_set, statement_schedule_stop
from salesledger.domain.errors import LedgerError, ValidationFailed

from .forms import ServiceForm, text
from .tenancy import Workspace, or_404, workspace
from .writing import MANAGES, may, not_for_role, page, refused

DEFAULT_CODE = "STATEMENTS"  # the command's --name default


class ScheduleForm(ServiceForm):
    code = text(_("Schedule's name"), required=True, max_length=40, autocomplete="off")
    every = forms.ChoiceField(label=_("Every"), choices=(("monthly", _("month")),
                                                         ("weekly", _("week"))))
    day = forms.IntegerField(label=_("On day (of the month, 31: the last; of the week, "
                                     "1: Monday)"))
    customers = text(_("To these customers only (codes, separated by spaces or commas; "
                       "blank: every customer with a balance)"), max_length=4000,
                     autocomplete="off")

    def codes(self) -> list[str]:
        return [c for c in re.split(r"[\s,;]+", self.cleaned_data["customers"]) if c]


class RunForm(ServiceForm):
    day = forms.DateField(label=_("Day of the run"),
                          widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


def _answer(request: HttpRequest, ws: Workspace, form: ScheduleForm, run: RunForm,
            status: int = 200, error: LedgerError | None = None) -> HttpResponse:
    response = page(request, ws, "web/settings_statements.html", rows=schedule_list(ws.company),
                    form=form, run=run, error=error)
    response.status_code = status
    return response


def _stop(request: HttpRequest, ws: Workspace, form: ScheduleForm, run: RunForm
          ) -> HttpResponse:
    name = str(request.POST.get("schedule", ""))[:40]
    try:
        statement_schedule_stop(actor=request.user, company=ws.company, code=name)
    except LedgerError as exc:
        if exc.http_status in (403, 404):
            return refused(request, ws, exc)
        return _answer(request, ws, form, run, 409, exc)
    messages.success(request, gettext("Statement schedule %(code)s stopped: it sends no more "
                                      "statements.") % {"code": name})
    return redirect(request.path)


def _set(request: HttpRequest, ws: Workspace, form: ScheduleForm, run: RunForm
         ) -> HttpResponse:
    if not form.is_valid():
        return _answer(request, ws, form, run, 400)
    v = form.cleaned_data
    try:
        row = statement_schedule_set(actor=request.user, company=ws.company,
                                     code=v["code"].strip(), every=v["every"], day=v["day"],
                                     customers=form.codes(), as_of=ws.as_of)
    except LedgerError as exc:
        if exc.http_status == 403:
            return refused(request, ws, exc)
        form.refuse(exc, customer="customers")
        return _answer(request, ws, form, run, 409)
    messages.success(request, gettext("Statement schedule %(code)s saved: it sends from "
                                      "%(day)s on.") % {"code": row.code,
                                                        "day": row.starts_on.isoformat()})
    return redirect(request.path)


def _run(request: HttpRequest, ws: Workspace, form: ScheduleForm, run: RunForm, *, send: bool
         ) -> HttpResponse:
    if not run.is_valid():
        return _answer(request, ws, form, run, 400)
    day: date = run.cleaned_data["day"]
    try:
        task_id = statement_run_queue(actor=request.user, company=ws.company, as_of=day,
                                      send=send)
    except LedgerError as exc:
        return refused(request, ws, exc)
    messages.info(request, gettext("The run is queued; this page follows it."))
    return redirect("web:settings_statement_run", ws.company.code, task_id)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def statements(request: HttpRequest, code: str) -> HttpResponse:
    """The schedules, a manager's form to set one and buttons to stop them, and the run of a
    day (``action``: set, stop, preview or send)."""
    ws = workspace(request, code)
    action = request.POST.get("action", "")
    posted = request.POST if request.method == "POST" else None
    form = ScheduleForm(posted if action == "set" else None,
                        initial={"code": DEFAULT_CODE, "every": "monthly", "day": 1})
    run = RunForm(posted if action in ("preview", "send") else None,
                  initial={"day": ws.as_of})
    if request.method != "POST":
        return _answer(request, ws, form, run)
    if action in ("set", "stop"):
        if not may(ws, MANAGES):
            return not_for_role(request, ws, MANAGES)
        return (_set if action == "set" else _stop)(request, ws, form, run)
    if not may(ws):
        return not_for_role(request, ws)
    if action not in ("preview", "send"):
        return refused(request, ws, ValidationFailed(
            f"unknown action {action[:40]!r}: set, stop, preview or send", field="action"))
    return _run(request, ws, form, run, send=action == "send")


@login_required
@require_safe
def statement_run(request: HttpRequest, code: str, task_id: str) -> HttpResponse:
    """A queued statement run (or its preview), followed until the worker is done."""
    ws = workspace(request, code)
    job = or_404(statement_run_state, ws.company, task_id[:64])
    return page(request, ws, "web/statement_run.html", job=job, result=job.result)
