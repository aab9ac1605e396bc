"""The payer IBANs the matcher learns, and a customer's own IBANs removed: a confirmed line
from an IBAN that is not the customer's teaches it; unmatching the line forgets it, unless
another applied line from that IBAN still pays the customer; removing one of the customer's
own bank accounts (``customers.bank_account_remove``, audited) forgets it as a payer of that
customer too, so that no later payment from it is applied to the customer on its strength.
The last account of a customer with a direct-debit mandate stays."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from salesledger.apps.banking.matching import bank_confirm, bank_match, bank_unmatch
from salesledger.apps.banking.models import PayerIban
from salesledger.apps.core.models import AuditEvent
from salesledger.apps.core.services import company_profile_update
from salesledger.apps.customers.models import BankAccount
from salesledger.apps.customers.services import (
    BankAccountInput,
    bank_account_add,
    bank_account_remove,
    customer_update,
)
from salesledger.apps.invoicing.tests.books import ledger_problems
from salesledger.domain.errors import NotFound, ValidationFailed

from .test_matching import ACME_IBAN, PARENT_IBAN, books, run  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=False)

SHOP_IBAN = "FR1420041010050500013M02606"


def forgotten(company: Any) -> list[dict[str, Any]]:
    return list(AuditEvent.objects.filter(company=company, action="payer_iban.forget")
                .order_by("seq").values_list("data", flat=True))


def confirm_from_parent(books: dict[str, Any], day: str, amount: str) -> int:  # noqa: F811
    """A payment from the parent company's IBAN, for a Globex invoice, confirmed."""
    [r] = run(books, [(day, amount, PARENT_IBAN, "Globex Holding", "payment")])[-1:]
    assert r.decision == "suggested", r.evidence
    bank_confirm(actor=books["owner"], company=books["company"], line_id=r.line.pk)
    return r.line.pk


def test_an_iban_learned_by_one_line_is_forgotten_when_it_is_unmatched(books):  # noqa: F811
    first = confirm_from_parent(books, "250317", "C45,50")
    learned = PayerIban.objects.get(iban=PARENT_IBAN)
    assert (learned.customer.code, learned.learned_from_id) == ("GLOBEX", first)
    # learned: the next payment from it is found by the IBAN
    g1 = books["inv"]["g1"]
    [r] = run(books, [("250318", "C300,00", PARENT_IBAN, "Someone", "march")])[-1:]
    assert r.suggestions[0].allocations == ((g1.number, 30000),)
    assert "learned" in r.suggestions[0].evidence[0]
    bank_unmatch(actor=books["owner"], company=books["company"], line_id=first,
                 day=date(2025, 3, 31))
    assert not PayerIban.objects.filter(iban=PARENT_IBAN).exists()
    assert forgotten(books["company"]) == [{
        "iban": PARENT_IBAN, "customer": learned.customer_id,
        "reason": f"statement line {first} unmatched"}]
    [again] = bank_match(actor=books["owner"], company=books["company"], line_ids=[r.line.pk])
    assert not any("learned" in e for s in again.suggestions for e in s.evidence)
    assert ledger_problems(books["company"]) == []


def test_an_iban_still_paying_the_customer_through_another_line_is_kept(books):  # noqa: F811
    first = confirm_from_parent(books, "250317", "C45,50")
    second = confirm_from_parent(books, "250318", "C300,00")
    assert PayerIban.objects.get(iban=PARENT_IBAN).learned_from_id == second
    bank_unmatch(actor=books["owner"], company=books["company"], line_id=second,
                 day=date(2025, 3, 31))
    # the first line still stands: what the IBAN is known by is that line now
    kept = PayerIban.objects.get(iban=PARENT_IBAN)
    assert (kept.customer.code, kept.learned_from_id) == ("GLOBEX", first)
    assert forgotten(books["company"]) == []
    bank_unmatch(actor=books["owner"], company=books["company"], line_id=first,
                 day=date(2025, 3, 31))
    assert not PayerIban.objects.filter(iban=PARENT_IBAN).exists()


def test_a_customers_own_iban_removed_is_audited_and_no_longer_pays_for_it(books):  # noqa: F811
    company, owner = books["company"], books["owner"]
    acme = BankAccount.objects.get(iban=ACME_IBAN).customer
    # the same IBAN was learned for ACME before it was written down as its own
    PayerIban.objects.create(company=company, iban=ACME_IBAN, customer=acme)
    assert bank_account_remove(actor=owner, company=company, code="ACME",
                               iban="de89 3704 0044 0532 0130 00") == ACME_IBAN
    assert not BankAccount.objects.filter(iban=ACME_IBAN).exists()
    assert not PayerIban.objects.filter(iban=ACME_IBAN).exists()
    acme.refresh_from_db()
    assert acme.verified_by_id == owner.pk  # an edit of the record confirms it
    removed = AuditEvent.objects.get(company=company, action="customer.bank_account_remove")
    assert (removed.entity_id, removed.data) == (str(acme.pk), {
        "iban": ACME_IBAN, "before": {"iban": ACME_IBAN, "bic": "COBADEFFXXX",
                                      "holder": "ACME Trading GmbH"}})
    assert forgotten(company)[0]["reason"] == "bank account removed from customer ACME"
    # a payment from it is no longer ACME's by its IBAN (320.00 would be a2 + a3)
    [r] = run(books, [("250315", "C320,00", ACME_IBAN, "", "two invoices")],
              auto_apply=True)
    assert r.decision != "applied"
    assert not any("IBAN" in e for s in r.suggestions for e in s.evidence)
    # and it may be given again, to ACME or another customer
    bank_account_add(actor=owner, company=company, code="GLOBEX",
                     account=BankAccountInput(iban=ACME_IBAN))


def test_a_learned_iban_of_another_customer_stays_when_an_account_is_removed(books):  # noqa: F811
    company, owner = books["company"], books["owner"]
    globex = PayerIban.objects.model._meta.get_field("customer").related_model.objects.get(
        code="GLOBEX")
    PayerIban.objects.create(company=company, iban=ACME_IBAN, customer=globex)
    bank_account_remove(actor=owner, company=company, code="ACME", iban=ACME_IBAN)
    assert PayerIban.objects.get(iban=ACME_IBAN).customer == globex
    assert forgotten(company) == []


def test_an_unknown_iban_and_the_last_account_of_a_mandate_are_refused(books):  # noqa: F811
    company, owner = books["company"], books["owner"]
    with pytest.raises(NotFound, match=f"customer ACME has no bank account '{SHOP_IBAN}' "
                       f"\\(its IBANs: {ACME_IBAN}\\)"):
        bank_account_remove(actor=owner, company=company, code="ACME", iban=SHOP_IBAN)
    company = company_profile_update(actor=owner, company=company,
                                     creditor_id="FR72ZZZ123456")
    customer_update(actor=owner, company=company, code="ACME", mandate_reference="MDT-1",
                    mandate_signed=date(2025, 1, 2))
    with pytest.raises(ValidationFailed, match="mandate MDT-1 debits: add the new account"):
        bank_account_remove(actor=owner, company=company, code="ACME", iban=ACME_IBAN)
    assert BankAccount.objects.filter(iban=ACME_IBAN).exists()
    # with a second account, the first may go: the next collection debits the other
    bank_account_add(actor=owner, company=company, code="ACME",
                     account=BankAccountInput(iban=SHOP_IBAN))
    bank_account_remove(actor=owner, company=company, code="ACME", iban=ACME_IBAN)
    assert list(BankAccount.objects.values_list("iban", flat=True)) == [SHOP_IBAN]
    assert not AuditEvent.objects.filter(action="payer_iban.forget").exists()


def test_a_payers_own_reference_is_learned_and_forgotten(books):  # noqa: F811
    from salesledger.apps.banking.models import PayerReference

    company, owner = books["company"], books["owner"]
    g1, g2 = books["inv"]["g1"], books["inv"]["g2"]
    # a stranger writes its customer number with us: found by amount alone, confirmed
    [r] = run(books, [("250317", "C45,50", "", "Somebody", "Kundennr KD-4711 20250317")])
    assert r.suggestions[0].allocations == ((g2.number, 4550),)
    bank_confirm(actor=owner, company=company, line_id=r.line.pk)
    learned = PayerReference.objects.get()
    assert (learned.key, learned.customer.code, learned.learned_from_id) == (
        "KD4711", "GLOBEX", r.line.pk)  # never the date, the amount, our invoice numbers
    # the next payment writing it names the customer
    [r2] = run(books, [("250318", "C300,00", "", "Somebody", "KD-4711 april")])[-1:]
    top = r2.suggestions[0]
    assert (top.customer_id, top.allocations) == (g1.customer_id, ((g1.number, 30000),))
    assert top.evidence[0] == "reference KD4711 paid for the customer before (learned)"
    assert 0.8 < top.confidence < 0.95  # as sure as a close name: reviewed unless calibrated
    # unmatching the line that taught it forgets it
    bank_unmatch(actor=owner, company=company, line_id=r.line.pk, day=date(2025, 3, 31))
    assert not PayerReference.objects.exists()
    assert AuditEvent.objects.get(company=company, action="payer_reference.forget").data[
        "references"] == ["KD4711"]


def test_a_reference_confirmed_for_two_customers_says_nothing(books):  # noqa: F811
    from salesledger.apps.banking.models import PayerReference

    company, owner = books["company"], books["owner"]
    [r] = run(books, [("250317", "C45,50", "", "Somebody", "contract CT2025A")])
    bank_confirm(actor=owner, company=company, line_id=r.line.pk)
    assert PayerReference.objects.get().customer.code == "GLOBEX"
    a3 = books["inv"]["a3"]
    [r2] = run(books, [("250318", "C70,00", "", "Somebody", "contract CT2025A")])[-1:]
    choice = next(n for n, s in enumerate(r2.suggestions, start=1)
                  if s.allocations == ((a3.number, 7000),))
    bank_confirm(actor=owner, company=company, line_id=r2.line.pk, choice=choice)
    assert PayerReference.objects.get().customer is None
    [r3] = run(books, [("250319", "C300,00", "", "Somebody", "contract CT2025A")])[-1:]
    assert not any("learned" in e for s in r3.suggestions for e in s.evidence)
