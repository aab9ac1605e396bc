"""Quotes in the browser: the list, a quote with its lines, and its day's actions, each the
service the command line calls:

- send (``quote send``): ``documents.delivery.quote_send``, the quote marked sent and e-mailed
  with its PDF to the customer's billing contacts, or marked only (both or neither);
- accept, decline (``quote accept|decline``): ``quotes.services.quote_accept`` (with a comment
  that overrides credit's veto, as ``--override-credit``), ``quote_decline``;
- convert (``quote convert``): ``quotes.services.quote_convert``, the invoice dated the
  page's day, posted at once or left as a draft to review in the editor.

Each is dated the page's day; a refusal is shown as the command line shows it (409, 403 for
the role)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from salesledger.apps.documents.delivery import quote_send
from salesledger.apps.quotes.selectors import quote_detail, quote_list
from salesledger.apps.quotes.services import quote_accept, quote_convert, quote_decline
from salesledger.domain.errors import LedgerError

from .credit_panel import may_override
from .params import PAGE_SIZE, page_param
from .tenancy import Workspace, or_404, workspace
from .writing import act_then_back, page, refused


@login_required
@require_safe
def quotes(request: HttpRequest, code: str) -> HttpResponse:
    ws = workspace(request, code)
    page_no = page_param(request)
    rows = quote_list(ws.company, as_of=ws.as_of, limit=PAGE_SIZE + 1,
                      offset=(page_no - 1) * PAGE_SIZE)
    return page(request, ws, "web/quotes.html", rows=rows[:PAGE_SIZE], page=page_no,
                has_next=len(rows) > PAGE_SIZE, has_previous=page_no > 1)


@login_required
@require_safe
def quote(request: HttpRequest, code: str, label: str) -> HttpResponse:
    ws = workspace(request, code)
    return page(request, ws, "web/quote.html",
                q=or_404(quote_detail, ws.company, label, as_of=ws.as_of),
                override=may_override(ws))


@login_required
@require_POST
def quote_to_invoice(request: HttpRequest, code: str, label: str) -> HttpResponse:
    ws = workspace(request, code)
    q = or_404(quote_detail, ws.company, label, as_of=ws.as_of)
    try:
        invoice = quote_convert(actor=request.user, company=ws.company, number=q["quote"],
                                post=request.POST.get("post") == "1", as_of=ws.as_of)
    except LedgerError as exc:
        return refused(request, ws, exc)
    if invoice.number:
        return redirect(reverse("web:invoice", args=[ws.company.code, invoice.number]))
    return redirect(reverse("web:draft", args=[ws.company.code, invoice.pk]))


def _quote_action(request: HttpRequest, ws: Workspace, label: str,
                  act: Callable[[str], object]) -> HttpResponse:
    """Run one service on the quote ``label`` (another company's: 404) and come back to the
    quote's page, or show the service's refusal."""
    number = or_404(quote_detail, ws.company, label, as_of=ws.as_of)["quote"]
    return act_then_back(request, ws, lambda: act(number), "web:quote", number)


@login_required
@require_POST
def quote_send_view(request: HttpRequest, code: str, label: str) -> HttpResponse:
    ws = workspace(request, code)
    return _quote_action(request, ws, label, lambda number: quote_send(
        actor=request.user, company=ws.company, number=number, as_of=ws.as_of,
        email=request.POST.get("email") == "1"))


@login_required
@require_POST
def quote_accept_view(request: HttpRequest, code: str, label: str) -> HttpResponse:
    ws = workspace(request, code)
    return _quote_action(request, ws, label, lambda number: quote_accept(
        actor=request.user, company=ws.company, number=number, as_of=ws.as_of,
        credit_override=str(request.POST.get("credit_override", "")).strip()[:500]))


@login_required
@require_POST
def quote_decline_view(request: HttpRequest, code: str, label: str) -> HttpResponse:
    ws = workspace(request, code)
    return _quote_action(request, ws, label, lambda number: quote_decline(
        actor=request.user, company=ws.company, number=number, as_of=ws.as_of,
        reason=str(request.POST.get("reason", "")).strip()[:255]))
