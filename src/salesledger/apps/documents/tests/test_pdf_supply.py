"""What the PDF of an invoice prints about the buyer and the supply, where the law asks for it:
the buyer's registration number (France: its SIREN on every invoice from 2026), the date of
the supply or the period invoiced (EU VAT Directive art. 226(7)), the contract and project,
the nature of the operation and the option to pay VAT on debits (France's mandatory mentions,
décret 2022-1299), the mandate and creditor id of a direct debit, the items' identifiers.
Read back from the PDF's text, as issued."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from salesledger.apps.core.services import company_profile_update
from salesledger.apps.customers.services import AddressInput, BankAccountInput
from salesledger.apps.documents.services import invoice_pdf_bytes
from salesledger.apps.invoicing.services import InvoiceInput, invoice_create, invoice_post
from salesledger.domain.invoicing import LineInput, SupplyDetails

from .conftest import pdf_text

D = Decimal
DAY = date(2025, 3, 10)
VAT_OPTION = "Option pour le paiement de la taxe d'après les débits."
SUPPLY_LABELS = ("Date de livraison", "Période de facturation", "Contrat", "Projet",
                 "Nature de l'opération", VAT_OPTION, "SIREN", "Réf.", "prélèvement")


@pytest.fixture
def post(seller, owner):
    def post(code: str, lines: list[LineInput], supply: SupplyDetails | None = None,
             **kw: object) -> str:
        draft = invoice_create(actor=owner, company=seller, data=InvoiceInput(
            customer_code=code, issue_date=DAY, lines=lines,
            supply=supply or SupplyDetails(), **kw))  # type: ignore[arg-type]
        inv = invoice_post(actor=owner, company=seller, invoice_id=draft.pk)
        return pdf_text(invoice_pdf_bytes(company=seller, invoice=inv))
    return post


def _french(make_customer, code: str = "FR1", **kw: object) -> None:
    make_customer(code, name="Dupont et Fils", language="fr", country="FR",
                  tax_id="FR44732829320",
                  billing=AddressInput(line1="3 quai des Chartrons", city="Bordeaux",
                                       postal_code="33000", country="FR"), **kw)


def test_a_french_invoice_prints_the_buyers_siren_the_supply_and_the_vat_option(
        seller, owner, make_customer, post):
    # given a French seller that opted to pay VAT on debits, and a buyer known by its SIREN
    company_profile_update(actor=owner, company=seller, vat_on_debits="yes")
    seller.refresh_from_db()
    _french(make_customer, legal_id="732829320")
    # when an invoice of services delivered on a day, for a month, under a contract and a
    # project, is posted and printed
    text = post("FR1", [LineInput("Maintenance", D(3), D("180.00"), D(20), unit_code="HUR",
                                  seller_item_id="MNT-H")],
                SupplyDetails(delivery_date=date(2025, 3, 7), period_start=date(2025, 2, 1),
                              period_end=date(2025, 2, 28), contract_reference="CT-2024-17",
                              project_reference="Lyon plant", supply_type="services"))
    # then the PDF shows each, in French
    for shown in ("SIREN : 732829320", "N° TVA : FR44732829320",
                  "Date de livraison 7 mars 2025",
                  "Période de facturation 1 févr. 2025 – 28 févr. 2025",
                  "Contrat CT-2024-17", "Projet Lyon plant",
                  "Nature de l'opération Prestations de services exclusivement",
                  VAT_OPTION, "Maintenance Réf. MNT-H"):
        assert shown in text, (shown, text)


def test_goods_alone_carry_no_vat_option_and_a_company_without_it_prints_none(
        seller, owner, make_customer, post):
    company_profile_update(actor=owner, company=seller, vat_on_debits="yes")
    seller.refresh_from_db()
    _french(make_customer, legal_id="0009:73282932000074")
    # goods always owe VAT on delivery: no option to mention (BT-8 is not written either)
    goods = post("FR1", [LineInput("Drill", D(2), D("129.00"), D(20), unit_code="H87",
                                   seller_item_id="DR-18V", standard_item_id="4006381333931",
                                   standard_item_scheme="0160")],
                 SupplyDetails(supply_type="goods"))
    assert "Nature de l'opération Livraisons de biens exclusivement" in goods
    assert "Drill Réf. DR-18V, GTIN 4006381333931" in goods
    assert "SIRET : 73282932000074" in goods  # a SIRET is named as such
    assert VAT_OPTION not in goods
    both = post("FR1", [LineInput("Drill and set-up", D(1), D("200.00"), D(20))],
                SupplyDetails(supply_type="mixed"))
    assert "Livraisons de biens et prestations de services" in both and VAT_OPTION in both
    # when the company withdraws the option, its next invoices stop saying it
    company_profile_update(actor=owner, company=seller, vat_on_debits="no")
    seller.refresh_from_db()
    later = post("FR1", [LineInput("Audit", D(1), D("500.00"), D(20))],
                 SupplyDetails(supply_type="services"))
    assert "Prestations de services exclusivement" in later and VAT_OPTION not in later


def test_an_invoice_collected_by_direct_debit_says_so_with_its_mandate(
        company, seller, owner, make_customer, post):
    company_profile_update(actor=owner, company=seller, creditor_id="FR72ZZZ123456")
    seller.refresh_from_db()
    company.refresh_from_db()  # the one make_customer checks the mandate against
    _french(make_customer, mandate_reference="MD-0042",
            bank_accounts=[BankAccountInput(iban="FR1420041010050500013M02606")])
    text = post("FR1", [LineInput("Abonnement mensuel", D(1), D("49.00"), D(20),
                                  unit_code="MON")])
    assert ("Le montant dû sera prélevé sur votre compte FR14 … 2606 par prélèvement SEPA, "
            "au titre du mandat MD-0042 ; notre identifiant créancier SEPA est "
            "FR72ZZZ123456.") in text, text
    # the customer's full account number is not printed, nor an invitation to pay by transfer
    assert "20041010050500013M02606" not in text and "Merci de régler par virement" not in text
    # in English, for an English-speaking customer
    make_customer("EN1", name="Leeds Ltd", language="en", country="GB",
                  mandate_reference="MD-0043",
                  bank_accounts=[BankAccountInput(iban="GB33BUKB20201555555555")])
    text = post("EN1", [LineInput("Monthly subscription", D(1), D("49.00"), D(20))])
    assert ("The amount due will be collected by SEPA direct debit from your account "
            "GB33 … 5555 under mandate MD-0043; our creditor identifier is FR72ZZZ123456."
            ) in text, text


def test_an_invoice_without_them_prints_none_of_these_mentions(seller, make_customer, post):
    _french(make_customer)
    text = post("FR1", [LineInput("Conseil", D(3), D("411.52"), D(20))])
    assert [s for s in SUPPLY_LABELS if s in text] == []
    assert "Merci de régler par virement" in text
