"""Amounts that may be recorded: the one rule every path applies to a typed or imported amount.

A payment, a refund or an adjustment is stored in 64-bit integer columns of minor units, and
the ledger sums them (balances, checks, aging). An amount at or beyond ``MAX_MINOR`` is beyond
any real payment, and far enough inside those columns that their sums stay exact; it is refused
wherever it comes from (a command, the bulk path, a CSV file), with the same error.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from salesledger.money import EXPONENTS, Money

from .errors import ValidationFailed

# The largest amount a payment, a refund or an adjustment may have, in minor units.
MAX_MINOR = 10**15


def check_recordable(minor: int, currency: str, *, field: str = "amount") -> int:
    """``minor`` if an amount of that size may be recorded, else ``validation_failed``."""
    if abs(minor) >= MAX_MINOR:
        shown = Money.from_minor(minor, currency)
        raise ValidationFailed(f"{shown} is more than any amount recorded here", field=field)
    return minor


def amount_minor(amount: Decimal, currency: str, *, field: str = "amount") -> int:
    """A typed amount as minor units of ``currency`` (the sign is the caller's rule). Refuses
    more decimals than the currency has, and amounts no payment reaches (``1e30``, whose
    rounding the decimal context cannot even do), with ``validation_failed``."""
    if type(amount) is Decimal and amount.is_finite():
        # the common case, a few digits with no more decimals than the currency has: its
        # minor units at once (what the checks below give it; the batch writers meet
        # thousands of them)
        _, digits, exponent = amount.as_tuple()
        places = EXPONENTS.get(currency) if isinstance(currency, str) else None
        if (places is not None and isinstance(exponent, int) and exponent >= -places
                and len(digits) + exponent <= 15):
            return check_recordable(int(amount.scaleb(places)), currency, field=field)
    try:
        money = Money.of(amount, currency)
        rounded = money.is_rounded()
    except (InvalidOperation, ValueError):
        raise ValidationFailed(f"{amount} is not an amount in {currency}", field=field) from None
    if not rounded:
        raise ValidationFailed(f"{amount} has more decimals than {currency} allows", field=field)
    return check_recordable(money.minor(), currency, field=field)


def parse_decimal(text: str, what: str) -> Decimal:
    """A number as a person types it (a command's option, a form's field): digits with a dot,
    a sign, spaces around; ``what`` names it in the error (``"quantity: 'two' is not a
    number"``). Not a number, infinite or NaN is refused; -0 is 0. The one rule of the
    command line and the pages (a CSV cell has its own, stricter one: formats/csv_rows.py)."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValidationFailed(f"{what}: {text!r} is not a number", field=what) from None
    if not value.is_finite():
        raise ValidationFailed(f"{what}: {text!r} is not a number", field=what)
    return value if value else abs(value)  # -0 is 0
