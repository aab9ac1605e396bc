"""What the reporting app answers, for the interfaces: the aged receivables of a day (summed
per customer, or item by item), and the unapplied cash and credit notes of a day.

Each selector takes the filters as people give them (a customer code, a country, a currency)
and checks them; the work is done in SQL by ``aging.py`` and ``unapplied.py``. Later reports
(KPIs, trends, the forecast) belong beside these, each reading the same open items.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from operator import attrgetter
from typing import Any, TypeVar

from salesledger.apps.core.collector import collector_paused
from salesledger.apps.core.models import Company
from salesledger.apps.core.selectors import memberships_of
from salesledger.apps.core.services import company_today
from salesledger.apps.customers.models import Customer
from salesledger.apps.customers.selectors import (
    MANY,
    customer_family,
    customer_get,
    customers_and_aliases,
    group_members,
)
from salesledger.apps.fx.selectors import rate_on
from salesledger.domain.aging import (
    DEFAULT_BUCKETS,
    AgeBy,
    Bucket,
    overdue_part,
    parse_buckets,
)
from salesledger.domain.countries import is_country
from salesledger.domain.errors import ValidationFailed
from salesledger.domain.forecast import Weeks
from salesledger.domain.fx import convert_back
from salesledger.domain.kpis import MonthInputs, MonthKpis, month_kpis
from salesledger.domain.segments import SIZE_BANDS
from salesledger.domain.trends import Rate
from salesledger.domain.trends import flags as rise_flags
from salesledger.money import is_currency

from .aging import (
    AgingCell,
    AgingScope,
    aging_by_customer,
    aging_cells,
    aging_item_rows,
    customer_owners,
)
from .aging_summary import BUCKETS as SUMMARY_BUCKETS
from .aging_summary import (
    SummaryRead,
    summary_build,
    summary_customer_page,
    summary_day,
    summary_group_page,
    summary_page_span,
    summary_read,
    summary_rolled_back,
    summary_totals,
)
from .bank_kpis import auto_match_rates
from .forecast import Backtest, ForecastFilter, backtest, estimator_for, forecast
from .kpi_keep import kpi_inputs as kept_kpi_inputs
from .kpi_keep import kpi_inputs_among
from .kpis import (
    add_months,
    kpi_inputs_by,
    last_month_dso,
    month_end,
    month_label,
    months_ending,
)
from .providers import Value, provided_kpis
from .providers import provided as provided_kpi_list
from .segments import SEGMENTS, check_segment, customer_segments
from .statement import Statement, currencies, customer_statement, running
from .trend_keep import trend_cohorts
from .trends import CohortRow, cohort_rows, fold_segments
from .unapplied import unapplied_cash_totals, unapplied_credit_notes, unapplied_receipts

T = TypeVar("T")

__all__ = ["AgingReport", "Backtest", "KpiMonth", "ReportFilters", "Statement", "TrendRow",
           "Weeks", "aging_items", "aging_report", "cash_forecast", "currencies",
           "customer_statement", "forecast_backtest", "kpi_report", "period_statement",
           "provided_kpi_report", "customers_chosen",
           "running", "trend_report", "unapplied_items", "PortfolioRow", "portfolio",
           "SEGMENTS", "SegmentAging", "portfolio_total", "auto_match_report",
           "aging_by_segment", "aging_items_page", "kpis_by_segment", "CompanyKpis",
           "company_kpis", "aging_overview", "aging_report_page", "aging_summary_rebuild",
           "document_currency",
           "PORTFOLIO_ONLY"]


@dataclass(frozen=True)
class ReportFilters:
    """The filters of a report, as given on the command line."""

    customer: str = ""  # a customer code
    country: str = ""  # ISO 3166-1 alpha-2
    currency: str = ""  # a document currency
    group: str = ""  # a customer group: the parent's code (its subsidiaries and itself)
    # A set of customers chosen by the interface (a collector's, read from the collections
    # app above this one); None: every customer. ``among`` names it in the refusals.
    customers: tuple[str, ...] | None = None
    among: str = ""


def _scope(company: Company, as_of: date, filters: ReportFilters, *, by: str = "due",
           buckets: str = DEFAULT_BUCKETS) -> AgingScope:
    try:
        age_by = AgeBy(by)
    except ValueError:
        raise ValidationFailed(f"--by {by!r}: write 'due' or 'issue'", by=by) from None
    country = filters.country.strip().upper()
    if country and not is_country(country):
        raise ValidationFailed(f"--country {filters.country!r} is not an ISO 3166 country code",
                               country=filters.country)
    currency = filters.currency.strip().upper()
    if currency and not is_currency(currency):
        raise ValidationFailed(f"--document-currency {filters.currency!r} is not an ISO 4217 "
                               "currency code", currency=filters.currency)
    customer_id = int(customer_get(company, filters.customer).pk) if filters.customer else None
    # A survivor of a merge takes in its aliases' items, and an alias is its survivor
    # (docs/design/customer-records.md).
    family = tuple(customer_family(company, customer_id)) if customer_id is not None else ()
    if filters.group.strip() or filters.customers is not None:
        # a set of customers is the same restriction as a customer's family: its ids
        chosen = set(family) if customer_id is not None else None
        if filters.group.strip():
            chosen = _among(chosen, group_members(company, filters.group.strip()))
        if filters.customers is not None:
            chosen = _among(chosen, customers_and_aliases(company, filters.customers))
        ids = tuple(sorted(chosen or ()))
        # nothing chosen: an id no customer has, so that the report is empty (not all)
        family = ids or (0,)
        customer_id = family[0]
    return AgingScope(as_of=as_of, buckets=parse_buckets(buckets), by=age_by,
                      customer_id=family[0] if family else None, family=family,
                      country=country, currency=currency)


def _among(chosen: set[int] | None, ids: set[int]) -> set[int]:
    return ids if chosen is None else chosen & ids


def customers_chosen(company: Company, as_of: date, filters: ReportFilters
                     ) -> set[int] | None:
    """The ids of the customers that ``filters`` keep (a customer with its aliases, a group,
    a collector's set, a country), for the reports that are per customer (the KPIs, the
    trends); ``None`` without such a filter. A document currency is not a set of customers
    (``document_currency`` reads it)."""
    filters = replace(filters, currency="")
    if filters == ReportFilters():
        return None
    return _chosen_ids(company, _scope(company, as_of, filters)) or set()


def document_currency(filters: ReportFilters) -> str:
    """The document currency ``filters`` keep (ISO 4217, upper case), or ``""``: the KPIs and
    trends are then of the documents in it alone, in it (docs/design/kpis.md)."""
    currency = filters.currency.strip().upper()
    if currency and not is_currency(currency):
        raise ValidationFailed(f"--document-currency {filters.currency!r} is not an ISO 4217 "
                               "currency code", currency=filters.currency)
    return currency


def _chosen_ids(company: Company, scope: AgingScope) -> set[int] | None:
    """The ids of the customers a scope keeps (its customers, of its country); ``None``
    when it keeps every customer."""
    if not scope.family and not scope.country:
        return None
    qs = Customer.objects.filter(company=company)
    if scope.country:
        qs = qs.filter(country=scope.country)
    if len(scope.family) > MANY:  # a long list: the company's read, then kept here
        return set(qs.values_list("pk", flat=True)).intersection(scope.family)
    if scope.family:
        qs = qs.filter(pk__in=scope.family)
    return set(qs.values_list("pk", flat=True))


def _forecast_filter(company: Company, as_of: date, filters: ReportFilters
                     ) -> ForecastFilter | None:
    if filters == ReportFilters():
        return None
    scope = _scope(company, as_of, filters, buckets="current")
    chosen = _chosen_ids(company, scope)
    return ForecastFilter(scope, None if chosen is None else frozenset(chosen))


@dataclass
class CustomerAging:
    code: str
    name: str
    country: str
    # bucket amounts per document currency, and in base currency
    amounts: dict[str, list[int]] = field(default_factory=dict)
    base: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class AgingReport:
    """The aged receivables of a day. Amounts are minor units; ``base`` in the company's
    currency at the booking rates, ``by_currency`` per document currency. The buckets of
    each sum to its total; the base total is the receivable control account on the day."""

    as_of: date
    by: AgeBy
    buckets: tuple[Bucket, ...]
    base_currency: str
    base: list[int]
    by_currency: dict[str, list[int]]
    customers: list[CustomerAging]
    items: int
    # unapplied cash on the day, per currency: (amount, base amount); not in the buckets
    unapplied: dict[str, tuple[int, int]]

    @property
    def base_total(self) -> int:
        return sum(self.base)

    def overdue_of(self, amounts: list[int]) -> int:
        """The overdue part of bucket amounts of this report (aged by due date)."""
        return overdue_part(self.buckets, amounts) if self.by == AgeBy.DUE else 0

    def top_overdue(self, n: int) -> list[tuple[CustomerAging, int, int]]:
        """The ``n`` customers with the most overdue (base currency), most first, then by
        code: each with its overdue part and its whole balance."""
        ranked = sorted(((c, self.overdue_of(c.base)) for c in self.customers),
                        key=lambda pair: (-pair[1], pair[0].code))
        return [(c, overdue, sum(c.base)) for c, overdue in ranked[:n] if overdue > 0]

    @property
    def unapplied_base(self) -> int:
        """Unapplied cash on the day in base currency, all currencies together."""
        return sum(base for _, base in self.unapplied.values())


def _from_summary(company: Company, as_of: date, read: Callable[[], T | None], *,
                  build: bool = False) -> T | None:
    """``read()`` of the aging summary; with ``build``, when it is of another day (or of
    none) and ``as_of`` is the company's today, the summary is made that of today first (the
    command's first report of the day, before the worker's nightly build). Pages never
    build it: a page is a read (and may run on a read-only database); they read the open
    items until the worker has built the day's."""
    out = read()
    if out is None and build and as_of == company_today(company) \
            and summary_day(company) != as_of:
        summary_build(company, day=as_of)
        out = read()
    return out


def aging_summary_rebuild(company: Company, *, as_of: date) -> int:
    """Make the aging summary that of ``as_of`` from the books (the worker does it each
    night; ``report aging --rebuild-summary``); returns its rows (customers and
    currencies)."""
    return summary_build(company, day=as_of)


# "the summary's day is not read yet"
_UNREAD: Any = object()


def aging_report(company: Company, *, as_of: date, by: str = "due",
                 buckets: str = DEFAULT_BUCKETS,
                 filters: ReportFilters = ReportFilters(), summary: bool = True,
                 build_summary: bool = False) -> AgingReport:
    """Aged receivables on ``as_of``, summed per customer and bucket by the database: read
    from the aging summary when it is of that day and holds the buckets asked
    (``aging_summary.py``), else from the open items (``summary=False``: always).
    ``build_summary``: make the summary that of today first when it is not (the command
    does; pages do not)."""
    scope = _scope(company, as_of, filters, by=by, buckets=buckets)
    return _aging_of(company, scope, summary=summary, build_summary=build_summary)


def _aging_of(company: Company, scope: AgingScope, *, summary: bool = True,
              build_summary: bool = False, day: Any = _UNREAD) -> AgingReport:
    """``aging_report`` of ``scope``; ``day``: the summary's day (None: no summary) when it
    was read already."""
    as_of, n = scope.as_of, len(scope.buckets)
    per: dict[int, CustomerAging] = {}
    with collector_paused():  # 100,000 customers' records: see core.collector
        if summary and scope.by == AgeBy.DUE and scope.buckets == SUMMARY_BUCKETS:
            day = summary_day(company) if day is _UNREAD else day
            if day != as_of and build_summary and as_of == company_today(company):
                # the command's first report of today (see _from_summary)
                summary_build(company, day=as_of)
                day = as_of
            # the summary's day; a day before it is its rows, with the customers whose
            # aging may differ read from the items, when they are few (aging_summary.py)
            read = (summary_read(company, scope, day=day) if day == as_of
                    else summary_rolled_back(company, scope, day=day))
            if read is not None:
                return _report_of_summary(company, scope, read)
        cells = aging_by_customer(company, scope)
        # the totals column by column (``zip`` and ``sum`` run in C, where a loop over each
        # customer's buckets ran in Python)
        base = ([sum(column) for column in zip(*(c.base_open for c in cells), strict=True)]
                or [0] * n)
        in_currency: dict[str, list[list[int]]] = defaultdict(list)
        for c in cells:
            in_currency[c.currency].append(c.open)
            row = per.get(c.customer_id)
            if row is None:
                # the cell's lists are the report's own: nothing else holds them
                per[c.customer_id] = CustomerAging(c.code, c.name, c.country,
                                                   {c.currency: c.open}, c.base_open)
            else:
                row.amounts[c.currency] = c.open
                row.base = [a + b for a, b in zip(row.base, c.base_open, strict=True)]
        by_currency = {currency: [sum(column) for column in zip(*opens, strict=True)]
                       for currency, opens in in_currency.items()}
        return _report(company, scope, base, by_currency, per, sum(c.items for c in cells))


def aging_report_page(company: Company, *, as_of: date, size: int, offset: int,
                      by: str = "due", buckets: str = DEFAULT_BUCKETS,
                      filters: ReportFilters = ReportFilters()) -> AgingReport:
    """``aging_report`` with only one page of its customers (``size`` of them after the
    first ``offset``, in code order): the totals, the items and the unapplied cash are the
    whole report's. On the summary's day the page's owners are found and read in the
    database (``summary_customer_page``), not a record made per customer; another day,
    other buckets or aged by issue date, the whole report is made and cut."""
    scope = _scope(company, as_of, filters, by=by, buckets=buckets)
    day: Any = _UNREAD
    if scope.by == AgeBy.DUE and scope.buckets == SUMMARY_BUCKETS:
        day = summary_day(company)
        if day == as_of:
            with collector_paused():
                read = summary_customer_page(company, scope, size=size, offset=offset,
                                             day=day)
            if read is not None:
                return _report_of_summary(company, scope, read)
            day = _UNREAD  # a build for another day committed meanwhile: ask again
    report = _aging_of(company, scope, day=day)
    return replace(report, customers=report.customers[offset:offset + size])


def aging_overview(company: Company, *, as_of: date, top: int
                   ) -> tuple[AgingReport, list[tuple[CustomerAging, int, int]]]:
    """What a dashboard shows of ``as_of``: the report's totals (the buckets in base
    currency and per document currency, the items, the unapplied cash; no customers) and
    its ``top`` customers most overdue as ``AgingReport.top_overdue`` gives them. From the
    aging summary when it is of that day: a few rows summed, ranked and cut by the
    database, not a record per customer; else from the whole report."""
    totals = _from_summary(company, as_of,
                           lambda: summary_totals(company, as_of=as_of, top=top))
    if totals is None:  # the summary is not of the day (nor, then, can the report read it)
        report = aging_report(company, as_of=as_of, summary=False)
        return report, report.top_overdue(top)
    scope = _scope(company, as_of, ReportFilters())
    report = _report(company, scope, totals.base, totals.by_currency, {}, totals.items)
    return report, [(CustomerAging(code, name, country), late, balance)
                    for _, code, name, country, late, balance in totals.top]


def _report_of_summary(company: Company, scope: AgingScope, read: SummaryRead
                       ) -> AgingReport:
    """The report of the summary's rows: a record per owner (the survivor of a merge), the
    totals as the database summed them. What the rows hold is the customers' cells of
    ``aging_by_customer``, so the report is the same (tests/db/test_aging_summary.py)."""
    n = len(scope.buckets)
    per: dict[int, CustomerAging] = {}
    for row in read.rows:
        owner, currency = row[4] or row[0], row[5]
        opens = list(row[6:6 + n])
        bases = opens[:] if row[6 + n] is None else list(row[6 + n:6 + 2 * n])
        had = per.get(owner)
        if had is None:
            code, name, country = (row[1:4] if row[4] is None else read.survivors[owner])
            per[owner] = CustomerAging(code, name, country, {currency: opens}, bases)
            continue
        # an alias's items, under its survivor
        same = had.amounts.get(currency)
        had.amounts[currency] = (opens if same is None else
                                 [a + b for a, b in zip(same, opens, strict=True)])
        had.base = [a + b for a, b in zip(had.base, bases, strict=True)]
    base, by_currency, items = _summed(n, read.totals)
    return _report(company, scope, base, by_currency, per, items)


def _summed(n: int, totals: list[tuple[Any, ...]]
            ) -> tuple[list[int], dict[str, list[int]], int]:
    """The buckets in base currency, per document currency and the items of the summary's
    totals (``SummaryRead.totals``: a row per currency)."""
    base, by_currency, items = [0] * n, {}, 0
    for row in totals:
        by_currency[row[0]] = [int(a) for a in row[1:1 + n]]
        base = [a + int(b) for a, b in zip(base, row[1 + n:1 + 2 * n], strict=True)]
        items += int(row[1 + 2 * n])
    return base, by_currency, items


def _report(company: Company, scope: AgingScope, base: list[int],
            by_currency: dict[str, list[int]], per: dict[int, CustomerAging],
            items: int) -> AgingReport:
    """The aging report of the sums made, with the scope's unapplied cash."""
    unapplied = unapplied_cash_totals(
        company, as_of=scope.as_of, customer_id=scope.customer_id, country=scope.country,
        currency=scope.currency, family=scope.family)
    return AgingReport(
        as_of=scope.as_of, by=scope.by, buckets=scope.buckets,
        base_currency=company.base_currency, base=base, by_currency=dict(by_currency),
        customers=sorted(per.values(), key=attrgetter("code")), items=items,
        unapplied=unapplied)


def _assemble(company: Company, scope: AgingScope, cells: list[AgingCell]) -> AgingReport:
    n = len(scope.buckets)
    base = [0] * n
    by_currency: dict[str, list[int]] = defaultdict(lambda: [0] * n)
    # an alias's items are its survivor's (docs/design/customer-records.md)
    names = customer_owners(company, sorted({c.customer_id for c in cells}))
    per: dict[int, CustomerAging] = {}
    for c in cells:
        who, code, name, country = names[c.customer_id]
        row = per.setdefault(who, CustomerAging(code, name, country, base=[0] * n))
        row.amounts.setdefault(c.currency, [0] * n)[c.bucket] += c.open
        row.base[c.bucket] += c.base_open
        base[c.bucket] += c.base_open
        by_currency[c.currency][c.bucket] += c.open
    return _report(company, scope, base, by_currency, per, sum(c.items for c in cells))


@dataclass(frozen=True)
class SegmentAging:
    """The aging of one segment's customers (base currency, minor units)."""

    segment: str
    customers: int  # customers with something open on the day
    base: list[int]


def aging_by_segment(company: Company, *, as_of: date, segment: str, by: str = "due",
                     buckets: str = DEFAULT_BUCKETS, filters: ReportFilters = ReportFilters()
                     ) -> tuple[AgingReport, list[SegmentAging]]:
    """The aging of ``as_of`` and its buckets summed per segment (``group`` or ``size``:
    ``segments.py``), in base currency, from the same cells: the segments' buckets add up
    to the report's. Segments with nothing open are listed with zeros."""
    check_segment(segment)
    scope = _scope(company, as_of, filters, by=by, buckets=buckets)
    cells = aging_cells(company, scope)
    report = _assemble(company, scope, cells)
    of = customer_segments(company, segment, as_of=as_of)
    n = len(scope.buckets)
    per: dict[str, list[int]] = {name: [0] * n for name in set(of.values())}
    who: dict[str, set[int]] = defaultdict(set)
    owners = customer_owners(company, sorted({c.customer_id for c in cells}))
    for c in cells:
        name = of[c.customer_id]
        per[name][c.bucket] += c.base_open
        who[name].add(owners[c.customer_id][0])
    order = sorted(per, key=lambda k: (k not in SIZE_BANDS, k))  # A, B, C or by code
    return report, [SegmentAging(name, len(who[name]), per[name]) for name in order]


def aging_by_segment_page(company: Company, *, as_of: date, segment: str, size: int,
                          offset: int, by: str = "due", buckets: str = DEFAULT_BUCKETS,
                          filters: ReportFilters = ReportFilters()
                          ) -> tuple[AgingReport, list[SegmentAging]]:
    """``aging_by_segment`` with only the ``size`` segments after the first ``offset`` (in
    its order) and a report of the totals alone (no customers). Per customer group on the
    summary's day, the page's groups are listed, cut and summed by the database and the
    totals are the summary's (``summary_group_page``), not a record made per customer;
    otherwise (the size bands, another day, other buckets, aged by issue date) the whole
    is made and cut."""
    check_segment(segment)
    scope = _scope(company, as_of, filters, by=by, buckets=buckets)
    if segment == "group" and scope.by == AgeBy.DUE and scope.buckets == SUMMARY_BUCKETS:
        day = summary_day(company)
        if day == as_of:
            with collector_paused():
                read = summary_group_page(company, scope, size=size, offset=offset, day=day)
            if read is not None:
                rows, totals = read
                base, by_currency, items = _summed(len(scope.buckets), totals)
                report = _report(company, scope, base, by_currency, {}, items)
                return report, [SegmentAging(r[0], r[1], list(r[2:])) for r in rows]
    report, segments = aging_by_segment(company, as_of=as_of, segment=segment, by=by,
                                        buckets=buckets, filters=filters)
    return replace(report, customers=[]), segments[offset:offset + size]


def kpis_by_segment(company: Company, *, as_of: date, months: int = 12, segment: str
                    ) -> dict[str, list[KpiMonth]]:
    """``kpi_report`` of each segment's customers (``group`` or ``size``), from the same
    queries grouped by customer as well; the size bands are those of ``as_of``."""
    check_segment(segment)
    chosen = months_ending(as_of, _months(months))
    of = customer_segments(company, segment, as_of=as_of)
    order = sorted(set(of.values()), key=lambda k: (k not in SIZE_BANDS, k))
    inputs = kpi_inputs_by(company, chosen, of)
    return {name: [KpiMonth(month_label(m), i, month_kpis(i, history))
                   for m, i, history in inputs[name]] for name in order}


def aging_items(company: Company, *, as_of: date, by: str = "due",
                buckets: str = DEFAULT_BUCKETS, filters: ReportFilters = ReportFilters(),
                limit: int | None = None, offset: int = 0
                ) -> tuple[tuple[Bucket, ...], Iterator[dict[str, Any]]]:
    """The buckets and, streamed, every item open on ``as_of`` with its age and bucket
    (``bucket`` is an index into the buckets; ``days`` its age), by customer and date;
    with ``limit``, only the ``limit`` items after the first ``offset`` of that order."""
    scope = _scope(company, as_of, filters, by=by, buckets=buckets)

    def rows() -> Iterator[dict[str, Any]]:
        for r in aging_item_rows(company, scope, limit=limit, offset=offset):
            ref = r["due_date"] if scope.by == AgeBy.DUE else r["issue_date"]
            yield {**r, "days": (as_of - ref).days}

    return scope.buckets, rows()


def aging_items_page(company: Company, *, as_of: date, by: str = "due",
                     buckets: str = DEFAULT_BUCKETS, filters: ReportFilters = ReportFilters(),
                     size: int, offset: int) -> tuple[tuple[Bucket, ...], list[dict[str, Any]]]:
    """The ``size`` items after the first ``offset`` of ``aging_items``' order (by customer
    code, then date and document), without sorting every item of the day: the items are
    counted per customer first (the aging's grouped reading of the covering index), the
    customers whose items the page spans are found by walking those counts in code order,
    and only their items are read and sorted."""
    scope = _scope(company, as_of, filters, by=by, buckets=buckets)
    if scope.customer_id is not None:  # one customer's items: few, read them at once
        return scope.buckets, _with_days(scope, aging_item_rows(
            company, scope, limit=size, offset=offset))
    span = summary_page_span(company, scope, size=size, offset=offset)
    if span is not None:
        # the summary's counts of items per customer, run through in the database: no pass
        # over the day's open items
        chosen, skip = span
    else:
        chosen, skip = _page_span(company, scope, size=size, offset=offset)
    if not chosen:
        return scope.buckets, []
    page = AgingScope(as_of=scope.as_of, buckets=scope.buckets, by=scope.by,
                      customer_id=chosen[0], family=tuple(chosen), country=scope.country,
                      currency=scope.currency)
    return scope.buckets, _with_days(scope, aging_item_rows(company, page, limit=size,
                                                            offset=skip))


def _page_span(company: Company, scope: AgingScope, *, size: int, offset: int
               ) -> tuple[list[int], int]:
    """``summary_page_span`` of a day the summary is not of: from the items counted per
    customer by the aging's grouped reading of the covering index."""
    cells = aging_cells(company, scope)
    owners = customer_owners(company, sorted({c.customer_id for c in cells}))
    counts: dict[str, int] = defaultdict(int)
    ids: dict[str, list[int]] = defaultdict(list)
    for c in cells:
        code = owners[c.customer_id][1]
        counts[code] += c.items
        if c.customer_id not in ids[code]:
            ids[code].append(c.customer_id)
    seen, skip, chosen = 0, 0, []
    for code in sorted(counts):
        if seen + counts[code] > offset and seen < offset + size:
            if not chosen:
                skip = offset - seen
            chosen += ids[code]
        seen += counts[code]
    return chosen, skip


def _with_days(scope: AgingScope, rows: Iterator[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        ref = r["due_date"] if scope.by == AgeBy.DUE else r["issue_date"]
        out.append({**r, "days": (scope.as_of - ref).days})
    return out


def unapplied_items(company: Company, *, as_of: date, kind: str = "all",
                    filters: ReportFilters = ReportFilters()) -> Iterator[dict[str, Any]]:
    """Receipts not yet applied, then credit notes not yet applied, on ``as_of``
    (``kind``: ``all``, ``receipts`` or ``credit_notes``); streamed."""
    if kind not in ("all", "receipts", "credit_notes"):
        raise ValidationFailed(f"--kind {kind!r}: write 'receipts' or 'credit-notes'",
                               kind=kind)
    scope = _scope(company, as_of, filters)
    where = {"customer_id": scope.customer_id, "country": scope.country,
             "currency": scope.currency, "family": scope.family}
    if kind in ("all", "receipts"):
        yield from unapplied_receipts(company, as_of=as_of, **where)
    if kind in ("all", "credit_notes"):
        yield from unapplied_credit_notes(company, as_of=as_of, **where)


def period_statement(company: Company, *, code: str, start: date, end: date
                     ) -> tuple[Statement, AgingReport]:
    """A customer's statement from ``start`` to ``end`` and its aging on ``end``."""
    statement = customer_statement(company, code=code, start=start, end=end)
    aging = aging_report(company, as_of=end, filters=ReportFilters(customer=code))
    return statement, aging


@dataclass(frozen=True)
class KpiMonth:
    """One month of KPIs with the inputs they were computed from."""

    month: str  # YYYY-MM
    inputs: MonthInputs
    kpis: MonthKpis


def _months(months: int) -> int:
    if not 1 <= months <= 120:
        raise ValidationFailed(f"--months {months}: give 1 to 120", months=months)
    return months


def auto_match_report(company: Company, *, as_of: date, months: int = 12
                      ) -> dict[str, tuple[Rate, Rate]]:
    """The auto-match rate of bank lines (by count, by amount) of the months of
    ``kpi_report`` (``bank_kpis.py``)."""
    return auto_match_rates(company, months_ending(as_of, _months(months)))


def provided_kpi_report(company: Company, *, as_of: date, months: int = 12
                        ) -> dict[str, dict[str, Value]]:
    """The KPIs that the apps above reporting provide (``providers.py``: the dispute rate,
    the time to resolve, the promise-kept rate) for the months of ``kpi_report``."""
    return provided_kpis(company, months_ending(as_of, _months(months)))


@dataclass(frozen=True)
class CompanyKpis:
    """The monthly KPIs of the whole company beside ``kpi_report``'s: the auto-match rate
    of bank lines (``bank_kpis.py``) and the KPIs the apps above give (``providers.py``).
    ``names`` are their columns in order; ``months`` maps ``YYYY-MM`` to each one's value
    (a count, a percentage, or ``None`` where there is none)."""

    names: tuple[str, ...]
    months: dict[str, dict[str, Value]]


BANK_KPIS = ("bank_lines", "auto_match_rate", "auto_match_amount_rate")


def company_kpis(company: Company, *, as_of: date, months: int = 12, filtered: bool = False
                 ) -> CompanyKpis:
    """The KPIs of the whole company for the months of ``kpi_report``, for the exports and
    the pack. With ``filtered`` (a report of a set of customers), every value is ``None``:
    bank lines and casework are not told by customer here, and the company's figures beside
    those of a few customers would mislead."""
    chosen = months_ending(as_of, _months(months))
    names = (*BANK_KPIS, *(k.name for k in provided_kpi_list()))
    if filtered:
        return CompanyKpis(names, {month_label(m): dict.fromkeys(names) for m in chosen})
    matched = auto_match_rates(company, chosen)
    given = provided_kpis(company, chosen)
    out: dict[str, dict[str, Value]] = {}
    for m in chosen:
        key = month_label(m)
        by_count, by_amount = matched[key]
        out[key] = {"bank_lines": by_count.whole, "auto_match_rate": by_count.percent,
                    "auto_match_amount_rate": by_amount.percent, **given[key]}
    return CompanyKpis(names, out)


def kpi_report(company: Company, *, as_of: date, months: int = 12,
               filters: ReportFilters = ReportFilters(), keep: bool = False
               ) -> list[KpiMonth]:
    """The KPIs of the ``months`` whole months ending on or before ``as_of``, oldest first;
    with ``filters``, of the customers they keep (``customers_chosen``): the same queries
    keeping those customers' rows, or, when they are most of the company's, the company's
    figures less those of the others (``kpi_keep.kpi_inputs_among``); with a document
    currency, of the documents in it, every amount in it (``document_currency``). The
    company's figures (in a document currency or not) of ended months are read from those
    kept when all are (``kpi_keep.py``); with ``keep`` (a command, not a page), those
    computed are kept for the next report."""
    chosen = months_ending(as_of, _months(months))
    currency = document_currency(filters)
    customers = customers_chosen(company, as_of, filters)
    inputs = (kept_kpi_inputs(company, chosen, currency, keep=keep) if customers is None
              else kpi_inputs_among(company, chosen, currency, customers, keep=keep))
    return [KpiMonth(month_label(m), i, month_kpis(i, history)) for m, i, history in inputs]


# The trends per invoice month alone, or per invoice month and country, customer group or
# size band.
TREND_BY = ("cohort", "country", *SEGMENTS)


@dataclass(frozen=True)
class TrendRow:
    row: CohortRow
    flagged: tuple[str, ...]  # the measures whose rate rose markedly: late, unpaid_90, ...


def trend_report(company: Company, *, as_of: date, months: int = 12, by: str = "cohort",
                 filters: ReportFilters = ReportFilters(), keep: bool = False,
                 live: list[str] | None = None) -> list[TrendRow]:
    """The cohorts of the invoices issued in the ``months`` months up to ``as_of``'s, each
    with the measures whose rate (by count) rose markedly against the months before it
    (domain/trends.py), within its segment; with ``filters``, of the invoices of the
    customers they keep (the rows by customer, folded), and of one document currency, in
    it (``document_currency``). The company's cohorts (by cohort, no filter) are read from
    those kept when they are (``trend_keep.py``); with ``keep`` (a command, the worker),
    those computed are kept; ``live`` gets the cohorts that were computed from the books."""
    if by not in TREND_BY:
        raise ValidationFailed(f"--by {by!r}: write " + ", ".join(f"'{b}'" for b in TREND_BY),
                               by=by)
    last = as_of.replace(day=1)
    first = add_months(last, 1 - _months(months))
    currency = document_currency(filters)
    customers = customers_chosen(company, as_of, filters)
    if by == "cohort" and not currency and customers is None:
        kept = trend_cohorts(company, first=first, last=last, as_of=as_of, keep=keep)
        rows = kept.rows
        if live is not None:
            live.extend(kept.live)
    else:
        # with filters, the invoices of the chosen customers alone (kept by each statement)
        rows = cohort_rows(company, first=first, last=last, as_of=as_of,
                           by_country=by == "country", by_customer=by in SEGMENTS,
                           currency=currency, customers=customers)
    if by in SEGMENTS:  # group or size band (of as_of)
        rows = fold_segments(rows, customer_segments(company, by, as_of=as_of))
    marked: dict[int, list[str]] = defaultdict(list)
    segments: dict[str, list[int]] = defaultdict(list)
    for n, r in enumerate(rows):
        segments[r.segment].append(n)
    for idx in segments.values():
        for measure in ("late", "unpaid_90", "written_off"):
            rates = [getattr(rows[n], measure) for n in idx]
            for n, up in zip(idx, rise_flags(rates), strict=True):
                if up:
                    marked[n].append(measure)
    return [TrendRow(r, tuple(marked[n])) for n, r in enumerate(rows)]


def _weeks(weeks: int) -> int:
    if not 1 <= weeks <= 52:
        raise ValidationFailed(f"--weeks {weeks}: give 1 to 52", weeks=weeks)
    return weeks


def cash_forecast(company: Company, *, as_of: date, weeks: int = 13,
                  estimator: str | None = None, filters: ReportFilters = ReportFilters()
                  ) -> Weeks:
    """Expected receipts per week after ``as_of``, with the naive view beside them; by the
    payment model when the company has a stored one usable on the day, else by each payer's
    median delay, unless ``estimator`` names one (``forecast.estimator_for``). With
    ``filters``, of the open items, recurring invoices and commitments of the customers they
    keep; with a document currency, of the documents in it, every amount in it
    (``document_currency``), else in the company's currency at the booking rates."""
    return forecast(company, as_of=as_of, weeks=_weeks(weeks), estimator=estimator,
                    only=_forecast_filter(company, as_of, filters))


def forecast_backtest(company: Company, *, as_of: date, weeks: int = 13, runs: int = 12,
                      estimator: str | None = None, filters: ReportFilters = ReportFilters()
                      ) -> Backtest:
    """Forecasts made on the last days of the ``runs`` months whose ``weeks`` weeks after
    ended by ``as_of``, against what was received; with the estimator a forecast on
    ``as_of`` would use unless ``estimator`` names one (the model trains one model per
    run's day then: nothing it learns may come after that day). With a document currency,
    forecasts and receipts alike are of its documents, in it."""
    _weeks(weeks)
    estimator = estimator_for(company, as_of, estimator)
    if not 1 <= runs <= 60:
        raise ValidationFailed(f"--runs {runs}: give 1 to 60", runs=runs)
    last = as_of - timedelta(days=7 * weeks)
    days = [month_end(m) for m in months_ending(last, runs)]
    return backtest(company, days=days, weeks=weeks, estimator=estimator,
                    only=_forecast_filter(company, as_of, filters))


def forecast_estimator(company: Company, *, as_of: date, estimator: str | None = None) -> str:
    """The estimator ``cash_forecast`` and ``forecast_backtest`` use on ``as_of``."""
    return estimator_for(company, as_of, estimator)


@dataclass(frozen=True)
class PortfolioRow:
    """One company of a portfolio on a day, in its own base currency (minor units)."""

    code: str
    name: str
    role: str  # the user's role there
    currency: str
    receivable: int
    overdue: int  # a day or more past due
    over_90: int  # more than 90 days past due
    unapplied: int  # unapplied cash, beside the receivable
    dso: Decimal | None  # of the last whole month to the day (simple)
    # With a currency to convert to: the company's rate of it on the day (units of the
    # company's currency per unit of it) and the four amounts converted, in that order.
    rate: Decimal | None = None
    converted: tuple[int, int, int, int] | None = None

    @property
    def over_90_share(self) -> Decimal | None:
        return (Decimal(self.over_90 * 100) / self.receivable).quantize(
            Decimal("0.1"), ROUND_HALF_UP) if self.receivable > 0 else None


# The conditions a portfolio may keep its companies by: what needs the team's attention.
PORTFOLIO_ONLY = {
    "overdue": lambda r: r.overdue > 0,  # something a day or more past due
    "over_90": lambda r: r.over_90 > 0,  # something more than 90 days past due
    "unapplied": lambda r: r.unapplied > 0,  # cash received and not yet applied
}


def portfolio(user: Any, *, as_of: date, currency: str = "", only: str = ""
              ) -> list[PortfolioRow]:
    """Every company ``user`` is a member of, by code, with its receivable, overdue and
    over-90 parts, unapplied cash and DSO on ``as_of``: for a team that keeps the ledgers of
    many companies. A fixed number of queries per company (the aging of the day, the
    unapplied cash, the last whole month's DSO (``kpis.last_month_dso``: its sales, and its
    receivable when it did not end on ``as_of``), and the rate of ``currency`` when one is
    asked),
    none per item. With ``currency``, each company's amounts are also converted to it at
    that company's own rate of the day (``fx rate add``), so that they add up; a company
    without one is refused, naming it. With ``only`` (``PORTFOLIO_ONLY``), the companies
    where that holds: with something overdue, over 90 days, or cash to apply."""
    target = currency.strip().upper()
    if target and not is_currency(target):
        raise ValidationFailed(f"--in {currency!r} is not an ISO 4217 currency code",
                               currency=currency)
    keep = PORTFOLIO_ONLY.get(only.replace("-", "_")) if only else None
    if only and keep is None:
        raise ValidationFailed(f"--only {only!r}: write " + ", ".join(
            f"'{k.replace('_', '-')}'" for k in PORTFOLIO_ONLY), only=only)
    rows = []
    for company, role in memberships_of(user):
        parts = [0, 0, 0]  # current, 1-90, over 90
        totals = summary_totals(company, as_of=as_of, top=0)
        if totals is not None:  # the summary's buckets: current, 1-30, ..., 91-120, over 120
            parts = [totals.base[0], sum(totals.base[1:4]), sum(totals.base[4:])]
        else:
            scope = AgingScope(as_of=as_of, buckets=parse_buckets("current,90"))
            for c in aging_cells(company, scope):
                parts[c.bucket] += c.base_open
        cash = sum(b for _, b in unapplied_cash_totals(company, as_of=as_of).values())
        dso = last_month_dso(company, as_of, sum(parts))
        amounts = (sum(parts), parts[1] + parts[2], parts[2], cash)
        rate, converted = None, None
        if target:
            rate = rate_on(company, target, as_of)
            converted = (amounts if target == company.base_currency else tuple(
                convert_back(a, company.base_currency, target, rate) for a in amounts))
        rows.append(PortfolioRow(company.code, company.name, role, company.base_currency,
                                 *amounts, dso, rate,
                                 converted))  # type: ignore[arg-type]
    return rows if keep is None else [r for r in rows if keep(r)]


def portfolio_total(rows: list[PortfolioRow]) -> tuple[int, int, int, int]:
    """The converted amounts of the rows summed: receivable, overdue, over 90, unapplied."""
    sums = [0, 0, 0, 0]
    for r in rows:
        for k, v in enumerate(r.converted or (0, 0, 0, 0)):
            sums[k] += v
    return sums[0], sums[1], sums[2], sums[3]
