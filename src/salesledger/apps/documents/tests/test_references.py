"""ISO 11649 creditor references: pure properties of ``domain/references.py``, checked
against python-stdnum's own validator."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st
from stdnum import iso11649
from stdnum.iso7064 import mod_97_10

from salesledger.domain.references import (
    MAX_REFERENCE,
    creditor_reference,
    format_reference,
    is_creditor_reference,
    reference_part,
)

numbers = st.text(min_size=1, max_size=60).filter(lambda s: s.strip())
own_numbers = st.builds(lambda p, y, n: f"{p}{y}-{n:05d}", st.sampled_from(["INV", "CN"]),
                        st.integers(2000, 2099), st.integers(1, 99999))


def test_a_known_reference():
    # RF + check digits + the number's letters and digits; the digits make it valid
    assert creditor_reference("INV2025-00042") == "RF41INV202500042"
    assert format_reference("RF41INV202500042") == "RF41 INV2 0250 0042"
    assert iso11649.is_valid("RF41INV202500042")


@given(numbers)
def test_every_reference_is_valid_and_short_enough(number):
    ref = creditor_reference(number)
    assert iso11649.is_valid(ref) and is_creditor_reference(ref)
    assert ref.startswith("RF") and 5 <= len(ref) <= 4 + MAX_REFERENCE
    assert set(ref) <= set(string.ascii_uppercase + string.digits)
    assert creditor_reference(number) == ref  # stable


@given(own_numbers)
def test_own_numbers_keep_their_letters_and_digits(number):
    assert creditor_reference(number)[4:] == number.replace("-", "")


@given(own_numbers, st.data())
def test_one_changed_character_is_detected(number, data):
    ref = creditor_reference(number)
    i = data.draw(st.integers(2, len(ref) - 1))
    other = data.draw(st.sampled_from(string.ascii_uppercase + string.digits)
                      .filter(lambda c: c != ref[i]))
    assert not iso11649.is_valid(ref[:i] + other + ref[i + 1:])


def test_numbers_without_usable_characters_get_a_digest():
    long_number = "LEGACY-SYSTEM-CUSTOMER-ACME-2019-INVOICE-000123"
    for number in (long_number, "---", "Ä/Ö"):
        part = reference_part(number)
        assert len(part) == MAX_REFERENCE and part.isalnum()
        assert iso11649.is_valid(creditor_reference(number))
    assert reference_part(long_number) != reference_part(long_number + "4")


def test_an_empty_number_has_no_reference():
    import pytest

    with pytest.raises(ValueError):
        creditor_reference("  ")


@given(st.from_regex(r"(?i)rf[0-9]{2}[a-z0-9 ]{0,24}", fullmatch=True))
def test_the_check_is_stdnums(text):
    # the MOD 97-10 computed here agrees with stdnum's on references of any check digits,
    # case, spacing and length (the matcher checks tens of thousands per statement)
    assert is_creditor_reference(text) == iso11649.is_valid(text)


@given(numbers)
def test_the_reference_is_stdnums(number):
    part = reference_part(number)
    assert creditor_reference(number) == iso11649.validate(
        "RF" + mod_97_10.calc_check_digits(part + "RF") + part)
