"""The report pages: the aged receivables (buckets, per customer, item by item), the KPIs,
the trends, the cash-flow forecast, the unapplied cash and a customer's statement for a
period. Each calls one selector of ``apps/reporting`` (as ``report ...`` does on the
command line) and lays it out; the charts are the ones the reporting commands draw
(``formats/charts.py``), inline SVG. Where the command has ``--csv`` the page has a CSV
download with the same columns (``?format=csv``)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date, timedelta
from itertools import islice
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.views.decorators.http import require_POST, require_safe

from salesledger.apps.banking.reconciliation import reconciliation
from salesledger.apps.collections.selectors import collector_customers
from salesledger.apps.reporting.exports import (
    AGING_DETAIL_HEADERS,
    FORECAST_HEADERS,
    FORECAST_SERIES,
    KPI_NAMES,
    TREND_MEASURES,
    UNAPPLIED_HEADERS,
    aging_detail_rows,
    aging_segment_headers,
    aging_segment_rows,
    aging_summary_headers,
    aging_summary_rows,
    figure,
    forecast_rows,
    kpi_headers,
    kpi_rows,
    kpi_segment_headers,
    kpi_segment_rows,
    trend_headers,
    trend_rows,
    unapplied_rows,
)
from salesledger.apps.reporting.forecast_page import forecast_page
from salesledger.apps.reporting.selectors import (
    SEGMENTS,
    TREND_BY,
    ReportFilters,
    aging_by_segment,
    aging_by_segment_page,
    aging_items,
    aging_items_page,
    aging_report,
    aging_report_page,
    company_kpis,
    currencies,
    document_currency,
    kpi_report,
    kpis_by_segment,
    period_statement,
    running,
    unapplied_items,
)
from salesledger.apps.reporting.statement_pdf import statement_pdf, statement_send
from salesledger.apps.reporting.trend_page import trends_page
from salesledger.domain.errors import LedgerError, ValidationFailed

from .charts import aging_svg, forecast_svg
from .params import PAGE_SIZE, choice_param, page_param
from .tenancy import Workspace, workspace
from .views import _page, _paged
from .writing import may, refused


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv(name: str, header: list[str], rows: Iterable[list[Any]]) -> StreamingHttpResponse:
    """Rows written as they are read (a detail may be long), as the command's ``--csv``."""
    writer = csv.writer(_Echo())

    def lines() -> Iterable[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _wants_csv(request: HttpRequest) -> bool:
    return request.GET.get("format") == "csv"


def _int_param(request: HttpRequest, name: str, default: int) -> int:
    raw = request.GET.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 4 else default


def _filters(request: HttpRequest, ws: Workspace) -> ReportFilters:
    """The filters of the page's form; a collector's customers are asked of the collections
    app, as ``--collector`` does."""
    collector = request.GET.get("collector", "").strip()[:150]
    return ReportFilters(
        customer=request.GET.get("customer", "").strip()[:40],
        country=request.GET.get("country", "").strip()[:2],
        currency=request.GET.get("document_currency", "").strip()[:3],
        group=request.GET.get("group", "").strip()[:40],
        customers=collector_customers(ws.company, collector) if collector else None)


def _refused(request: HttpRequest, ws: Workspace, exc: LedgerError) -> HttpResponse:
    response = _page(request, ws, "web/refused.html", error=exc)
    response.status_code = 404 if exc.http_status == 404 else 400
    return response


@login_required
@require_safe
def reports(request: HttpRequest, code: str) -> HttpResponse:
    ws = workspace(request, code)
    return _page(request, ws, "web/reports.html")


@login_required
@require_safe
def aging(request: HttpRequest, code: str) -> HttpResponse:
    """``report aging``: the buckets and each customer's (``?detail=1``: each open item,
    a page at a time); amounts in base currency at the booking rates."""
    ws = workspace(request, code)
    by = choice_param(request, "by", ("due", "issue")) or "due"
    segment = choice_param(request, "segment", SEGMENTS) or ""
    base = ws.company.base_currency
    try:
        filters = _filters(request, ws)
        if request.GET.get("detail") and not _wants_csv(request):
            # one page, and the one row after it that says whether there is a next page,
            # read without sorting every item of the day
            page = page_param(request)
            buckets, rows = aging_items_page(ws.company, as_of=ws.as_of, by=by,
                                             filters=filters, size=PAGE_SIZE + 1,
                                             offset=(page - 1) * PAGE_SIZE)
            return _page(request, ws, "web/report_aging_detail.html", by=by,
                         buckets=buckets, f=filters, **_paged(rows, page))
        if request.GET.get("detail"):
            buckets, items = aging_items(ws.company, as_of=ws.as_of, by=by, filters=filters)
            return _csv(f"aging-detail-{ws.as_of}.csv", AGING_DETAIL_HEADERS,
                        aging_detail_rows(buckets, items, base))
        if segment:
            return _aging_segments(request, ws, segment, by, filters)
        if _wants_csv(request):
            report = aging_report(ws.company, as_of=ws.as_of, by=by, filters=filters)
            return _csv(f"aging-{ws.as_of}.csv", aging_summary_headers(report.buckets),
                        aging_summary_rows(report))
        # one page of the customers (and the one after it that says whether there is a
        # next page), with the whole day's totals: on the summary's day, no record is made
        # of the other customers
        page = page_param(request)
        report = aging_report_page(ws.company, as_of=ws.as_of, by=by, filters=filters,
                                   size=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    except LedgerError as exc:
        return _refused(request, ws, exc)
    chart = aging_svg(report, ws.formatter)
    customers = [(c, sum(c.base)) for c in report.customers]
    return _page(request, ws, "web/report_aging.html", report=report, by=by, f=filters,
                 chart=chart, buckets=list(zip(report.buckets, report.base, strict=True)),
                 in_currency=_in_currency(report),
                 overdue=report.overdue_of(report.base), segment="", segments_choice=SEGMENTS,
                 **_paged(customers, page))


def _in_currency(report: Any) -> list[tuple[str, list[int], int]]:
    """The buckets in each document currency, as invoiced (``report aging --currency
    document``), when they say more than the base row: another currency than the company's,
    or several."""
    if list(report.by_currency) in ([], [report.base_currency]):
        return []
    return [(cur, amounts, sum(amounts)) for cur, amounts in sorted(report.by_currency.items())]


def _aging_segments(request: HttpRequest, ws: Workspace, segment: str, by: str,
                    filters: ReportFilters) -> HttpResponse:
    """``report aging --segment group|size``: the buckets per segment (base currency)."""
    if _wants_csv(request):
        report, segments = aging_by_segment(ws.company, as_of=ws.as_of, segment=segment,
                                            by=by, filters=filters)
        return _csv(f"aging-{segment}-{ws.as_of}.csv",
                    aging_segment_headers(segment, report.buckets),
                    aging_segment_rows(segments, ws.company.base_currency))
    # a page of the segments (and the one after it that says whether there is a next
    # page): a customer on its own is its own group, so the groups may be as many as the
    # customers; on the summary's day the database lists, cuts and sums the page's groups
    page = page_param(request)
    report, segments = aging_by_segment_page(ws.company, as_of=ws.as_of, segment=segment,
                                             by=by, filters=filters, size=PAGE_SIZE + 1,
                                             offset=(page - 1) * PAGE_SIZE)
    paged = _paged([(s, sum(s.base)) for s in segments], page)
    return _page(request, ws, "web/report_aging.html", report=report, by=by, f=filters,
                 chart=aging_svg(report, ws.formatter), segment=segment,
                 segments_choice=SEGMENTS,
                 buckets=list(zip(report.buckets, report.base, strict=True)),
                 overdue=report.overdue_of(report.base),
                 segment_rows=paged.pop("rows"), **paged)


@login_required
@require_safe
def kpis(request: HttpRequest, code: str) -> HttpResponse:
    """``report kpis``: DSO, CEI and the others, month by month; of the customers the
    form's filters keep, as ``--customer``, ``--group``... do."""
    ws = workspace(request, code)
    months_n = _int_param(request, "months", 12)
    segment = choice_param(request, "segment", SEGMENTS) or ""
    try:
        filters = _filters(request, ws)
        # in a document currency when one is asked (``report kpis --document-currency``)
        base = document_currency(filters) or ws.company.base_currency
        filtered = filters != ReportFilters()
        if segment and filtered:
            raise ValidationFailed("a segment is a set of customers already: choose the "
                                   "segment or the customers", segment=segment)
        if segment:
            per = kpis_by_segment(ws.company, as_of=ws.as_of, months=months_n,
                                  segment=segment)
        else:
            per = {"": kpi_report(ws.company, as_of=ws.as_of, months=months_n,
                                  filters=filters)}
    except LedgerError as exc:
        return _refused(request, ws, exc)
    if _wants_csv(request) and segment:
        return _csv(f"kpis-{segment}-{ws.as_of}.csv", kpi_segment_headers(segment),
                    kpi_segment_rows(per, base))
    if _wants_csv(request):
        whole = company_kpis(ws.company, as_of=ws.as_of, months=months_n, filtered=filtered)
        return _csv(f"kpis-{ws.as_of}.csv", kpi_headers(whole), kpi_rows(per[""], base, whole))
    rows = [(name, m, [figure(getattr(m.kpis, k)) for k in KPI_NAMES])
            for name, months in per.items() for m in months]
    return _page(request, ws, "web/report_kpis.html", rows=rows, months=months_n,
                 segment=segment, segments_choice=SEGMENTS, f=filters, currency=base)


@login_required
@require_safe
def trends(request: HttpRequest, code: str) -> HttpResponse:
    """``report trends``: shares paid late, unpaid past 90 days and written off by invoice
    month, each flagged when it rose markedly."""
    ws = workspace(request, code)
    months_n = _int_param(request, "months", 12)
    by = choice_param(request, "by", TREND_BY) or "cohort"
    try:
        filters = _filters(request, ws)
        rows = trends_page(ws.company, as_of=ws.as_of, months=months_n, by=by,
                           filters=filters)
        base = document_currency(filters) or ws.company.base_currency
    except LedgerError as exc:
        return _refused(request, ws, exc)
    if _wants_csv(request):
        return _csv(f"trends-{ws.as_of}.csv", trend_headers(by), trend_rows(rows, base))
    table = [(t, [(figure(getattr(t.row, m).percent), m in t.flagged,
                   figure(getattr(t.row, am).percent)) for m, am in TREND_MEASURES])
             for t in rows]
    return _page(request, ws, "web/report_trends.html", rows=table, by=by, months=months_n,
                 f=filters, currency=base)


@login_required
@require_safe
def forecast(request: HttpRequest, code: str) -> HttpResponse:
    """``report forecast``: receipts expected per week, with the band and the naive view;
    of the customers the form's filters keep (``--customer``, ``--group``...). The
    company's, or a document currency's, is the kept forecast of the day, with the time it
    was computed (``reporting.forecast_page``)."""
    ws = workspace(request, code)
    weeks = _int_param(request, "weeks", 13)
    try:
        filters = _filters(request, ws)
        page = forecast_page(ws.company, as_of=ws.as_of, weeks=weeks, filters=filters)
        w = page.weeks
        # in a document currency when one is asked (``report forecast --document-currency``)
        base = document_currency(filters) or ws.company.base_currency
    except LedgerError as exc:
        return _refused(request, ws, exc)
    starts = [ws.as_of + timedelta(days=1 + 7 * k) for k in range(weeks)]
    series = FORECAST_SERIES
    if _wants_csv(request):
        return _csv(f"forecast-{ws.as_of}.csv", FORECAST_HEADERS, forecast_rows(w, starts, base))
    chart = forecast_svg(starts, w, base, ws.as_of, ws.formatter)
    rows = [(k + 1, d, *[getattr(w, s)[k] for s in series]) for k, d in enumerate(starts)]
    return _page(request, ws, "web/report_forecast.html", rows=rows, chart=chart,
                 weeks=weeks, total_naive=sum(w.naive), total_expected=sum(w.expected),
                 f=filters, currency=base, computed_at=page.computed_at, stale=page.stale)


@login_required
@require_safe
def unapplied(request: HttpRequest, code: str) -> HttpResponse:
    """``report unapplied``: receipts and credit notes not yet applied on the day."""
    ws = workspace(request, code)
    kind = choice_param(request, "kind", ("all", "receipts", "credit_notes")) or "all"
    base = ws.company.base_currency
    try:
        filters = _filters(request, ws)
        items = unapplied_items(ws.company, as_of=ws.as_of, kind=kind, filters=filters)
        if _wants_csv(request):
            return _csv(f"unapplied-{ws.as_of}.csv", UNAPPLIED_HEADERS,
                        unapplied_rows(items, base))
        page = page_param(request)
        rows = list(islice(items, (page - 1) * PAGE_SIZE, page * PAGE_SIZE + 1))
    except LedgerError as exc:
        return _refused(request, ws, exc)
    return _page(request, ws, "web/report_unapplied.html", kind=kind, f=filters,
                 **_paged(rows, page))


def _day(data: QueryDict, name: str) -> date | None:
    raw = str(data.get(name, "")).strip()
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _period(data: QueryDict, ws: Workspace) -> tuple[str, date, date]:
    """The statement's customer and period as its form gives them: to the workspace's day
    and from the first of that month unless told."""
    end = _day(data, "to") or ws.as_of
    return str(data.get("customer", "")).strip()[:40], _day(data, "from") or end.replace(day=1), end


@login_required
@require_safe
def statement(request: HttpRequest, code: str) -> HttpResponse:
    """A customer's statement for a period: the opening balance, each movement with the
    running balance, the closing balance, and the aging on the period's last day;
    ``?format=pdf``: the period's PDF, as ``customer statement --from --to --output``."""
    ws = workspace(request, code)
    customer, start, end = _period(request.GET, ws)
    context: dict[str, Any] = {"customer": customer, "start": start, "end": end}
    if customer and request.GET.get("format") == "pdf":
        try:
            _, pdf = statement_pdf(actor=request.user, company=ws.company, code=customer,
                                   start=start, end=end)
        except LedgerError as exc:
            return _refused(request, ws, exc)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="statement-{customer}-{start}-{end}.pdf"')
        return response
    if customer:
        try:
            st, aging_end = period_statement(ws.company, code=customer, start=start, end=end)
        except LedgerError as exc:
            return _refused(request, ws, exc)
        context.update(statement=st, lines=running(st),
                       currencies=[(c, st.opening.get(c, 0), st.closing.get(c, 0))
                                   for c in currencies(st, ws.company.base_currency)],
                       buckets=list(zip(aging_end.buckets, aging_end.base, strict=True)),
                       base=ws.company.base_currency, may_send=may(ws))
    return _page(request, ws, "web/report_statement.html", **context)


@login_required
@require_POST
def statement_email(request: HttpRequest, code: str) -> HttpResponse:
    """E-mail a customer's statement for a period with its PDF, to the addresses typed or
    else to its billing contacts (``reporting.statement_pdf.statement_send``, as
    ``customer statement --from --to --email``); the service checks the role."""
    ws = workspace(request, code)
    customer, start, end = _period(request.POST, ws)
    to = [a.strip() for a in str(request.POST.get("recipients", "")).split(",") if a.strip()]
    try:
        if not customer:
            raise ValidationFailed("the statement needs a customer code", customer=customer)
        st, comm = statement_send(actor=request.user, company=ws.company, code=customer,
                                  start=start, end=end, as_of=ws.as_of, to=to or None)
    except LedgerError as exc:
        return refused(request, ws, exc)
    back = reverse("web:report_statement", args=[ws.company.code]) + "?" + urlencode(
        {"customer": st.customer, "from": start.isoformat(), "to": end.isoformat()})
    return _page(request, ws, "web/done.html", title=gettext("Sent"),
                 message=gettext("The statement of %(customer)s from %(start)s to %(end)s "
                                 "was e-mailed to %(to)s: %(status)s.") % {
                     "customer": st.customer, "start": start.isoformat(),
                     "end": end.isoformat(), "to": comm.recipients, "status": comm.status},
                 back=back)



@login_required
@require_safe
def bank(request: HttpRequest, code: str) -> HttpResponse:
    """``bank reconcile-report --detail``: a bank account's statement balance against its
    book balance on the day, and the items on one side and not the other."""
    ws = workspace(request, code)
    account = request.GET.get("account", "").strip()[:20]
    try:
        r = reconciliation(ws.company, as_of=ws.as_of, account_code=account)
    except LedgerError as exc:
        return _refused(request, ws, exc)
    # a page of each list, the totals of the whole: on a year of receipts no statement has
    # met, the books' side is every receipt (251,100 rows took 14 s of CPU to render)
    page = page_param(request)
    start, end = (page - 1) * PAGE_SIZE, page * PAGE_SIZE
    bank_rows = r.on_statement_not_in_books[start:end + 1]
    book_rows = r.in_books_not_on_statement[start:end + 1]
    return _page(request, ws, "web/report_bank.html", r=r, account=account,
                 bank_total=sum(i.amount for i in r.on_statement_not_in_books),
                 book_total=-sum(i.amount for i in r.in_books_not_on_statement),
                 bank_rows=bank_rows[:PAGE_SIZE], book_rows=book_rows[:PAGE_SIZE], page=page,
                 has_next=len(bank_rows) > PAGE_SIZE or len(book_rows) > PAGE_SIZE,
                 has_previous=page > 1)
