"""Bad debts in the browser, on an invoice's page, each the payments service the command line
calls:

- write off (``invoice write-off``, a manager's): ``payments.adjustments.bad_debts.
  invoice_write_off``, all that is open or the amount typed, with the reason and, where the
  law allows it, the VAT taken back (bad-debt relief);
- recover (``invoice recover``, a clerk's): ``invoice_recover``, a payment on a written-off
  invoice: the write-offs reversed, the receipt allocated, what it does not recover written
  off again;
- a payment difference written off, or a deduction the customer took (``invoice adjust``, a
  clerk's): ``payments.adjustments.write_offs.invoice_adjust``, for the amount typed or all
  that is open (a write-off within the company's tolerance; a deduction with its reason code).

Both are dated the page's day. A refusal is the service's (a reason missing, nothing open, a
closed period: 409; the role: 403)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from salesledger.apps.payments.adjustments.bad_debts import invoice_recover, invoice_write_off
from salesledger.apps.payments.adjustments.write_offs import invoice_adjust
from salesledger.apps.payments.selectors import invoice_detail
from salesledger.domain.amounts import parse_decimal

from .tenancy import Workspace, or_404, workspace
from .writing import act_then_back


def _invoice_action(request: HttpRequest, ws: Workspace, ref: str,
                    act: Callable[[str], object]) -> HttpResponse:
    number = or_404(invoice_detail, ws.company, ref)["number"] or ""
    return act_then_back(request, ws, lambda: act(number), "web:invoice", number)


def _amount(request: HttpRequest) -> Decimal | None:
    typed = str(request.POST.get("amount", "")).strip()
    return parse_decimal(typed, "amount") if typed else None


@login_required
@require_POST
def invoice_write_off_view(request: HttpRequest, code: str, ref: str) -> HttpResponse:
    ws = workspace(request, code)
    return _invoice_action(request, ws, ref, lambda number: invoice_write_off(
        actor=request.user, company=ws.company, number=number, day=ws.as_of,
        reason=str(request.POST.get("reason", ""))[:255],
        amount=_amount(request),
        tax_relief=request.POST.get("tax_relief") == "1"))


@login_required
@require_POST
def invoice_recover_view(request: HttpRequest, code: str, ref: str) -> HttpResponse:
    ws = workspace(request, code)
    return _invoice_action(request, ws, ref, lambda number: invoice_recover(
        actor=request.user, company=ws.company, number=number,
        receipt=str(request.POST.get("receipt", "")).strip(), day=ws.as_of,
        amount=_amount(request)))


@login_required
@require_POST
def invoice_adjust_view(request: HttpRequest, code: str, ref: str) -> HttpResponse:
    ws = workspace(request, code)
    return _invoice_action(request, ws, ref, lambda number: invoice_adjust(
        actor=request.user, company=ws.company, number=number,
        kind=str(request.POST.get("kind", ""))[:20], day=ws.as_of, amount=_amount(request),
        reason_code=str(request.POST.get("reason_code", "")).strip()[:40],
        memo=str(request.POST.get("memo", "")).strip()[:255],
        dispute_requested=request.POST.get("dispute") == "1"))
