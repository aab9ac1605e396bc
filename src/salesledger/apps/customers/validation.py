"""The country check as a Django field validator (the identifiers themselves are checked by
``salesledger.domain.identifiers``, with no Django)."""

from __future__ import annotations


def validate_country(value: str) -> None:
    """The country check of ``domain.countries`` as a Django field validator, so that the
    back office's forms refuse what the services refuse. Upper case only, as stored."""
    from django.core.exceptions import ValidationError as DjangoValidationError

    from salesledger.domain.countries import is_country

    if value and not is_country(value):
        raise DjangoValidationError(
            f"{value!r} is not an ISO 3166-1 two-letter country code (e.g. FR, DE, GB)")
