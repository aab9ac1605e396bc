"""Personal data (docs/security.md#personal-data): everything held about a customer comes out
in one file, and anonymising erases the customer's personal data, irreversibly and once,
while every document that was issued stays as issued: ``salesledger check`` still finds each
hash it verifies (``issued_content``, ``frozen_files``, the audit chain)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from conftest import DAY

from salesledger.apps.collections.models import Dispute, DisputeAttachment, PaymentPlan
from salesledger.apps.collections.services import (
    Attachment,
    DisputeSpec,
    customer_call_log,
    dispute_open,
    dispute_reject,
    plan_create,
    promise_add,
)
from salesledger.apps.core.invariants import check_company
from salesledger.apps.core.models import AuditEvent
from salesledger.apps.customers.models import Address, BankAccount, Communication, Contact
from salesledger.apps.customers.personal_data import customer_anonymise
from salesledger.apps.customers.services import ContactInput, contact_add
from salesledger.apps.documents.delivery import invoice_send
from salesledger.apps.documents.services import pdfs_freeze
from salesledger.apps.documents.tests.conftest import smtp_server  # noqa: F401 (a fixture)
from salesledger.apps.dunning.models import DunningNotice
from salesledger.apps.dunning.run import dunning_run
from salesledger.apps.dunning.services import policy_add
from salesledger.apps.interchange.personal_data import customer_data, customer_data_export
from salesledger.apps.invoicing.models import DocumentFile, Invoice
from salesledger.apps.invoicing.services import invoice_delete_draft
from salesledger.apps.payments.refunds import receipt_refund
from salesledger.apps.quotes.services import QuoteInput, quote_create, quote_decline, quote_send
from salesledger.apps.recurring.services import (
    ScheduleInput,
    recurring_add,
    recurring_set_active,
)
from salesledger.domain.dunning import Level
from salesledger.domain.errors import AnonymiseRefused, PermissionDenied
from salesledger.domain.invoicing import LineInput
from salesledger.domain.personal_data import (
    ANONYMISED_NAME,
    CUSTOMER_ERASED,
    CUSTOMER_KEPT,
    CUSTOMER_TECHNICAL,
)
from tests.support import raw_sql

pytestmark = pytest.mark.django_db

LATER = DAY + timedelta(days=60)
PERSONAL = ("Jeanne", "Martin", "jeanne@", "+33 6", "3 rue", "FR7630006000011234567890189",
            "after six")


@pytest.fixture
def jeanne(company, owner, make_customer, post_invoice, record_receipt, allocate_to,
           smtp_server):  # noqa: F811 (the fixture imported above)
    """A sole trader with a contact, an address, a bank account and notes; one invoice,
    e-mailed to her, its PDF frozen, paid in full."""
    from salesledger.apps.customers.services import AddressInput, BankAccountInput

    make_customer("C1", name="Jeanne Martin", email="jeanne@example.org", phone="+33 6 12",
                  tax_id="", notes="call after six",
                  billing=AddressInput(line1="3 rue des Lilas", city="Lyon", country="FR"),
                  bank_accounts=[BankAccountInput(iban="FR7630006000011234567890189")])
    contact_add(actor=owner, company=company, code="C1",
                contact=ContactInput(name="Jeanne Martin", email="jeanne@example.org"))
    inv = post_invoice("C1", lines=[("Lessons", "2", "40.00", "20")])
    pdfs_freeze(actor=owner, company=company, invoice_ids=[inv.pk])
    invoice_send(actor=owner, company=company, number=inv.number, as_of=DAY)
    allocate_to(record_receipt("C1", "96.00", DAY + timedelta(days=5)).number, auto=True,
                day=DAY + timedelta(days=5))
    return inv


def _anonymise(company, owner, code="C1"):
    return customer_anonymise(actor=owner, company=company, code=code, as_of=LATER)


def test_every_column_of_the_customer_is_decided() -> None:
    from salesledger.apps.customers.models import Customer

    columns = {f.name for f in Customer._meta.concrete_fields}
    decided = [*CUSTOMER_ERASED, *CUSTOMER_KEPT, *CUSTOMER_TECHNICAL]
    assert sorted(decided) == sorted(columns)  # each once, none forgotten


def test_the_export_holds_everything_about_the_customer(company, owner, jeanne):
    data = customer_data(company, "C1")
    assert data["customer"]["name"] == "Jeanne Martin"
    assert [c["email"] for c in data["customer"]["contacts"]] == ["jeanne@example.org"]
    assert data["customer"]["addresses"][0]["line1"] == "3 rue des Lilas"
    assert data["customer"]["bank_accounts"][0]["iban"] == "FR7630006000011234567890189"
    [sent] = data["communications"]
    assert sent["recipients"] == "jeanne@example.org" and sent["invoice_id"] == jeanne.pk
    [doc] = data["documents"]
    assert doc["total"] == {"amount": "96.00", "currency": "EUR"}  # money, never minor units
    assert doc["lines"][0]["net"] == {"amount": "80.00", "currency": "EUR"}
    assert doc["snapshot"]["customer"]["name"] == "Jeanne Martin"
    assert [f["kind"] for f in doc["files"]] == ["pdf"]
    assert [r["amount"] for r in data["receipts"]] == [{"amount": "96.00", "currency": "EUR"}]
    assert len(data["allocations"]) == 1 and data["journal_lines"]
    actions = [e["action"] for e in data["audit_events"]]
    assert actions[:2] == ["customer.create", "customer.contact_add"]
    assert {"invoice.post", "receipt.record", "allocation.create"} <= set(actions)

    archive, counts = customer_data_export(actor=owner, company=company, code="C1")
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        assert json.loads(z.read("customer.json"))["customer"]["code"] == "C1"
        frozen = DocumentFile.objects.get(invoice=jeanne, kind="pdf")
        assert z.read(f"files/{jeanne.number}-pdf.pdf") == bytes(frozen.content)
    assert counts["files"] == 1 and counts["documents"] == 1
    [event] = AuditEvent.objects.filter(action="customer.data_export")
    assert "Jeanne" not in json.dumps(event.data)


def test_a_clerk_may_neither_export_nor_anonymise(company, owner, jeanne, django_user_model):
    from salesledger.apps.core.services import user_add

    user_add(actor=owner, company=company, username="bob", role="clerk")
    bob = django_user_model.objects.get(username="bob")
    with pytest.raises(PermissionDenied):
        customer_data_export(actor=bob, company=company, code="C1")
    with pytest.raises(PermissionDenied):
        _anonymise(company, bob)


def test_anonymising_erases_the_record_and_keeps_what_was_issued(company, owner, jeanne):
    issued = Invoice.objects.get(pk=jeanne.pk)
    files = list(DocumentFile.objects.filter(invoice=jeanne).values_list("sha256", "content"))
    done = _anonymise(company, owner)
    assert (done.already, done.contacts, done.addresses, done.bank_accounts,
            done.communications) == (False, 1, 1, 1, 1)

    data = customer_data(company, "C1")
    record = {k: v for k, v in data["customer"].items() if k in CUSTOMER_ERASED}
    assert record == {**CUSTOMER_ERASED, "name": ANONYMISED_NAME}
    assert (data["customer"]["code"], data["customer"]["country"]) == ("C1", "FR")
    assert not (Contact.objects.exists() or Address.objects.exists()
                or BankAccount.objects.exists())
    [sent] = Communication.objects.all()
    assert (sent.recipients, sent.body, sent.subject, sent.invoice_id) == (
        "", "", f"Invoice {jeanne.number} from Acme SARL", jeanne.pk)
    # Issued is issued: the snapshot, the frozen file and every hash check verifies.
    after = Invoice.objects.get(pk=jeanne.pk)
    assert (after.snapshot, after.snapshot_hash) == (issued.snapshot, issued.snapshot_hash)
    assert after.snapshot["customer"]["name"] == "Jeanne Martin"
    assert list(DocumentFile.objects.filter(invoice=jeanne)
                .values_list("sha256", "content")) == files
    assert check_company(company) == []
    # The audit event says what was done, with none of the data erased.
    [event] = AuditEvent.objects.filter(action="customer.anonymise")
    assert event.data["removed"] == {"contacts": 1, "addresses": 1, "bank_accounts": 1}
    assert not any(p in json.dumps(event.data) for p in PERSONAL)
    # Nothing personal is left outside what was issued or posted: the documents, the journal
    # (whose entries' memos name the customer) and the audit trail, all kept as written.
    kept = ("documents", "journal_lines", "audit_events")
    assert "Jeanne Martin" in data["journal_lines"][0]["entry_memo"]
    outside = {k: v for k, v in data.items() if k not in kept}
    assert [p for p in PERSONAL if p in json.dumps(outside, default=str)] == []


def test_anonymising_twice_does_nothing_the_second_time(company, owner, jeanne):
    first = _anonymise(company, owner)
    events = AuditEvent.objects.count()
    again = _anonymise(company, owner)
    assert (again.already, again.anonymised_at) == (True, first.anonymised_at)
    assert AuditEvent.objects.count() == events


def test_anonymising_is_refused_while_something_is_open(company, owner, make_customer,
                                                        post_invoice, create_invoice,
                                                        record_receipt, allocate_to):
    make_customer("C2", name="Paul Durand", email="paul@example.org")
    inv = post_invoice("C2", lines=[("Lessons", "1", "50.00", "0")])

    def refused() -> str:
        with pytest.raises(AnonymiseRefused) as exc:
            _anonymise(company, owner, "C2")
        return exc.value.message

    assert refused() == ("customer C2 has open items: an open instalment of "
                         f"{inv.number} (50.00 EUR open); settle, write off or refund them "
                         "first")
    allocate_to(record_receipt("C2", "60.00", DAY).number, {inv.number: "50.00"}, day=DAY)
    assert "unapplied cash on receipt RCT2025-00001 (10.00 EUR open)" in refused()
    receipt_refund(actor=owner, company=company, number="RCT2025-00001", day=DAY)
    draft = create_invoice("C2")
    assert refused() == "customer C2 has 1 draft document: post or delete them first"
    invoice_delete_draft(actor=owner, company=company, invoice_id=draft.pk)
    lines = [LineInput("Lessons", Decimal(1), Decimal(50))]
    quote = quote_create(actor=owner, company=company, as_of=LATER, data=QuoteInput(
        customer_code="C2", issue_date=LATER, lines=lines))
    quote_send(actor=owner, company=company, number=quote.number, as_of=LATER)
    assert refused().startswith(f"customer C2 has a quote still open on {LATER}: "
                                f"{quote.number} (sent)")
    quote_decline(actor=owner, company=company, number=quote.number, as_of=LATER)
    schedule = recurring_add(actor=owner, company=company, as_of=LATER, data=ScheduleInput(
        customer_code="C2", lines=lines, every="1 month", start=LATER + timedelta(days=1)))
    assert refused() == (f"customer C2 has a running recurring schedule ({schedule.pk}): "
                         "stop it first")
    recurring_set_active(actor=owner, company=company, schedule_id=schedule.pk, active=False,
                         as_of=LATER)
    assert _anonymise(company, owner, "C2").already is False


def test_the_database_lets_an_e_mail_address_be_erased_and_nothing_else(company, owner,
                                                                        jeanne):
    [sent] = Communication.objects.all()
    table = Communication._meta.db_table
    for column, value in (("recipients", "someone@else.example"), ("body", "changed"),
                          ("subject", "")):
        with pytest.raises(Exception, match="posted_is_immutable"):
            raw_sql(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, sent.pk])
    assert raw_sql(f"UPDATE {table} SET recipients = '', body = '' WHERE id = %s",
                   [sent.pk]) == 1


def test_an_anonymised_customer_cannot_be_given_personal_data_again(company, owner,
                                                                     make_customer):
    from salesledger.apps.customers.models import Customer
    from salesledger.apps.customers.services import (
        AddressInput,
        BankAccountInput,
        bank_account_add,
        customer_address_set,
        customer_update,
    )
    from salesledger.domain.errors import CustomerAnonymised

    make_customer("C3", name="Luc Petit", email="luc@example.org",
                  billing=AddressInput(line1="5 rue Haute", city="Lyon", postal_code="69001",
                                       country="FR"))
    done = _anonymise(company, owner, "C3")
    before = Customer.objects.filter(code="C3").values().get()
    events = AuditEvent.objects.count()
    day = f"{done.anonymised_at:%Y-%m-%d}"
    attempts = {
        "change its record": lambda: customer_update(
            actor=owner, company=company, code="C3", name="Luc Petit", email="luc@example.org"),
        "set its billing address": lambda: customer_address_set(
            actor=owner, company=company, code="C3", line1="5 rue Haute", city="Lyon"),
        "set its shipping address": lambda: customer_address_set(
            actor=owner, company=company, code="C3", kind="shipping", line1="Quai 2",
            city="Lyon"),
        "add a contact": lambda: contact_add(
            actor=owner, company=company, code="C3",
            contact=ContactInput(name="Luc Petit", email="luc@example.org")),
        "add a bank account": lambda: bank_account_add(
            actor=owner, company=company, code="C3",
            account=BankAccountInput(iban="FR7630006000011234567890189")),
    }
    for writes, attempt in attempts.items():
        with pytest.raises(CustomerAnonymised) as refused:
            attempt()
        assert refused.value.code == "customer_anonymised"
        assert refused.value.message == (
            f"customer C3 was anonymised on {day}: its personal data is erased for good, so "
            f"nothing can {writes}; a customer who comes back is a new customer with a new "
            "code"), writes
    # and nothing was written: the record as anonymising left it, no address, contact or
    # account, no audit event
    assert Customer.objects.filter(code="C3").values().get() == before
    assert not Address.objects.filter(customer__code="C3").exists()
    assert not Contact.objects.filter(customer__code="C3").exists()
    assert not BankAccount.objects.filter(customer__code="C3").exists()
    assert AuditEvent.objects.count() == events
    # another customer is changed as before
    make_customer("C4", name="Anne Roy")
    assert customer_update(actor=owner, company=company, code="C4", name="Anne Roy-Petit"
                           ).name == "Anne Roy-Petit"


def test_casework_is_exported_and_its_notes_and_attachments_erased(
        company, owner, make_customer, post_invoice, record_receipt, allocate_to):
    # given a customer with a dispute (notes and a photo), a promise, a plan and a call
    make_customer("C3", name="Luc Bernard", email="luc@example.org")
    inv = post_invoice("C3", lines=[("Boxes", "1", "100.00", "0")])
    photo = b"\xff\xd8 a photo of Luc's wet boxes"
    dispute = dispute_open(actor=owner, company=company, day=DAY, spec=DisputeSpec(
        inv.number, "quality", Decimal("20"), notes="Luc says the boxes were wet",
        attachments=(Attachment("boxes.jpg", "image/jpeg", photo),)))
    promise_add(actor=owner, company=company, customer="C3", amount=Decimal("80"),
                promised_date=DAY + timedelta(days=10), day=DAY, invoice=inv.number,
                notes="Luc promised on the phone")
    plan_create(actor=owner, company=company, customer="C3", day=DAY, instalments=2,
                first_due=DAY + timedelta(days=20), invoices=[inv.number],
                notes="Luc's sister pays the second")
    customer_call_log(actor=owner, company=company, customer="C3", day=DAY,
                      outcome="reached", notes="Luc asked for a plan")
    luc = ("Luc says", "Luc promised", "Luc's sister", "Luc asked", "wet boxes")

    # the export holds the casework, money as money, the attachment byte for byte
    data = customer_data(company, "C3")
    [d] = data["disputes"]
    assert (d["notes"], d["amount"]) == ("Luc says the boxes were wet",
                                         {"amount": "20.00", "currency": "EUR"})
    assert [p["notes"] for p in data["promises"]] == ["Luc promised on the phone"]
    [plan] = data["payment_plans"]
    assert plan["notes"] == "Luc's sister pays the second" and len(plan["instalments"]) == 2
    assert [c["body"] for c in data["communications"]] == ["Luc asked for a plan"]
    assert {"dispute.open", "promise.add", "plan.create"} <= {
        e["action"] for e in data["audit_events"]}
    archive, counts = customer_data_export(actor=owner, company=company, code="C3")
    assert counts["disputes"] == 1
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        assert z.read(d["attachments"][0]["path"]) == photo

    # paid in full, anonymising still waits for the open dispute; the attachment is
    # guarded until the customer is anonymised
    allocate_to(record_receipt("C3", "100.00", DAY).number, {inv.number: "100.00"}, day=DAY)
    with pytest.raises(AnonymiseRefused, match=f"open dispute: dispute {dispute.pk}"):
        _anonymise(company, owner, "C3")
    with pytest.raises(Exception, match="posted_is_immutable"):
        raw_sql("DELETE FROM collections_disputeattachment")
    dispute_reject(actor=owner, company=company, dispute_id=dispute.pk, day=DAY,
                   notes="Luc signed for dry boxes")
    _anonymise(company, owner, "C3")

    # then the notes are empty, the attachment gone, the amounts and days kept
    after = customer_data(company, "C3")
    assert not DisputeAttachment.objects.exists()
    row = Dispute.objects.get()
    assert (row.notes, row.resolution_notes, row.amount, row.status) == ("", "", 2000,
                                                                         "rejected")
    assert PaymentPlan.objects.get().notes == ""
    assert [p for p in luc if p in json.dumps(
        {k: v for k, v in after.items() if k not in ("documents", "journal_lines",
                                                     "audit_events")}, default=str)] == []
    assert check_company(company) == []
    [event] = AuditEvent.objects.filter(action="collections.erase")
    assert event.data["counts"] == {"disputes": 1, "promises": 1, "plans": 1,
                                    "attachments": 1}


def test_reminders_are_exported_and_their_letters_erased(
        company, owner, make_customer, post_invoice, record_receipt, allocate_to,
        smtp_server, django_capture_on_commit_callbacks):  # noqa: F811 (the fixture)
    # given a reminder with its letter sent to a customer
    policy_add(actor=owner, company=company, code="STD", default=True,
               levels=[Level(0, 5, "Reminder", ("email", "letter"))])
    make_customer("C4", name="Anne Petit", email="anne@example.org")
    inv = post_invoice("C4", lines=[("Lessons", "1", "50.00", "0")])
    with django_capture_on_commit_callbacks(execute=True):
        dunning_run(actor=owner, company=company, as_of=inv.due_date + timedelta(days=5),
                    send=True)
    # the export has the notice, its item as money, and says how large its letter is
    [n] = customer_data(company, "C4")["dunning_notices"]
    assert n["letter_pdf_bytes"] > 0 and "summary" not in n
    assert [i["amount"] for i in n["items"]] == [{"amount": "50.00", "currency": "EUR"}]
    # anonymised once paid: the letter (name and address) is gone, its hash stays
    sha = DunningNotice.objects.get().letter_sha256
    allocate_to(record_receipt("C4", "50.00", DAY).number, {inv.number: "50.00"}, day=DAY)
    _anonymise(company, owner, "C4")
    notice = DunningNotice.objects.get()
    assert (notice.letter_pdf, notice.letter_sha256, notice.agency_export) == (None, sha, "")
    assert AuditEvent.objects.get(action="dunning.erase").data["notices"] == 1
