"""The workspace's pages. Each one finds the company (tenancy.py: 404 for a stranger), asks
one selector (or a service, for a file) and renders: the figures come from the apps, the
page only lays them out."""

from __future__ import annotations

from decimal import Decimal
from itertools import islice
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from salesledger.apps.banking.selectors import review_count
from salesledger.apps.collections.selectors import promises_broken_count, promises_due_count
from salesledger.apps.credit.selectors import hold_count
from salesledger.apps.customers.duplicates import duplicate_pairs_count
from salesledger.apps.customers.selectors import CUSTOMER_SORTS, customer_list
from salesledger.apps.documents.einvoice_files import einvoice_file, einvoice_filename
from salesledger.apps.documents.services import invoice_pdf_file
from salesledger.apps.invoicing.selectors import SETTLEMENTS, invoice_get, invoice_list
from salesledger.apps.payments.history import invoice_history
from salesledger.apps.payments.selectors import (
    customer_account,
    invoice_detail,
    old_unapplied_count,
    open_items,
    receipt_list,
)
from salesledger.apps.reporting.selectors import aging_overview
from salesledger.domain.aging import age_of
from salesledger.domain.errors import LedgerError

from .charts import aging_svg
from .collections_views import timeline_context
from .credit_panel import credit_panel
from .forms import DEDUCTIONS
from .params import PAGE_SIZE, choice_param, day_param, page_param
from .params import paged as _paged
from .tenancy import Workspace, or_404, workspace
from .writing import page

# How many rows of each kind a customer's overview shows (the lists hold the rest).
OVERVIEW_ROWS = 20
TOP_OVERDUE = 5


def _page(request: HttpRequest, ws: Workspace, template: str, **context: Any) -> HttpResponse:
    return render(request, template, {"ws": ws, **context})


@login_required
@require_safe
def dashboard(request: HttpRequest, code: str) -> HttpResponse:
    ws = workspace(request, code)
    # the totals and the few customers shown, not a record per customer (the summary's)
    report, top = aging_overview(ws.company, as_of=ws.as_of, top=TOP_OVERDUE)
    return _page(request, ws, "web/dashboard.html", report=report,
                 buckets=list(zip(report.buckets, report.base, strict=True)),
                 overdue=report.overdue_of(report.base), top=top,
                 unapplied=sorted(report.unapplied.items()),
                 unapplied_base=report.unapplied_base, chart=aging_svg(report, ws.formatter),
                 alerts=today_alerts(ws))


def today_alerts(ws: Workspace) -> list[tuple[str, int]]:
    """Today's alerts: what waits for someone on the workspace's day, each the name of the
    page that handles it and how many, those with none left out. Each is one indexed count
    in the app that owns it (never a scan of the open items; the broken promises, those of
    the day before judged by their customers' receipts: two), so the dashboard's budget
    holds whatever the size of the books."""
    counts = (("bank_review", review_count(ws.company)),
              ("promises_due", promises_due_count(ws.company, as_of=ws.as_of)),
              ("promises_broken", promises_broken_count(ws.company, as_of=ws.as_of)),
              ("credit_held", hold_count(ws.company)),
              ("duplicates", duplicate_pairs_count(ws.company)),
              ("old_unapplied", old_unapplied_count(ws.company, as_of=ws.as_of)))
    return [(name, n) for name, n in counts if n]


@login_required
@require_safe
def customers(request: HttpRequest, code: str) -> HttpResponse:
    ws = workspace(request, code)
    search = request.GET.get("q", "").strip()[:100]
    sort = choice_param(request, "sort", tuple(CUSTOMER_SORTS)) or "code"
    page = page_param(request)
    rows = customer_list(ws.company, search=search or None, sort=sort,
                         limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    return _page(request, ws, "web/customers.html", q=search, sort=sort,
                 sort_columns=(("code", _("Code")), ("name", _("Name")),
                               ("country", _("Country"))),
                 **_paged(rows, page))


@login_required
@require_safe
def customer(request: HttpRequest, code: str, customer_code: str) -> HttpResponse:
    ws = workspace(request, code)
    return customer_page(request, ws, customer_code)


def customer_page(request: HttpRequest, ws: Workspace, customer_code: str, *,
                  errors: dict[str, str] | None = None, status: int = 200) -> HttpResponse:
    """The customer's overview; ``errors``: a refused form of its credit panel (by form),
    shown beside that form (credit_views)."""
    account = or_404(customer_account, ws.company, customer_code, as_of=ws.as_of)
    items = [{**item, "days_late": max(age_of(item["due_date"], ws.as_of), 0)
              if item["type"] == "instalment" else None}
             for item in islice(open_items(ws.company, customer_id=account["id"],
                                           as_of=ws.as_of), OVERVIEW_ROWS)]
    documents = invoice_list(ws.company, customer_code=account["code"], limit=OVERVIEW_ROWS)
    receipts = receipt_list(ws.company, customer_id=account["id"], limit=OVERVIEW_ROWS)
    response = page(request, ws, "web/customer.html", c=account, items=items,
                    documents=documents, receipts=receipts, errors=errors or {},
                    typed=request.POST if errors else {}, **credit_panel(ws, account),
                    **timeline_context(ws, account["code"]))
    response.status_code = status
    return response


INVOICE_STATUSES = ("draft", "posted")
INVOICE_KINDS = ("invoice", "credit_note")


@login_required
@require_safe
def invoices(request: HttpRequest, code: str) -> HttpResponse:
    ws = workspace(request, code)
    page = page_param(request)
    filters = {
        "customer_code": request.GET.get("customer", "").strip()[:40] or None,
        "status": choice_param(request, "status", INVOICE_STATUSES) or None,
        "kind": choice_param(request, "kind", INVOICE_KINDS) or None,
        "issued_from": day_param(request, "from"),
        "issued_to": day_param(request, "to"),
        "overdue_on": ws.as_of if request.GET.get("overdue") else None,
        "settlement": choice_param(request, "settlement", SETTLEMENTS) or None,
    }
    rows = invoice_list(ws.company, **filters, limit=PAGE_SIZE + 1,
                        offset=(page - 1) * PAGE_SIZE)
    return _page(request, ws, "web/invoices.html", f=filters, statuses=INVOICE_STATUSES,
                 kinds=INVOICE_KINDS, **_paged(rows, page))


@login_required
@require_safe
def invoice(request: HttpRequest, code: str, ref: str) -> HttpResponse:
    ws = workspace(request, code)
    doc = or_404(invoice_detail, ws.company, ref)
    history = invoice_history(ws.company, doc["number"]) if doc["number"] else []
    timeline = (timeline_context(ws, doc["customer"], invoice=doc["number"])
                if doc["number"] and doc["kind"] == "invoice" else {})
    return page(request, ws, "web/invoice.html", doc=doc, history=history,
                formats=(("ubl", "UBL"), ("cii", "CII"), ("facturx", "Factur-X")),
                has_open=Decimal(doc["open"]["amount"]) > 0,
                has_written_off=Decimal(doc["written_off"]["amount"]) > 0,
                deduction_reasons=DEDUCTIONS, **timeline)


def _file(stored: Any, name: str) -> HttpResponse:
    response = HttpResponse(bytes(stored.content), content_type=stored.mime)
    disposition = "inline" if stored.mime == "application/pdf" else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{name}"'
    return response


def _refused(request: HttpRequest, ws: Workspace, exc: LedgerError) -> HttpResponse:
    response = _page(request, ws, "web/refused.html", error=exc)
    response.status_code = 404 if exc.http_status == 404 else 409
    return response


@login_required
@require_safe
def invoice_pdf(request: HttpRequest, code: str, ref: str) -> HttpResponse:
    """The PDF of a posted document, as issued (frozen on first use by the documents app)."""
    ws = workspace(request, code)
    inv = or_404(invoice_get, ws.company, ref)
    try:
        stored = invoice_pdf_file(actor=request.user, company=ws.company, invoice=inv)
    except LedgerError as exc:
        return _refused(request, ws, exc)
    return _file(stored, f"{inv.number}.pdf")


@login_required
@require_safe
def invoice_einvoice(request: HttpRequest, code: str, kind: str, ref: str) -> HttpResponse:
    """The e-invoice file (UBL, CII or Factur-X) of a posted document."""
    ws = workspace(request, code)
    inv = or_404(invoice_get, ws.company, ref)
    try:
        stored = einvoice_file(actor=request.user, company=ws.company, invoice=inv, kind=kind)
    except LedgerError as exc:
        return _refused(request, ws, exc)
    return _file(stored, einvoice_filename(inv, kind))
