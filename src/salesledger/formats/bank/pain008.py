"""SEPA direct-debit collection files: ISO 20022 ``pain.008.001.08``, the customer-to-bank
message of the EPC's SEPA Core Direct Debit rulebook, written with ``sepaxml`` and validated
against the schema that comes with it (docs/design/direct-debit.md).

Pure: the creditor and the debits in, the file's bytes out. One payment information block is
written per sequence type and collection date (sepaxml's batches), each debit with its own
end-to-end id, which comes back on the bank statement and is how the collected money is
matched to the instalment it pays.

A debit under an **amended** mandate carries the amendment indicator and what changed, as the
EPC's SEPA Core implementation guidelines ask (``MndtRltdInf/AmdmntInd`` and
``AmdmntInfDtls``): the original mandate id (``OrgnlMndtId``) when the reference changed;
the original IBAN (``OrgnlDbtrAcct``) when the debtor changed account at the same bank, or
``SMNDA`` ("same mandate, new debtor agent", ``OrgnlDbtrAgt``) when the account moved to
another bank. sepaxml writes no amendments, so they are added to its file before the schema
check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from salesledger.domain.errors import ValidationFailed

SCHEMA = "pain.008.001.08"
SEQUENCE_TYPES = ("FRST", "RCUR", "OOFF", "FNAL")


@dataclass(frozen=True)
class Creditor:
    name: str
    iban: str
    bic: str
    creditor_id: str  # the SEPA creditor identifier (e.g. FR72ZZZ123456)


@dataclass(frozen=True)
class Debit:
    end_to_end_id: str  # at most 35 characters
    amount: int  # euro cents
    mandate_reference: str
    mandate_signed: date
    debtor_name: str
    debtor_iban: str
    debtor_bic: str
    collection_date: date
    sequence: str  # FRST (first under the mandate) or RCUR
    description: str  # the remittance text the debtor's bank shows (at most 140)
    # The mandate's details before an amendment (blank: not amended).
    original_mandate_reference: str = ""
    original_debtor_iban: str = ""

    @property
    def amended(self) -> bool:
        return bool(self.original_mandate_reference or self.original_debtor_iban)


@dataclass(frozen=True)
class CollectionFile:
    message_id: str
    content: bytes


def pain008(creditor: Creditor, debits: list[Debit]) -> CollectionFile:
    """The collection file of ``debits`` for ``creditor``, checked against the pain.008
    schema; a value the schema refuses is a ``ValidationFailed`` naming the message."""
    from sepaxml import SepaDD
    from sepaxml.validation import ValidationError
    from sepaxml.validation import try_valid_xml as validate_xml

    if not debits:
        raise ValidationFailed("a collection file needs at least one debit")
    config = {"name": creditor.name, "IBAN": creditor.iban, "batch": True,
              "creditor_id": creditor.creditor_id, "currency": "EUR", "instrument": "CORE"}
    if creditor.bic:
        config["BIC"] = creditor.bic
    sepa = SepaDD(config, schema=SCHEMA, clean=True)
    for d in debits:
        if d.sequence not in SEQUENCE_TYPES:
            raise ValidationFailed(f"unknown sequence type {d.sequence!r}")
        payment: dict[str, object] = {
            "name": d.debtor_name, "IBAN": d.debtor_iban, "amount": d.amount,
            "type": d.sequence, "collection_date": d.collection_date,
            "mandate_id": d.mandate_reference, "mandate_date": d.mandate_signed,
            "description": d.description, "endtoend_id": d.end_to_end_id,
        }
        if d.debtor_bic:
            payment["BIC"] = d.debtor_bic
        sepa.add_payment(payment)
    try:
        content = sepa.export(validate=not any(d.amended for d in debits), pretty_print=True)
        if any(d.amended for d in debits):
            content = _with_amendments(content, {d.end_to_end_id: d for d in debits
                                                 if d.amended})
            validate_xml(content, SCHEMA)
    except ValidationError as e:
        cause = e.__cause__
        raise ValidationFailed(f"the {SCHEMA} file does not validate against its schema: "
                               f"{getattr(cause, 'reason', None) or cause or e}") from e
    return CollectionFile(sepa.msg_id, content)


def same_bank(iban_a: str, iban_b: str) -> bool:
    """Whether two IBANs are of the same bank (country and bank code); unreadable: no."""
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        a, b = IBAN(iban_a), IBAN(iban_b)
    except SchwiftyException:
        return False
    return (a.country_code, a.bank_code) == (b.country_code, b.bank_code)


def _with_amendments(content: bytes, amended: dict[str, Debit]) -> bytes:
    from lxml import etree

    ns = f"urn:iso:std:iso:20022:tech:xsd:{SCHEMA}"

    def el(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
        node = etree.SubElement(parent, f"{{{ns}}}{tag}")
        if text is not None:
            node.text = text
        return node

    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)
    doc = etree.fromstring(content, parser)
    for tx in doc.iter(f"{{{ns}}}DrctDbtTxInf"):
        d = amended.get(tx.findtext(f".//{{{ns}}}EndToEndId") or "")
        if d is None:
            continue
        mandate = tx.find(f".//{{{ns}}}MndtRltdInf")
        assert mandate is not None
        signed = mandate.find(f"{{{ns}}}DtOfSgntr")
        indicator = etree.Element(f"{{{ns}}}AmdmntInd")
        indicator.text = "true"
        details = etree.Element(f"{{{ns}}}AmdmntInfDtls")
        if d.original_mandate_reference:
            el(details, "OrgnlMndtId", d.original_mandate_reference)
        if d.original_debtor_iban and same_bank(d.original_debtor_iban, d.debtor_iban):
            el(el(el(details, "OrgnlDbtrAcct"), "Id"), "IBAN", d.original_debtor_iban)
        elif d.original_debtor_iban:
            el(el(el(el(details, "OrgnlDbtrAgt"), "FinInstnId"), "Othr"), "Id", "SMNDA")
        at = list(mandate).index(signed) + 1 if signed is not None else len(mandate)
        mandate.insert(at, indicator)
        mandate.insert(at + 1, details)
    return etree.tostring(doc, xml_declaration=True, encoding="UTF-8", pretty_print=True)
