"""Quotes in the browser: the list, a quote with its lines, and the conversion of an
accepted quote into an invoice (``quotes.services.quote_convert``: the invoice is dated the
page's day, posted at once or left as a draft to review in the editor)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from salesledger.apps.quotes.selectors import quote_detail, quote_list
from salesledger.apps.quotes.services import quote_convert
from salesledger.domain.errors import LedgerError

from .params import PAGE_SIZE, page_param
from .tenancy import or_404, workspace
from .writing import page, refused


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
                q=or_404(quote_detail, ws.company, label, as_of=ws.as_of))


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
