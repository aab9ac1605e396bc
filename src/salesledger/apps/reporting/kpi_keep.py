"""The KPIs' inputs of ended months, kept (docs/design/kpis.md, "Kept months").

A month's KPI inputs (its sales, the receivable at its end and its two parts, its receipts
and bad debts) change after the month has ended only through an entry dated in it or before:
a back-dated invoice or credit note, an allocation or adjustment dated back, or the reversal
of an allocation made in it. So ``kpi_inputs`` (the company's figures, or of one document
currency; never of a set of customers) reads the figures of ended months from ``KpiFigure``
when every one it needs is there at the company's current ``KpiKeep.version``, and computes
them live otherwise (``kpis.py``); with ``keep`` (the command line, the worker: a page only
reads) it then stores those of the months ended at least two days before, with the version
it read *before* reading the books.

Every transaction that writes an entry dated in a month that has ended (by the server's
clock, a day ahead: any time zone's month end is then counted as ended) adds one to the
version (``version_bump``, from the handlers of ``DocumentsPosted``, ``AllocationsMade``,
``AllocationsReversed`` and ``AdjustmentsWritten``: every writer of an open item, of a
receipt's allocation and of a bad debt), in that transaction. A figure stored at an older
version is never read again; one computed while such a transaction ran carries the version
of before it, so it is never read once that transaction has committed. The two days' margin
keeps a month that a reader may keep always "ended" for a writer anywhere on Earth.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.db.models import F, Min
from django.utils import timezone

from salesledger.apps.core.models import Company
from salesledger.apps.customers.models import Customer
from salesledger.apps.payments.models import Allocation
from salesledger.money import format_minor

from . import kpis
from .kpis import (
    COUNTBACK_MONTHS,
    KpiInputs,
    Parts,
    _inputs,
    _key,
    add_months,
    kpi_parts,
    month_end,
    month_start,
    parts_less,
)
from .models import KpiFigure, KpiKeep

# A month is kept once it ended this many days before the company's today.
MARGIN = timedelta(days=2)

def keep_create(company_id: int) -> None:
    """The company's version row: made with the company."""
    KpiKeep.objects.get_or_create(company_id=company_id)


def version_bump(company_id: int, days: Iterable[date]) -> bool:
    """In the writing transaction: when any of ``days`` is in a month that has ended (its
    last day at most tomorrow by the server's clock), every kept figure of the company is
    stale. Returns whether it was."""
    earliest = min(days, default=None)
    if earliest is None or month_end(earliest) > timezone.localdate() + timedelta(days=1):
        return False
    KpiKeep.objects.filter(company_id=company_id).update(version=F("version") + 1)
    return True


def bump_after_reversals(company_id: int, days: Iterable[date],
                         allocation_ids: Iterable[int]) -> None:
    """A reversal changes the month it is dated in and the month of the allocation it
    undoes (whose receipt no longer counts as paid there)."""
    if version_bump(company_id, days):
        return
    ids = sorted(set(allocation_ids))
    version_bump(company_id, [d for k in range(0, len(ids), 2000)
                              if (d := Allocation.objects.filter(pk__in=ids[k:k + 2000])
                                  .aggregate(d=Min("date"))["d"]) is not None])


def _version(company: Company) -> int | None:
    return KpiKeep.objects.filter(company=company).values_list("version", flat=True).first()


def _needed(months: list[date]) -> tuple[list[date], list[date], list[date]]:
    """The months whose sales, month ends and receipts ``kpi_inputs`` of ``months`` reads."""
    history_start = add_months(months[0], -COUNTBACK_MONTHS)
    sales, m = [], history_start
    while m <= months[-1]:
        sales.append(m)
        m = add_months(m, 1)
    return sales, [add_months(months[0], -1), *months], list(months)


def kept_parts(company: Company, months: list[date], currency: str = "") -> Parts | None:
    """The parts of ``kpi_inputs`` of ``months`` from the kept figures, or None when one of
    them is not kept at the company's version."""
    version = _version(company)
    if version is None:
        return None
    sales_m, end_m, paid_m = _needed(months)
    rows = KpiFigure.objects.filter(
        company=company, currency=currency, version=version, month__gte=sales_m[0],
        month__lte=months[-1]).values_list("part", "month", "a", "b", "c", "d")
    got = {(part, m): (a, b, c, d) for part, m, a, b, c, d in rows}
    if (any(("sales", m) not in got for m in sales_m)
            or any(("end", m) not in got for m in end_m)
            or any(("paid", m) not in got for m in paid_m)):
        return None
    sales = {_key(m): got["sales", m][0] for m in sales_m}
    paid = {_key(m): got["paid", m][:3] for m in paid_m}
    bad = {_key(m): got["paid", m][3] for m in paid_m}
    at = {month_end(m): got["end", m][:3] for m in end_m}
    return sales, paid, bad, at


def _store(company: Company, months: list[date], currency: str, version: int,
           parts: Parts) -> int:
    """Store the figures of the ended months among ``parts``; returns how many."""
    sales, paid, bad, at = parts
    now = timezone.now()
    last = now.astimezone(ZoneInfo(company.time_zone)).date() - MARGIN
    sales_m, end_m, paid_m = _needed(months)

    def row(part: str, m: date, a: int, b: int = 0, c: int = 0, d: int = 0) -> KpiFigure:
        return KpiFigure(company=company, currency=currency, month=m, part=part,
                         version=version, a=a, b=b, c=c, d=d, computed_at=now)

    rows = [row("sales", m, sales.get(_key(m), 0)) for m in sales_m if month_end(m) <= last]
    rows += [row("end", m, *at[month_end(m)]) for m in end_m if month_end(m) <= last]
    rows += [row("paid", m, *paid.get(_key(m), (0, 0, 0)), bad.get(_key(m), 0))
             for m in paid_m if month_end(m) <= last]
    KpiFigure.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["company", "currency", "month", "part"],
        update_fields=["version", "a", "b", "c", "d", "computed_at"])
    return len(rows)


def _company_parts(company: Company, months: list[date], currency: str, keep: bool) -> Parts:
    """The company's parts (of a document currency or not): kept when all are, else computed
    (and, with ``keep``, the ended months' stored)."""
    parts = kept_parts(company, months, currency)
    if parts is None:
        version = _version(company) if keep else None  # read before the books
        parts = kpi_parts(company, months, currency)
        if version is not None:
            _store(company, months, currency, version, parts)
    return parts


def kpi_inputs(company: Company, months: list[date], currency: str = "", *,
               keep: bool = False) -> KpiInputs:
    """``kpis.kpi_inputs``: from the kept figures when all are there, else computed (and,
    with ``keep``, the ended months' stored)."""
    return _inputs_of(months, _company_parts(company, months, currency, keep))


def kpi_inputs_among(company: Company, months: list[date], currency: str,
                     customers: Collection[int], *, keep: bool = False) -> KpiInputs:
    """``kpis.kpi_inputs`` of the customers ``customers`` (ids; a filter's: a customer, a
    group, a collector's, a country). Every input is a sum over the customers, so the
    figures of a set are those of the company less those of the others: when the set holds
    more than half of the company's customers, the company's figures (kept; or computed, and
    with ``keep`` kept, when the others are few or ``keep``: ``kpi_inputs``) less those read
    for the others; otherwise those read for the set (docs/design/kpis.md, "Of a set of
    customers")."""
    company_customers = Customer.objects.filter(company=company)
    chosen, others = set(customers), set[int]()
    whole = None
    # a few customers (a customer, a group): counted, not read, the company's customers
    if len(chosen) * 2 > company_customers.count():
        everyone = set(company_customers.values_list("pk", flat=True))
        chosen &= everyone
        others = everyone - chosen
        if len(chosen) > len(others):
            whole = kept_parts(company, months, currency)
            if whole is None and (keep or len(others) <= kpis.SEEK_AT_MOST):
                # not kept: the company's from the books too, when the others are few
                # enough to be sought by customer (or the command keeps them for next time)
                whole = _company_parts(company, months, currency, keep)
    if whole is None:
        parts = kpi_parts(company, months, currency, chosen)
    else:
        parts = parts_less(whole, kpi_parts(company, months, currency, others)) if others \
            else whole
    return _inputs_of(months, parts)


def _inputs_of(months: list[date], parts: Parts) -> KpiInputs:
    sales, paid, bad, at = parts
    return _inputs(months, add_months(months[0], -COUNTBACK_MONTHS), sales, paid, bad, at,
                   month_start(months[0]) - timedelta(days=1))


# What each part's columns hold, as a finding names them: (name, whether a sum × days)
_COLUMNS = {
    "sales": (("sales", False),),
    "end": (("receivable", False), ("not yet due", False), ("over 90 days", False)),
    "paid": (("receipts", False), ("receipts × days from issue", True),
             ("receipts × days late", True), ("bad debts", False)),
}


def kept_drift(company: Company) -> list[str]:
    """Where a figure kept at the company's current version differs from what the books give
    for its month and part now (``kpi_parts``, the function that kept it): one line per figure
    that differs, amounts in major units with their currency; none when every one is exact.
    Figures at an older version are never read, so never named. One ``kpi_parts`` per
    currency kept, over the months kept: the cost of the report that kept them."""
    version = _version(company)
    if version is None:
        return []
    kept: dict[str, dict[tuple[str, date], tuple[int, int, int, int]]] = {}
    for currency, part, m, a, b, c, d in KpiFigure.objects.filter(
            company=company, version=version).values_list(
            "currency", "part", "month", "a", "b", "c", "d"):
        kept.setdefault(currency, {})[part, m] = (a, b, c, d)
    out: list[str] = []
    for currency in sorted(kept):
        figures = kept[currency]
        # the months whose kpi_parts reads every kept month: sales from 24 months before
        # the first, month ends from the one before it
        lo = min(add_months(m, {"sales": COUNTBACK_MONTHS, "end": 1, "paid": 0}[part])
                 for part, m in figures)
        hi = max(lo, max(m for _, m in figures))
        months = [add_months(lo, k) for k in range(
            (hi.year - lo.year) * 12 + hi.month - lo.month + 1)]
        sales, paid, bad, at = kpi_parts(company, months, currency)
        money = currency or company.base_currency
        whose = (f"{currency} documents" if currency
                 else "the company's figures at the booking rates")
        for (part, m), was in sorted(figures.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            books: tuple[int, ...] | None = (
                (sales.get(_key(m), 0), 0, 0, 0) if part == "sales"
                else (*at[month_end(m)], 0) if part == "end"
                else (*paid.get(_key(m), (0, 0, 0)), bad.get(_key(m), 0)) if part == "paid"
                else None)
            if books == was:
                continue
            diffs = [f"{name} kept {format_minor(was[k], money)}{' × days' * days}, "
                     f"books {format_minor(books[k], money)}{' × days' * days}"
                     for k, (name, days) in enumerate(_COLUMNS.get(part, ()))
                     if books is not None and was[k] != books[k]]
            out.append(f"company {company.code}, {whose}, {_key(m)}, part {part!r}: "
                       + ("; ".join(diffs) or f"kept {list(was)}, books "
                          + ("none (no such part)" if books is None else str(list(books)))))
    # a back-dated entry committed meanwhile made every kept figure stale: none is read again
    return out if _version(company) == version else []
