"""Named rounding policies.

Amounts are quantised only at named points (a line's net, tax per line or per document,
an instalment, a currency conversion). Which rule applies there is a company setting, so
the rule has a name that can be stored: ``half_up`` (commercial rounding, the usual rule
for invoices in the EU), ``half_even`` (banker's rounding), ``down`` (truncate toward
zero) and ``up`` (away from zero).
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from enum import StrEnum


class Rounding(StrEnum):
    HALF_UP = "half_up"
    HALF_EVEN = "half_even"
    DOWN = "down"
    UP = "up"

    @property
    def decimal_mode(self) -> str:
        return _MODES[self]


_MODES: dict[Rounding, str] = {
    Rounding.HALF_UP: decimal.ROUND_HALF_UP,
    Rounding.HALF_EVEN: decimal.ROUND_HALF_EVEN,
    Rounding.DOWN: decimal.ROUND_DOWN,
    Rounding.UP: decimal.ROUND_UP,
}


def quantize(value: Decimal, exponent: int, rounding: Rounding = Rounding.HALF_UP) -> Decimal:
    """Round ``value`` to ``exponent`` decimal places with the named policy."""
    if not isinstance(value, Decimal):
        raise TypeError(f"quantize expects a Decimal, not {type(value).__name__}")
    # Exact at any size: the context holds every digit the result has (the default context's
    # 28 digits would make quantizing a very large amount an error).
    digits = max(decimal.getcontext().prec, value.adjusted() + exponent + 2)
    context = decimal.Context(prec=digits, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)
    return value.quantize(Decimal(1).scaleb(-exponent, context), rounding=rounding.decimal_mode,
                          context=context)
