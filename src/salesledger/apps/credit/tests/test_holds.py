"""Credit holds through the services: a hold blocks posting an invoice and accepting a
quote, whoever asks; a credit controller's override lets it through, recorded and audited in
the posting's transaction; credit notes and fee invoices are never held; holding is one hold
per source; releasing is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import DAY, line_inputs
from tests.support import events, last_seq

from salesledger.apps.core.invariants import check_company
from salesledger.apps.core.services import membership_set, user_ensure
from salesledger.apps.credit.models import CreditHold, CreditOverride
from salesledger.apps.credit.selectors import on_hold
from salesledger.apps.credit.services import credit_hold, credit_release
from salesledger.apps.invoicing.models import Invoice
from salesledger.apps.invoicing.services import InvoiceInput, invoice_create, invoice_post
from salesledger.apps.quotes.services import QuoteInput, quote_accept, quote_create, quote_send
from salesledger.domain.errors import CreditHoldActive, PermissionDenied, ValidationFailed


@pytest.fixture
def held(company, owner, customer):
    credit_hold(actor=owner, company=company, customer_id=customer.pk,
                reason="cheque bounced twice")
    return customer


def _user(company, owner, name, role):
    user = user_ensure(username=name)
    membership_set(actor=owner, company=company, username=name, role=role)
    return user


def test_holding_twice_from_one_source_is_one_hold_and_each_is_audited(company, owner,
                                                                        customer):
    seq = last_seq(company)
    credit_hold(actor=owner, company=company, customer_id=customer.pk, reason="bounced")
    credit_hold(actor=owner, company=company, customer_id=customer.pk, reason="again")
    credit_hold(actor=owner, company=company, customer_id=customer.pk, reason="level 3",
                source="dunning")
    holds = on_hold(company, customer.pk)
    assert [(h.source, h.reason, h.by) for h in holds] == [
        ("manual", "bounced", "owner"), ("dunning", "level 3", "owner")]
    assert [(e.action, e.data["source"]) for e in events(company, seq)] == [
        ("credit.hold", "manual"), ("credit.hold", "dunning")]
    # releasing one source leaves the other; releasing all clears the customer
    credit_release(actor=owner, company=company, customer_id=customer.pk, reason="paid",
                   source="dunning")
    assert [h.source for h in on_hold(company, customer.pk)] == ["manual"]
    credit_release(actor=owner, company=company, customer_id=customer.pk, reason="sorted")
    assert on_hold(company, customer.pk) == []
    released = [e for e in events(company, seq) if e.action == "credit.release"]
    assert [(e.data["sources"], e.data["reason"]) for e in released] == [
        (["dunning"], "paid"), (["manual"], "sorted")]
    assert CreditHold.objects.filter(customer=customer).count() == 2


def test_a_hold_needs_a_reason_a_known_source_and_the_right_role(company, owner, customer):
    with pytest.raises(ValidationFailed, match="reason"):
        credit_hold(actor=owner, company=company, customer_id=customer.pk, reason=" ")
    with pytest.raises(ValidationFailed, match="unknown hold source"):
        credit_hold(actor=owner, company=company, customer_id=customer.pk, reason="x",
                    source="whim")
    clerk = _user(company, owner, "clara", "clerk")
    with pytest.raises(PermissionDenied, match="credit_controller"):
        credit_hold(actor=clerk, company=company, customer_id=customer.pk, reason="x")
    # a dunning run (a clerk) may hold from its own source
    credit_hold(actor=clerk, company=company, customer_id=customer.pk, reason="level 3",
                source="dunning")
    controller = _user(company, owner, "carl", "credit_controller")
    credit_hold(actor=controller, company=company, customer_id=customer.pk, reason="x")
    assert {h.source for h in on_hold(company, customer.pk)} == {"dunning", "manual"}


def test_a_hold_blocks_posting_and_nothing_is_written(company, owner, held, create_invoice):
    draft = create_invoice()
    seq = last_seq(company)
    with pytest.raises(CreditHoldActive, match="C001 is on credit hold .manual: cheque "
                                               "bounced twice.") as refused:
        invoice_post(actor=owner, company=company, invoice_id=draft.pk)
    assert refused.value.code == "credit_hold"
    draft.refresh_from_db()
    assert (draft.status, draft.number) == ("draft", None)
    assert events(company, seq) == []


def test_an_override_by_a_credit_controller_is_recorded_and_audited(company, owner, held,
                                                                     create_invoice):
    clerk = _user(company, owner, "clara", "clerk")
    controller = _user(company, owner, "carl", "credit_controller")
    membership_set(actor=owner, company=company, username="carl", role="credit_controller")
    draft = create_invoice()
    # a clerk may not override
    with pytest.raises(PermissionDenied, match="override a credit hold"):
        invoice_post(actor=clerk, company=company, invoice_id=draft.pk,
                     credit_override="they promised")
    assert CreditOverride.objects.count() == 0
    seq = last_seq(company)
    inv = invoice_post(actor=controller, company=company, invoice_id=draft.pk,
                       credit_override="paid by card on the phone")
    assert inv.status == "posted"
    [row] = CreditOverride.objects.all()
    assert (row.customer_id, row.what, row.amount, row.currency, row.refusal_code,
            row.comment, row.created_by_id) == (held.pk, "invoice", 12000, "EUR",
                                                "credit_hold", "paid by card on the phone",
                                                controller.pk)
    actions = [e.action for e in events(company, seq)]
    # the override is audited in the posting's transaction, before the posting itself
    assert actions[0] == "credit.override" and "invoice.post" in actions
    override = events(company, seq)[0]
    assert override.actor_name == "carl"
    assert override.data["amount"] == {"amount": "120.00", "currency": "EUR"}
    assert override.data["comment"] == "paid by card on the phone"


def test_credit_notes_and_fee_invoices_are_never_held(company, owner, customer,
                                                      post_invoice, create_invoice):
    inv = post_invoice()
    credit_hold(actor=owner, company=company, customer_id=customer.pk, reason="stop")
    note = post_invoice(kind="credit_note", corrects=inv.number,
                        lines=(("Refund", 1, "10.00", "20"),))
    assert note.status == "posted"
    fee = invoice_create(actor=owner, company=company, data=InvoiceInput(
        customer_code="C001", issue_date=DAY, lines=line_inputs([("Reminder fee", 1, "40.00")]),
        purpose="fee"))
    assert invoice_post(actor=owner, company=company, invoice_id=fee.pk).status == "posted"
    assert Invoice.objects.get(pk=fee.pk).purpose == "fee"
    with pytest.raises(CreditHoldActive):
        post_invoice()


def test_accepting_a_quote_is_refused_on_hold_unless_overridden(company, owner, held):
    quote = quote_create(actor=owner, company=company, as_of=DAY, data=QuoteInput(
        customer_code="C001", lines=line_inputs([("Design", 1, "500.00", "20")])))
    quote_send(actor=owner, company=company, number=quote.number, as_of=DAY)
    with pytest.raises(CreditHoldActive, match="accepting the quote refused"):
        quote_accept(actor=owner, company=company, number=quote.number,
                     as_of=DAY + timedelta(days=1))
    quote.refresh_from_db()
    assert quote.status == "sent"
    seq = last_seq(company)
    quote_accept(actor=owner, company=company, number=quote.number,
                 as_of=DAY + timedelta(days=1), credit_override="deposit received")
    quote.refresh_from_db()
    assert quote.status == "accepted"
    [row] = CreditOverride.objects.all()
    assert (row.what, row.quote_id, row.amount) == ("quote", quote.pk, 60000)
    assert [e.action for e in events(company, seq)] == ["credit.override", "quote.accept"]


def test_an_override_needs_a_comment_and_the_books_still_check(company, owner, held,
                                                                create_invoice):
    draft = create_invoice()
    with pytest.raises(CreditHoldActive):
        invoice_post(actor=owner, company=company, invoice_id=draft.pk, credit_override="  ")
    invoice_post(actor=owner, company=company, invoice_id=draft.pk, credit_override="ok'd")
    assert check_company(company) == []
