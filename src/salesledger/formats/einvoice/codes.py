"""Code lists that e-invoices need and the rules for choosing a code.

- Electronic address schemes (EAS, the CEF code list used by EN 16931 BT-34/BT-49 and by
  Peppol): a party's VAT number is an address in the VAT scheme of its country (9957 for a
  French VAT number, 9930 for a German one...). A party without one is reached by e-mail
  (scheme EM), which EN 16931 accepts but the Peppol network does not route. Countries
  whose Peppol participants are known by another register take its scheme: Denmark (CVR,
  0184), Italy (0211), Finland (0213), Sweden and Norway (organisation number, 0007 and
  0192), the United States (EIN, 9959).
- Payment means (UNCL 4461, BT-81).
"""

from __future__ import annotations

import re

from salesledger.domain.party_ids import infer_legal_scheme

# EAS code of each country's VAT-number scheme, keyed by the VAT number's prefix.
VAT_EAS: dict[str, str] = {
    "AD": "9922", "AL": "9923", "AT": "9914", "BA": "9924", "BE": "9925", "BG": "9926",
    "CH": "9927", "CY": "9928", "CZ": "9929", "DE": "9930", "EE": "9931", "ES": "9920",
    "FR": "9957", "GB": "9932", "EL": "9933", "HR": "9934", "HU": "9910", "IE": "9935",
    "LI": "9936", "LT": "9937", "LU": "9938", "LV": "9939", "MC": "9940", "ME": "9941",
    "MK": "9942", "MT": "9943", "NL": "9944", "PL": "9945", "PT": "9946", "RO": "9947",
    "RS": "9948", "SI": "9949", "SK": "9950", "SM": "9951", "TR": "9952", "VA": "9953",
}

EMAIL_EAS = "EM"


def electronic_address_for(vat_id: str, email: str) -> tuple[str, str] | None:
    """(EAS scheme, identifier) where a party receives e-invoices, derived from what the
    ledger knows: its VAT number when its country has a VAT scheme, else its e-mail."""
    vat = vat_id.strip().upper()
    prefix = vat[:2]
    if prefix == "DK" and re.fullmatch(r"DK\d{8}", vat):
        return "0184", vat  # Danish CVR number, as Peppol writes it
    if prefix == "IT" and re.fullmatch(r"IT\d{11}", vat):
        return "0211", vat[2:]  # Partita IVA, without its prefix
    if prefix == "FI" and re.fullmatch(r"FI\d{8}", vat):
        return "0213", vat
    if prefix == "SE" and re.fullmatch(r"SE\d{10}01", vat):
        return "0007", vat[2:12]  # Swedish organisation number
    if prefix == "NO" and re.fullmatch(r"NO\d{9}(MVA)?", vat):
        return "0192", vat[2:11]  # Norwegian organisation number (Enhetsregisteret)
    if prefix == "US" and re.fullmatch(r"US\d{2}-?\d{7}", vat):
        return "9959", vat[2:].replace("-", "")  # US Employer Identification Number
    if prefix in VAT_EAS and len(vat) > 2:
        return VAT_EAS[prefix], vat
    if email.strip():
        return EMAIL_EAS, email.strip()
    return None


# The legal registration scheme (ISO 6523 ICD, BT-30/BT-47) of a registration number,
# where the country and the number's shape say which register it is.
def legal_scheme_for(country: str, registration_id: str) -> str:
    return infer_legal_scheme(country, registration_id)


# UNCL 4461 payment means.
SEPA_CREDIT_TRANSFER = "58"
CREDIT_TRANSFER = "30"
SEPA_DIRECT_DEBIT = "59"
DIRECT_DEBIT = "49"
NOT_DEFINED = "1"


# The French reform's "cadre de facturation" (BT-23, business process type) of a first
# invoice: B1 goods, S1 services, M1 both (the DGFiP's external specifications, annex 7).
FR_BUSINESS_PROCESS = {"goods": "B1", "services": "S1", "mixed": "M1"}


def business_process_for(seller_country: str, supply_type: str) -> str:
    """BT-23 for a French seller who says what the operation is; otherwise none (the codes
    are the French reform's, meaningless to other receivers)."""
    return FR_BUSINESS_PROCESS.get(supply_type, "") if seller_country == "FR" else ""


def vat_point_code_for(seller_country: str, vat_on_debits: bool, supply_type: str) -> str:
    """BT-8 (UNCL 2475): a French seller that opted to pay VAT on its services when it
    invoices them ("option pour le paiement de la taxe d'apres les debits") states that VAT
    is due at the invoice's date (5). Goods always owe VAT on delivery: an invoice said to be
    of goods alone carries no such code."""
    if seller_country == "FR" and vat_on_debits and supply_type != "goods":
        return "5"
    return ""
