"""Credit across a merge of customers (docs/design/credit.md#merged-customers): while an alias
is merged, a hold on it holds its survivor (and the survivor's holds hold it), its open items
count in the survivor's exposure against the survivor's limit, and its own limit is shown but
neither applied nor summed; the merge and the unmerge audit what they change in credit, in
their own transaction; unmerged, each customer is judged alone again."""

from __future__ import annotations

import pytest
from conftest import DAY
from tests.support import events, last_seq

from salesledger.apps.core.invariants import check_company
from salesledger.apps.credit.selectors import (
    credit_overview,
    customer_exposure,
    hold_count,
    on_hold,
)
from salesledger.apps.credit.services import credit_hold, credit_limit_set, credit_release
from salesledger.apps.customers.merge import customer_merge, customer_unmerge
from salesledger.domain.errors import CreditHoldActive, CreditLimitExceeded


@pytest.fixture
def pair(make_customer):
    """C001 survives; C002 is the duplicate."""
    return make_customer("C001", name="Dupont et Fils"), make_customer("C002", name="DUPONT")


def test_a_hold_on_the_alias_holds_the_survivor_until_unmerged(company, owner, pair,
                                                                post_invoice):
    survivor, alias = pair
    credit_hold(actor=owner, company=company, customer_id=alias.pk, reason="cheque bounced")
    assert post_invoice("C001").status == "posted"  # not merged yet: C001 is free
    seq = last_seq(company)
    customer_merge(actor=owner, company=company, alias="C002", survivor="C001",
                   reason="entered twice")
    [merge, credit] = events(company, seq)
    assert (merge.action, credit.action) == ("customer.merge", "credit.merge")
    assert (credit.data["alias"], credit.data["alias_holds"], credit.data["survivor_holds"],
            credit.data["alias_limit_set_aside"]) == (
        "C002", ["manual: cheque bounced"], [], None)
    # the survivor is held by its alias's hold, and a new invoice named for the alias (issued
    # to the survivor) too; the refusal says on whom the hold was put
    with pytest.raises(CreditHoldActive, match=r"customer C001 is on credit hold "
                                               r"\(manual: cheque bounced \(held as C002\)\)"):
        post_invoice("C001")
    with pytest.raises(CreditHoldActive, match="held as C002"):
        post_invoice("C002")
    assert [(h.source, h.held_as) for h in on_hold(company, survivor.pk)] == [("manual", "C002")]
    assert [(h.source, h.held_as) for h in on_hold(company, alias.pk)] == [("manual", "")]
    assert customer_exposure(company, "C001", DAY)["on_hold"] == [
        {"source": "manual", "reason": "cheque bounced (held as C002)", "held_as": "C002"}]
    assert check_company(company) == []
    seq = last_seq(company)
    customer_unmerge(actor=owner, company=company, code="C002", reason="two businesses")
    [unmerge, credit] = events(company, seq)
    assert (unmerge.action, credit.action, credit.data["alias_holds"]) == (
        "customer.unmerge", "credit.unmerge", ["manual: cheque bounced"])
    # apart again: the survivor is free, the alias keeps its own hold
    assert on_hold(company, survivor.pk) == []
    assert [h.source for h in on_hold(company, alias.pk)] == ["manual"]
    assert post_invoice("C001").status == "posted"
    with pytest.raises(CreditHoldActive, match="customer C002 is on credit hold"):
        post_invoice("C002")
    assert check_company(company) == []


def test_releasing_the_survivor_releases_the_holds_it_carries(company, owner, pair,
                                                              post_invoice):
    survivor, alias = pair
    credit_hold(actor=owner, company=company, customer_id=alias.pk, reason="bounced")
    credit_hold(actor=owner, company=company, customer_id=survivor.pk, reason="late",
                source="dunning")
    customer_merge(actor=owner, company=company, alias="C002", survivor="C001")
    assert [(h.source, h.held_as) for h in on_hold(company, alias.pk)] == [
        ("manual", ""), ("dunning", "C001")]
    seq = last_seq(company)
    credit_release(actor=owner, company=company, customer_id=survivor.pk, reason="paid")
    [released] = events(company, seq)
    assert (released.data["sources"], released.data["held_as"]) == (
        ["manual", "dunning"], ["C002"])
    assert on_hold(company, survivor.pk) == on_hold(company, alias.pk) == []
    assert post_invoice("C002").customer_id == survivor.pk


def test_the_alias_counts_in_the_survivors_exposure_against_the_survivors_limit(
        company, owner, pair, post_invoice):
    survivor, alias = pair
    credit_limit_set(actor=owner, company=company, customer_id=survivor.pk, amount="300",
                     reason="review")
    credit_limit_set(actor=owner, company=company, customer_id=alias.pk, amount="10000",
                     reason="review")
    post_invoice("C002")  # 120.00
    post_invoice("C002")  # 240.00
    seq = last_seq(company)
    customer_merge(actor=owner, company=company, alias="C002", survivor="C001")
    [_, credit] = events(company, seq)
    assert credit.data["alias_limit_set_aside"] == "10000.00 EUR"
    exposure = customer_exposure(company, "C002", DAY)
    assert (exposure["merged_into"], exposure["own_limit_not_applied"], exposure["limit"],
            exposure["limit_holder"], exposure["exposure"], exposure["available"]) == (
        "C001", {"amount": "10000.00", "currency": "EUR"},
        {"amount": "300.00", "currency": "EUR"}, "C001",
        {"amount": "240.00", "currency": "EUR"}, {"amount": "60.00", "currency": "EUR"})
    assert customer_exposure(company, "C001", DAY)["exposure"]["amount"] == "240.00"
    # the alias's 240.00 and 120.00 more pass the survivor's 300.00: the alias's own limit
    # of 10,000.00 is not summed with it
    with pytest.raises(CreditLimitExceeded, match=r"from 240.00 EUR to 360.00 EUR, over its "
                                                  r"credit limit of 300.00 EUR by 60.00 EUR"):
        post_invoice("C001")
    with pytest.raises(CreditLimitExceeded, match="customer C001's exposure"):
        post_invoice("C002")
    customer_unmerge(actor=owner, company=company, code="C002")
    # apart, each is under its own limit again
    assert post_invoice("C001").status == "posted"
    assert post_invoice("C002").customer_id == alias.pk
    assert customer_exposure(company, "C002", DAY)["merged_into"] is None
    assert check_company(company) == []


def test_a_merge_with_nothing_of_credit_audits_nothing_of_credit(company, owner, pair):
    seq = last_seq(company)
    customer_merge(actor=owner, company=company, alias="C002", survivor="C001")
    customer_unmerge(actor=owner, company=company, code="C002")
    assert [e.action for e in events(company, seq)] == ["customer.merge", "customer.unmerge"]


def test_a_held_family_counts_once_by_its_survivor(company, owner, pair, make_customer):
    """The dashboard's count and the credit page's held list agree: a family of a merge is
    one held customer, its survivor, whichever member the holds were put on."""
    survivor, alias = pair
    make_customer("C003", name="Martin")
    credit_hold(actor=owner, company=company, customer_id=alias.pk, reason="cheque bounced")
    assert hold_count(company) == 1
    customer_merge(actor=owner, company=company, alias="C002", survivor="C001",
                   reason="entered twice")
    held = credit_overview(company, as_of=DAY, held_only=True)
    assert [r["customer"] for r in held] == ["C001"] and hold_count(company) == 1
    credit_hold(actor=owner, company=company, customer_id=survivor.pk, reason="late")
    assert hold_count(company) == 1
    customer_unmerge(actor=owner, company=company, code="C002", reason="two businesses")
    assert [r["customer"] for r in credit_overview(company, as_of=DAY, held_only=True)] == [
        "C001", "C002"]
    assert hold_count(company) == 2
