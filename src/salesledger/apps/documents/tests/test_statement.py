"""Customer statements: open items on a day, aged, with unapplied cash and the balance."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from conftest import DAY

from salesledger.apps.documents.services import customer_statement_pdf, statement_context
from salesledger.apps.payments.selectors import customer_balances
from salesledger.domain.errors import UnknownCustomer

from .conftest import pdf_text


@pytest.fixture
def books(seller, make_customer, post_invoice, record_receipt, allocate_to):
    customer = make_customer("C001", name="Dupont et Fils", language="fr")
    old = post_invoice(lines=(("Audit", "1", "1000.00", "20"),),
                       issue_date=DAY - timedelta(days=100))  # due 70 days before DAY
    recent = post_invoice(lines=(("Support", "1", "250.00", "20"),), issue_date=DAY)
    paid = record_receipt("C001", "500.00", DAY)
    allocate_to(paid.number, {old.number: "500.00"}, day=DAY)
    on_account = record_receipt("C001", "40.00", DAY)
    credit = post_invoice(kind="credit_note", lines=(("Geste commercial", "1", "10.00", "20"),))
    return customer, old, recent, on_account, credit


def test_a_statement_ages_open_items_and_adds_up_to_the_balance(seller, owner, books):
    customer, old, recent, on_account, credit = books
    as_of = DAY + timedelta(days=5)
    # when the statement is made for a day
    context = statement_context(seller, customer, as_of)
    text = pdf_text(customer_statement_pdf(actor=owner, company=seller, code="C001",
                                           as_of=as_of))
    # then it lists what is open: 700 left on the old invoice, 300 on the recent one,
    # 40 of cash and 12 of credit not applied
    assert [(i["label"], i["open"]) for i in context["items"]] == [
        (f"Facture {old.number}", "700,00\xa0€"), (f"Facture {recent.number}", "300,00\xa0€"),
        (f"Avoir {credit.number}", "-12,00\xa0€"),
        (f"Paiement reçu {on_account.number}", "-40,00\xa0€")]
    # aged by days past due: the old invoice 75 days late, the recent one not yet due
    [summary] = context["summaries"]
    assert [amount for _, amount in summary["buckets"]] == [
        "300,00\xa0€", "0,00\xa0€", "0,00\xa0€", "700,00\xa0€", "0,00\xa0€"]
    assert (summary["unapplied"], summary["balance"]) == ("-52,00\xa0€", "948,00\xa0€")
    # and the balance is the ledger's
    assert customer_balances(seller, as_of=as_of, customer_id=customer.pk) == {
        (customer.pk, "EUR"): 94800}
    for shown in ("Relevé de compte", "Relevé au 15 mars 2025", "Pièces non soldées",
                  "Non échu", "61 à 90 jours", "Paiements et avoirs non imputés -52,00 €",
                  "Solde 948,00 €", old.number, "75", "FR76 3000 6000 0112 3456 7890 189"):
        assert shown in text, shown


def test_a_statement_before_anything_was_issued_is_empty(seller, owner, books):
    text = pdf_text(customer_statement_pdf(actor=owner, company=seller, code="C001",
                                           as_of=date(2024, 1, 1)))
    assert "Aucune pièce n'est ouverte sur votre compte." in text
    assert "IBAN" not in text  # nothing to pay, no bank details


def test_an_unknown_customer_has_no_statement(seller, owner):
    with pytest.raises(UnknownCustomer):
        customer_statement_pdf(actor=owner, company=seller, code="NOPE", as_of=DAY)
