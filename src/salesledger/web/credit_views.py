"""Credit management and the customers' records in the browser (docs/design/credit.md,
docs/design/customer-records.md). Each page reads through the selector the command line
reads, each form calls the service the command line calls:

- the credit overview (``credit.selectors.credit_overview``: limit, exposure with the group's
  and other currencies at the day's rates, credit available, holds, risk class and factors);
- on a customer's overview, its credit panel (``credit_panel.py``) and its forms: a limit
  (``credit_limit_set``, as ``credit limit set``), a hold and its release (``credit_hold``,
  ``credit_release``, as ``credit hold|release``), each with its reason; its open items'
  predicted payment dates when a stored model exists (``prediction.payment_predictions``,
  as ``credit predict``);
- a customer's payment behaviour (``customer_behaviour``, as ``credit behaviour``): what it
  paid and how fast and late over 24 months and by window, its trend, what is overdue now,
  its disputes and broken promises, in the base currency, for the page's day;
- suggested limits, accepted by a manager (``limit_suggestions``, ``credit_limits_accept``:
  ``credit suggest-limits [--accept]``);
- the records to review and their confirmation (``customers.selectors.review_list``,
  ``customers.services.customer_verify``: ``customer review-list``, ``customer update
  --verified``);
- likely duplicates, their merge with the survivor chosen, and the unmerge
  (``duplicate_customers``, ``customer_merge``, ``customer_unmerge``).

The services check the role again (a manager or a credit controller for limits and holds; a
manager for suggestions and merges; a clerk confirms a record): a page offers only what the
role may use, and a viewer's post is refused before a field is read.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from salesledger.apps.banking.selectors import payer_ibans
from salesledger.apps.credit.prediction import payment_model_usable, payment_predictions
from salesledger.apps.credit.selectors import (
    HISTORY_MONTHS,
    behaviour_json,
    credit_overview,
    credit_settings,
    customer_behaviour,
    limit_suggestions,
)
from salesledger.apps.credit.services import (
    credit_default_set,
    credit_hold,
    credit_limit_set,
    credit_limits_accept,
    credit_release,
    credit_settings_set,
)
from salesledger.apps.credit.tasks import credit_backtest_later
from salesledger.apps.customers.duplicates import duplicate_pairs, duplicate_scan
from salesledger.apps.customers.merge import customer_merge, customer_unmerge
from salesledger.apps.customers.selectors import (
    customer_codes,
    customer_get,
    duplicate_customers,
    review_list,
    survivors,
)
from salesledger.apps.customers.services import customer_verify
from salesledger.domain.errors import LedgerError, ValidationFailed

from .credit_panel import controls_credit, hold_source_label, may_release
from .customer_views import Target, customer_write
from .params import PAGE_SIZE, page_param
from .settings_views import day_param_post
from .tenancy import Workspace, or_404, workspace
from .writing import MANAGES, WRITES, may, not_for_role, page, refused

GET_POST = require_http_methods(["GET", "HEAD", "POST"])


def _text(request: HttpRequest, name: str, limit: int = 500) -> str:
    return str(request.POST.get(name, "")).strip()[:limit]


def _paged(rows: list[Any], page_no: int) -> dict[str, Any]:
    return {"rows": rows[:PAGE_SIZE], "page": page_no, "has_next": len(rows) > PAGE_SIZE,
            "has_previous": page_no > 1}


def _credit_page(request: HttpRequest, ws: Workspace, template: str, *,
                 error: LedgerError | None = None, **context: Any) -> HttpResponse:
    response = page(request, ws, template, error=error, controls_credit=controls_credit(ws),
                    **context)
    if error is not None:
        response.status_code = 403 if error.http_status == 403 else 409
    return response


# ---------------------------------------------------------------- the credit overview
@login_required
@require_safe
def credit(request: HttpRequest, code: str) -> HttpResponse:
    """Every customer's limit, exposure, credit available, holds and risk, a page at a time
    (``?q=`` a code or name, ``?held=1`` those on hold)."""
    ws = workspace(request, code)
    search = request.GET.get("q", "").strip()[:100]
    held = bool(request.GET.get("held"))
    page_no = page_param(request)
    rows = credit_overview(ws.company, as_of=ws.as_of, search=search or None, held_only=held,
                           limit=PAGE_SIZE + 1, offset=(page_no - 1) * PAGE_SIZE)
    return _credit_page(request, ws, "web/credit/overview.html", q=search, held=held,
                        **_paged(rows, page_no))


# ---------------------------------------------------------------- a customer's credit
# Who sets limits and holds (``credit_panel.controls_credit``), as the credit services word it.
CREDIT_ROLES = "manager, owner or credit_controller"


@login_required
@require_POST
def limit_set(request: HttpRequest, code: str, customer_code: str) -> HttpResponse:
    """``credit limit set CUSTOMER AMOUNT --reason``: blank (or ``none``) clears it."""
    typed = _text(request, "amount", 30)

    def act(ws: Workspace, customer: Target) -> object:
        return credit_limit_set(actor=request.user, company=ws.company,
                                customer_id=customer.id,
                                amount=None if typed.lower() in ("", "none") else typed,
                                reason=_text(request, "reason"))

    return customer_write(request, code, customer_code, "limit", act,
                          _("The credit limit is set."), minimum=CREDIT_ROLES,
                          allowed=controls_credit)


@login_required
@require_POST
def hold(request: HttpRequest, code: str, customer_code: str) -> HttpResponse:
    """``credit hold CUSTOMER --reason``: a manual hold."""
    def act(ws: Workspace, customer: Target) -> object:
        credit_hold(actor=request.user, company=ws.company, customer_id=customer.id,
                    reason=_text(request, "reason"))
        return None

    return customer_write(request, code, customer_code, "hold", act,
                          _("The customer is on credit hold."), minimum=CREDIT_ROLES,
                          allowed=controls_credit)


@login_required
@require_POST
def release(request: HttpRequest, code: str, customer_code: str) -> HttpResponse:
    """``credit release CUSTOMER --reason [--source S]``: the hold of one source (``source``
    of the form), or every hold of the customer when none is chosen. A dunning level's or a
    broken plan's hold is a clerk's to release, a manual one (or all) a credit controller's,
    as the service checks it (``credit_panel.may_release``)."""
    source = _text(request, "source", 20) or None

    def act(ws: Workspace, customer: Target) -> object:
        credit_release(actor=request.user, company=ws.company, customer_id=customer.id,
                       reason=_text(request, "reason"), source=source)
        return None

    return customer_write(request, code, customer_code, "release", act,
                          _("The credit hold is released.") if source is None else
                          _("The %(source)s hold is released.")
                          % {"source": hold_source_label(source)},
                          minimum=CREDIT_ROLES if source in (None, "manual") else WRITES,
                          allowed=lambda ws: may_release(ws, source))


# ---------------------------------------------------------------- the backtest
BACKTEST_DAYS = 90  # the day predicted from, by default: this many days before the page's


@login_required
@GET_POST
def backtest(request: HttpRequest, code: str) -> HttpResponse:
    """``credit backtest --as-of --until``: the payment model trained on the ledger of one
    day, measured against what was paid by a later one, run in the worker
    (``credit.tasks.credit_backtest_later``); the job's page follows it with its bar and
    shows the figures. A clerk starts it; every member reads the form's defaults."""
    ws = workspace(request, code)
    error: LedgerError | None = None
    if request.method == "POST":
        if not may(ws):
            return not_for_role(request, ws)
        try:
            as_of = day_param_post(request, "as_of") or ws.as_of - timedelta(days=BACKTEST_DAYS)
            until = day_param_post(request, "until") or ws.as_of
            task_id = credit_backtest_later(actor=request.user, company=ws.company,
                                            as_of=as_of, until=until)
        except LedgerError as exc:
            error = exc
        else:
            messages.info(request, _("The backtest is queued; this page follows it."))
            return redirect("web:job", ws.company.code, task_id)
    response = _credit_page(request, ws, "web/credit/backtest.html", error=error,
                            as_of=ws.as_of - timedelta(days=BACKTEST_DAYS), until=ws.as_of,
                            typed=request.POST)
    if error is not None and error.http_status != 403:
        response.status_code = 400
    return response


@login_required
@require_safe
def predictions(request: HttpRequest, code: str, customer_code: str) -> HttpResponse:
    """When the customer's open items are expected to be paid, with their spread and the
    chance of default (``credit predict CUSTOMER``), from the stored model only: none is
    trained for a page. The customer's overview loads it (htmx); it is a page of its own
    without scripts."""
    ws = workspace(request, code)
    customer = or_404(customer_get, ws.company, customer_code)
    usable = payment_model_usable(ws.company, ws.as_of)
    rows = (payment_predictions(ws.company, as_of=ws.as_of, customer=customer.code)
            if usable else None)
    context = {"customer": customer.code, "usable": usable,
               "predictions": rows.items if rows else [], "model": rows.model if rows else None}
    if request.headers.get("HX-Request"):
        return render(request, "web/credit/parts/predictions.html", {"ws": ws, **context})
    return page(request, ws, "web/credit/predictions.html", **context)


@login_required
@require_safe
def behaviour(request: HttpRequest, code: str, customer_code: str) -> HttpResponse:
    """How the customer pays (``credit behaviour CUSTOMER --as-of``), on the page's day: a
    page any member reads, linked from the customer's overview and the credit overview. An
    alias of a merge shows its survivor's, and says so."""
    ws = workspace(request, code)
    customer = or_404(customer_get, ws.company, customer_code)
    figures = behaviour_json(customer_behaviour(ws.company, customer.code, ws.as_of),
                             ws.company.base_currency)
    survivor = customer.merged_into.code if customer.merged_into_id else None
    return page(request, ws, "web/credit/behaviour.html", customer=customer.code,
                name=customer.name, survivor=survivor, b=figures, months=HISTORY_MONTHS)


# ---------------------------------------------------------------- suggested limits
@login_required
@GET_POST
def suggestions(request: HttpRequest, code: str) -> HttpResponse:
    """Suggested limits on the workspace's day; a manager accepts those ticked."""
    ws = workspace(request, code)
    error = None
    if request.method == "POST":
        if not may(ws, MANAGES):
            return not_for_role(request, ws, MANAGES)
        picked = [c.strip()[:40] for c in request.POST.getlist("accept")][:PAGE_SIZE]
        try:
            if not picked:
                raise ValidationFailed("tick the customers whose suggested limit to accept",
                                       field="accept")
            accepted = credit_limits_accept(actor=request.user, company=ws.company,
                                            codes=picked, as_of=ws.as_of)
        except LedgerError as exc:
            error = exc
        else:
            messages.success(request, _("Limits accepted: %(codes)s.") % {
                "codes": ", ".join(str(a["customer"]) for a in accepted)})
            return redirect(request.get_full_path())
    page_no = page_param(request)
    rows = limit_suggestions(ws.company, ws.as_of, limit=PAGE_SIZE + 1,
                             offset=(page_no - 1) * PAGE_SIZE)
    return _credit_page(request, ws, "web/credit/suggestions.html", error=error,
                        **_paged(rows, page_no))


# ---------------------------------------------------------------- records to review
@login_required
@require_safe
def review(request: HttpRequest, code: str) -> HttpResponse:
    """The records not confirmed within the company's review period, or with a doubtful
    e-mail address, the oldest first (``customer review-list``)."""
    ws = workspace(request, code)
    page_no = page_param(request)
    rows = review_list(ws.company, as_of=ws.as_of, limit=page_no * PAGE_SIZE + 1)
    start = (page_no - 1) * PAGE_SIZE
    return _credit_page(request, ws, "web/credit/review.html",
                        review_days=ws.company.record_review_days,
                        **_paged(rows[start:], page_no))


@login_required
@require_POST
def confirm(request: HttpRequest, code: str, customer_code: str) -> HttpResponse:
    """``customer update CODE --verified``: the record is stamped (now, by the user) and its
    doubtful addresses trusted again."""
    ws = workspace(request, code)
    customer = or_404(customer_get, ws.company, customer_code)
    if not may(ws):
        return not_for_role(request, ws)
    try:
        customer_verify(actor=request.user, company=ws.company, code=customer.code,
                        at=timezone.now())
    except LedgerError as exc:
        return refused(request, ws, exc)
    messages.success(request, _("%(code)s is confirmed.") % {"code": customer.code})
    return redirect(reverse("web:credit_review", args=[ws.company.code]))


# ---------------------------------------------------------------- duplicates and merges
def _duplicates_page(request: HttpRequest, ws: Workspace, *, error: LedgerError | None = None
                     ) -> HttpResponse:
    page_no = page_param(request)
    start = (page_no - 1) * PAGE_SIZE
    # The pairs the worker's last scan kept (a page of them); before the first scan, found
    # here over every customer.
    scan = duplicate_scan(ws.company)
    if scan is not None:
        pairs = duplicate_pairs(ws.company, offset=start, limit=PAGE_SIZE + 1)
    else:
        pairs = duplicate_customers(ws.company, payer_ibans=payer_ibans(ws.company))[
            start:start + PAGE_SIZE + 1]
    merged = survivors(ws.company)
    codes = customer_codes(ws.company, set(merged) | set(merged.values())) if merged else {}
    aliases = sorted((codes[a], codes[s]) for a, s in merged.items())
    return _credit_page(request, ws, "web/credit/duplicates.html", error=error, scan=scan,
                        aliases=aliases, **_paged(pairs, page_no))


@login_required
@GET_POST
def duplicates(request: HttpRequest, code: str) -> HttpResponse:
    """Pairs of records that may be one customer, best first (``customer duplicates``); a
    manager merges one into the other, choosing which survives (``customer merge``)."""
    ws = workspace(request, code)
    if request.method != "POST":
        return _duplicates_page(request, ws)
    if not may(ws, MANAGES):
        return not_for_role(request, ws, MANAGES)
    pair = [_text(request, "a", 40), _text(request, "b", 40)]
    survivor = _text(request, "survivor", 40)
    alias = next((c for c in pair if c != survivor), "")
    try:
        done = customer_merge(actor=request.user, company=ws.company, alias=alias,
                              survivor=survivor, reason=_text(request, "reason"))
    except LedgerError as exc:
        if exc.http_status == 403:
            return refused(request, ws, exc)
        return _duplicates_page(request, ws, error=exc)
    messages.success(request, _("%(alias)s is merged into %(survivor)s.") % {
        "alias": done.alias, "survivor": done.survivor})
    return redirect(request.path)


@login_required
@require_POST
def unmerge(request: HttpRequest, code: str, customer_code: str) -> HttpResponse:
    """``customer unmerge CODE --reason``: refused while a payment of one stands on the
    other's invoice (the service says so)."""
    ws = workspace(request, code)
    customer = or_404(customer_get, ws.company, customer_code)
    if not may(ws, MANAGES):
        return not_for_role(request, ws, MANAGES)
    try:
        customer_unmerge(actor=request.user, company=ws.company, code=customer.code,
                         reason=_text(request, "reason"))
    except LedgerError as exc:
        if exc.http_status == 403:
            return refused(request, ws, exc)
        return _duplicates_page(request, ws, error=exc)
    messages.success(request, _("%(code)s is a customer of its own again.") % {
        "code": customer.code})
    return redirect(reverse("web:credit_duplicates", args=[ws.company.code]))


# ---------------------------------------------------------------- the company's settings
@login_required
@GET_POST
def settings_page(request: HttpRequest, code: str) -> HttpResponse:
    """The company default limit (``credit limit set --company-default AMOUNT --reason``;
    blank clears it) and the credit settings (``credit settings --horizon-days
    --thresholds B,C,D``), each form its service; read by every member (``credit_settings``,
    one query), written by those who control credit."""
    ws = workspace(request, code)
    error: LedgerError | None = None
    if request.method == "POST":
        if not controls_credit(ws):
            return not_for_role(request, ws, CREDIT_ROLES)
        try:
            if request.POST.get("form") == "default":
                typed = _text(request, "amount", 30)
                credit_default_set(actor=request.user, company=ws.company,
                                   amount=typed or None, reason=_text(request, "reason"))
                done = _("The company default limit is saved.")
            else:
                credit_settings_set(actor=request.user, company=ws.company,
                                    horizon_days=_whole(request, "horizon_days"),
                                    thresholds=(_score(request, "B"), _score(request, "C"),
                                                _score(request, "D")))
                done = _("The credit settings are saved.")
        except LedgerError as exc:
            error = exc
        else:
            messages.success(request, done)
            return redirect(reverse("web:credit_settings", args=[ws.company.code]))
    return _credit_page(request, ws, "web/credit/settings.html", error=error,
                        settings=credit_settings(ws.company), typed=request.POST)


def _whole(request: HttpRequest, name: str) -> int:
    typed = _text(request, name, 10)
    if not typed.isdigit():
        raise ValidationFailed(f"{name.replace('_', ' ')} {typed!r} is not a whole number of "
                               "days", field=name)
    return int(typed)


def _score(request: HttpRequest, name: str) -> float:
    typed = _text(request, f"threshold_{name}", 10)
    try:
        return float(typed)
    except ValueError:
        raise ValidationFailed(f"the threshold of class {name} {typed!r} is not a score "
                               "(0 to 100)", field=f"threshold_{name}") from None
