"""The portfolio: for a user who keeps the books of many companies, each company's
receivable, overdue (and over 90 days), unapplied cash and DSO in its own currency, and a
link that switches to it. Only the companies the user is a member of; the figures are
``report portfolio``'s (``reporting.selectors.portfolio``), a fixed number of queries per
company."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from salesledger.apps.reporting.selectors import portfolio as portfolio_rows

from .tenancy import ROLE_LABELS, workspace
from .views import _page


@login_required
@require_safe
def portfolio(request: HttpRequest, code: str) -> HttpResponse:
    ws = workspace(request, code)
    # One day for every company: the page's (today in this company's time zone, or ?as_of).
    rows = [(r, str(ROLE_LABELS.get(r.role, r.role)))
            for r in portfolio_rows(request.user, as_of=ws.as_of)]
    return _page(request, ws, "web/portfolio.html", rows=rows)
