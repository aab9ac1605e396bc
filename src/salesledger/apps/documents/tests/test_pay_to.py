"""Invoices say which account to pay into: the account chosen at posting (the company's
account in the invoice's currency, else the main one) is frozen into the snapshot as
``pay_to``, and the PDF and the e-invoice (BT-84..BT-86) print it, whatever the company
changes later; bulk posting freezes the same as single posting, reading the accounts once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from lxml import etree

from salesledger.apps.core.services import company_profile_update
from salesledger.apps.customers.models import Customer
from salesledger.apps.documents.services import invoice_pdf_bytes
from salesledger.apps.invoicing.einvoice import einvoice_xml
from salesledger.apps.invoicing.models import Invoice
from salesledger.apps.invoicing.posting.check import BulkDoc
from salesledger.apps.invoicing.services import documents_post_bulk
from salesledger.apps.ledger.banks import BankAccountSpec, bank_account_add
from salesledger.domain.invoicing import LineInput

from .conftest import pdf_text

MAIN_IBAN = "FR7630006000011234567890189"  # the seller fixture's
USD_IBAN = "DE89370400440532013000"
NEW_IBAN = "FR1420041010050500013M02606"
UBL = {"cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
       "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}
CII = {"ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}
USD_LINES = [LineInput("Export goods", Decimal(2), Decimal("500"), Decimal(0), Decimal(0), "G",
                       "Export outside the EU")]


@pytest.fixture
def usd_account(seller: Any, owner: Any) -> Any:
    return bank_account_add(actor=owner, company=seller, spec=BankAccountSpec(
        code="USD", name="Dollar account", iban=USD_IBAN, bic="COBADEFFXXX", currency="USD"))


@pytest.fixture
def customers(make_customer: Any) -> None:
    make_customer("US1", name="Acme Inc", language="en", country="US", currency="USD")
    make_customer("FR1", name="Dupont et Fils", language="en", country="FR")


def spaced(iban: str) -> str:
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))


def post_usd(post_invoice: Any) -> Any:
    return post_invoice("US1", currency="USD", rate=Decimal("0.9"), lines=USD_LINES)


def test_a_usd_invoice_names_the_usd_account_everywhere(seller, usd_account, customers,
                                                        post_invoice):
    inv = post_usd(post_invoice)
    assert inv.snapshot["pay_to"] == {"code": "USD", "iban": USD_IBAN, "bic": "COBADEFFXXX",
                                      "holder": "Acme Conseil SARL"}
    text = pdf_text(invoice_pdf_bytes(company=seller, invoice=inv))
    assert spaced(USD_IBAN) in text and "COBADEFFXXX" in text
    assert spaced(MAIN_IBAN) not in text
    ubl = etree.fromstring(einvoice_xml(company=seller, invoice=inv, syntax="ubl"))
    assert ubl.xpath("//cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID/text()",
                     namespaces=UBL) == [USD_IBAN]  # BT-84
    assert ubl.xpath("//cac:PayeeFinancialAccount/cbc:Name/text()",
                     namespaces=UBL) == ["Acme Conseil SARL"]  # BT-85
    assert ubl.xpath("//cac:PaymentMeans/cbc:PaymentMeansCode/text()",
                     namespaces=UBL) == ["30"]  # a credit transfer, not SEPA: in USD
    cii = etree.fromstring(einvoice_xml(company=seller, invoice=inv, syntax="cii"))
    assert cii.xpath("//ram:PayeePartyCreditorFinancialAccount/ram:IBANID/text()",
                     namespaces=CII) == [USD_IBAN]
    assert MAIN_IBAN not in etree.tostring(cii).decode()


def test_a_euro_invoice_names_the_main_account(seller, usd_account, customers, post_invoice):
    inv = post_invoice("FR1", lines=[("Conseil", "1", "100", "20")])
    assert inv.snapshot["pay_to"]["code"] == "MAIN"
    assert inv.snapshot["pay_to"]["iban"] == MAIN_IBAN
    ubl = etree.fromstring(einvoice_xml(company=seller, invoice=inv, syntax="ubl"))
    assert ubl.xpath("//cac:PayeeFinancialAccount/cbc:ID/text()", namespaces=UBL) == [MAIN_IBAN]
    assert ubl.xpath("//cac:PaymentMeans/cbc:PaymentMeansCode/text()",
                     namespaces=UBL) == ["58"]  # SEPA credit transfer


def test_a_credit_note_names_no_account(seller, customers, post_invoice):
    inv = post_invoice("FR1", lines=[("Conseil", "1", "100", "20")])
    cn = post_invoice("FR1", kind="credit_note", corrects=inv.number,
                      lines=[("Conseil", "1", "100", "20")])
    assert "pay_to" not in cn.snapshot


def test_a_changed_iban_leaves_posted_invoices_as_issued(seller, owner, usd_account,
                                                         customers, post_invoice):
    eur = post_invoice("FR1", lines=[("Conseil", "1", "100", "20")])
    usd = post_usd(post_invoice)
    company_profile_update(actor=owner, company=seller, iban=NEW_IBAN, bic="")
    seller.refresh_from_db()
    # Rendered for the first time after the change: the account frozen at posting.
    text = pdf_text(invoice_pdf_bytes(company=seller, invoice=eur))
    assert spaced(MAIN_IBAN) in text and spaced(NEW_IBAN) not in text
    for syntax in ("ubl", "cii"):
        xml = einvoice_xml(company=seller, invoice=eur, syntax=syntax).decode()
        assert MAIN_IBAN in xml and NEW_IBAN not in xml
        assert NEW_IBAN not in einvoice_xml(company=seller, invoice=usd,
                                            syntax=syntax).decode()
    # An invoice posted now names the new account.
    later = post_invoice("FR1", lines=[("Conseil", "1", "100", "20")])
    assert later.snapshot["pay_to"]["iban"] == NEW_IBAN


def test_a_document_without_pay_to_names_the_main_account_as_it_is_now(
        company, owner, customers, post_invoice):
    # A company without an account to pay into posts an invoice without ``pay_to``, as
    # every invoice was posted before they named their account.
    inv = post_invoice("FR1", lines=[("Conseil", "1", "100", "20")])
    assert "pay_to" not in inv.snapshot
    seller = company_profile_update(actor=owner, company=company, iban=NEW_IBAN, bic="",
                                    tax_id="FR40303265045")
    assert spaced(NEW_IBAN) in pdf_text(invoice_pdf_bytes(company=seller, invoice=inv))
    ubl = etree.fromstring(einvoice_xml(company=seller, invoice=inv, syntax="ubl"))
    assert ubl.xpath("//cac:PayeeFinancialAccount/cbc:ID/text()", namespaces=UBL) == [NEW_IBAN]


def test_bulk_posting_freezes_what_single_posting_does_reading_the_accounts_once(
        seller, owner, usd_account, customers, post_invoice):
    single = {c: post_invoice(c, **kw).snapshot["pay_to"] for c, kw in (
        ("US1", {"currency": "USD", "rate": Decimal("0.9"), "lines": USD_LINES}),
        ("FR1", {"lines": [("Conseil", "1", "100", "20")]}))}
    by_code = {c.code: c for c in Customer.objects.filter(company=seller)}

    def docs(n: int) -> list[BulkDoc]:
        return [BulkDoc(customer_id=by_code[c].pk, kind="invoice", issue_date=inv_day(),
                        currency=cur, rate=rate, lines=lines)
                for _ in range(n) for c, cur, rate, lines in (
                    ("US1", "USD", Decimal("0.9"), USD_LINES),
                    ("FR1", "EUR", None, [LineInput("Conseil", Decimal(1), Decimal(100),
                                                    Decimal(20), Decimal(0), "S")]))]

    counts = []
    for n in (1, 4):
        with CaptureQueriesContext(connection) as queries:
            ids = documents_post_bulk(actor=owner, company=seller, docs=docs(n))
        posted = Invoice.objects.in_bulk(ids)
        assert [posted[i].snapshot["pay_to"] for i in ids] == [single["US1"],
                                                               single["FR1"]] * n
        counts.append((len(queries),
                       sum("ledger_bankaccount" in q["sql"] for q in queries.captured_queries)))
    # The accounts are read once per batch (by the checks and by the writer), never once
    # per document: four times the documents, the same queries.
    assert counts[0] == counts[1]
    assert counts[0][1] >= 2


def inv_day() -> Any:
    from conftest import DAY
    return DAY


def test_an_account_without_iban_is_named_by_its_number(seller, owner, customers,
                                                        post_invoice):
    bank_account_add(actor=owner, company=seller, spec=BankAccountSpec(
        code="USDNY", name="New York", number="000123456789", currency="USD"))
    inv = post_usd(post_invoice)
    assert inv.snapshot["pay_to"]["number"] == "000123456789"
    text = pdf_text(invoice_pdf_bytes(company=seller, invoice=inv))
    assert "Account number 000123456789" in text and spaced(MAIN_IBAN) not in text
    ubl = etree.fromstring(einvoice_xml(company=seller, invoice=inv, syntax="ubl"))
    assert ubl.xpath("//cac:PayeeFinancialAccount/cbc:ID/text()",
                     namespaces=UBL) == ["000123456789"]
    assert ubl.xpath("//cac:PaymentMeans/cbc:PaymentMeansCode/text()", namespaces=UBL) == ["30"]
    cii = etree.fromstring(einvoice_xml(company=seller, invoice=inv, syntax="cii"))
    account = "//ram:PayeePartyCreditorFinancialAccount/"
    assert cii.xpath(account + "ram:ProprietaryID/text()", namespaces=CII) == ["000123456789"]
    assert cii.xpath(account + "ram:IBANID", namespaces=CII) == []
