"""The portfolio: for a user who keeps the books of many companies, each company's
receivable, overdue (and over 90 days), unapplied cash and DSO in its own currency, and a
link that switches to it. Only the companies the user is a member of; the figures are
``report portfolio``'s (``reporting.selectors.portfolio``), a fixed number of queries per
company. As ``--in CURRENCY`` and ``--only overdue|over-90|unapplied`` do, the form converts
each company's amounts to one currency at its own rate of the day (with their total) and
keeps the companies that need attention."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from salesledger.apps.reporting.selectors import PORTFOLIO_ONLY, portfolio_total
from salesledger.apps.reporting.selectors import portfolio as portfolio_rows
from salesledger.domain.errors import LedgerError

from .params import choice_param
from .tenancy import ROLE_LABELS, workspace
from .views import _page


@login_required
@require_safe
def portfolio(request: HttpRequest, code: str) -> HttpResponse:
    ws = workspace(request, code)
    into = request.GET.get("in", "").strip()[:3].upper()
    only = choice_param(request, "only", tuple(PORTFOLIO_ONLY)) or ""
    try:
        # One day for every company: the page's (today in this company's time zone, or
        # ?as_of).
        found = portfolio_rows(request.user, as_of=ws.as_of, currency=into, only=only)
    except LedgerError as exc:
        response = _page(request, ws, "web/refused.html", error=exc)
        response.status_code = 400
        return response
    rows = [(r, str(ROLE_LABELS.get(r.role, r.role))) for r in found]
    return _page(request, ws, "web/portfolio.html", rows=rows, into=into, only=only,
                 total=portfolio_total(found) if into else None)
