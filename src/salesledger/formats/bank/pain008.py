"""SEPA direct-debit collection files: ISO 20022 ``pain.008.001.08``, the customer-to-bank
message of the EPC's SEPA Core Direct Debit rulebook, written with ``sepaxml`` and validated
against the schema that comes with it (docs/design/direct-debit.md).

Pure: the creditor and the debits in, the file's bytes out. One payment information block is
written per sequence type and collection date (sepaxml's batches), each debit with its own
end-to-end id, which comes back on the bank statement and is how the collected money is
matched to the instalment it pays."""

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


@dataclass(frozen=True)
class CollectionFile:
    message_id: str
    content: bytes


def pain008(creditor: Creditor, debits: list[Debit]) -> CollectionFile:
    """The collection file of ``debits`` for ``creditor``, checked against the pain.008
    schema; a value the schema refuses is a ``ValidationFailed`` naming the message."""
    from sepaxml import SepaDD
    from sepaxml.validation import ValidationError

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
        content = sepa.export(validate=True, pretty_print=True)
    except ValidationError as e:
        cause = e.__cause__
        raise ValidationFailed(f"the {SCHEMA} file does not validate against its schema: "
                               f"{getattr(cause, 'reason', None) or cause or e}") from e
    return CollectionFile(sepa.msg_id, content)
