"""Adjustments, revaluation runs and CSV exports in the browser, each the service or
selector the command line calls:

- the adjustments (``adjustment list``): ``payments.history.adjustment_list``, a page at a
  time, and an adjustment's reversal (``adjustment reverse``): ``payments.adjustments.
  writer.adjustment_reverse``, dated the page's day (a bad debt's needs a manager, as the
  service says);
- revaluation runs (``fx revalue``, ``fx revalue-reverse``, a manager's): ``fx.revaluation.
  fx_revalue`` at the rate table's closing rates of the day typed, ``fx_revalue_reverse``;
  the runs listed by ``fx.selectors.revaluation_list``;
- exports (``export KIND``): ``interchange.csvio.export_csv`` written to a temporary file
  and sent as a download, so that a large ledger's file is not held in memory.
"""

from __future__ import annotations

import re
import tempfile
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from salesledger.apps.fx.revaluation import fx_revalue, fx_revalue_reverse
from salesledger.apps.fx.selectors import revaluation_get, revaluation_list
from salesledger.apps.interchange.csvio import EXPORTERS, export_csv
from salesledger.apps.payments.adjustments.writer import adjustment_reverse
from salesledger.apps.payments.history import adjustment_list
from salesledger.domain.adjustments import AdjustmentKind
from salesledger.domain.errors import LedgerError, ValidationFailed

from .params import PAGE_SIZE, choice_param, page_param, paged
from .tenancy import or_404, workspace
from .writing import MANAGES, act_then_back, may, not_for_role, page, refused

ADJUSTMENT_KINDS = tuple(k.value for k in AdjustmentKind)
KIND_LABELS = {"write_off": _("Short payment written off"), "deduction": _("Deduction"),
               "discount": _("Early-payment discount"), "bad_debt": _("Bad debt")}


@login_required
@require_safe
def adjustments(request: HttpRequest, code: str) -> HttpResponse:
    """The adjustments, newest first, filtered by kind and customer; each not reversed may
    be reversed from here."""
    ws = workspace(request, code)
    page_no = page_param(request)
    kind = choice_param(request, "kind", ADJUSTMENT_KINDS)
    customer = request.GET.get("customer", "").strip()[:40]
    rows = or_404(adjustment_list, ws.company, kind=kind or None,
                  customer_code=customer or None, limit=PAGE_SIZE + 1,
                  offset=(page_no - 1) * PAGE_SIZE)
    return page(request, ws, "web/adjustments.html", kinds=KIND_LABELS, kind=kind,
                customer=customer, **paged(rows, page_no))


@login_required
@require_POST
def adjustment_reverse_view(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """``adjustment reverse ID --reason``: what it settled is open again, on the page's
    day. Another company's adjustment is "not found" (404), as the service says."""
    ws = workspace(request, code)
    if not may(ws):
        return not_for_role(request, ws)
    return act_then_back(request, ws, lambda: adjustment_reverse(
        actor=request.user, company=ws.company, adjustment_id=pk, day=ws.as_of,
        reason=str(request.POST.get("reason", "")).strip()[:255]), "web:adjustments")


def _typed_rates(text: str) -> dict[str, str]:
    """``USD=0.9211 GBP=1.17`` (spaces, commas or semicolons between): the closing rates
    typed for one run, each as typed; the service checks the currency and the rate."""
    rates: dict[str, str] = {}
    for spec in re.split(r"[\s,;]+", text.strip()):
        if not spec:
            continue
        cur, _, value = spec.partition("=")
        if not value:
            raise ValidationFailed(f"rate {spec!r}: write CURRENCY=RATE, e.g. USD=0.9211",
                                   field="rates")
        rates[cur.strip().upper()] = value.strip()
    return rates


@login_required
@require_http_methods(["GET", "POST"])
def revaluation(request: HttpRequest, code: str) -> HttpResponse:
    """The revaluation runs, and a new run as of the day typed (a manager's): the open
    foreign-currency items at the closing rates typed for the run (``fx revalue --rate``),
    else the rate table's, the entry and its reversal of the next day posted. The same day
    revalued again with the same rates is the run already made."""
    ws = workspace(request, code)
    if request.method == "POST":
        if not may(ws, MANAGES):
            return not_for_role(request, ws, MANAGES)
        try:
            typed = str(request.POST.get("as_of_day", "")).strip()
            try:
                day = date.fromisoformat(typed)
            except ValueError:
                raise ValidationFailed(f"the day {typed!r} is not a date (YYYY-MM-DD)",
                                       field="as_of_day") from None
            done = fx_revalue(actor=request.user, company=ws.company, as_of=day,
                              rates=_typed_rates(str(request.POST.get("rates", ""))[:500])
                              or None)
        except LedgerError as exc:
            return refused(request, ws, exc)
        messages.success(request, (gettext("Run %(run)d is posted.") if done.created else
                                   gettext("That day was revalued already: run %(run)d."))
                         % {"run": done.run.pk})
        return redirect(reverse("web:revaluation", args=[ws.company.code]))
    return page(request, ws, "web/revaluation.html", runs=revaluation_list(ws.company))


@login_required
@require_POST
def revaluation_reverse(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """``fx revalue-reverse RUN``: the run's entry and its reversal undone (a manager's)."""
    ws = workspace(request, code)
    if not may(ws, MANAGES):
        return not_for_role(request, ws, MANAGES)
    run = or_404(revaluation_get, ws.company, pk)
    return act_then_back(request, ws, lambda: fx_revalue_reverse(
        actor=request.user, company=ws.company, run_id=run.pk,
        reason=str(request.POST.get("reason", "")).strip()[:255]), "web:revaluation")


@login_required
@require_safe
def exports(request: HttpRequest, code: str) -> HttpResponse:
    ws = workspace(request, code)
    return page(request, ws, "web/exports.html", kinds=list(EXPORTERS))


@login_required
@require_safe
def export_file(request: HttpRequest, code: str, kind: str) -> HttpResponse:
    """``export KIND --as-of DAY`` as a download: the CSV the command writes, the same
    columns the import reads. Every member may read the books, so every member may export
    them."""
    ws = workspace(request, code)
    if kind not in EXPORTERS:
        raise Http404("no such export")
    out = tempfile.TemporaryFile(mode="w+b")
    text = open(out.fileno(), "w", encoding="utf-8", newline="", closefd=False)  # noqa: SIM115
    try:
        export_csv(kind=kind, company=ws.company, out=text, as_of=ws.as_of)
        text.flush()
    except LedgerError as exc:
        out.close()
        return refused(request, ws, exc)
    finally:
        text.close()
    out.seek(0)
    name = f"{ws.company.code}-{kind}-{ws.as_of.isoformat()}.csv"
    return FileResponse(out, as_attachment=True, filename=name,
                        content_type="text/csv; charset=utf-8")
