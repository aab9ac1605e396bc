"""Identifiers of buyers, items and creditors are checked where they are typed
(``domain/party_ids.py``): a wrong check digit or scheme is refused with a clear message."""

from __future__ import annotations

import pytest

from salesledger.domain.errors import ValidationFailed
from salesledger.domain.party_ids import (
    check_creditor_id,
    check_mandate,
    parse_endpoint,
    parse_item_id,
    parse_legal_id,
)


def test_a_siren_or_siret_takes_its_scheme_from_its_shape() -> None:
    assert parse_legal_id("732 829 320", "FR") == ("732829320", "0002")
    assert parse_legal_id("73282932000074", "FR") == ("73282932000074", "0009")
    assert parse_legal_id("0088:5790000435951", "DE") == ("5790000435951", "0088")


def test_a_registration_number_with_spaces_and_no_known_register_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="one word"):
        parse_legal_id("HRB 12345", "DE")
    assert parse_legal_id("HRB12345", "DE") == ("HRB12345", "")


@pytest.mark.parametrize(("text", "country", "message"), [
    ("732829321", "FR", "not a valid SIREN"),
    ("73282932000075", "FR", "not a valid SIRET"),
    ("0092:123", "FR", "not an ISO/IEC 6523"),
    ("0088:5790000435952", "DK", "not a valid GLN"),
    ("0208:0403170702", "BE", "not a valid Belgian enterprise number"),
])
def test_a_wrong_registration_number_is_refused(text: str, country: str, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        parse_legal_id(text, country)


def test_an_electronic_address_needs_a_scheme_networks_deliver_to() -> None:
    assert parse_endpoint("0009:73282932000074") == ("0009", "73282932000074")
    assert parse_endpoint("9925:BE0403170701") == ("9925", "BE0403170701")
    assert parse_endpoint("") == ("", "")
    with pytest.raises(ValidationFailed, match="SCHEME:ID"):
        parse_endpoint("73282932000074")
    with pytest.raises(ValidationFailed, match="not an electronic address scheme"):
        parse_endpoint("EM:ap@example.com")
    with pytest.raises(ValidationFailed, match="not a valid SIRET"):
        parse_endpoint("0009:73282932000075")


def test_item_identifiers_default_to_a_gtin_and_check_it() -> None:
    assert parse_item_id("4006381333931") == ("0160", "4006381333931")
    assert parse_item_id("0088:5790000435951") == ("0088", "5790000435951")
    with pytest.raises(ValidationFailed, match="not a valid GTIN"):
        parse_item_id("4006381333932")


def test_a_sepa_creditor_id_and_a_mandate() -> None:
    assert check_creditor_id("fr72 zzz 123456") == "FR72ZZZ123456"
    with pytest.raises(ValidationFailed, match="check digits are wrong"):
        check_creditor_id("FR73ZZZ123456")
    with pytest.raises(ValidationFailed, match="write the country"):
        check_creditor_id("123456")
    assert check_mandate(" MD-0042 ") == "MD-0042"
    with pytest.raises(ValidationFailed, match="at most 35"):
        check_mandate("MD_0042*")
