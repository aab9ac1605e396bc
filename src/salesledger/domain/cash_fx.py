"""Foreign-currency payments in cash application (docs/design/cash-application.md): a
statement line in another currency than the invoices it may pay, converted to theirs so that
the matcher's amount rules apply. Pure.

Two ways to know what the line is worth in the invoice's currency:

- **the bank's own**: the line carries the original amount and currency (camt
  ``AmtDtls/InstdAmt``, MT940 ``/OCMT/``): the payer sent exactly that; the rate is the
  one the bank used (original ÷ booked), and the amount fits exactly or not at all;
- **the day's rate** of the company's rate table: the bank converted at its own rate, with
  its spread, so the converted amount is near what was meant, not equal to it. An amount
  within :data:`SLACK_PERCENT` of what is open is taken as paying it, at the rate that makes
  it so (the payment's effective rate); the payment services then book the difference
  between the booking rates as a realised exchange gain or loss, as for any receipt that
  pays another currency. Such a proposal is a little less sure (:data:`TABLE_STRENGTH`):
  the amount is near, not equal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ..money import format_minor, get_currency
from .fx import convert, normalise

SLACK_PERCENT = Decimal(2)
TABLE_STRENGTH = 0.97


@dataclass(frozen=True)
class Conversion:
    """What a line pays in ``currency``: ``amount`` (minor units) at ``rate`` (units of
    ``currency`` per unit of the line's), and how that was known."""

    currency: str
    amount: int
    rate: Decimal
    exact: bool
    how: str


def _major(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-get_currency(currency).exponent)


def effective_rate(paid: int, paid_currency: str, worth: int, currency: str) -> Decimal:
    """The rate at which ``paid`` is worth ``worth`` (units of ``currency`` per unit)."""
    return normalise(_major(worth, currency) / _major(paid, paid_currency))


def conversion(amount: int, line_currency: str, day: date, currency: str, *,
               original_amount: int | None, original_currency: str,
               rates: Mapping[tuple[str, str, date], Decimal]) -> Conversion | None:
    """What a line of ``amount`` in ``line_currency`` pays in ``currency``; None when
    neither the bank nor the rate table says (or the currency is the line's own)."""
    if currency == line_currency or amount <= 0:
        return None
    if original_currency == currency and original_amount:
        rate = effective_rate(amount, line_currency, original_amount, currency)
        return Conversion(currency, original_amount, rate, True,
                          f"paid {format_minor(original_amount, currency)} (the bank's "
                          f"original amount; {format_minor(amount, line_currency)} booked)")
    table = rates.get((line_currency, currency, day))
    if table is None:
        return None
    worth = convert(amount, line_currency, currency, table)
    return Conversion(currency, worth, table, False,
                      f"{format_minor(amount, line_currency)} at the rate of {day} ({table}) "
                      f"is {format_minor(worth, currency)}")


def near(conv: Conversion, target: int) -> bool:
    """Whether a conversion at the day's rate is near enough ``target`` to mean it."""
    return not conv.exact and target > 0 and abs(conv.amount - target) * 100 <= \
        target * SLACK_PERCENT


def snapped(conv: Conversion, targets: Sequence[int], paid: int, paid_currency: str
            ) -> Conversion:
    """A conversion at the day's rate taken as paying the nearest of ``targets`` within the
    slack (at the payment's effective rate); unchanged when none is near."""
    fits = sorted((abs(conv.amount - t), t) for t in targets if near(conv, t))
    if not fits or fits[0][1] == conv.amount:
        return conv
    target = fits[0][1]
    return Conversion(conv.currency, target, effective_rate(paid, paid_currency, target,
                                                            conv.currency), False,
                      f"{conv.how}, within {SLACK_PERCENT}% of "
                      f"{format_minor(target, conv.currency)}: paid at "
                      f"{effective_rate(paid, paid_currency, target, conv.currency)}")
