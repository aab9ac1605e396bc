"""The one country check: ISO 3166-1 alpha-2 codes, plus EN 16931's XI and 1A."""

from __future__ import annotations

import pytest

from salesledger.domain.countries import check_country, is_country
from salesledger.domain.errors import ValidationFailed


@pytest.mark.parametrize("code", ["FR", "DE", "US", "GB", "GR", "CH", "XI", "1A", "AQ"])
def test_iso_codes_and_en16931_extras_are_countries(code: str) -> None:
    assert is_country(code)


@pytest.mark.parametrize("code", ["ZZ", "EU", "UK", "EL", "XK", "QO", "fr", "FRA", ""])
def test_other_codes_are_not(code: str) -> None:
    assert not is_country(code)


def test_check_country_upper_cases_and_names_the_field() -> None:
    assert check_country(" fr ") == "FR"
    assert check_country("") == ""
    with pytest.raises(ValidationFailed) as failed:
        check_country("uk", field="billing_country")
    assert failed.value.fields["field"] == "billing_country"
    assert failed.value.message == ("billing_country 'uk' is not an ISO 3166-1 two-letter "
                                    "country code (the United Kingdom is GB), e.g. FR, DE, US")
