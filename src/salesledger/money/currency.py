"""ISO 4217 currencies and their minor-unit exponents.

The exponent says how many decimal places a currency's minor unit has (EUR 2, JPY 0,
KWD 3). Amounts are stored as integers in that minor unit, so the exponent is what turns
a stored integer back into a decimal amount. Figures are from ISO 4217 (list one,
published by SIX Financial Information as the maintenance agency).
"""

from __future__ import annotations

from dataclasses import dataclass

# Currencies whose exponent is not 2. Every other active ISO 4217 code below has 2.
_EXPONENT_OVERRIDES: dict[str, int] = {
    "BHD": 3,
    "BIF": 0,
    "CLF": 4,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "IQD": 3,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "PYG": 0,
    "RWF": 0,
    "TND": 3,
    "UGX": 0,
    "UYI": 0,
    "UYW": 4,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
}

_TWO_DECIMAL_CODES = """
AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN
BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP
GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT
LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN
NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE
SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES
WST XCD XCG YER ZAR ZMW ZWG
""".split()

EXPONENTS: dict[str, int] = {code: 2 for code in _TWO_DECIMAL_CODES} | _EXPONENT_OVERRIDES


class UnknownCurrency(ValueError):
    """Raised for a code that is not an active ISO 4217 currency."""

    def __init__(self, code: object) -> None:
        super().__init__(f"unknown currency code {code!r} (expected an ISO 4217 code such as EUR)")
        self.code = code


@dataclass(frozen=True, slots=True)
class Currency:
    code: str
    exponent: int

    def __str__(self) -> str:
        return self.code


def get_currency(code: str) -> Currency:
    """Return the currency for an ISO 4217 alphabetic code (case-sensitive, three letters)."""
    if not isinstance(code, str) or code not in EXPONENTS:
        raise UnknownCurrency(code)
    return Currency(code, EXPONENTS[code])


def is_currency(code: str) -> bool:
    return code in EXPONENTS
