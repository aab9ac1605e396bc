"""Customer records that stay reliable (docs/design/customer-records.md): the review list by
``as_of``, the stamps that confirming and editing leave, doubtful e-mail addresses cleared
by an edit or a confirmation, and duplicate candidates read from the books."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from tests.support import events, last_seq

from salesledger.apps.core.services import company_profile_update, user_add
from salesledger.apps.customers.models import Contact, Customer
from salesledger.apps.customers.selectors import (
    customer_detail,
    duplicate_customers,
    review_list,
)
from salesledger.apps.customers.services import (
    BankAccountInput,
    ContactInput,
    contact_update,
    customer_address_set,
    customer_update,
    customer_verify,
    emails_mark_doubtful,
)

pytestmark = pytest.mark.django_db


def codes(rows):
    return [r["code"] for r in rows]


def day_of(company, moment=None):
    """The company's day at ``moment`` (now by default): the review list counts in the
    company's time zone, so a test must too (23:00 UTC is already tomorrow in Paris)."""
    return timezone.localtime(moment or timezone.now(), ZoneInfo(company.time_zone)).date()


def test_records_not_confirmed_within_the_period_are_listed_by_as_of(company, owner,
                                                                      make_customer):
    today = day_of(company)
    for code in ("C1", "C2", "C3"):
        make_customer(code)
    customer_verify(actor=owner, company=company, code="C2",
                    at=datetime(today.year, today.month, today.day, 12, tzinfo=UTC)
                    - timedelta(days=30))
    # created today, C2 confirmed 30 days ago: nothing is due before the 60 days run out
    assert review_list(company, as_of=today) == []
    assert review_list(company, as_of=today + timedelta(days=29)) == []
    # on day 31 C2 (stamped 30 days ago) is 61 days old; C1 and C3, created today, are not
    due = review_list(company, as_of=today + timedelta(days=31))
    assert codes(due) == ["C2"]
    assert due[0]["verified_by"] == "owner" and due[0]["days_since"] == 61
    assert due[0]["reasons"][0].startswith("not confirmed since ")
    # the period is the company's: 20 days lists everyone sooner
    company = company_profile_update(actor=owner, company=company, record_review_days="20")
    due = review_list(company, as_of=today + timedelta(days=21))
    assert codes(due) == ["C2", "C1", "C3"]  # oldest first
    assert due[1]["reasons"] == ["never confirmed"]


def test_confirming_or_editing_stamps_the_record_with_when_and_who(company, owner,
                                                                   make_customer,
                                                                   django_user_model):
    make_customer("C1")
    clerk = user_add(actor=owner, company=company, username="clerk", role="clerk").user
    assert Customer.objects.get(code="C1").verified_at is None
    before = timezone.now()
    customer_update(actor=clerk, company=company, code="C1", phone="+33 1 02 03 04 05")
    c = Customer.objects.get(code="C1")
    assert c.verified_at >= before and c.verified_by == clerk
    customer_address_set(actor=owner, company=company, code="C1", line1="1 rue Neuve",
                         city="Lyon", country="FR")
    c2 = Customer.objects.get(code="C1")
    assert c2.verified_at >= c.verified_at and c2.verified_by == owner
    later = timezone.now() + timedelta(days=61)
    assert codes(review_list(company, as_of=day_of(company, later))) == ["C1"]
    customer_verify(actor=owner, company=company, code="C1", at=later)
    assert review_list(company, as_of=day_of(company, later)) == []


def test_a_doubtful_address_lists_the_customer_and_an_edit_or_a_confirmation_clears_it(
        company, owner, make_customer):
    make_customer("C1", email="info@dupont.example",
                  contacts=[ContactInput("Anne", "anne@dupont.example"),
                            ContactInput("Paul", "paul@dupont.example")])
    make_customer("C2", email="info@martin.example")
    seq = last_seq(company)
    marked = emails_mark_doubtful(
        actor=None, company=company, customer_id=Customer.objects.get(code="C1").pk,
        refused={"ANNE@dupont.example": "550 5.1.1 unknown", "info@dupont.example": "550 x",
                 "someone@else.example": "550 y"}, communication_id=7)
    assert marked == ["anne@dupont.example", "info@dupont.example"]
    [event] = events(company, seq)
    assert (event.action, event.data["emails"], event.data["communication"]) == (
        "customer.email_doubtful", marked, 7)
    today = day_of(company)
    [row] = review_list(company, as_of=today)  # doubtful: due now, whatever its age
    assert row["code"] == "C1"
    assert row["doubtful_emails"] == ["info@dupont.example", "anne@dupont.example"]
    detail = customer_detail(company, "C1")
    assert detail["email_doubtful"]["reason"] == "550 x"
    assert [c["doubtful"] and c["doubtful"]["reason"] for c in detail["contacts"]] == [
        "550 5.1.1 unknown", None]
    # editing the contact trusts it again; the customer's own address is still doubtful
    contact_update(actor=owner, company=company, code="C1", email="anne@dupont.example",
                   changes=ContactInput("Anne Martin", "anne.martin@dupont.example"))
    assert not Contact.objects.filter(doubtful_at__isnull=False).exists()
    assert review_list(company, as_of=today)[0]["doubtful_emails"] == ["info@dupont.example"]
    # confirming the record clears what is left, and says what it cleared
    seq = last_seq(company)
    customer_verify(actor=owner, company=company, code="C1", at=timezone.now())
    assert review_list(company, as_of=today) == []
    assert events(company, seq)[-1].data["doubtful_cleared"] == ["info@dupont.example"]


def test_duplicates_by_tax_id_iban_and_name_with_the_guards(company, owner, make_customer):
    make_customer("C1", name="Dupont et Fils SARL", tax_id="FR40303265045")
    make_customer("C2", name="DPF Distribution", tax_id="FR 40 303265045")  # same, typed apart
    make_customer("C3", name="Dupont & Fils")  # no tax id: the name decides
    make_customer("C4", name="Garage du Lot 12", bank_accounts=[
        BankAccountInput("FR7630006000011234567890189")])
    make_customer("C5", name="Garage du Lot 13")
    make_customer("C6", name="Société Générale Ltd", tax_id="FR83404833048")
    make_customer("C7", name="SOCIETE GENERALE", tax_id="FR40303265045")  # another tax id
    found = {(r["a"], r["b"]): r for r in duplicate_customers(company)}
    assert found[("C1", "C2")]["reasons"] == ["tax_id"]
    assert found[("C1", "C2")]["shared"] == {"tax_id": "FR40303265045"}
    assert found[("C1", "C3")]["reasons"] == ["name"] and found[("C1", "C3")]["score"] == 100
    assert found[("C1", "C7")]["reasons"] == ["tax_id"]
    assert found[("C2", "C7")]["reasons"] == ["tax_id"]
    # Lot 12 and Lot 13 differ in a number; C6 and C7 have two different tax ids
    assert ("C4", "C5") not in found and ("C6", "C7") not in found
    assert set(found) == {("C1", "C2"), ("C1", "C3"), ("C1", "C7"), ("C2", "C7")}
    # an IBAN the other was seen paying from (the banking app learns them)
    c5 = Customer.objects.get(code="C5")
    found = {(r["a"], r["b"]): r for r in duplicate_customers(
        company, payer_ibans=[("FR7630006000011234567890189", c5.pk)])}
    assert found[("C4", "C5")]["reasons"] == ["iban"]
