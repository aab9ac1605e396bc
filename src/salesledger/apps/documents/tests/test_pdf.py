"""PDF of posted invoices and credit notes: what they show, in the customer's language, from
what posting froze; frozen on first use and served byte for byte after that."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from conftest import DAY
from pypdf import PdfReader
from stdnum import iso11649
from tests.support import events, last_seq

from salesledger.apps.customers.services import AddressInput, customer_update
from salesledger.apps.documents import rendering
from salesledger.apps.documents.services import (
    invoice_pdf_bytes,
    invoice_pdf_file,
    render_invoice_pdf,
)
from salesledger.apps.invoicing.models import DocumentFile
from salesledger.domain.errors import DocumentNotPosted
from salesledger.domain.invoicing import LineInput

from .conftest import pdf_text

LINES = (("Conseil", "3", "411.52", "20"),)  # 1 234,56 net, 246,91 VAT, 1 481,47 total


@pytest.fixture
def french(make_customer):
    return make_customer("C001", name="Dupont et Fils", language="fr", country="FR",
                         billing=AddressInput(line1="3 quai des Chartrons", city="Bordeaux",
                                              postal_code="33000", country="FR"))


def test_an_invoice_pdf_is_in_the_customers_language_with_its_reference(
        seller, owner, french, post_invoice):
    # given a posted invoice to a French customer
    inv = post_invoice(lines=LINES)
    # when its PDF is made
    pdf = invoice_pdf_bytes(company=seller, invoice=inv)
    text = pdf_text(pdf)
    # then it is a PDF in French, with French number and date formats
    assert pdf.startswith(b"%PDF-")
    for shown in ("Facture", "INV2025-00001", "10 mars 2025", "9 avr. 2025", "Désignation",
                  "Conseil", "411,52 €", "1 234,56 €", "246,91 €", "Net à payer", "1 481,47 €",
                  "Dupont et Fils", "3 quai des Chartrons", "33000 Bordeaux",
                  "Acme Conseil SARL", "12 rue de la Paix", "FR40303265045",
                  "FR76 3000 6000 0112 3456 7890 189", "AGRIFRPP",
                  "Acme Conseil SARL, capital 10 000 EUR", "Late payment penalty", "Page 1 sur 1"):
        assert shown in text, shown
    # and the payment reference, with valid ISO 11649 check digits, as frozen at posting
    match = re.search(r"Référence de paiement : (RF\d\d(?: [A-Z0-9]{1,4})+)(?=\s|$)", text)
    assert match, text
    printed = match.group(1).replace(" ", "")
    assert printed == inv.payment_reference == inv.snapshot["payment_reference"]
    assert iso11649.is_valid(printed) and printed == "RF81INV202500001"
    # and the logo is embedded
    assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 1


def test_the_pdf_is_deterministic_and_dated_at_posting(seller, french, post_invoice):
    inv = post_invoice(lines=LINES)
    # when it is rendered twice
    first, second = render_invoice_pdf(seller, inv), render_invoice_pdf(seller, inv)
    # then the bytes are the same, and the PDF says it was made when the invoice was posted
    assert first == second
    reader = PdfReader(io.BytesIO(first))
    meta = reader.metadata
    assert meta.creation_date.replace(tzinfo=None) == (
        inv.posted_at.astimezone(meta.creation_date.tzinfo).replace(microsecond=0, tzinfo=None))
    assert meta.title == "Facture INV2025-00001"
    # and it is an archival PDF/A-3b (what Factur-X embeds into)
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="3"' in xmp and b'pdfaid:conformance="B"' in xmp


def test_the_pdf_is_frozen_on_first_use_and_served_as_stored(
        seller, owner, french, post_invoice, monkeypatch):
    inv = post_invoice(lines=LINES)
    seq = last_seq(seller)
    # when the PDF is asked for the first time
    stored = invoice_pdf_file(actor=owner, company=seller, invoice=inv)
    # then it is stored with its hash, and the freezing is audited once
    assert stored.kind == "pdf" and stored.mime == "application/pdf"
    assert stored.sha256 == hashlib.sha256(bytes(stored.content)).hexdigest()
    [event] = events(seller, seq)
    assert (event.action, event.entity_id) == ("invoice.pdf", str(inv.pk))
    assert event.data["sha256"] == stored.sha256
    # when the customer and the company change, and the renderer is broken
    customer_update(actor=owner, company=seller, code="C001", name="Someone Else",
                    language="de")
    seq = last_seq(seller)
    monkeypatch.setattr(rendering, "html_to_pdf", lambda *a, **k: pytest.fail("rendered"))
    again = invoice_pdf_bytes(company=seller, invoice=inv)
    # then the stored bytes are served (pdfa=True too: the frozen file is PDF/A-3b)
    assert again == bytes(stored.content) == invoice_pdf_bytes(company=seller, invoice=inv,
                                                                pdfa=True)
    assert DocumentFile.objects.filter(invoice=inv).count() == 1
    assert events(seller, seq) == []


def test_rendering_uses_the_snapshot_not_the_live_customer(seller, owner, french,
                                                           post_invoice):
    inv = post_invoice(lines=LINES)
    before = render_invoice_pdf(seller, inv)
    # when the customer is renamed and switches to German after posting
    customer_update(actor=owner, company=seller, code="C001", name="Renamed GmbH",
                    language="de")
    inv.refresh_from_db()
    # then the document renders to the very same bytes: name and language were frozen
    assert render_invoice_pdf(seller, inv) == before


def test_a_german_customer_gets_german_words_and_formats(seller, make_customer,
                                                          post_invoice):
    make_customer("C002", name="Müller GmbH", language="de", country="DE")
    inv = post_invoice("C002", lines=LINES)
    text = pdf_text(invoice_pdf_bytes(company=seller, invoice=inv))
    for shown in ("Rechnung", "10.03.2025", "1.234,56 €", "1.481,47 €", "Zahlbetrag",
                  "Zahlungsreferenz", "Seite 1 von 1"):
        assert shown in text, shown


def test_an_english_customer_in_portugal_reads_portuguese_formats_in_english(
        seller, make_customer, post_invoice):
    # the language picks the words; language + country the number formats (CLDR en_PT)
    make_customer("C003", name="Lisbon Ltd", language="en", country="PT")
    inv = post_invoice("C003", lines=LINES)
    text = pdf_text(invoice_pdf_bytes(company=seller, invoice=inv))
    assert "Invoice" in text and "Total due" in text and "1 481,47 €" in text


def test_instalments_and_early_payment_discount_are_printed(seller, french, post_invoice):
    thirds = post_invoice(lines=(("Projet", "1", "300.00", "20"),), terms="30-60-90")
    text = pdf_text(invoice_pdf_bytes(company=seller, invoice=thirds))
    # 360,00 in three instalments of 120,00 at 30, 60 and 90 days
    assert "Échéancier" in text
    for due in ("9 avr. 2025", "9 mai 2025", "8 juin 2025"):
        assert f"{due} 120,00 €" in text, due
    early = post_invoice(lines=LINES, terms="2-10-NET30")
    text = pdf_text(invoice_pdf_bytes(company=seller, invoice=early))
    assert "Escompte pour paiement anticipé : 29,63 € si réglé avant le 20 mars 2025." in text
    assert "Conditions de paiement : 2% 10 days, net 30" in text


def test_a_credit_note_says_which_invoice_it_corrects(seller, french, post_invoice):
    inv = post_invoice(lines=LINES)
    cn = post_invoice(kind="credit_note", corrects=inv.number,
                      lines=(("Remise commerciale", "1", "100.00", "20"),))
    text = pdf_text(invoice_pdf_bytes(company=seller, invoice=cn))
    assert "Avoir" in text and cn.number in text
    assert f"Cet avoir rectifie la facture {inv.number} du 10 mars 2025." in text
    assert "Total crédité 120,00 €" in text and "Rien à payer" in text
    assert iso11649.is_valid(cn.payment_reference)


def test_tax_categories_exemptions_and_foreign_currency(seller, make_customer, post_invoice):
    make_customer("US1", name="Acme Inc", language="en", country="US", currency="USD")
    inv = post_invoice("US1", currency="USD", rate=Decimal("0.9"), lines=[
        LineInput("Export goods", Decimal(2), Decimal("500"), Decimal(0), Decimal(0), "G",
                  "Export outside the EU")])
    text = pdf_text(invoice_pdf_bytes(company=seller, invoice=inv))
    assert "$1,000.00" in text
    assert "Export outside the EU, exempt from VAT" in text
    # a foreign-currency invoice states the rate and the amounts in the base currency
    assert "Exchange rate: 1 USD = 0.9 EUR; in EUR: VAT €0.00, total €900.00." in text


def test_a_draft_has_no_pdf(seller, french, create_invoice):
    draft = create_invoice(lines=LINES)
    with pytest.raises(DocumentNotPosted):
        invoice_pdf_bytes(company=seller, invoice=draft)


def test_documents_of_a_company_without_profile_still_render(company, french, post_invoice):
    # the conftest company has no address, logo nor bank account: the PDF simply omits them
    inv = post_invoice(lines=LINES, issue_date=date(2025, 3, 10))
    text = pdf_text(invoice_pdf_bytes(company=company, invoice=inv))
    assert "Acme SARL" in text and "IBAN" not in text and DAY.year == 2025
