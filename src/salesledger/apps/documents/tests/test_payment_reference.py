"""Every posted document gets an ISO 11649 payment reference, frozen in its snapshot: one
posted alone (``invoice_post``) and many posted at once (the bulk poster) alike."""

from __future__ import annotations

from conftest import DAY, line_inputs
from stdnum import iso11649

from salesledger.apps.invoicing.models import Invoice
from salesledger.apps.invoicing.posting.check import BulkDoc
from salesledger.apps.invoicing.services import documents_post_bulk
from salesledger.domain.references import creditor_reference
from salesledger.domain.snapshot import snapshot_hash


def test_posting_assigns_a_reference_and_freezes_it(company, customer, create_invoice,
                                                    post_invoice):
    # given a draft: no reference yet
    draft = create_invoice()
    assert draft.payment_reference == ""
    # when invoices and a credit note are posted
    inv = post_invoice()
    cn = post_invoice(kind="credit_note", corrects=inv.number,
                      lines=(("Refund", "1", "10.00", "20"),))
    # then each carries RF + check digits + its number's letters and digits
    for doc in (inv, cn):
        assert doc.payment_reference == creditor_reference(doc.number)
        assert doc.payment_reference == "RF" + doc.payment_reference[2:4] + doc.number.replace(
            "-", "")
        assert iso11649.is_valid(doc.payment_reference)
        # frozen in the snapshot, which its hash covers, with the customer's language
        assert doc.snapshot["payment_reference"] == doc.payment_reference
        assert doc.snapshot["customer"]["language"] == "en"
        assert doc.snapshot_hash == snapshot_hash(doc.snapshot)


def test_the_bulk_poster_assigns_references_too(company, owner, customer, make_customer):
    other = make_customer("C002", name="Other", language="de")
    ids = documents_post_bulk(actor=owner, company=company, docs=[
        BulkDoc(customer_id=customer.pk, kind="invoice", issue_date=DAY, currency="EUR",
                lines=line_inputs([("A", "1", "10.00", "20")])),
        BulkDoc(customer_id=other.pk, kind="invoice", issue_date=DAY, currency="EUR",
                lines=line_inputs([("B", "2", "10.00", "20")]), number="LEG/2019/0042"),
    ])
    fresh, kept = (Invoice.objects.get(pk=pk) for pk in ids)
    assert fresh.payment_reference == creditor_reference("INV2025-00001")
    assert kept.payment_reference == creditor_reference("LEG/2019/0042")
    assert kept.payment_reference[4:] == "LEG20190042"
    for doc in (fresh, kept):
        assert iso11649.is_valid(doc.payment_reference)
        assert doc.snapshot["payment_reference"] == doc.payment_reference
        assert doc.snapshot_hash == snapshot_hash(doc.snapshot)
    assert kept.snapshot["customer"]["language"] == "de"
