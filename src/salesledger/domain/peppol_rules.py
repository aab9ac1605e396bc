"""The Peppol BIS Billing 3.0 rules that the ledger's own data can break.

Peppol BIS Billing 3.0 (OpenPEPPOL, release 3.0.19) is EN 16931 with more rules: a document
travelling over the Peppol network names a buyer reference or an order (PEPPOL-EN16931-R003),
and both parties' electronic addresses (R010, R020) in a scheme of the EAS code list, which
has no e-mail (CL008); an identifier of a scheme with check digits must have valid ones
(PEPPOL-COMMON-R041 Norwegian, R042 Danish, R043 Belgian, R049 Swedish). Only the rules the
ledger's data can break are here; the rest hold by construction of the UBL writer (the
profile and customisation ids, the VAT total in the accounting currency, line nets equal to
quantity x price + charges - allowances), as the conformance tests prove with the official
Schematron of 3.0.19. The national rules (NO, DK, SE, IT, NL, DE, GR...), which apply to
sellers in those countries, are not checked.

A company that sends through Peppol (``Company.sends_peppol``) has every document it posts
checked with :func:`check_document` and :func:`check_seller`: the Peppol flag says that the
company profile is set up, so a gap in its own endpoint is refused at posting too. For the
others, :func:`peppol_gaps` lists the same problems as warnings: their e-invoices are valid
EN 16931 and may travel by e-mail or as Factur-X. See docs/design/e-invoicing.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .einvoice import EInvoice, Party
from .einvoice_rules import RuleProblem

# The electronic address schemes (EAS) Peppol accepts (code list of release 3.0.19).
PEPPOL_EAS: frozenset[str] = frozenset((
    "0002 0007 0009 0037 0060 0088 0096 0097 0106 0130 0135 0142 0151 0177 0183 0184 0188 "
    "0190 0191 0192 0193 0195 0196 0198 0199 0200 0201 0202 0204 0208 0209 0210 0211 0212 "
    "0213 0215 0216 0218 0221 0230 0235 9910 9913 9914 9915 9918 9919 9920 9922 9923 9924 "
    "9925 9926 9927 9928 9929 9930 9931 9932 9933 9934 9935 9936 9937 9938 9939 9940 9941 "
    "9942 9943 9944 9945 9946 9947 9948 9949 9950 9951 9952 9953 9957 9959 0147 0154 0158 "
    "0170 0194 0203 0205 0217 0225 0240").split())

_FIX = {"customer": "add the customer's VAT number (for a customer in the United States, its "
                    "EIN; in Norway, its organisation number) before posting",
        "company": "set the company's VAT number in the company profile"}


def _p(rule: str, what: str, fix: str) -> RuleProblem:
    return RuleProblem(rule, f"{what} (Peppol rule {rule}): {fix}.")


def check_document(doc: EInvoice) -> list[RuleProblem]:
    """The Peppol rules on what posting freezes: the references and the customer."""
    problems = []
    if not (doc.buyer_reference.strip() or doc.order_reference.strip()):
        problems.append(_p("PEPPOL-EN16931-R003", "The document has neither a buyer "
                           "reference nor a purchase order number", "give one of them "
                           "(--buyer-reference or --po), as the customer asked for"))
    problems += _endpoint("customer", doc.buyer, "PEPPOL-EN16931-R010")
    return problems


def check_seller(doc: EInvoice) -> list[RuleProblem]:
    """The Peppol rules on the seller: the company's electronic address and identifiers."""
    problems = list(_endpoint("company", doc.seller, "PEPPOL-EN16931-R020"))
    seller = doc.seller
    if seller.legal_id and seller.legal_id_scheme == "0208" and not belgian_enterprise_number(
            seller.legal_id.replace(" ", "").replace(".", "")):
        problems.append(_p("PEPPOL-COMMON-R043", f"The company's registration number "
                           f"{seller.legal_id} is not a valid Belgian enterprise number (its "
                           "check digits do not match)", "correct it in the company profile"))
    return problems


def check(doc: EInvoice) -> list[RuleProblem]:
    """Every Peppol rule ``doc`` breaks among those the ledger's data can break."""
    return [*check_seller(doc), *check_document(doc)]


def peppol_gaps(doc: EInvoice) -> list[RuleProblem]:
    """What keeps a valid EN 16931 document from being sent over Peppol: for a company that
    does not send through Peppol, these are warnings, not refusals."""
    return check(doc)


def _endpoint(who: str, party: Party, missing_rule: str) -> Iterator[RuleProblem]:
    address = party.electronic_address
    if address is None:
        yield _p(missing_rule, f"The {who} has no electronic address: Peppol delivers to a "
                 "registered identifier, and the ledger knows none", _FIX[who])
        return
    if address.scheme not in PEPPOL_EAS:
        what = "an e-mail address" if address.scheme == "EM" else \
            f"an address of scheme {address.scheme}"
        yield _p("PEPPOL-EN16931-CL008", f"The {who}'s only electronic address is {what} "
                 f"({address.value}), to which the Peppol network does not deliver", _FIX[who])
        return
    digits = _CHECKED.get(address.scheme)
    if digits is not None and not digits[1](address.value):
        rule, _, name = digits
        source = "VAT number" if party.vat_id else "identifier"
        yield _p(rule, f"The {who}'s {source} {party.vat_id or address.value} does not hold a "
                 f"valid {name} ({address.value}: its check digits do not match)",
                 f"correct the {who}'s VAT number" if who == "customer"
                 else "correct it in the company profile")


# ---------------------------------------------------------------- check digits
def swedish_organisation_number(value: str) -> bool:
    """Ten digits, the last a Luhn check digit (PEPPOL-COMMON-R049)."""
    if not re.fullmatch(r"\d{10}", value):
        return False
    total = 0
    for i, ch in enumerate(reversed(value[:9])):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d // 10 + d % 10
    return (10 - total % 10) % 10 == int(value[9])


def norwegian_organisation_number(value: str) -> bool:
    """Nine digits, the last a modulus 11 check digit (PEPPOL-COMMON-R041)."""
    if not re.fullmatch(r"\d{9}", value) or int(value) == 0:
        return False
    total = sum(int(d) * (i % 6 + 2) for i, d in enumerate(reversed(value[:8])))
    return (11 - total % 11) % 11 == int(value[8])


def danish_cvr(value: str) -> bool:
    """Eight digits, with or without ``DK`` before them (PEPPOL-COMMON-R042, 3.0.19)."""
    return re.fullmatch(r"(DK)?\d{8}", value) is not None


def belgian_enterprise_number(value: str) -> bool:
    """Ten digits, the last two 97 - (the first eight mod 97) (PEPPOL-COMMON-R043)."""
    if not re.fullmatch(r"\d{10}", value):
        return False
    return int(value[8:]) == 97 - int(value[:8]) % 97


# scheme -> (rule, check, what it is)
_CHECKED = {
    "0007": ("PEPPOL-COMMON-R049", swedish_organisation_number, "Swedish organisation number"),
    "0192": ("PEPPOL-COMMON-R041", norwegian_organisation_number,
             "Norwegian organisation number"),
    "0184": ("PEPPOL-COMMON-R042", danish_cvr, "Danish CVR number"),
    "0208": ("PEPPOL-COMMON-R043", belgian_enterprise_number, "Belgian enterprise number"),
}
