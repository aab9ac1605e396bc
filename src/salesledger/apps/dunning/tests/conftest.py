"""Fixtures of the dunning tests: the documents app's real SMTP server and PDF reader, and a
company with a policy of four levels (-3, +5, +20, +40 days), rates and the French rule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from salesledger.apps.documents.tests.conftest import pdf_text, seller, smtp_server
from salesledger.apps.dunning.services import (
    RateRow,
    interest_rule_set,
    policy_add,
    rates_add,
)
from salesledger.domain.dunning import Level

__all__ = ["pdf_text", "seller", "smtp_server"]

LEVELS = [
    Level(0, -3, "Friendly reminder", ("email",)),
    Level(0, 5, "First reminder", ("email",)),
    Level(0, 20, "Second reminder", ("email", "letter"), fee_fixed=1500),
    Level(0, 40, "Final notice", ("email", "letter", "call"), interest=True, hold=True,
          fee_percent=Decimal("2")),
]


@pytest.fixture(autouse=True)
def _no_pdf_freezing(no_pdf_freezing: None) -> None:
    """Posting's PDF freezing is queued for the worker: not this app's subject."""


@pytest.fixture
def dunning(seller: Any, owner: Any) -> Any:
    """The seller with the four-level policy as its default, the ECB rates of 2025 and the
    French rule (8 points, EUR 40 for business customers)."""
    policy_add(actor=owner, company=seller, code="STD", name="Standard", levels=LEVELS,
               min_amount=1000, default=True)
    rates_add(actor=owner, company=seller, rows=[
        RateRow(date(2024, 6, 12), Decimal("4.25"), "ECB MRO"),
        RateRow(date(2025, 3, 12), Decimal("2.65"), "ECB MRO"),
        RateRow(date(2025, 6, 11), Decimal("2.15"), "ECB MRO")])
    interest_rule_set(actor=owner, company=seller, country="FR", margin=Decimal(8),
                      compensation=4000, compensation_currency="EUR")
    return seller
