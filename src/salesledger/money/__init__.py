"""Pure money: exact amounts, ISO 4217 currencies, named rounding. No Django here."""

from .currency import EXPONENTS, Currency, UnknownCurrency, get_currency, is_currency
from .money import CurrencyMismatchError, Money, format_minor, major_text, major_texter, money_sum
from .rounding import Rounding, quantize

__all__ = [
    "EXPONENTS",
    "Currency",
    "CurrencyMismatchError",
    "Money",
    "Rounding",
    "UnknownCurrency",
    "format_minor",
    "get_currency",
    "is_currency",
    "major_text",
    "major_texter",
    "money_sum",
    "quantize",
]
