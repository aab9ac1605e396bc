"""The company profile documents print: checked with the field's libraries, audited."""

from __future__ import annotations

import pytest
from tests.support import events, last_seq

from salesledger.apps.core.models import Company
from salesledger.apps.core.services import company_profile_update, membership_set, user_ensure
from salesledger.domain.errors import (
    InvalidBankAccount,
    InvalidTaxId,
    PermissionDenied,
    ValidationFailed,
)

from .conftest import png

SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'


def test_the_profile_is_normalised_stored_and_audited(company, owner):
    seq = last_seq(company)
    # when the profile is set with an IBAN typed with spaces and no BIC
    updated = company_profile_update(
        actor=owner, company=company, iban="fr76 3000 6000 0112 3456 7890 189",
        brand_color="#AA3300", city="Paris", logo=png())
    # then the IBAN is compact, the BIC comes from the bank code, the colour is lower case,
    # the logo type is read from its content
    stored = Company.objects.get(pk=company.pk)
    assert (stored.iban, stored.bic) == ("FR7630006000011234567890189", "AGRIFRPPXXX")
    assert (stored.brand_color, stored.city, stored.logo_mime) == ("#aa3300", "Paris",
                                                                   "image/png")
    assert bytes(stored.logo) == png() and updated.iban == stored.iban
    # and one audit event says what changed, the logo by its hash
    [event] = events(company, seq)
    assert event.action == "company.profile_update"
    assert event.data["before"]["iban"] == "" and event.data["after"]["bic"] == "AGRIFRPPXXX"
    assert event.data["after"]["logo"]["bytes"] == len(png())


def test_an_svg_logo_is_accepted_and_a_logo_can_be_removed(company, owner):
    assert company_profile_update(actor=owner, company=company, logo=SVG).logo_mime == (
        "image/svg+xml")
    removed = company_profile_update(actor=owner, company=company, logo=None)
    assert (removed.logo, removed.logo_mime) == (None, "")


@pytest.mark.parametrize(("fields", "error", "says"), [
    ({"iban": "FR76 3000 6000 0112 3456 7890 180"}, InvalidBankAccount, "IBAN"),
    ({"bic": "NOTABIC"}, InvalidBankAccount, "BIC"),
    ({"brand_color": "red"}, ValidationFailed, "#rrggbb"),
    ({"brand_color": "#12345"}, ValidationFailed, "#rrggbb"),
    ({"logo": b"GIF89a......"}, ValidationFailed, "PNG, JPEG or SVG"),
    ({"logo": b"<html><body/></html>"}, ValidationFailed, "PNG, JPEG or SVG"),
    ({"logo": png()[:30]}, ValidationFailed, "damaged PNG"),
    ({"logo": png() + b"\0" * (1024 * 1024)}, ValidationFailed, "1 MB"),
    ({"email": "not an address"}, ValidationFailed, "e-mail"),
    ({"country": "France"}, ValidationFailed, "two-letter"),
    ({"tax_id": "FR00000000000"}, InvalidTaxId, "not valid"),
    ({"name": " "}, ValidationFailed, "empty"),
    ({"lock_date": "2025-01-01"}, ValidationFailed, "unknown company profile field"),
])
def test_bad_values_are_refused_and_nothing_changes(company, owner, fields, error, says):
    seq = last_seq(company)
    with pytest.raises(error, match=says):
        company_profile_update(actor=owner, company=company, **fields)
    stored = Company.objects.get(pk=company.pk)
    assert (stored.iban, stored.brand_color, stored.logo) == ("", "#1f4e79", None)
    assert events(company, seq) == []


def test_a_clerk_cannot_change_the_profile(company, owner):
    clerk = user_ensure(username="clerk")
    membership_set(actor=owner, company=company, username="clerk", role="clerk")
    with pytest.raises(PermissionDenied):
        company_profile_update(actor=clerk, company=company, city="Lyon")
