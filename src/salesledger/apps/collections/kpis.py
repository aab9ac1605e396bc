"""The KPIs of collections' casework, month by month, given to reporting's monthly KPIs through
its registry of providers (``reporting/providers.py``; definitions and a worked example in
docs/design/kpis.md, "Disputes and promises"): the dispute rate by count and by amount, the
mean days to resolve a dispute, and the promise-kept rate.

Four queries whatever the number of months: the invoices issued per month (counted and
summed), the disputes opened in the months, those closed in them, and the promises whose day
falls in them with what was paid towards each (``promises_view``, one query more). Disputes
and promises are few beside the invoices; the invoices are counted in the database.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.db import connection

from salesledger.apps.core.models import Company
from salesledger.apps.invoicing.models import DocKind, Invoice
from salesledger.apps.reporting.kpis import month_end, month_key
from salesledger.apps.reporting.providers import KpiProvider, ProvidedKpi, Value
from salesledger.domain.journal import to_base
from salesledger.domain.kpis import CaseworkInputs, casework_kpis

from .models import Dispute, Promise
from .selectors import promises_view

KPIS = (
    ProvidedKpi("dispute_rate", "disputed %", "%"),
    ProvidedKpi("dispute_amount_rate", "disputed amt %", "%"),
    ProvidedKpi("days_to_resolve", "days to resolve", "days"),
    ProvidedKpi("disputes_closed", "closed", "count"),
    ProvidedKpi("promise_kept_rate", "promises kept %", "%"),
    ProvidedKpi("promises_due", "promises due", "count"),
)


def casework_inputs(company: Company, months: list[date]) -> dict[str, CaseworkInputs]:
    """Per ``YYYY-MM`` of ``months`` (first days, oldest first): the month's casework."""
    start, end = months[0], month_end(months[-1])
    invoices: dict[str, tuple[int, int]] = {}
    with connection.cursor() as cur:
        cur.execute(f"""SELECT {month_key('issue_date')}, COUNT(*), SUM(base_total)
                        FROM {Invoice._meta.db_table}
                        WHERE company_id = %s AND kind = %s AND status = 'posted'
                              AND issue_date >= %s AND issue_date <= %s
                        GROUP BY 1""", [company.pk, DocKind.INVOICE.value, start, end])
        for k, n, total in cur.fetchall():
            invoices[k] = (int(n), int(total))
    base = company.base_currency
    disputed: dict[str, set[int]] = defaultdict(set)
    disputed_amount: dict[str, int] = defaultdict(int)
    for opened, invoice_id, amount, currency, rate in (
            Dispute.objects.filter(company=company, opened_on__gte=start, opened_on__lte=end)
            .values_list("opened_on", "invoice_id", "amount", "currency", "invoice__rate")):
        disputed[f"{opened:%Y-%m}"].add(invoice_id)
        disputed_amount[f"{opened:%Y-%m}"] += to_base(amount, currency, base, rate)
    closed: dict[str, list[int]] = defaultdict(list)
    for opened, closed_on in (Dispute.objects
                              .filter(company=company, closed_on__gte=start, closed_on__lte=end)
                              .values_list("opened_on", "closed_on")):
        closed[f"{closed_on:%Y-%m}"].append((closed_on - opened).days)
    due: dict[str, list[bool]] = defaultdict(list)
    # Judged the day after the last month's end: every promise due in the months is then
    # kept or broken, from what was paid between the day it was made and its day.
    promises = (Promise.objects.filter(company=company, promised_date__gte=start,
                                       promised_date__lte=end).order_by("pk"))
    for v in promises_view(promises, end + timedelta(days=1)):
        due[f"{v.promise.promised_date:%Y-%m}"].append(v.state.value == "kept")
    out = {}
    for m in months:
        k = f"{m:%Y-%m}"
        n, total = invoices.get(k, (0, 0))
        out[k] = CaseworkInputs(
            invoices=n, sales=total, disputed_invoices=len(disputed[k]),
            disputed=disputed_amount[k], closed=len(closed[k]), days_to_close=sum(closed[k]),
            promises_due=len(due[k]), kept=sum(due[k]))
    return out


def casework_month_kpis(company: Company, months: list[date]) -> dict[str, dict[str, Value]]:
    """The provider reporting calls: per month, the KPIs of ``KPIS``."""
    out: dict[str, dict[str, Value]] = {}
    for k, i in casework_inputs(company, months).items():
        kpis = casework_kpis(i)
        out[k] = {"dispute_rate": kpis.dispute_rate,
                  "dispute_amount_rate": kpis.dispute_amount_rate,
                  "days_to_resolve": kpis.days_to_resolve, "disputes_closed": i.closed,
                  "promise_kept_rate": kpis.promise_kept_rate, "promises_due": i.promises_due}
    return out


PROVIDER = KpiProvider(KPIS, casework_month_kpis)
