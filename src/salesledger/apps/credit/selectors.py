"""Reading credit: settings, holds, the limit that covers a customer, exposure, payment
behaviour, risk and suggested limits, each for a day (docs/design/credit.md).

Every reader works on a set of customers with a fixed number of queries, whatever their
number (grouped aggregates; no query per customer), and hands the figures to the pure rules of
``domain/credit_limits.py`` and ``domain/credit_risk.py``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from salesledger.apps.core.models import Company
from salesledger.apps.customers.models import Customer
from salesledger.apps.customers.selectors import customer_codes, survivors
from salesledger.apps.fx.selectors import cross_rate_on
from salesledger.apps.invoicing.issuing import compute_invoice_totals
from salesledger.apps.invoicing.models import Instalment
from salesledger.apps.payments.models import Allocation
from salesledger.apps.payments.selectors import customer_balances, open_items
from salesledger.apps.quotes.models import Quote
from salesledger.apps.recurring.models import RecurringSchedule
from salesledger.apps.recurring.selectors import schedule_rule
from salesledger.apps.recurring.services import schedule_lines
from salesledger.domain.credit_limits import (
    ExposureParts,
    Limit,
    LimitRow,
    convert,
    major,
    resolve_limit,
)
from salesledger.domain.credit_risk import (
    Behaviour,
    OpenSpan,
    Payment,
    RiskScore,
    Signals,
    Thresholds,
    months_before,
    payment_behaviour,
    peak_paid_on_time,
    risk_score,
    suggest_limit,
)
from salesledger.domain.errors import UnknownCustomer
from salesledger.domain.quotes import QuoteStatus
from salesledger.domain.recurrence import due_count
from salesledger.money import EXPONENTS, Money

from .models import CreditHold, CreditSettings, CreditSignal, SignalKind
from .prediction import model_default_probabilities

__all__ = ["Hold", "RiskScore", "on_hold", "risk_scores"]

HISTORY_MONTHS = 24  # how far back payment behaviour reads
SIGNAL_MONTHS = 12  # disputes and broken promises counted over this many months


# ---------------------------------------------------------------------------- settings
@dataclass(frozen=True, slots=True)
class Settings:
    default_limit: int | None  # minor units of the base currency
    currency: str  # the company's base currency
    horizon_days: int
    thresholds: Thresholds


def credit_settings(company: Company) -> Settings:
    row = CreditSettings.objects.filter(company=company).first()
    if row is None:
        return Settings(None, company.base_currency, 30, Thresholds())
    return Settings(row.default_limit, company.base_currency, row.horizon_days,
                    Thresholds(row.threshold_b, row.threshold_c, row.threshold_d))


# ---------------------------------------------------------------------------- holds
@dataclass(frozen=True, slots=True)
class Hold:
    """An active hold: where it comes from, why, since when, put by whom; ``held_as``: the
    code of the customer it was put on when that is another of a merged family (the alias
    whose hold applies to its survivor, or the survivor whose hold applies to its alias)."""

    source: str
    reason: str
    since: datetime
    by: str
    held_as: str = ""

    def why(self) -> str:
        """The reason, with the customer it was put on when that is another one."""
        return f"{self.reason} (held as {self.held_as})" if self.held_as else self.reason


def holds_of(company: Company | int, customer_ids: Collection[int] | None
             ) -> dict[int, list[Hold]]:
    """The active holds of each of ``customer_ids`` (None: every customer) that has one (one
    query), each on the customer it was put on."""
    out: dict[int, list[Hold]] = defaultdict(list)
    qs = CreditHold.objects.filter(company=company, released_at__isnull=True)
    if customer_ids is not None:
        qs = qs.filter(customer_id__in=sorted(customer_ids))
    rows = (qs
            .order_by("customer_id", "created_at", "pk")
            .values("customer_id", "source", "reason", "created_at", "created_by__username"))
    for r in rows:
        out[r["customer_id"]].append(Hold(r["source"], r["reason"], r["created_at"],
                                          r["created_by__username"] or "system"))
    return dict(out)


def _held_families(company: Company | int) -> QuerySet[CreditHold]:
    """The survivor of each family with an active hold, as a one-column query: a hold on an
    alias of a merge holds its survivor (docs/design/credit.md#merged-customers)."""
    return (CreditHold.objects.filter(company=company, released_at__isnull=True)
            .annotate(family=Coalesce("customer__merged_into_id", "customer_id"))
            .values("family"))


def hold_count(company: Company | int) -> int:
    """How many customers are on an active hold, as the credit page's ``held`` list shows
    them (the dashboard's alert): a family of a merge counts once, by its survivor, and a
    customer held from two sources once. One count over the active holds, never over the
    customers or their items."""
    return _held_families(company).distinct().count()


def family_holds(company: Company | int, merged: dict[int, int],
                 customer_ids: Collection[int] | None = None) -> dict[int, list[Hold]]:
    """The holds that apply to each customer: its own and, while it is merged, those of its
    family (docs/design/credit.md#merged-customers): a hold on an alias applies to its
    survivor and the survivor's to its aliases, the oldest first. Keyed by every member of
    a held family; one query for the holds, one for the codes of the other members only when
    a merged customer is held."""
    def head(cid: int) -> int:
        return merged.get(cid, cid)

    ids = None
    if customer_ids is not None:
        heads = {head(c) for c in customer_ids}
        ids = heads | {a for a, s in merged.items() if s in heads}
    own = holds_of(company, ids)
    if not merged or not any(c in merged or c in merged.values() for c in own):
        return own
    codes = customer_codes(company, own)
    by_family: dict[int, list[tuple[int, Hold]]] = defaultdict(list)
    for cid, holds in own.items():
        by_family[head(cid)].extend((cid, h) for h in holds)
    out: dict[int, list[Hold]] = {}
    for survivor, held in by_family.items():
        family = [survivor, *(a for a, s in merged.items() if s == survivor)]
        for member in family:
            out[member] = [h if cid == member else replace(h, held_as=codes.get(cid, ""))
                           for cid, h in sorted(held, key=lambda x: (x[1].since, x[0]))]
    return out


def on_hold(company: Company | int, customer_id: int) -> list[Hold]:
    """The active holds that apply to a customer, oldest first (empty: not on hold): its own
    and, while merged, its family's."""
    return family_holds(company, survivors(company), [customer_id]).get(customer_id, [])


# ---------------------------------------------------------------------------- limits
def limit_book(company: Company) -> dict[int, LimitRow]:
    """Every customer with a limit of its own or a parent, as limits see it (one query): the
    customers without either are covered by the company default or by nothing."""
    base = company.base_currency
    return {r[0]: LimitRow(r[0], r[1], r[2], r[3] or base, r[4])
            for r in Customer.objects.filter(company=company)
            .filter(Q(credit_limit__isnull=False) | Q(parent__isnull=False))
            .values_list("id", "code", "credit_limit", "currency", "parent_id")}


def limit_for(company: Company, customer_id: int, settings: Settings | None = None,
              book: dict[int, LimitRow] | None = None,
              merged: dict[int, int] | None = None) -> Limit | None:
    """The limit that covers ``customer``: its own, the nearest ancestor's (a group limit,
    covering that ancestor and every customer under it), or the company default (covering
    the customer alone). None: no limit at all. An alias is covered by its survivor's
    (``merged``: alias -> survivor, read when not given)."""
    settings = settings or credit_settings(company)
    default = ((settings.default_limit, settings.currency)
               if settings.default_limit is not None else None)
    return resolve_limit(customer_id, book if book is not None else limit_book(company),
                         default, merged if merged is not None else survivors(company))


# ---------------------------------------------------------------------------- exposure
def exposure_parts(company: Company, customer_ids: Collection[int], as_of: date,
                   horizon_days: int, merged: dict[int, int] | None = None
                   ) -> dict[int, dict[str, ExposureParts]]:
    """Per customer and currency: open receivables (the balance on ``as_of``: open invoices
    less unapplied receipts and credits), accepted quotes not yet invoiced, and recurring
    invoices due within ``horizon_days`` after ``as_of`` and not yet issued. A fixed number
    of queries for any number of customers. An alias's exposure is its survivor's: taken in
    with the survivor and keyed by it (docs/design/credit.md#merged-customers)."""
    out: dict[int, dict[str, ExposureParts]] = defaultdict(lambda: defaultdict(ExposureParts))
    merged = merged if merged is not None else survivors(company)
    ids = _with_aliases(sorted(customer_ids), merged)
    for (cid, cur), amount in customer_balances(company, as_of=as_of,
                                                customer_ids=ids).items():
        out[cid][cur] += ExposureParts(receivables=amount)
    for r in (Quote.objects.filter(company=company, customer_id__in=ids,
                                   status=QuoteStatus.ACCEPTED, invoice__isnull=True,
                                   decided_on__lte=as_of)
              .values("customer_id", "currency").annotate(s=Sum("total")).order_by()):
        cid = merged.get(r["customer_id"], r["customer_id"])
        out[cid][r["currency"]] += ExposureParts(quotes=r["s"])
    until = as_of + timedelta(days=horizon_days)
    schedules = (RecurringSchedule.objects.filter(company=company, customer_id__in=ids,
                                                  active=True)
                 .annotate(last_index=Max("runs__period_index")).prefetch_related("lines"))
    for s in schedules:
        issued = 0 if s.last_index is None else s.last_index + 1
        coming = due_count(schedule_rule(s), until) - issued
        if coming > 0:
            per = compute_invoice_totals(company, s.currency, schedule_lines(s)).total
            cid = merged.get(s.customer_id, s.customer_id)
            out[cid][s.currency] += ExposureParts(recurring=coming * per)
    return {cid: dict(parts) for cid, parts in out.items()}


class Rates:
    """Cross rates of one day, each looked up once (the fx app's rate lookup)."""

    def __init__(self, company: Company, day: date) -> None:
        self.company, self.day = company, day
        self._cache: dict[tuple[str, str], Decimal] = {}

    def convert(self, minor: int, from_currency: str, to_currency: str) -> int:
        if from_currency == to_currency or minor == 0:
            return minor
        key = (from_currency, to_currency)
        if key not in self._cache:
            self._cache[key] = cross_rate_on(self.company, from_currency, to_currency, self.day)
        return convert(minor, self._cache[key], from_currency, to_currency)


def exposure_in(company: Company, members: Collection[int], currency: str, as_of: date,
                horizon_days: int, rates: Rates | None = None,
                merged: dict[int, int] | None = None) -> ExposureParts:
    """The exposure of ``members`` (and their aliases) together, converted to ``currency``
    at ``as_of``'s rates."""
    rates = rates or Rates(company, as_of)
    total = ExposureParts()
    for by_currency in exposure_parts(company, members, as_of, horizon_days,
                                      merged).values():
        for cur, p in by_currency.items():
            total += ExposureParts(rates.convert(p.receivables, cur, currency),
                                   rates.convert(p.quotes, cur, currency),
                                   rates.convert(p.recurring, cur, currency))
    return total


def _customer(company: Company, code: str) -> Customer:
    customer = Customer.objects.filter(company=company, code=code).first()
    if customer is None:
        raise UnknownCustomer(f"no customer with code {code!r}", customer=code)
    return customer


def _money(minor: int, currency: str) -> dict[str, str]:
    return Money.from_minor(minor, currency).to_json()


def customer_exposure(company: Company, code: str, as_of: date) -> dict[str, Any]:
    """A customer's exposure on ``as_of`` by part, with the limit that covers it and the
    credit available, in major units with the currency (the limit's; the customer's when
    there is no limit). With a group limit the parts are the whole group's."""
    customer = _customer(company, code)
    settings = credit_settings(company)
    merged = survivors(company)
    limit = limit_for(company, customer.pk, settings, merged=merged)
    currency = limit.currency if limit else (customer.currency or company.base_currency)
    members = limit.members if limit else (merged.get(customer.pk, customer.pk),)
    parts = exposure_in(company, members, currency, as_of, settings.horizon_days,
                        merged=merged)
    holds = family_holds(company, merged, [customer.pk]).get(customer.pk, [])
    survivor = (Customer.objects.filter(pk=customer.merged_into_id).values_list(
        "code", flat=True).first() if customer.merged_into_id else None)
    return {
        "customer": customer.code, "as_of": as_of, "currency": currency,
        # an alias is covered by its survivor's limit; its own stays on its record, shown
        # here but neither applied nor summed while it is merged
        "merged_into": survivor,
        "own_limit_not_applied": (_money(customer.credit_limit, customer.currency
                                         or company.base_currency)
                                  if survivor and customer.credit_limit is not None
                                  else None),
        "receivables": _money(parts.receivables, currency),
        "accepted_quotes": _money(parts.quotes, currency),
        "recurring_due": _money(parts.recurring, currency),
        "horizon_days": settings.horizon_days,
        "exposure": _money(parts.total, currency),
        "limit": _money(limit.amount, currency) if limit else None,
        "limit_source": limit.source if limit else None,
        "limit_holder": limit.holder_code if limit and limit.holder_code else None,
        "group_members": len(members),
        "available": _money(limit.amount - parts.total, currency) if limit else None,
        "on_hold": [{"source": h.source, "reason": h.why(), "held_as": h.held_as or None}
                    for h in holds],
    }


def limits_list(company: Company, code: str | None = None) -> dict[str, Any]:
    """The company default and the limit that covers one customer (its own, its group's or
    the default), or every customer with a limit of its own; each with the number of
    customers it covers."""
    settings = credit_settings(company)
    default = (_money(settings.default_limit, settings.currency)
               if settings.default_limit is not None else None)
    book = limit_book(company)
    if code is not None:
        customers = [(c.pk, c.code) for c in [_customer(company, code)]]
    else:
        customers = sorted(((r.id, r.code) for r in book.values()
                            if r.credit_limit is not None), key=lambda x: x[1])
    rows = []
    merged = survivors(company)
    for pk, c_code in customers:
        limit = limit_for(company, pk, settings, book, merged)
        rows.append({"customer": c_code,
                     "limit": _money(limit.amount, limit.currency) if limit else None,
                     "source": limit.source if limit else None,
                     "holder": (limit.holder_code or None) if limit else None,
                     "covers": len(limit.members) if limit else 0})
    return {"company_default": default, "horizon_days": settings.horizon_days,
            "thresholds": {"B": settings.thresholds.b, "C": settings.thresholds.c,
                           "D": settings.thresholds.d},
            "customers": rows}


def credit_overview(company: Company, *, as_of: date, search: str | None = None,
                    held_only: bool = False, limit: int = 50, offset: int = 0
                    ) -> list[dict[str, Any]]:
    """A page of the company's customers by code (aliases of a merge left out: their
    figures are their survivor's), each with the limit that covers it, the exposure that
    limit counts (a group limit's: the whole group's, converted at ``as_of``'s rates), the
    credit available, its active holds and its risk class, score and factors. ``search``
    narrows to a code or name; ``held_only`` to customers on hold. A fixed number of queries
    whatever the number of customers: the page, the limits, the holds, the exposures of
    every customer the page's limits cover at once, and the risk of the page's customers."""
    qs = Customer.objects.filter(company=company, merged_into__isnull=True)
    if search:
        qs = qs.filter(Q(code__icontains=search) | Q(name__icontains=search))
    if held_only:
        qs = qs.filter(pk__in=_held_families(company))
    page = list(qs.order_by("code").values("id", "code", "name", "currency")
                [offset:offset + limit])
    if not page:
        return []
    ids = [r["id"] for r in page]
    settings = credit_settings(company)
    book = limit_book(company)
    merged = survivors(company)
    limits = {cid: limit_for(company, cid, settings, book, merged) for cid in ids}
    covered = set(ids).union(*(lim.members for lim in limits.values() if lim))
    parts = exposure_parts(company, covered, as_of, settings.horizon_days)
    rates = Rates(company, as_of)
    holds = family_holds(company, merged, ids)
    # the page's balances are the exposure's open receivables: not read a second time
    risks = risk_scores(company, as_of, ids, rates=rates, balances={
        (cid, cur): p.receivables for cid in ids for cur, p in parts.get(cid, {}).items()})
    base = company.base_currency
    rows = []
    for r in page:
        cid, lim = r["id"], limits[r["id"]]
        currency = lim.currency if lim else (r["currency"] or base)
        total = ExposureParts()
        for member in (lim.members if lim else (cid,)):
            for cur, p in parts.get(member, {}).items():
                total += ExposureParts(rates.convert(p.receivables, cur, currency),
                                       rates.convert(p.quotes, cur, currency),
                                       rates.convert(p.recurring, cur, currency))
        risk = risks.get(cid)
        rows.append({
            "customer": r["code"], "name": r["name"], "currency": currency,
            "exposure": _money(total.total, currency),
            "limit": _money(lim.amount, currency) if lim else None,
            "limit_source": lim.source if lim else None,
            "limit_holder": (lim.holder_code or None) if lim else None,
            "group_members": len(lim.members) if lim else 1,
            "available": _money(lim.amount - total.total, currency) if lim else None,
            "over_limit": bool(lim and total.total > lim.amount),
            "on_hold": [{"source": h.source, "reason": h.reason, "since": h.since,
                         "by": h.by} for h in holds.get(cid, [])],
            "risk_class": risk.risk_class if risk else None,
            "score": risk.score if risk else None,
            "default_probability": risk.default_probability if risk else None,
            "factors": risk.factors if risk else [],
        })
    return rows


# ---------------------------------------------------------------------------- behaviour
def _payments(company: Company, as_of: date, ids: list[int] | None,
              merged: dict[int, int]) -> dict[int, list[Payment]]:
    """What each customer paid by receipt in the last ``HISTORY_MONTHS`` up to ``as_of``,
    weighted in the base currency; allocations undone by ``as_of`` left out (one query)."""
    since = months_before(as_of, HISTORY_MONTHS)
    # Not undone by the day: a NOT EXISTS on the reversal's unique key. (The exclude() of a
    # reversal's date joins the table to itself, which SQLite's planner read whole for each
    # allocation: 47 ms for one customer of the issue's books, minutes for every customer.)
    undone = Allocation.objects.filter(reversal_of=OuterRef("pk"), date__lte=as_of)
    qs = (Allocation.objects.filter(company=company, receipt__isnull=False,
                                    reversal_of__isnull=True, date__gt=since,
                                    date__lte=as_of)
          .filter(~Exists(undone)))
    if ids is not None:
        qs = qs.filter(customer_id__in=_with_aliases(ids, merged))
    out: dict[int, list[Payment]] = defaultdict(list)
    for cid, day, issued, due, amount, inst_amount, inst_base in qs.values_list(
            "customer_id", "date", "instalment__invoice__issue_date", "instalment__due_date",
            "amount", "instalment__amount", "instalment__base_amount").iterator(chunk_size=5000):
        weight = amount * inst_base // inst_amount if inst_amount else amount
        out[merged.get(cid, cid)].append(Payment(day, issued, due, weight))
    return out


def _overdue(company: Company, as_of: date, rates: Rates, codes: dict[str, int],
             ids: set[int] | None, merged: dict[int, int]) -> dict[int, tuple[int, int]]:
    """Per customer: what is overdue on ``as_of`` (base minor units at the day's rates) and
    the days the oldest is overdue (open items streamed once; of ``ids`` and their aliases
    alone when given, so that a page of customers does not read the whole ledger)."""
    out: dict[int, tuple[int, int]] = {}
    base = company.base_currency
    only = _with_aliases(sorted(ids), merged) if ids is not None else None
    for item in open_items(company, as_of=as_of, overdue_only=True, customer_ids=only):
        cid = codes.get(item["customer"])
        if cid is None or (ids is not None and cid not in ids):
            continue
        amount, days = out.get(cid, (0, 0))
        out[cid] = (amount + rates.convert(item["open"], item["currency"], base),
                    max(days, (as_of - item["due_date"]).days))
    return out


def _signals(company: Company, as_of: date, ids: list[int] | None,
             merged: dict[int, int]) -> dict[int, Signals]:
    since = months_before(as_of, SIGNAL_MONTHS)
    qs = CreditSignal.objects.filter(company=company, day__gt=since, day__lte=as_of)
    if ids is not None:
        qs = qs.filter(customer_id__in=_with_aliases(ids, merged))
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for r in qs.values("customer_id", "kind").annotate(n=Count("id")).order_by():
        survivor = counts[merged.get(r["customer_id"], r["customer_id"])]
        survivor[r["kind"]] = survivor.get(r["kind"], 0) + r["n"]
    return {cid: Signals(disputes=c.get(SignalKind.DISPUTE_OPENED, 0),
                         promises_broken=c.get(SignalKind.PROMISE_BROKEN, 0),
                         promises_kept=c.get(SignalKind.PROMISE_KEPT, 0),
                         plans_broken=c.get(SignalKind.PLAN_BROKEN, 0))
            for cid, c in counts.items()}


def _with_aliases(ids: list[int], merged: dict[int, int]) -> list[int]:
    """``ids`` and the aliases merged into them (docs/design/customer-records.md)."""
    wanted = set(ids)
    return sorted(wanted | {alias for alias, survivor in merged.items() if survivor in wanted})


def _codes(company: Company, customer_ids: Iterable[int] | None) -> dict[str, int]:
    """Code -> id of the customers judged: an alias of a merge is its survivor's."""
    qs = Customer.objects.filter(company=company, merged_into__isnull=True)
    if customer_ids is not None:
        qs = qs.filter(pk__in=sorted(customer_ids))
    return dict(qs.values_list("code", "id"))


def payment_behaviours(company: Company, as_of: date,
                       customer_ids: Collection[int] | None = None,
                       rates: Rates | None = None) -> dict[int, Behaviour]:
    """The payment behaviour of every customer (or of ``customer_ids``) on ``as_of``, in a
    fixed number of queries."""
    rates = rates or Rates(company, as_of)
    ids = sorted(customer_ids) if customer_ids is not None else None
    codes = _codes(company, ids)
    merged = survivors(company)
    payments = _payments(company, as_of, ids, merged)
    overdue = _overdue(company, as_of, rates, codes, set(ids) if ids is not None else None,
                       merged)
    signals = _signals(company, as_of, ids, merged)
    out = {}
    for cid in codes.values():
        due, days = overdue.get(cid, (0, 0))
        out[cid] = payment_behaviour(as_of=as_of, payments=payments.get(cid, ()),
                                     overdue=due, oldest_overdue_days=days,
                                     signals=signals.get(cid))
    return out


def customer_behaviour(company: Company, code: str, as_of: date) -> Behaviour:
    """The payment behaviour of the customer ``code`` on ``as_of``. An alias of a merge has
    none of its own: its payments count with its survivor's (docs/design/customer-records.md),
    whose behaviour it gets."""
    customer = _customer(company, code)
    judged = customer.merged_into_id or customer.pk
    return payment_behaviours(company, as_of, [judged])[judged]


# ---------------------------------------------------------------------------- risk
def risk_scores(company: Company, as_of: date,
                customer_ids: Collection[int] | None = None, *,
                balances: dict[tuple[int, str], int] | None = None,
                rates: Rates | None = None,
                chances: dict[int, float] | None = None) -> dict[int, RiskScore]:
    """The risk class, score, default probability and factors of every customer (or of
    ``customer_ids``) on ``as_of``, keyed by customer id. A fixed number of queries.
    ``balances``: the customers' balances on ``as_of`` (``customer_balances``), when the
    caller has read them already; ``chances``: the stored model's default probabilities
    (``model_chances`` of ``payment_outlooks``, ``{}`` for none), when the caller has read
    them already."""
    return {cid: score for cid, (score, _) in
            _risks(company, as_of, customer_ids, balances, rates, chances).items()}


def _risks(company: Company, as_of: date, customer_ids: Collection[int] | None,
           balances: dict[tuple[int, str], int] | None = None, rates: Rates | None = None,
           chances: dict[int, float] | None = None
           ) -> dict[int, tuple[RiskScore, Behaviour]]:
    rates = rates or Rates(company, as_of)
    behaviours = payment_behaviours(company, as_of, customer_ids, rates)
    base = company.base_currency
    exposure: dict[int, int] = defaultdict(int)
    if balances is None:
        balances = customer_balances(company, as_of=as_of, customer_ids=customer_ids)
    for (cid, cur), amount in balances.items():
        exposure[cid] += rates.convert(amount, cur, base)
    thresholds = credit_settings(company).thresholds
    # the stored payment model's default probabilities, where there is one for the day
    if chances is None:
        chances = model_default_probabilities(company, as_of=as_of,
                                              customer_ids=customer_ids) or {}
    return {cid: (risk_score(b, exposure.get(cid, 0), thresholds, chances.get(cid)), b)
            for cid, b in behaviours.items()}


def risk_list(company: Company, as_of: date, code: str | None = None) -> list[dict[str, Any]]:
    """``risk_scores`` with the behaviour behind them, by customer code."""
    ids = [_customer(company, code).pk] if code is not None else None
    risks = _risks(company, as_of, ids)
    names = {v: k for k, v in _codes(company, ids).items()}
    rows = []
    for cid in sorted(risks, key=lambda c: names[c]):
        s, b = risks[cid]
        rows.append({"customer": names[cid], "risk_class": s.risk_class, "score": s.score,
                     "default_probability": s.default_probability, "factors": s.factors,
                     "basis": s.basis,
                     "behaviour": behaviour_json(b, company.base_currency)})
    return rows


def behaviour_json(b: Behaviour, base: str) -> dict[str, Any]:
    return {
        "as_of": b.as_of, "payments": b.payments, "paid": _money(b.paid, base),
        "days_to_pay": b.days_to_pay, "days_late": b.days_late, "share_late": b.share_late,
        "trend": b.trend,
        "windows": [{"months": w.months, "paid": _money(w.paid, base),
                     "days_to_pay": w.days_to_pay, "days_late": w.days_late,
                     "share_late": w.share_late} for w in b.windows],
        "overdue": _money(b.overdue, base), "oldest_overdue_days": b.oldest_overdue_days,
        "disputes": b.signals.disputes,
        "promises_broken": b.signals.promises_broken + b.signals.plans_broken,
    }


# ---------------------------------------------------------------------------- suggestions
def _spans(company: Company, as_of: date, since: date,
           customer_ids: Collection[int] | None = None
           ) -> dict[tuple[int, str], list[OpenSpan]]:
    """Instalments issued in the window (of ``customer_ids`` alone when given), with the day
    each was settled in full by ``as_of`` (None: still open then), in their own currency
    (one query)."""
    settled = Q(allocations__date__lte=as_of)
    qs = Instalment.objects.filter(company=company, invoice__status="posted",
                                   invoice__issue_date__lte=as_of, due_date__gte=since)
    if customer_ids is not None:
        qs = qs.filter(customer_id__in=sorted(customer_ids))
    rows = (qs.annotate(paid=Sum("allocations__amount", filter=settled),
                        last=Max("allocations__date", filter=settled))
            .values_list("customer_id", "currency", "invoice__issue_date", "due_date",
                         "amount", "paid", "last"))
    out: dict[tuple[int, str], list[OpenSpan]] = defaultdict(list)
    # Every customer's instalments of the year are streamed; a page's few are fetched at
    # once: on PostgreSQL a stream is a server-side cursor, planned for its first rows
    # (``cursor_tuple_fraction``), which walks every instalment in id order instead of
    # looking up the page's customers (300 ms of the backend instead of 4 for a page of
    # suggested limits at the issue's size).
    for cid, cur, issued, due, amount, paid, last in (
            rows.iterator(chunk_size=5000) if customer_ids is None else rows):
        out[(cid, cur)].append(OpenSpan(issued, last if (paid or 0) >= amount else None, due,
                                        amount))
    return out


def _paid_on_time_somewhere(company: Company, as_of: date, since: date) -> Exists:
    """Whether the outer customer has an instalment in its own currency settled in full by
    ``as_of``, on or before its due date and within the window: exactly when its peak paid
    on time (``peak_paid_on_time``) is above zero, every instalment being positive (the
    schema's ``instalment_positive``). Asked in SQL, so that a page of suggestions is cut
    before anything is computed."""
    settled = Q(allocations__date__lte=as_of)
    # The last allocation by the day falls in the window and by the due date: so one does.
    # Asked first, per instalment on its index, it spares the sums of those paid late or not
    # at all (half the time on medium books where nobody paid on time).
    one_in_time = Exists(Allocation.objects.filter(
        instalment_id=OuterRef("pk"), date__gte=since, date__lte=as_of)
        .filter(date__lte=OuterRef("due_date")))
    return Exists(
        Instalment.objects.filter(company=company, customer_id=OuterRef("pk"),
                                  currency=OuterRef("own_currency"), due_date__gte=since)
        .filter(one_in_time)
        .filter(invoice__status="posted", invoice__issue_date__lte=as_of)
        .values("pk", "amount", "due_date")
        .annotate(paid=Sum("allocations__amount", filter=settled),
                  last=Max("allocations__date", filter=settled))
        .filter(paid__gte=F("amount"), last__gte=since, last__lte=F("due_date")))


def limit_suggestions(company: Company, as_of: date,
                      codes: Collection[str] | None = None, *,
                      limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
    """For each customer with payments in the last 12 months: the peak of what it owed at
    once and paid on time, and a limit from it by its risk class (rounded to 1, 2 or 5 times
    a power of ten), beside its current limit. In the customer's currency, by code.
    ``limit`` and ``offset`` cut a page of them in SQL first (the customers with something
    paid on time), and only the page's peaks and risks are computed: a fixed number of
    queries and work of the page's size, whatever the number of customers."""
    since = months_before(as_of, 12)
    base = company.base_currency
    customers = (Customer.objects.filter(company=company)
                 .annotate(own_currency=Case(When(Q(currency__isnull=True) | Q(currency=""),
                                                  then=Value(base)),
                                             default=F("currency"),
                                             output_field=CharField()))
                 .order_by("code"))
    if codes is not None:
        customers = customers.filter(code__in=sorted(codes))
    if limit is not None:
        customers = customers.filter(_paid_on_time_somewhere(company, as_of, since))[
            offset:offset + limit]
    rows_by_id = {c.pk: c for c in customers}
    paged = codes is not None or limit is not None
    ids = list(rows_by_id) if paged else None
    spans = _spans(company, as_of, since, ids)
    scores = risk_scores(company, as_of, ids) if rows_by_id else {}
    out = []
    for cid, c in rows_by_id.items():
        cur = c.currency or base
        peak = peak_paid_on_time(spans.get((cid, cur), ()), since=since, as_of=as_of)
        if peak <= 0:
            continue
        risk = scores[cid].risk_class if cid in scores else "B"
        suggested = suggest_limit(peak, risk, EXPONENTS[cur])
        out.append({"customer": c.code, "currency": cur,
                    "peak_paid_on_time": _money(peak, cur), "risk_class": risk,
                    "suggested": _money(suggested, cur), "suggested_minor": suggested,
                    "current": (_money(c.credit_limit, cur)
                                if c.credit_limit is not None else None),
                    "text": f"{c.code}: peak {major(peak, cur)} paid on time, class {risk}, "
                            f"suggested {major(suggested, cur)}"})
    return out
