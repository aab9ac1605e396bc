"""Quotes in the browser: the list, a quote with its lines, and its day's actions, each the
service the command line calls:

- send (``quote send``): ``documents.delivery.quote_send``, the quote marked sent and e-mailed
  with its PDF to the customer's billing contacts, or marked only (both or neither);
- accept, decline (``quote accept|decline``): ``quotes.services.quote_accept`` (with a comment
  that overrides credit's veto, as ``--override-credit``), ``quote_decline``;
- write and change (``quote create``, ``quote revise``): the invoice drafts' editor
  (``invoice_views``: its lines, its document-level allowances and charges, and their
  totals as one types from the same pure core), a sent or declined quote revised into a
  new draft revision;
- convert (``quote convert``): ``quotes.services.quote_convert``, the invoice dated the
  page's day, posted at once or left as a draft to review in the editor.

Each is dated the page's day; a refusal is shown as the command line shows it (409, 403 for
the role)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from salesledger.apps.documents.delivery import quote_send
from salesledger.apps.quotes.selectors import quote_detail, quote_list
from salesledger.apps.quotes.services import (
    QuoteInput,
    quote_accept,
    quote_convert,
    quote_create,
    quote_decline,
    quote_revise,
)
from salesledger.domain.errors import LedgerError

from .credit_panel import may_override
from .forms import TAX_CATEGORIES, TermsForm, day, text
from .invoice_views import (
    Charges,
    Lines,
    blank_lines,
    charges_of,
    editor_forms,
    lines_of,
    posted_charges,
)
from .params import PAGE_SIZE, page_param
from .tenancy import Workspace, or_404, workspace
from .writing import act_then_back, may, not_for_role, page, refused


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


# ------------------------------------------------------------------ writing and revising
class QuoteForm(TermsForm):
    """The head of a new quote; its lines are the draft editor's (``posted_lines``)."""

    field_order = ("customer", "issue_date", "valid_until", "currency", "terms", "po_number",
                   "buyer_reference", "notes")
    customer = text(_("Customer code"), required=True, max_length=40, autocomplete="off")
    issue_date = day(_("Quote date"))
    valid_until = day(_("Valid until (blank: 30 days)"), required=False)
    currency = text(_("Currency (blank for the customer's)"), max_length=3)
    po_number = text(_("Purchase order"), max_length=100)
    buyer_reference = text(_("Buyer reference"), max_length=100)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=2000,
                            widget=forms.Textarea(attrs={"rows": 2}))


class ReviseForm(QuoteForm):
    """A quote's head as a revision may change it: not its customer, currency or date (a
    draft keeps its date; a revision of a sent quote is dated the page's day)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("customer", "issue_date", "currency"):
            del self.fields[name]
        self.fields["valid_until"].label = _("Valid until")


def _quote_editor(request: HttpRequest, ws: Workspace, form: QuoteForm, lines: Lines,
                  charges: Charges, *, q: dict[str, Any] | None, status: int = 200
                  ) -> HttpResponse:
    response = page(request, ws, "web/quote_edit.html", form=form, lines=lines,
                    charges=charges, q=q, categories=TAX_CATEGORIES,
                    totals=q and {k: q[k] for k in ("net", "tax", "total")})
    response.status_code = status
    return response


def _refuse_quote(form: QuoteForm, lines: Lines, charges: Charges, exc: LedgerError) -> None:
    if not lines.refuse(exc) and not charges.refuse(exc):
        form.refuse(exc, customer_code="customer", document="customer", terms_code="terms")


@login_required
@require_http_methods(["GET", "POST"])
def quote_new(request: HttpRequest, code: str) -> HttpResponse:
    """A new draft quote (``quote create``), written in the invoice drafts' editor:
    ``?customer=CODE`` starts with a customer."""
    ws = workspace(request, code)
    if not may(ws):
        return not_for_role(request, ws)
    form, lines, saving = editor_forms(request, ws, QuoteForm, {
        "customer": request.GET.get("customer", "")[:40], "issue_date": ws.as_of}, 3)
    charges = charges_of(None)
    if request.method == "POST":
        charges, saving = posted_charges(request, saving)
    if saving:
        v = form.cleaned_data
        try:
            made = quote_create(actor=request.user, company=ws.company, as_of=ws.as_of,
                                data=QuoteInput(
                                    customer_code=v["customer"].strip(), lines=lines.inputs(),
                                    issue_date=v["issue_date"], valid_until=v["valid_until"],
                                    currency=v["currency"].strip().upper(),
                                    terms_code=v["terms"], po_number=v["po_number"],
                                    buyer_reference=v["buyer_reference"], notes=v["notes"],
                                    charges=charges.inputs()))
        except LedgerError as exc:
            _refuse_quote(form, lines, charges, exc)
        else:
            return redirect(reverse("web:quote", args=[ws.company.code, made.label]))
    return _quote_editor(request, ws, form, lines if lines.rows else blank_lines(1),
                         charges, q=None)


@login_required
@require_http_methods(["GET", "POST"])
def quote_edit(request: HttpRequest, code: str, label: str) -> HttpResponse:
    """Change a quote (``quote revise``): a draft in place, a sent or declined one as a new
    revision dated the page's day (the service decides which, and refuses the others). The
    validity is sent only when changed, so a revision keeps its length otherwise."""
    ws = workspace(request, code)
    q = or_404(quote_detail, ws.company, label, as_of=ws.as_of)
    if not may(ws):
        return not_for_role(request, ws)
    form, lines, saving = editor_forms(request, ws, ReviseForm, {
        "valid_until": q["valid_until"], "terms": q["terms"] or "",
        "po_number": q["po_number"], "buyer_reference": q["buyer_reference"],
        "notes": q["notes"]}, 0)
    if request.method != "POST":
        return _quote_editor(request, ws, form, lines_of(q), charges_of(q), q=q)
    charges, saving = posted_charges(request, saving)
    if saving:
        v = form.cleaned_data
        try:
            made = quote_revise(
                actor=request.user, company=ws.company, number=q["quote"], as_of=ws.as_of,
                lines=lines.inputs(),
                valid_until=v["valid_until"] if v["valid_until"] != q["valid_until"] else None,
                terms_code=v["terms"] if v["terms"] != (q["terms"] or "") else None,
                po_number=v["po_number"], buyer_reference=v["buyer_reference"],
                notes=v["notes"], charges=charges.inputs())
        except LedgerError as exc:
            if exc.http_status == 403:
                return refused(request, ws, exc)
            _refuse_quote(form, lines, charges, exc)
        else:
            return redirect(reverse("web:quote", args=[ws.company.code, made.label]))
    return _quote_editor(request, ws, form, lines if lines.rows else blank_lines(1),
                         charges, q=q)
