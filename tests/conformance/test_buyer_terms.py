"""The terms that identify the buyer and describe the supply (issue 11, items 3 and 5), written
through the services and found where EN 16931 binds them, each document valid under the
official rules (``test_einvoice.py`` validates every scenario; here, what each carries)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from salesledger.apps.invoicing.einvoice import einvoice_build
from salesledger.formats.einvoice import write_cii, write_ubl

from .scenarios import SCENARIOS, Books
from .validator import Validator

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(seller: Any, owner: Any) -> Books:
    return Books(seller, owner)


def _files(books: Books, scenario: str, validator: Validator) -> tuple[Any, str, str]:
    inv = SCENARIOS[scenario](books)
    doc = einvoice_build(company=books.company, invoice=inv)
    ubl, cii = write_ubl(doc), write_cii(doc)
    assert validator.ubl(ubl, peppol=False).ok and validator.cii(cii).ok
    assert not validator.peppol(ubl).fatal
    return doc, ubl.decode(), cii.decode()


def test_a_french_buyer_with_its_siret_peppol_id_and_the_reform_data(
        books: Books, validator: Validator) -> None:
    doc, ubl, cii = _files(books, "french_b2b_buyer_with_siret_and_peppol_id", validator)
    # BT-47 with its scheme, BT-49 the address given, not the one derived from the VAT number
    assert (doc.buyer.legal_id, doc.buyer.legal_id_scheme) == ("73282932000074", "0009")
    assert '<cbc:EndpointID schemeID="0009">73282932000074</cbc:EndpointID>' in ubl
    assert '<cbc:CompanyID schemeID="0009">73282932000074</cbc:CompanyID>' in ubl
    assert '<ram:ID schemeID="0009">73282932000074</ram:ID>' in cii
    # BT-72 from the document, BT-12, BT-11; the deliver-to address that differs
    assert "<cbc:ActualDeliveryDate>2025-03-07</cbc:ActualDeliveryDate>" in ubl
    assert "<cbc:ID>CT-2024-17</cbc:ID>" in ubl and "<cbc:ID>Lyon plant</cbc:ID>" in ubl
    assert "<ram:CityName>Vénissieux</ram:CityName>" in cii
    # the French reform: services (BT-23 S1) and VAT on debits (BT-8: 5 in CII, 3 in UBL)
    assert "<ram:ID>S1</ram:ID>" in cii
    assert "<ram:DueDateTypeCode>5</ram:DueDateTypeCode>" in cii
    assert "<cbc:DescriptionCode>3</cbc:DescriptionCode>" in ubl


def test_a_direct_debit_names_the_mandate_the_creditor_and_the_account(
        books: Books, validator: Validator) -> None:
    doc, ubl, cii = _files(books, "direct_debit_invoice", validator)
    assert doc.payment is not None and doc.payment.means_code == "59"
    assert (doc.payment.mandate, doc.payment.creditor_id, doc.payment.debited_account) == (
        "MD-0042", "FR72ZZZ123456", "FR1420041010050500013M02606")
    assert '<cbc:ID schemeID="SEPA">FR72ZZZ123456</cbc:ID>' in ubl
    assert "<ram:DirectDebitMandateID>MD-0042</ram:DirectDebitMandateID>" in cii
    assert "<ram:IBANID>FR1420041010050500013M02606</ram:IBANID>" in cii
    # a SIREN typed alone takes its scheme from its shape
    assert (doc.buyer.legal_id, doc.buyer.legal_id_scheme) == ("732829320", "0002")


def test_an_invoicing_period_and_an_allowance_in_percent(books: Books,
                                                         validator: Validator) -> None:
    doc, ubl, cii = _files(books, "invoicing_period_and_percentage_allowance", validator)
    assert doc.period is not None and (doc.period.start.isoformat(),
                                       doc.period.end.isoformat()) == ("2025-02-01", "2025-02-28")
    assert doc.delivery is not None and doc.delivery.date is None
    (allowance,) = doc.allowances
    # 5 % of the lines at 20 % (240.00 + 179.80), not of the book at 6 %
    assert (allowance.percent, allowance.base_amount, allowance.amount) == (
        Decimal(5), Decimal("419.80"), Decimal("20.99"))
    assert "<cbc:MultiplierFactorNumeric>5</cbc:MultiplierFactorNumeric>" in ubl
    assert "<ram:BillingSpecifiedPeriod>" in cii
    # the seller is French: goods and services together are M1 (BT-23)
    assert "<ram:ID>M1</ram:ID>" in cii and doc.business_process == "M1"


def test_item_identifiers_and_a_credit_note_on_a_project(books: Books,
                                                         validator: Validator) -> None:
    doc, ubl, cii = _files(books, "item_identifiers_and_a_credit_note_on_a_project", validator)
    (line,) = doc.lines
    assert (line.seller_item_id, line.standard_item_id, line.standard_item_scheme) == (
        "DR-18V", "4006381333931", "0160")
    assert '<cbc:ID schemeID="0160">4006381333931</cbc:ID>' in ubl
    assert '<ram:GlobalID schemeID="0160">4006381333931</ram:GlobalID>' in cii
    # a credit note carries its project as a document reference of type 50
    assert "<cbc:DocumentTypeCode>50</cbc:DocumentTypeCode>" in ubl
    assert '<cbc:EndpointID schemeID="0088">5790000435951</cbc:EndpointID>' in ubl
