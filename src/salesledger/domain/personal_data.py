"""What anonymising a customer erases, field by field, and what it keeps (docs/security.md,
"Personal data"; the reasons are in docs/decisions.md).

The GDPR (Regulation (EU) 2016/679) gives a person the right to have their data erased
(art. 17) unless the data is needed "for compliance with a legal obligation" (art. 17(3)(b)).
Issued invoices are such an obligation: the VAT Directive (2006/112/EC) lists what an invoice
must state, the customer's full name and address and, where applicable, VAT number included
(art. 226), and has every invoice stored (art. 244) for a period each Member State sets
(art. 247). So
what was *issued* (the document's snapshot, its frozen PDF and e-invoice files, the journal)
is kept as it is, and anonymisation erases what the *record of the customer* holds for the
future: the names of people, e-mail addresses, telephone numbers, notes, addresses and bank
accounts.

Pure data: the customers app applies it (``apps/customers/personal_data.py``); a test checks
that every column of the customer's record is listed here as erased or kept, so that a column
added later must be decided.
"""

from __future__ import annotations

from typing import Any

# The name an anonymised customer is shown under (a customer must have a name).
ANONYMISED_NAME = "Anonymised customer"

# The customer's columns anonymisation overwrites, with the value they get.
CUSTOMER_ERASED: dict[str, Any] = {
    "name": ANONYMISED_NAME,  # a sole trader's or consumer's name is a person's name
    "legal_name": "",
    "tax_id": "",  # a sole trader's VAT number identifies them
    "legal_id": "",  # so does a sole trader's registration number (SIREN, SIRET...)
    "legal_id_scheme": "",
    "endpoint_scheme": "",  # an electronic address reaches the person
    "endpoint_id": "",
    "mandate_reference": "",  # a direct-debit mandate on the person's bank account
    "mandate_signed": None,  # and the day they signed it
    "email": "",
    "phone": "",
    "notes": "",  # free text: anything may be written there
    "credit_limit": None,  # a judgement about the person, of no use once they are gone
    "verified_at": None,
    "email_doubtful_at": None,  # about an address erased with it
    "email_doubtful_reason": "",  # the mail server's answer quotes the address
    "is_active": False,
}

# The customer's columns anonymisation keeps, and why.
CUSTOMER_KEPT: dict[str, str] = {
    "code": "the key of the books, the documents and the audit trail (choose codes that are "
            "not names)",
    "country": "tax reporting by country; identifies no one",
    "currency": "the currency of the customer's ledger",
    "language": "identifies no one",
    "payment_terms": "the company's terms, not the person's data",
    "parent": "the link to another customer record",
    "po_required": "a setting of the company's",
    "verified_by": "a user of the company (who last confirmed the record), not the customer",
    "merged_into": "the link to another customer record (a merge): its balances follow it",
    "merged_at": "when the company merged two of its records; identifies no one",
}

# Columns of the record that are not about the customer (keys, bookkeeping of the row).
CUSTOMER_TECHNICAL = ("id", "company", "created_at", "anonymised_at")

# Rows of the customer's record removed whole: each is about people or their money.
CHILD_ROWS_REMOVED = ("addresses", "contacts", "bank_accounts")

# Columns of the communication timeline emptied: whom an e-mail went to, what it said (an
# e-mail's text may address a person by name), the mail server's answer (which quotes the
# address). The date, channel, subject, message id, status and document stay: the fact that
# a document or reminder was sent on a day is evidence of the company's own acts.
COMMUNICATION_ERASED = ("recipients", "body", "status_detail")
