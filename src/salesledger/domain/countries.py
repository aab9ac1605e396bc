"""Country codes: the one check every path applies to a country a user gives.

A country is an ISO 3166-1 alpha-2 code (``FR``, ``DE``, ``US``), as pycountry lists them,
plus the two codes EN 16931's country list adds for VAT: ``XI`` (Northern Ireland) and
``1A`` (Kosovo). Anything else (``ZZ``, ``EU``, ``UK``) is refused where it is typed, so
that a customer is never stored with a country that posting would refuse later.
"""

from __future__ import annotations

from functools import cache

from .errors import ValidationFailed

EXTRA_CODES = frozenset({"XI", "1A"})  # EN 16931 code list: Northern Ireland, Kosovo


@cache
def _codes() -> frozenset[str]:
    import pycountry

    return frozenset(c.alpha_2 for c in pycountry.countries) | EXTRA_CODES


def is_country(code: str) -> bool:
    """Whether ``code`` (upper case) is a country code the ledger accepts."""
    return code in _codes()


def check_country(code: str, *, field: str = "country") -> str:
    """``code`` in upper case, or ``ValidationFailed`` naming the field; empty stays empty."""
    value = (code or "").strip().upper()
    if value and not is_country(value):
        hint = " (the United Kingdom is GB)" if value == "UK" else ""
        raise ValidationFailed(
            f"{field} {code.strip()!r} is not an ISO 3166-1 two-letter country code{hint}, "
            "e.g. FR, DE, US", field=field)
    return value
