"""Receipts in the browser: record one, allocate it, settle a short payment, refund, reverse,
undo an allocation. Each form calls the payments service the command line calls:

- record: ``payments.services.receipt_record``;
- allocate: ``payments.policies.receipt_allocate_policy`` (the invoices picked, or a
  policy); the running remainder is the same call as a dry run (``allocate_preview``), so
  the server says what would be left and refuses what the allocation would refuse;
- a short payment: ``payments.adjustments.write_offs.receipt_allocate_short`` (the rest
  written off within the company's tolerance, or a deduction with its reason);
- refund (a manager's): ``payments.refunds.receipt_refund``, and undo it when the payment
  out came back (``refund reverse``, a manager's): ``payments.refunds.refund_reverse``;
  reverse a returned payment:
  ``payments.refunds.receipt_reverse``; undo an allocation:
  ``payments.services.allocation_reverse``.

Every write is dated the workspace's day (today in the company's time zone, or
``?as_of=``), as the command line dates them with ``--as-of``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from salesledger.apps.ledger.banks import bank_accounts
from salesledger.apps.payments.adjustments.write_offs import receipt_allocate_short
from salesledger.apps.payments.policies import receipt_allocate_policy
from salesledger.apps.payments.refunds import receipt_refund, receipt_reverse, refund_reverse
from salesledger.apps.payments.selectors import open_items, receipt_detail, receipt_list
from salesledger.apps.payments.services import (
    ReceiptInput,
    Target,
    allocation_reverse,
    receipt_record,
)
from salesledger.domain.amounts import parse_decimal
from salesledger.domain.errors import LedgerError, ValidationFailed
from salesledger.money import Money

from .forms import DEDUCTIONS, METHODS, POLICIES, ServiceForm, amount, day, text
from .params import PAGE_SIZE, page_param
from .tenancy import Workspace, or_404, workspace
from .writing import may, not_for_role, page, refused

# How many of a customer's open invoices the allocation form offers (oldest due first).
OPEN_ROWS = 100


class ReceiptForm(ServiceForm):
    customer = text(_("Customer code"), required=True, max_length=40, autocomplete="off")
    date = day(_("Date received"))
    amount = amount(_("Amount"))
    currency = text(_("Currency (blank for the customer's)"), max_length=3)
    bank_account = forms.ChoiceField(label=_("Bank account"), required=False)
    method = forms.ChoiceField(label=_("Method"), choices=METHODS)
    payer_reference = text(_("Payer's reference"), max_length=140)
    bank_reference = text(_("Bank reference"), max_length=140)
    memo = text(_("Memo"), max_length=255)

    def __init__(self, *args: Any, accounts: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["bank_account"].choices = [
            ("" if a.is_main else a.code, f"{a.name} ({a.currency})") for a in accounts]


@login_required
@require_safe
def receipts(request: HttpRequest, code: str) -> HttpResponse:
    ws = workspace(request, code)
    page_no = page_param(request)
    rows = receipt_list(ws.company, limit=PAGE_SIZE + 1, offset=(page_no - 1) * PAGE_SIZE)
    return page(request, ws, "web/receipts.html", rows=rows[:PAGE_SIZE], page=page_no,
                has_next=len(rows) > PAGE_SIZE, has_previous=page_no > 1)


@login_required
@require_http_methods(["GET", "POST"])
def receipt_new(request: HttpRequest, code: str) -> HttpResponse:
    ws = workspace(request, code)
    if not may(ws):
        return not_for_role(request, ws)
    form = ReceiptForm(request.POST or None, accounts=bank_accounts(ws.company),
                       initial={"date": ws.as_of,
                                "customer": request.GET.get("customer", "")[:40]})
    if request.method == "POST" and form.is_valid():
        v = form.cleaned_data
        try:
            made = receipt_record(actor=request.user, company=ws.company, data=ReceiptInput(
                customer_code=v["customer"].strip(), date=v["date"],
                amount=parse_decimal(v["amount"], "amount"),
                currency=v["currency"].strip().upper(), method=v["method"],
                payer_reference=v["payer_reference"], bank_reference=v["bank_reference"],
                memo=v["memo"], bank_account=v["bank_account"]))
        except LedgerError as exc:
            if exc.http_status == 403:
                return refused(request, ws, exc)
            form.refuse(exc, customer_code="customer", code="customer")
        else:
            return redirect(reverse("web:receipt", args=[ws.company.code, made.number]))
    return page(request, ws, "web/receipt_form.html", form=form)


def _open_invoices(ws: Workspace, r: dict[str, Any]) -> list[dict[str, Any]]:
    """The customer's open invoices in the receipt's currency, oldest due first: what is
    open of each (its instalments together), as the open items say."""
    by_invoice: dict[str, dict[str, Any]] = {}
    open_minor: dict[str, int] = defaultdict(int)
    for item in open_items(ws.company, customer_id=r["customer_id"]):
        if item["type"] != "instalment" or item["currency"] != r["currency"]:
            continue
        if item["document"] not in by_invoice:
            if len(by_invoice) == OPEN_ROWS:
                break
            by_invoice[item["document"]] = {"number": item["document"],
                                            "due_date": item["due_date"]}
        open_minor[item["document"]] += item["open"]
    return [{**row, "open": Money.from_minor(open_minor[n], r["currency"]).to_json()}
            for n, row in by_invoice.items()]


def _receipt_page(request: HttpRequest, ws: Workspace, r: dict[str, Any], *,
                  errors: dict[str, str] | None = None, status: int = 200) -> HttpResponse:
    response = page(request, ws, "web/receipt.html", r=r, invoices=_open_invoices(ws, r),
                    policies=POLICIES, deductions=DEDUCTIONS, methods=METHODS,
                    errors=errors or {}, picked=request.POST.getlist("pick"),
                    amounts={k.removeprefix("amount-"): v for k, v in request.POST.items()
                             if k.startswith("amount-")})
    response.status_code = status
    return response


@login_required
@require_safe
def receipt(request: HttpRequest, code: str, number: str) -> HttpResponse:
    ws = workspace(request, code)
    return _receipt_page(request, ws, or_404(receipt_detail, ws.company, number))


def _targets(request: HttpRequest, r: dict[str, Any]) -> list[Target]:
    """The invoices picked, each with the amount typed, or else all it has open (the
    form's hidden ``open-NUMBER``, which the server wrote)."""
    out = []
    for number in request.POST.getlist("pick")[:OPEN_ROWS]:
        typed = str(request.POST.get(f"amount-{number}", "")).strip()
        value = typed or str(request.POST.get(f"open-{number}", "")).strip()
        if not value:
            raise ValidationFailed(f"give the amount to allocate to {number}", invoice=number)
        out.append(Target(number, parse_decimal(value, f"amount for {number}")))
    return out


def _allocate(request: HttpRequest, ws: Workspace, r: dict[str, Any], *,
              dry_run: bool) -> Any:
    policy = str(request.POST.get("policy", "manual"))
    targets = _targets(request, r) if policy == "manual" else None
    return receipt_allocate_policy(actor=request.user, company=ws.company, receipt=r["number"],
                                   policy=policy, day=ws.as_of, targets=targets,
                                   dry_run=dry_run)


@login_required
@require_POST
def allocate_preview(request: HttpRequest, code: str, number: str) -> HttpResponse:
    """What the allocation picked would do, and what would remain of the receipt (an htmx
    partial): the allocation service's own dry run."""
    ws = workspace(request, code)
    r = or_404(receipt_detail, ws.company, number)
    context: dict[str, Any] = {"ws": ws, "r": r}
    if request.POST.getlist("pick") or request.POST.get("policy", "manual") != "manual":
        try:
            result = _allocate(request, ws, r, dry_run=True)
        except LedgerError as exc:
            context["error"] = str(exc)
        else:
            context["planned"] = result.planned
            context["remainder"] = Money.from_minor(result.unallocated_after, r["currency"])
    return render(request, "web/parts/remainder.html", context)


def _done(ws: Workspace, number: str) -> HttpResponse:
    return redirect(reverse("web:receipt", args=[ws.company.code, number]))


def _receipt_action(request: HttpRequest, ws: Any, r: dict[str, Any], key: str,
                    act: Callable[[], object]) -> HttpResponse:
    """Run one service on the receipt: back to its page, or the page again with the
    service's refusal under ``key`` (a refused role: the refused page)."""
    try:
        act()
    except LedgerError as exc:
        if exc.http_status == 403:
            return refused(request, ws, exc)
        return _receipt_page(request, ws, r, errors={key: str(exc)}, status=409)
    return _done(ws, r["number"])


@login_required
@require_POST
def receipt_allocate(request: HttpRequest, code: str, number: str) -> HttpResponse:
    ws = workspace(request, code)
    r = or_404(receipt_detail, ws.company, number)
    return _receipt_action(request, ws, r, "allocate",
                           lambda: _allocate(request, ws, r, dry_run=False))


@login_required
@require_POST
def receipt_short(request: HttpRequest, code: str, number: str) -> HttpResponse:
    """A payment short of an invoice: allocate it and settle the rest, written off or as a
    deduction."""
    ws = workspace(request, code)
    r = or_404(receipt_detail, ws.company, number)
    typed = str(request.POST.get("amount", "")).strip()
    how = str(request.POST.get("settle", "write_off"))
    return _receipt_action(request, ws, r, "short", lambda: receipt_allocate_short(
        actor=request.user, company=ws.company, receipt=r["number"],
        invoice=str(request.POST.get("invoice", "")), day=ws.as_of,
        amount=parse_decimal(typed, "amount") if typed else None,
        write_off=how == "write_off",
        deduction=str(request.POST.get("reason", "")) if how == "deduction" else "",
        memo=str(request.POST.get("memo", ""))[:255]))


@login_required
@require_POST
def receipt_refund_view(request: HttpRequest, code: str, number: str) -> HttpResponse:
    ws = workspace(request, code)
    r = or_404(receipt_detail, ws.company, number)
    typed = str(request.POST.get("amount", "")).strip()
    return _receipt_action(request, ws, r, "refund", lambda: receipt_refund(
        actor=request.user, company=ws.company, number=r["number"], day=ws.as_of,
        amount=parse_decimal(typed, "amount") if typed else None,
        method=str(request.POST.get("method", "bank_transfer")),
        reference=str(request.POST.get("reference", ""))[:140]))


@login_required
@require_POST
def receipt_reverse_view(request: HttpRequest, code: str, number: str) -> HttpResponse:
    ws = workspace(request, code)
    r = or_404(receipt_detail, ws.company, number)
    fee = str(request.POST.get("fee", "")).strip()
    return _receipt_action(request, ws, r, "reverse", lambda: receipt_reverse(
        actor=request.user, company=ws.company, number=r["number"], day=ws.as_of,
        reason=str(request.POST.get("reason", ""))[:255],
        fee=parse_decimal(fee, "fee") if fee else None))


@login_required
@require_POST
def allocation_undo(request: HttpRequest, code: str, number: str, pk: int) -> HttpResponse:
    """Undo one allocation of the receipt (a reversing row; the original stays)."""
    ws = workspace(request, code)
    r = or_404(receipt_detail, ws.company, number)
    if pk not in {a["id"] for a in r["allocations"]}:
        return refused(request, ws, ValidationFailed(
            f"allocation {pk} is not one of {r['number']}'s"))
    return _receipt_action(request, ws, r, "undo", lambda: allocation_reverse(
        actor=request.user, company=ws.company, allocation_id=pk, day=ws.as_of,
        reason=str(request.POST.get("reason", ""))[:255]))



@login_required
@require_POST
def refund_reverse_view(request: HttpRequest, code: str, number: str) -> HttpResponse:
    """Undo one refund of the receipt (the payment out was returned): the money is the
    receipt's unapplied cash again. The refund is named in the form, and must be the
    receipt's."""
    ws = workspace(request, code)
    r = or_404(receipt_detail, ws.company, number)
    if not may(ws):
        return not_for_role(request, ws)  # before reading the form (a manager's: the service)
    refund = str(request.POST.get("refund", ""))
    if refund not in {f["number"] for f in r["refunds"] if not f["reversal"]}:
        return refused(request, ws, ValidationFailed(
            f"refund {refund!r} is not one of {r['number']}'s", refund=refund))
    return _receipt_action(request, ws, r, "refund_reverse", lambda: refund_reverse(
        actor=request.user, company=ws.company, number=refund, day=ws.as_of,
        reason=str(request.POST.get("reason", ""))[:255]))
