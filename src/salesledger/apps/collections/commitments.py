"""What customers committed to pay, for reporting's cash-flow forecast
(docs/design/forecast.md, "Promises and plans"), given through reporting's registry
(``reporting/providers.py``, ``register_commitments``): on the forecast's day D, each promise
to pay made by D that is still live (not yet kept, its day not past) for what is left of it,
on its promised day; and each open instalment of the payment plans that hold on D, on its due
date (on D when due already, within the plan's grace). Judged as on D, from the allocations
dated up to it, so that the backtest sees what was known then. Amounts in base currency: an
invoice's promise at the invoice's booking rate, the rest at the company's rate of D (a
currency without a rate that day is left out of a forecast in base currency: the items keep
their usual delay); each also in the currency it was made in, for a forecast in a document
currency."""

from __future__ import annotations

from datetime import date

from django.db.models import Q

from salesledger.apps.core.models import Company
from salesledger.apps.fx.selectors import rate_on
from salesledger.apps.reporting.providers import Commitment
from salesledger.domain.collections import PromiseState
from salesledger.domain.errors import LedgerError
from salesledger.domain.journal import to_base

from .models import PaymentPlan, Promise
from .selectors import plans_view, promises_view


def commitments_on(company: Company, as_of: date) -> list[Commitment]:
    base = company.base_currency
    rates: dict[str, object] = {}

    def in_base(amount: int, currency: str, rate: object = None) -> int | None:
        if currency == base:
            return amount
        if rate is None:
            if currency not in rates:
                try:
                    rates[currency] = rate_on(company, currency, as_of)
                except LedgerError:
                    rates[currency] = None
            rate = rates[currency]
        return None if rate is None else to_base(amount, currency, base, rate)  # type: ignore[arg-type]

    out = []
    promises = (Promise.objects.filter(company=company, made_on__lte=as_of,
                                       promised_date__gte=as_of)
                .select_related("invoice").order_by("pk"))
    for v in promises_view(promises, as_of):
        p = v.promise
        if v.state != PromiseState.LIVE or p.amount <= v.paid:
            continue
        amount = in_base(p.amount - v.paid, p.currency,
                         p.invoice.rate if p.invoice is not None else None)
        out.append(Commitment(p.customer_id, p.promised_date, amount or 0, p.currency,
                              p.amount - v.paid))
    plans = (PaymentPlan.objects.filter(company=company, created_on__lte=as_of)
             .filter(Q(broken_on__isnull=True) | Q(broken_on__gt=as_of)).order_by("pk"))
    for view in plans_view(plans, as_of, items=False):
        if view.state != "live":
            continue
        for line, left in zip(view.lines, view.progress.open, strict=True):
            if left <= 0:
                continue
            amount = in_base(left, view.plan.currency)
            out.append(Commitment(view.plan.customer_id, max(line.due_date, as_of),
                                  amount or 0, view.plan.currency, left))
    return out
