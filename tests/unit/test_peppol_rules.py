"""The Peppol BIS Billing 3.0 rules the ledger's data can break, as pure functions; and the
electronic address each party gets (its scheme decides whether Peppol can deliver to it)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from salesledger.domain.einvoice import (
    DocumentTotals,
    EInvoice,
    ElectronicAddress,
    Party,
    PostalAddress,
)
from salesledger.domain.peppol_rules import (
    belgian_enterprise_number,
    check,
    check_document,
    check_seller,
    danish_cvr,
    norwegian_organisation_number,
    swedish_organisation_number,
)
from salesledger.formats.einvoice.codes import electronic_address_for

SELLER = Party(name="Acme", address=PostalAddress("FR"), vat_id="FR40303265045",
               electronic_address=ElectronicAddress("9957", "FR40303265045"))
BUYER = Party(name="Dupont", address=PostalAddress("FR"), vat_id="FR44732829320",
              electronic_address=ElectronicAddress("9957", "FR44732829320"))


def _doc(**changes: object) -> EInvoice:
    total = Decimal("100.00")
    doc = EInvoice(number="INV1", issue_date=date(2025, 3, 10), type_code="380",
                   currency="EUR", seller=SELLER, buyer=BUYER, lines=(), vat_breakdown=(),
                   totals=DocumentTotals(total, total, Decimal(0), total, total),
                   order_reference="PO-1")
    return replace(doc, **changes)  # type: ignore[arg-type]


def test_a_document_with_a_reference_and_registered_parties_breaks_no_rule() -> None:
    assert check(_doc()) == []
    assert check(_doc(order_reference="", buyer_reference="DEPT-7")) == []


@pytest.mark.parametrize("changes, rule", [
    ({"order_reference": ""}, "PEPPOL-EN16931-R003"),
    ({"buyer": replace(BUYER, electronic_address=None)}, "PEPPOL-EN16931-R010"),
    ({"buyer": replace(BUYER, electronic_address=ElectronicAddress("EM", "a@b.example"))},
     "PEPPOL-EN16931-CL008"),
    ({"buyer": replace(BUYER, electronic_address=ElectronicAddress("0007", "5560360794"))},
     "PEPPOL-COMMON-R049"),
    ({"buyer": replace(BUYER, electronic_address=ElectronicAddress("0192", "923609017"))},
     "PEPPOL-COMMON-R041"),
    ({"buyer": replace(BUYER, electronic_address=ElectronicAddress("0184", "DK1234567"))},
     "PEPPOL-COMMON-R042"),
])
def test_the_customer_and_the_references_are_checked_at_posting(changes: dict[str, object],
                                                               rule: str) -> None:
    problems = check_document(_doc(**changes))
    assert [p.rule for p in problems] == [rule]
    assert f"(Peppol rule {rule}): " in problems[0].message
    assert problems[0].message.endswith(".")


@pytest.mark.parametrize("seller, rule", [
    (replace(SELLER, electronic_address=None), "PEPPOL-EN16931-R020"),
    (replace(SELLER, electronic_address=ElectronicAddress("EM", "x@acme.example")),
     "PEPPOL-EN16931-CL008"),
    (replace(SELLER, legal_id="0403170702", legal_id_scheme="0208"), "PEPPOL-COMMON-R043"),
])
def test_the_company_is_checked_as_the_seller(seller: Party, rule: str) -> None:
    doc = _doc(seller=seller)
    assert [p.rule for p in check_seller(doc)] == [rule]
    assert check_document(doc) == []
    assert "company profile" in check(doc)[0].message


def test_check_digits_as_the_peppol_rules_compute_them() -> None:
    assert swedish_organisation_number("5560360793")
    assert not swedish_organisation_number("5560360794")
    assert not swedish_organisation_number("556036079")
    assert norwegian_organisation_number("923609016")
    assert not norwegian_organisation_number("923609017")
    assert not norwegian_organisation_number("000000000")
    assert danish_cvr("DK12345678") and danish_cvr("12345678") and not danish_cvr("DK1234567")
    assert belgian_enterprise_number("0403170701")
    assert not belgian_enterprise_number("0403170702")


@pytest.mark.parametrize("vat, email, expected", [
    ("FR44732829320", "", ("9957", "FR44732829320")),
    ("NO923609016MVA", "", ("0192", "923609016")),
    ("US12-3456789", "ap@us.example", ("9959", "123456789")),
    ("US", "ap@us.example", ("EM", "ap@us.example")),  # no number: the e-mail
    ("SE556036079301", "", ("0007", "5560360793")),
    ("", "", None),
])
def test_the_electronic_address_of_a_party(vat: str, email: str,
                                           expected: tuple[str, str] | None) -> None:
    assert electronic_address_for(vat, email) == expected
