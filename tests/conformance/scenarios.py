"""Invoices and credit notes that cover what EN 16931 can say about a sale, made through the
real services (create, post) of a company with a complete profile."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from salesledger.apps.core.services import company_profile_update
from salesledger.apps.customers.models import Customer
from salesledger.apps.customers.services import (
    AddressInput,
    BankAccountInput,
    CustomerInput,
    customer_create,
)
from salesledger.apps.invoicing.services import InvoiceInput, invoice_create, invoice_post
from salesledger.apps.ledger.banks import BankAccountSpec, bank_account_add
from salesledger.apps.ledger.models import BankAccount
from salesledger.domain.invoicing import DocumentChargeInput, LineInput, SupplyDetails

DAY = date(2025, 3, 10)
D = Decimal


def line(desc: str, qty: str, price: str, rate: str = "20", discount: str = "0",
         category: str = "S", reason: str = "", unit: str = "C62") -> LineInput:
    return LineInput(desc, D(qty), D(price), D(rate), D(discount), category, reason, unit)


def allowance(reason: str, amount: str, rate: str = "20", category: str = "S",
              code: str = "") -> DocumentChargeInput:
    return DocumentChargeInput(False, D(amount), reason, code, D(rate), category)


def charge(reason: str, amount: str, rate: str = "20", category: str = "S",
           code: str = "") -> DocumentChargeInput:
    return DocumentChargeInput(True, D(amount), reason, code, D(rate), category)


@dataclass
class Books:
    company: Any
    owner: Any

    def customer(self, code: str, *, country: str = "FR", tax_id: str = "",
                 currency: str = "", shipping: AddressInput | None = None,
                 email: str = "", address: bool = True, **kw: Any) -> Any:
        existing = Customer.objects.filter(company=self.company, code=code).first()
        if existing is not None:  # scenarios that build on others share their customers
            return existing
        billing = AddressInput(line1=f"{code} street 1", city="Lyon" if country == "FR" else
                               "Elsewhere", postal_code="69001", country=country) if address \
            else None
        return customer_create(actor=self.owner, company=self.company, data=CustomerInput(
            code=code, name=f"Customer {code}", legal_name=f"Customer {code} Ltd",
            country=country, tax_id=tax_id, currency=currency, billing=billing,
            shipping=shipping, email=email, **kw))

    def draft(self, customer: str, lines: list[LineInput], **kw: Any) -> Any:
        kw.setdefault("issue_date", DAY)
        return invoice_create(actor=self.owner, company=self.company,
                              data=InvoiceInput(customer_code=customer, lines=lines, **kw))

    def post(self, customer: str, lines: list[LineInput], **kw: Any) -> Any:
        draft = self.draft(customer, lines, **kw)
        inv = invoice_post(actor=self.owner, company=self.company, invoice_id=draft.pk)
        inv.refresh_from_db()
        return inv


def several_rates_discounts_allowances_charges(b: Books) -> Any:
    b.customer("FR1", tax_id="FR44732829320", email="ap@fr1.example")
    return b.post("FR1", [
        line("Consulting", "7.5", "83.33", "20", "3", unit="HUR"),
        line("Books", "3", "19.99", "5.5", unit="H87"),
        line("Catering", "12", "4.15", "10", "12.5"),
        line("Cables", "1", "0.07", "20", unit="MTR"),
    ], charges=[allowance("Loyalty discount", "25.00", code="95"),
                charge("Freight", "15.50", code="FC"),
                charge("Packing", "3.10", "5.5", code="PC"),
                allowance("Special rebate", "1.00", "10")],
        po_number="PO-2025-0042", buyer_reference="DEPT-7", terms_code="30-60-90",
        notes="Thank you for your business.")


def exempt_and_zero_rated(b: Books) -> Any:
    b.customer("FR2", tax_id="FR44732829320")
    return b.post("FR2", [
        line("Training", "2", "450.00", "0", category="E",
             reason="Exonération de TVA, article 261-4-4° du CGI"),
        # One reason for all the exempt lines: an e-invoice states one per category.
        line("Course handbook", "2", "40.00", "0", category="E",
             reason="Exonération de TVA, article 261-4-4° du CGI"),
        line("Printed matter", "10", "2.50", "0"),  # taxable at 0 %: zero-rated
        line("Service", "1", "100.00", "20"),
    ], po_number="PO-77")


def reverse_charge(b: Books) -> Any:
    b.customer("DE1", country="DE", tax_id="DE136695976")
    return b.post("DE1", [
        line("Software development", "40", "95.00", "0", "5", category="AE", unit="HUR"),
        line("Licence", "1", "1200.00", "0", category="AE"),
    ], charges=[charge("Travel costs", "180.00", "0", "AE")], buyer_reference="Leitweg-1")


def intra_community_goods(b: Books) -> Any:
    b.customer("BE1", country="BE", tax_id="BE0403170701",
               shipping=AddressInput(line1="Dock 3", city="Antwerpen", postal_code="2000",
                                     country="BE"))
    return b.post("BE1", [line("Pallets", "20", "35.00", "0", category="K", unit="H87")],
                  po_number="BE-PO-1")


def export_in_usd(b: Books) -> Any:
    b.customer("US1", country="US", currency="USD", email="payables@us1.example")
    return b.post("US1", [line("Machine", "1", "12500.00", "0", category="G", unit="H87"),
                          line("Installation", "16", "110.00", "0", category="G", unit="HUR")],
                  rate=D("0.9234"), po_number="US-PO-9")


def standard_rate_in_usd(b: Books) -> Any:
    b.customer("FR3", tax_id="FR44732829320", currency="USD")
    return b.post("FR3", [line("Subscription", "12", "49.99", "20", unit="MON")],
                  rate=D("0.9234"), buyer_reference="FR3-REF", terms_code="2-10-NET30")


def not_subject_to_vat(b: Books) -> Any:
    b.customer("FR4")
    return b.post("FR4", [line("Disbursement: court fees", "1", "235.00", "0", category="O")],
                  buyer_reference="Case 12")


def credit_note_on_an_invoice(b: Books) -> Any:
    inv = several_rates_discounts_allowances_charges(b)
    return b.post("FR1", [line("Consulting", "2", "83.33", "20", "3", unit="HUR")],
                  kind="credit_note", corrects_number=inv.number, buyer_reference="DEPT-7",
                  issue_date=date(2025, 3, 20))


def credit_note_with_reverse_charge(b: Books) -> Any:
    inv = reverse_charge(b)
    return b.post("DE1", [line("Licence refund", "1", "200.00", "0", category="AE")],
                  kind="credit_note", corrects_number=inv.number, buyer_reference="Leitweg-1",
                  issue_date=date(2025, 3, 25))


def export_to_a_us_buyer_with_its_ein(b: Books) -> Any:
    # A US buyer known by its Employer Identification Number: Peppol scheme 9959.
    b.customer("US2", country="US", currency="USD", tax_id="12-3456789")
    return b.post("US2", [line("Machine", "2", "900.00", "0", category="G", unit="H87")],
                  rate=D("0.9234"), po_number="US-PO-10")


def export_to_norway(b: Books) -> Any:
    # A Norwegian buyer: its VAT number holds its organisation number, Peppol scheme 0192.
    b.customer("NO1", country="NO", currency="NOK", tax_id="NO923609016MVA")
    return b.post("NO1", [line("Survey", "1", "25000.00", "0", category="G")],
                  rate=D("0.085"), buyer_reference="NO-REF-1")


def yen_invoice(b: Books) -> Any:
    b.customer("JP1", country="JP", currency="JPY")
    return b.post("JP1", [line("Adapter", "3", "333.5", "0", category="G", unit="H87")],
                  rate=D("0.0061"), po_number="JP-1")


def french_b2b_buyer_with_siret_and_peppol_id(b: Books) -> Any:
    # The French reform's buyer: its SIREN (here its SIRET, 0009) and the address its
    # platform receives at (a Peppol participant id); delivered elsewhere; services, with
    # VAT on debits: BT-23 S1 and BT-8 in the CII.
    company_profile_update(actor=b.owner, company=b.company, vat_on_debits="yes")
    b.company.refresh_from_db()
    b.customer("FR5", tax_id="FR44732829320", legal_id="73282932000074",
               endpoint="0009:73282932000074",
               shipping=AddressInput(line1="Site de Vénissieux", city="Vénissieux",
                                     postal_code="69200", country="FR"))
    return b.post("FR5", [line("Maintenance visit", "3", "180.00", unit="HUR")],
                  po_number="PO-FR5-1",
                  supply=SupplyDetails(delivery_date=date(2025, 3, 7), supply_type="services",
                                       contract_reference="CT-2024-17",
                                       project_reference="Lyon plant"))


def direct_debit_invoice(b: Books) -> Any:
    # Collected by SEPA direct debit: the mandate (BT-89), the company's creditor id (BT-90)
    # and the customer's IBAN debited (BT-91).
    company_profile_update(actor=b.owner, company=b.company, creditor_id="FR72ZZZ123456")
    b.company.refresh_from_db()
    b.customer("FR6", tax_id="FR44732829320", legal_id="732829320", mandate_reference="MD-0042",
               bank_accounts=[BankAccountInput(iban="FR1420041010050500013M02606")])
    return b.post("FR6", [line("Monthly subscription", "1", "49.00", unit="MON")],
                  buyer_reference="FR6-REF")


def invoicing_period_and_percentage_allowance(b: Books) -> Any:
    # A month invoiced (BG-14) with a 5 % allowance on the standard-rated lines (BT-94) and
    # goods and services together (M1).
    b.customer("BE2", country="BE", tax_id="BE0403170701", legal_id="0403170701",
               endpoint="0208:0403170701")
    return b.post("BE2", [line("Hosting", "1", "240.00", unit="MON"),
                          line("Router", "2", "89.90", unit="H87"),
                          line("Manual", "1", "12.00", "6")],
                  charges=[DocumentChargeInput(False, D(0), "Framework discount", "95", D(20),
                                               percent=D(5))],
                  buyer_reference="BE2-REF",
                  supply=SupplyDetails(period_start=date(2025, 2, 1),
                                       period_end=date(2025, 2, 28), supply_type="mixed"))


def item_identifiers_and_a_credit_note_on_a_project(b: Books) -> Any:
    # Items known by the seller's code (BT-155) and a GTIN (BT-157, scheme 0160), and a GLN
    # as the buyer's address (0088); then a credit note on the project (BT-11, which a UBL
    # credit note carries as a document reference of type 50).
    b.customer("FR7", tax_id="FR44732829320", endpoint="0088:5790000435951")
    inv = b.post("FR7", [
        LineInput("Drill", D(2), D("129.00"), D(20), unit_code="H87", seller_item_id="DR-18V",
                  standard_item_id="4006381333931", standard_item_scheme="0160"),
        LineInput("Drill bits", D(5), D("9.90"), D(20), unit_code="H87",
                  seller_item_id="BITS-10")],
        po_number="PO-FR7", supply=SupplyDetails(project_reference="Workshop 2025",
                                                 supply_type="goods"))
    return b.post("FR7", [LineInput("Drill", D(1), D("129.00"), D(20), unit_code="H87",
                                    seller_item_id="DR-18V",
                                    standard_item_id="4006381333931",
                                    standard_item_scheme="0160")],
                  kind="credit_note", corrects_number=inv.number, po_number="PO-FR7",
                  issue_date=date(2025, 3, 12),
                  supply=SupplyDetails(project_reference="Workshop 2025",
                                       contract_reference="CT-9"))


def usd_invoice_paid_into_the_usd_account(b: Books) -> Any:
    # An invoice names the company's account in its currency (BT-84..86), not the main one.
    if not BankAccount.objects.filter(company=b.company, code="USD").exists():
        bank_account_add(actor=b.owner, company=b.company, spec=BankAccountSpec(
            code="USD", name="Dollars", iban="DE89370400440532013000", bic="COBADEFFXXX",
            currency="USD"))
    b.customer("US3", country="US", currency="USD", tax_id="12-3456789")
    return b.post("US3", [line("Machine", "1", "900.00", "0", category="G")],
                  rate=D("0.9234"), po_number="US-PO-3")


def gbp_invoice_paid_into_an_account_without_iban(b: Books) -> Any:
    # An account known by its number only: BT-84 is that number (CII ProprietaryID).
    if not BankAccount.objects.filter(company=b.company, code="GBP").exists():
        bank_account_add(actor=b.owner, company=b.company, spec=BankAccountSpec(
            code="GBP", name="Sterling", number="40051231456789", currency="GBP"))
    b.customer("GB1", country="GB", currency="GBP", tax_id="GB980780684")
    return b.post("GB1", [line("Machine", "1", "700.00", "0", category="G")],
                  rate=D("1.17"), po_number="GB-PO-1")


SCENARIOS: dict[str, Callable[[Books], Any]] = {
    f.__name__: f for f in (
        several_rates_discounts_allowances_charges, exempt_and_zero_rated, reverse_charge,
        intra_community_goods, export_in_usd, standard_rate_in_usd, not_subject_to_vat,
        credit_note_on_an_invoice, credit_note_with_reverse_charge,
        export_to_a_us_buyer_with_its_ein, export_to_norway, yen_invoice,
        french_b2b_buyer_with_siret_and_peppol_id, direct_debit_invoice,
        invoicing_period_and_percentage_allowance,
        item_identifiers_and_a_credit_note_on_a_project,
        usd_invoice_paid_into_the_usd_account, gbp_invoice_paid_into_an_account_without_iban)
}
