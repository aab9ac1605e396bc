"""KPIs that the apps above reporting provide (docs/design/kpis.md, "KPIs from the apps
above").

Reporting may not import collections or dunning (they are above it in the layers:
docs/design/layers.md), yet the monthly KPIs include figures only they know: the dispute rate
and time to resolve, the promise-kept rate. So reporting keeps a registry, as the kernel does
for invariants (``core/invariants.py``): an app above registers a provider in its
``AppConfig.ready``, naming the KPIs it gives; ``kpi_report``'s callers ask
:func:`provided_kpis` for the months of the report and get every registered KPI of every month
(``None`` where a provider has no value). Without a provider, there are no such KPIs and
nothing else changes.

The cash-flow forecast takes the same kind of help: what customers committed to pay on a day
(promises to pay, payment plans: collections') reaches it through :func:`commitments`
(docs/design/forecast.md, "Promises and plans").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from salesledger.apps.core.models import Company

Value = Decimal | int | None
# months: the first days of the months, oldest first -> {"YYYY-MM": {name: value}}
Compute = Callable[[Company, list[date]], Mapping[str, Mapping[str, Value]]]


@dataclass(frozen=True)
class ProvidedKpi:
    name: str  # its key in JSON: "dispute_rate"
    label: str  # its column in the text table: "disputed %"
    unit: str  # "%", "days" or "count"


@dataclass(frozen=True)
class KpiProvider:
    kpis: tuple[ProvidedKpi, ...]
    compute: Compute


_providers: dict[str, KpiProvider] = {}


def _name(provider: KpiProvider) -> str:
    return f"{provider.compute.__module__}.{provider.compute.__qualname__}"


def register(provider: KpiProvider) -> None:
    """Add ``provider``'s KPIs to the monthly KPIs. Registering the same function again
    replaces it; two providers may not give a KPI of the same name."""
    taken = {k.name for key, p in _providers.items() if key != _name(provider) for k in p.kpis}
    clash = taken & {k.name for k in provider.kpis}
    if clash:
        raise ValueError(f"KPIs already provided: {', '.join(sorted(clash))}")
    _providers[_name(provider)] = provider


def unregister(provider: KpiProvider) -> None:
    _providers.pop(_name(provider), None)


def registered() -> list[str]:
    """The providers, by name, in the order their KPIs are listed."""
    return sorted(_providers)


def provided() -> list[ProvidedKpi]:
    """Every provided KPI, the providers in the order of :func:`registered`."""
    return [k for key in registered() for k in _providers[key].kpis]


def provided_kpis(company: Company, months: list[date]) -> dict[str, dict[str, Value]]:
    """Per ``YYYY-MM`` of ``months``: every provided KPI's value (``None`` when its provider
    gave none for that month)."""
    out: dict[str, dict[str, Value]] = {f"{m:%Y-%m}": {} for m in months}
    for key in registered():
        p = _providers[key]
        found = p.compute(company, months) if months else {}
        for month, values in out.items():
            given = found.get(month, {})
            for k in p.kpis:
                values[k.name] = given.get(k.name)
    return out


# ---------------------------------------------------------------- the forecast's commitments
@dataclass(frozen=True)
class Commitment:
    """Money a customer committed to pay on a day (a promise to pay, a payment plan's
    instalment), open on the forecast's day: the forecast expects that much of the
    customer's open items on ``day`` instead of after its usual delay."""

    customer_id: int
    day: date
    amount: int  # base minor units (0: no rate of its currency that day)
    # the currency it was made in (the invoice's, the plan's) and the amount in it: what a
    # forecast in a document currency takes (docs/design/forecast.md)
    currency: str = ""
    open: int = 0


Commitments = Callable[[Company, date], list[Commitment]]
_commitments: dict[str, Commitments] = {}


def register_commitments(provider: Commitments) -> None:
    """Add ``provider``'s commitments to the cash-flow forecast (and so to its backtest):
    called with the company and the forecast's day, it gives what was committed and still
    open on that day, as it was known then."""
    _commitments[f"{provider.__module__}.{provider.__qualname__}"] = provider


def commitments_registered() -> list[str]:
    return sorted(_commitments)


def commitments(company: Company, as_of: date) -> list[Commitment]:
    return [c for key in commitments_registered() for c in _commitments[key](company, as_of)]
