"""The Factur-X PDF, as a PDF/A-3 validator and the Factur-X Schematron would check it.

- The PDF/A points the product controls (``pdfa.py``): the Info dictionary and the XMP
  metadata agree (Title, Author, Subject, Keywords, Producer, Creator, dates), an output
  intent with an ICC profile, every font embedded, the XML attached with its AFRelationship,
  the Factur-X extension schema. The same checks find the disagreements of the PDF the
  Factur-X library writes alone.
- The CII passes the Factur-X EN 16931 Schematron (1.09) without a fatal error, and without
  the warning of an empty delivery element (PEPPOL-EN16931-R008) that every invoice but an
  intra-Community one used to get.
"""

from __future__ import annotations

import io
from typing import Any

import facturx
import pytest
from lxml import etree

from salesledger.apps.documents.einvoice_files import facturx_pdf
from salesledger.apps.documents.services import invoice_pdf_bytes
from salesledger.apps.invoicing.einvoice import einvoice_xml
from salesledger.formats.einvoice.facturx import xml_from_facturx

from .pdfa import pdfa_problems
from .scenarios import SCENARIOS, Books
from .validator import EINVOICE, SHARED, Report, Validator

pytestmark = pytest.mark.django_db

FACTURX_XSL = (EINVOICE / "akretion-factur-x" / "xsd_and_schematron" / "facturx-en16931"
               / "Factur-X_1.09_EN16931.xsl")


@pytest.fixture
def books(seller: Any, owner: Any) -> Books:
    return Books(seller, owner)


@pytest.fixture(scope="module")
def facturx_schematron(validator: Validator) -> Any:
    """The Factur-X 1.09 EN 16931 Schematron, compiled once (the validator fixture has
    checked that the reference folder is there, or skipped saying why)."""
    if not FACTURX_XSL.is_file():
        pytest.fail(f"{FACTURX_XSL} is missing from {SHARED}")
    from saxonche import PySaxonProcessor

    processor = PySaxonProcessor(license=False)
    stylesheet = processor.new_xslt30_processor().compile_stylesheet(
        stylesheet_file=str(FACTURX_XSL))

    def check(xml: bytes) -> Report:
        svrl = etree.fromstring(stylesheet.transform_to_string(
            xdm_node=processor.parse_xml(xml_text=xml.decode("utf-8"))).encode("utf-8"))
        report = Report()
        for failed in svrl.iterfind(".//{http://purl.oclc.org/dsdl/svrl}failed-assert"):
            text = " ".join("".join(failed.itertext()).split())
            if failed.get("flag") == "fatal":
                report.fatal.append(failed.get("id") or "?")
                report.messages.append(text)
            else:
                report.warnings.append(f"{failed.get('id')}: {text}")
        return report

    return check


@pytest.mark.parametrize("scenario", ["several_rates_discounts_allowances_charges",
                                      "intra_community_goods", "credit_note_with_reverse_charge"])
def test_the_factur_x_pdf_is_pdfa3_as_a_validator_checks_it(
        scenario: str, books: Books, validator: Validator, facturx_schematron: Any) -> None:
    # given a document posted through the services
    inv = SCENARIOS[scenario](books)
    # when its Factur-X PDF is written
    pdf = facturx_pdf(inv)
    # then the PDF/A-3 points hold
    assert pdfa_problems(pdf) == []
    # and the producer names both programs that wrote the file, in Info and XMP alike
    from pypdf import PdfReader

    info = PdfReader(io.BytesIO(pdf)).metadata or {}
    assert info["/Producer"].startswith("WeasyPrint ") and "factur-x" in info["/Producer"]
    assert info["/Creator"] == "salesledger" and info["/Keywords"]
    # and the CII it carries passes the CEN rules and the Factur-X Schematron, with no
    # warning of an empty delivery element
    cii = xml_from_facturx(pdf)
    assert validator.cii(cii).ok
    report = facturx_schematron(cii)
    assert report.fatal == [], report.messages
    assert not [w for w in report.warnings if "R008" in w], report.warnings


def test_the_checks_find_what_the_factur_x_library_alone_leaves(books: Books) -> None:
    # The PDF/A-3 of the document with the CII embedded by the library, without the step
    # that makes the metadata agree: the checks report the two disagreements of the issue.
    inv = SCENARIOS["reverse_charge"](books)
    pdf = invoice_pdf_bytes(company=books.company, invoice=inv, pdfa=True)
    xml = einvoice_xml(company=books.company, invoice=inv, syntax="cii")
    alone = bytes(facturx.generate_from_binary(pdf, xml, flavor="factur-x", level="en16931"))
    problems = pdfa_problems(alone)
    assert any("/Producer" in p and "pypdf" in p for p in problems), problems
    assert any("/Keywords" in p for p in problems), problems
