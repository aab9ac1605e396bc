"""Amounts and dates as the reader writes them: the workspace's formatter (babel, the
user's language in the company's country). Amounts arrive as the selectors give them: money
JSON (``{"amount": "12.30", "currency": "EUR"}``) or integer minor units with a currency,
never a float."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from babel.numbers import format_currency, format_decimal, format_percent
from django import template

from salesledger.apps.credit.factors import factor_texts
from salesledger.money import Money
from salesledger.web.credit_panel import hold_source_label

register = template.Library()


def _formatter(context: template.Context) -> Any:
    return context["ws"].formatter


@register.simple_tag(takes_context=True)
def money(context: template.Context, value: Any, currency: str = "") -> str:
    """``{% money invoice.total %}`` (money JSON) or ``{% money minor "EUR" %}``."""
    if value is None or value == "":
        return ""
    fmt = _formatter(context)
    if isinstance(value, dict):
        return str(format_currency(Decimal(value["amount"]), value["currency"],
                                   locale=fmt.locale))
    if isinstance(value, Money):
        return str(format_currency(value.amount, value.currency, locale=fmt.locale))
    return str(fmt.money(int(value), currency))


@register.filter
def risk_factors(value: Any) -> str:
    """A risk score's factors (codes with their figures) in the page's language."""
    return "; ".join(factor_texts(list(value or [])))


@register.filter
def hold_source(value: str) -> str:
    """A credit hold's source (manual, dunning, plan) in the page's language."""
    return hold_source_label(str(value))


@register.simple_tag(takes_context=True)
def day(context: template.Context, value: date | str | None) -> str:
    """A day (or its ISO text, as a task's arguments keep it) in the reader's format."""
    if isinstance(value, str):
        value = date.fromisoformat(value) if value else None
    return str(_formatter(context).date(value)) if value else ""


@register.simple_tag(takes_context=True)
def figure(context: template.Context, value: float | None, digits: int = 1) -> str:
    """A measured figure (days, an AUC) in the reader's format, or a dash when there is
    none."""
    if value is None:
        return "–"
    return str(format_decimal(round(float(value), digits), format="#,##0." + "#" * digits,
                              locale=_formatter(context).locale))


@register.simple_tag(takes_context=True)
def share(context: template.Context, value: float | None) -> str:
    """A share (0.25) as a percentage in the reader's format (25 %, 25%), or a dash."""
    if value is None:
        return "–"
    return str(format_percent(value, format="#,##0.#%", locale=_formatter(context).locale))


@register.simple_tag(takes_context=True)
def query(context: template.Context, **changes: Any) -> str:
    """The current query string with ``changes`` (a value of None removes the key)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"
