"""Reading exchange rates, foreign-currency balances carried on the control accounts and
revaluation runs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Case, IntegerField, Sum, Value, When

from salesledger.apps.core.models import Company
from salesledger.apps.ledger.models import JournalLine
from salesledger.domain.errors import ExchangeRateMissing, NotFound
from salesledger.domain.fx import SOURCE_PRIORITY, CarriedBalance, cross_rate
from salesledger.domain.journal import AccountRole

from .models import ExchangeRate, RevaluationRun

_PRIORITY = Case(*[When(source=s.value, then=Value(i)) for i, s in enumerate(SOURCE_PRIORITY)],
                 default=Value(len(SOURCE_PRIORITY)), output_field=IntegerField())


@dataclass(frozen=True, slots=True)
class RateQuote:
    currency: str
    rate: Decimal  # units of the base currency per unit of ``currency``
    rate_date: date
    source: str


def rate_quote(company: Company, currency: str, day: date) -> RateQuote:
    """The rate of ``currency`` on ``day``: the latest on or before it (manual before CSV
    before ECB on the same day). The base currency is 1. Raises ``ExchangeRateMissing``."""
    currency = (currency or "").upper()
    if currency == company.base_currency:
        return RateQuote(currency, Decimal(1), day, "base")
    row = (ExchangeRate.objects.filter(company=company, currency=currency, rate_date__lte=day)
           .order_by("-rate_date", _PRIORITY).values("rate", "rate_date", "source").first())
    if row is None:
        raise ExchangeRateMissing(
            f"no {currency} exchange rate on or before {day.isoformat()} for {company.code}; "
            f"add one with `salesledger fx rate add {currency} RATE --date {day.isoformat()}` "
            "or import a rate file", currency=currency, date=day)
    return RateQuote(currency, Decimal(row["rate"]), row["rate_date"], row["source"])


def rate_on(company: Company, currency: str, day: date) -> Decimal:
    """Units of ``company``'s base currency per unit of ``currency`` on ``day``."""
    return rate_quote(company, currency, day).rate


def cross_rate_on(company: Company, from_currency: str, to_currency: str, day: date) -> Decimal:
    """Units of ``to_currency`` per unit of ``from_currency`` on ``day``, through the base."""
    if from_currency == to_currency:
        return Decimal(1)
    return cross_rate(rate_on(company, from_currency, day), rate_on(company, to_currency, day))


def rate_list(company: Company, *, currency: str | None = None, since: date | None = None,
              until: date | None = None, limit: int = 100, offset: int = 0
              ) -> list[dict[str, Any]]:
    qs = ExchangeRate.objects.filter(company=company)
    if currency:
        qs = qs.filter(currency=currency.upper())
    if since:
        qs = qs.filter(rate_date__gte=since)
    if until:
        qs = qs.filter(rate_date__lte=until)
    rows = (qs.order_by("-rate_date", "currency", _PRIORITY)
            .values("currency", "rate_date", "rate", "source", "import_batch_id")
            [offset:offset + limit])
    return [{"currency": r["currency"], "date": r["rate_date"], "rate": Decimal(r["rate"]),
             "source": r["source"], "batch": r["import_batch_id"]} for r in rows]


# ---------------------------------------------------------------------------- revaluation
_REVALUED = (AccountRole.RECEIVABLE, AccountRole.UNAPPLIED)


def carried_balances(company: Company, as_of: date) -> Iterator[CarriedBalance]:
    """Per customer, control account (receivable, unapplied cash) and foreign currency: the
    open amount in that currency and the base amount it is carried at, on ``as_of``. Read
    from the journal, where every event that opens, settles, refunds or reverses an item has
    moved both (``salesledger check`` proves the amounts in currency equal the open items):
    one grouped query, whatever the number of documents."""
    rows = (JournalLine.objects.filter(company=company, date__lte=as_of,
                                       account__role__in=[r.value for r in _REVALUED],
                                       customer_id__isnull=False)
            .exclude(currency=company.base_currency)
            .values("account__role", "customer_id", "currency")
            .annotate(cur=Sum("amount_currency"), base=Sum("amount"))
            .order_by("account__role", "customer_id", "currency"))
    for r in rows.iterator(chunk_size=2000):
        if r["cur"] or r["base"]:
            yield CarriedBalance(AccountRole(r["account__role"]), r["customer_id"],
                                 r["currency"], r["cur"], r["base"])


def foreign_currencies_open(company: Company, as_of: date) -> list[str]:
    """The foreign currencies that the control accounts hold anything in on ``as_of``."""
    return sorted({b.currency for b in carried_balances(company, as_of)})


def revaluation_get(company: Company, run_id: int) -> RevaluationRun:
    run = RevaluationRun.objects.filter(company=company, pk=run_id).first()
    if run is None:
        raise NotFound(f"no revaluation run {run_id} in {company.code}", run=run_id)
    return run


def revaluation_list(company: Company, *, limit: int = 50) -> list[dict[str, Any]]:
    return [{"run": r.pk, "as_of": r.as_of, "status": r.status, "balances": r.positions,
             "net": r.net, "by_currency": r.by_currency, "rates": r.rates,
             "entry": r.entry_id, "reversal_entry": r.reversal_entry_id}
            for r in RevaluationRun.objects.filter(company=company).order_by("-as_of", "-pk")
            [:limit]]
