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

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from salesledger.apps.recurring.selectors import recurring_get, recurring_list, recurring_runs
from salesledger.apps.recurring.services import recurring_set_active
from salesledger.domain.errors import LedgerError

from .params import PAGE_SIZE, page_param, paged
from .tenancy import or_404, workspace
from .writing import page, refused


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
    try:
        recurring_set_active(actor=request.user, company=ws.company, schedule_id=found.pk,
                             active=active, as_of=ws.as_of)
    except LedgerError as exc:
        return refused(request, ws, exc)
    return redirect(reverse("web:recurring", args=[ws.company.code]))


@login_required
@require_POST
def schedule_stop(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    return _set_active(request, code, pk, False)


@login_required
@require_POST
def schedule_resume(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    return _set_active(request, code, pk, True)
