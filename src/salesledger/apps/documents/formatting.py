"""Amounts, numbers and dates written the way the reader of a document writes them.

babel carries the Unicode CLDR data: a French customer reads ``1 234,56 €`` and
``10 mars 2025``, a German one ``1.234,56 €`` and ``10.03.2025``. The locale is the
document's language in the customer's country when CLDR knows that pair (``pt`` in
Portugal is ``pt_PT``, not Brazilian Portuguese; ``de`` in Switzerland writes ``1’234.56``),
else the language alone. Amounts come in as integer minor units and go through ``Money``
(ISO 4217 exponent), never through a float; babel prints the currency's own number of
decimals.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache

from babel import Locale
from babel.core import localedata
from babel.dates import format_date as babel_format_date
from babel.numbers import format_currency, format_decimal, format_percent

from salesledger.money import Money


@cache
def locale_for(language: str, country: str = "") -> Locale:
    """The babel locale of a document: ``language_COUNTRY`` when CLDR has it."""
    if country and localedata.exists(f"{language}_{country.upper()}"):
        return Locale.parse(f"{language}_{country.upper()}")
    return Locale.parse(language)


class Formatter:
    """Formats values for one locale (built once per document)."""

    def __init__(self, language: str, country: str = "") -> None:
        self.language = language
        self.locale = locale_for(language, country)

    def money(self, minor: int, currency: str) -> str:
        return str(format_currency(Money.from_minor(int(minor), currency).amount, currency,
                                   locale=self.locale))

    def amount(self, value: Decimal, currency: str) -> str:
        """A decimal amount that is not in minor units (a unit price: up to 6 decimals)."""
        if _decimals(value) <= Money.zero(currency).exponent:
            return str(format_currency(value, currency, locale=self.locale))
        return str(format_currency(value, currency, locale=self.locale,
                                   decimal_quantization=False))

    def number(self, value: Decimal) -> str:
        return str(format_decimal(value, format="#,##0.######", locale=self.locale))

    def percent(self, value: Decimal) -> str:
        """``Decimal("5.5")`` -> ``5,5 %`` in French (the value is in percent)."""
        return str(format_percent(Decimal(value) / 100, locale=self.locale,
                                  decimal_quantization=False))

    def date(self, day: date | None) -> str:
        return str(babel_format_date(day, format="medium", locale=self.locale)) if day else ""

    def long_date(self, day: date | None) -> str:
        return str(babel_format_date(day, format="long", locale=self.locale)) if day else ""


def _decimals(value: Decimal) -> int:
    exponent = Decimal(value).normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0
