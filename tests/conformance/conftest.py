"""Fixtures of the conformance tests: the validator (compiled once per session) and a
company with a complete profile, as a business that sends e-invoices has."""

from __future__ import annotations

import os
from typing import Any

import pytest

from .validator import SHARED, Validator, missing_artefacts


@pytest.fixture(scope="session")
def validator() -> Validator:
    """The official validators, compiled once. Without the reference folder the tests skip
    (saying why), except in CI, where a missing folder is a failure: conformance that was
    not checked must never look like conformance that passed."""
    missing = missing_artefacts()
    if missing:
        reason = (f"the EN 16931 validation artefacts are not there ({len(missing)} missing, "
                  f"first {missing[0]}); they belong in {SHARED} (set SALESLEDGER_SHARED)")
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return Validator()


@pytest.fixture
def seller(company: Any, owner: Any) -> Any:
    """The fixture company with what an e-invoice says about its seller."""
    from salesledger.apps.core.models import Company

    Company.objects.filter(pk=company.pk).update(
        legal_name="Acme Conseil SARL", tax_id="FR40303265045", registration_id="303265045",
        address_line1="12 rue de la Paix", address_line2="Bâtiment B", postal_code="75002",
        city="Paris", email="billing@acme.example", phone="+33 1 23 45 67 89",
        iban="FR7630006000011234567890189", bic="AGRIFRPP")
    company.refresh_from_db()
    return company
