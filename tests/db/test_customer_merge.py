"""Merging a duplicate customer into the one that survives (docs/design/customer-records.md):
posted documents keep the customer they were issued to, while balances, open items, the aged
receivables, statements, allocations and new documents follow the survivor; the merge is
audited, can be undone, and ``salesledger check`` passes after each."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import DAY

from salesledger.apps.core.invariants import check_company
from salesledger.apps.customers.merge import customer_merge, customer_unmerge
from salesledger.apps.customers.models import Customer
from salesledger.apps.invoicing.services import invoice_delete_draft
from salesledger.apps.ledger.models import JournalLine
from salesledger.apps.payments.models import Allocation, Receipt
from salesledger.apps.payments.selectors import customer_account, customer_balances, open_items
from salesledger.apps.payments.services import allocation_reverse
from salesledger.apps.reporting.selectors import ReportFilters, aging_report
from salesledger.apps.reporting.statement import customer_statement
from salesledger.domain.errors import MergeRefused, PermissionDenied
from salesledger.domain.journal import AccountRole
from tests.support import events, last_seq, raw_sql

pytestmark = pytest.mark.django_db

LATER = DAY + timedelta(days=45)


@pytest.fixture
def books(company, owner, make_customer, post_invoice, record_receipt, allocate_to):
    """C1 survives; C2 is the same business entered twice. Each has an invoice of 120.00;
    C2 has a credit note of 12.00 and paid 50.00 of its invoice."""
    make_customer("C1", name="Dupont et Fils SARL", tax_id="FR40303265045")
    make_customer("C2", name="Dupont & Fils")
    b = post_invoice("C1")
    a = post_invoice("C2")
    cn = post_invoice("C2", kind="credit_note", lines=(("Refund", 1, "10.00", "20"),))
    r2 = record_receipt("C2", "50.00")
    allocate_to(r2.number, {a.number: "50.00"})
    return {"a": a, "b": b, "cn": cn, "r2": r2}


def merge(company, owner, reason="same tax id"):
    return customer_merge(actor=owner, company=company, alias="C2", survivor="C1",
                          reason=reason)


def ids(*codes):
    return [Customer.objects.get(code=c).pk for c in codes]


def test_after_a_merge_balances_open_items_aging_and_statement_are_the_survivors(
        company, owner, books):
    c1, c2 = ids("C1", "C2")
    assert customer_balances(company, customer_id=c1) == {(c1, "EUR"): 12000}
    seq = last_seq(company)
    done = merge(company, owner)
    assert (done.alias, done.survivor) == ("C2", "C1")
    [event] = events(company, seq)
    assert (event.action, event.entity_id, event.data["survivor"], event.data["reason"]) == (
        "customer.merge", str(c2), "C1", "same tax id")
    # balances: 120 + 120 - 12 - 50, on the survivor, whichever of the two is asked
    assert customer_balances(company, customer_id=c1) == {(c1, "EUR"): 17800}
    assert customer_balances(company, customer_id=c2) == {(c1, "EUR"): 17800}
    assert customer_balances(company) == {(c1, "EUR"): 17800}
    assert customer_account(company, "C2")["balances"] == [
        {"amount": "178.00", "currency": "EUR"}]
    # open items: the alias's keep the customer they were issued to
    items = list(open_items(company, customer_id=c1))
    assert {(i["document"], i["customer"], i["issued_to"], i["open"]) for i in items} == {
        (books["b"].number, "C1", "C1", 12000), (books["a"].number, "C1", "C2", 7000),
        (books["cn"].number, "C1", "C2", -1200)}
    # the aged receivables: one row, the survivor's, with the same total as the books
    report = aging_report(company, as_of=LATER)
    assert [c.code for c in report.customers] == ["C1"]
    assert report.base_total == 17800
    alone = aging_report(company, as_of=LATER, filters=ReportFilters(customer="C2"))
    assert [c.code for c in alone.customers] == ["C1"] and alone.base_total == 17800
    # the statement: the survivor's, with the alias's documents in it
    st = customer_statement(company, code="C2", start=DAY, end=LATER)
    assert st.customer == "C1" and st.closing == {"EUR": 17800}
    assert {m.document for m in st.movements} == {
        books["a"].number, books["b"].number, books["cn"].number, books["r2"].number}
    # posted documents are not touched
    books["a"].refresh_from_db()
    assert books["a"].customer_id == c2
    assert check_company(company) == []


def test_a_receipt_of_the_survivor_pays_the_aliases_invoice_and_check_passes(
        company, owner, books, record_receipt, allocate_to, post_invoice):
    c1, c2 = ids("C1", "C2")
    merge(company, owner)
    r1 = record_receipt("C1", "70.00", day=DAY + timedelta(days=5))
    [alloc] = allocate_to(r1.number, {books["a"].number: "70.00"}, day=DAY + timedelta(days=5))
    lines = {(li.account.role, li.customer_id): li.amount_currency
             for li in JournalLine.objects.filter(entry_id=alloc.journal_entry_id)}
    # each side on the share of its own customer: the survivor's cash, the alias's invoice
    assert lines == {(AccountRole.UNAPPLIED.value, c1): 7000,
                     (AccountRole.RECEIVABLE.value, c2): -7000}
    # the alias's credit note pays the survivor's invoice: the shares move in the journal
    [cn_alloc] = allocate_to(credit_note=books["cn"].number, targets={books["b"].number: "12.00"},
                             day=DAY + timedelta(days=5))
    lines = {(li.account.role, li.customer_id): li.amount_currency
             for li in JournalLine.objects.filter(entry_id=cn_alloc.journal_entry_id)}
    assert lines == {(AccountRole.RECEIVABLE.value, c2): 1200,
                     (AccountRole.RECEIVABLE.value, c1): -1200}
    # an automatic allocation spreads over the whole family's open items, oldest first
    r3 = record_receipt("C1", "108.00", day=DAY + timedelta(days=6))
    allocate_to(r3.number, auto=True, day=DAY + timedelta(days=6))
    assert customer_balances(company, customer_id=c1) == {(c1, "EUR"): 0}
    assert list(open_items(company, customer_id=c1)) == []
    assert check_company(company) == []


def test_new_documents_and_receipts_named_for_the_alias_go_to_the_survivor(
        company, owner, books, record_receipt, create_invoice):
    c1, _ = ids("C1", "C2")
    merge(company, owner)
    assert record_receipt("C2", "5.00").customer_id == c1
    assert create_invoice("C2").customer_id == c1
    assert Receipt.objects.filter(customer_id=c1).count() == 1


def test_unmerge_is_refused_while_an_allocation_across_stands_then_undoes_the_merge(
        company, owner, books, record_receipt, allocate_to):
    c1, c2 = ids("C1", "C2")
    merge(company, owner)
    r1 = record_receipt("C1", "70.00")
    [alloc] = allocate_to(r1.number, {books["a"].number: "70.00"})
    with pytest.raises(MergeRefused, match=rf"allocation {alloc.pk}\): reverse it first"):
        customer_unmerge(actor=owner, company=company, code="C2")
    allocation_reverse(actor=owner, company=company, allocation_id=alloc.pk, day=DAY)
    seq = last_seq(company)
    done = customer_unmerge(actor=owner, company=company, code="C2", reason="not the same")
    assert done.survivor == "C1"
    [event] = events(company, seq)
    assert (event.action, event.entity_id, event.data["reason"]) == (
        "customer.unmerge", str(c2), "not the same")
    assert Customer.objects.get(code="C2").merged_into_id is None
    # two customers again, each with its own figures
    assert customer_balances(company, customer_id=c1) == {(c1, "EUR"): 12000 - 7000}
    assert customer_balances(company, customer_id=c2) == {(c2, "EUR"): 12000 - 1200 - 5000}
    assert check_company(company) == []
    with pytest.raises(MergeRefused, match="not merged"):
        customer_unmerge(actor=owner, company=company, code="C2")


def test_merges_that_break_the_rules_are_refused(company, owner, books, make_customer,
                                                 create_invoice):
    from salesledger.apps.core.services import user_add

    make_customer("C3", name="Dupont", currency="USD")
    make_customer("C4", name="Dupont Fils")
    with pytest.raises(MergeRefused, match="into itself"):
        customer_merge(actor=owner, company=company, alias="C1", survivor="C1")
    with pytest.raises(MergeRefused, match="kept in USD and C1 in EUR"):
        customer_merge(actor=owner, company=company, alias="C3", survivor="C1")
    clerk = user_add(actor=owner, company=company, username="clerk", role="clerk").user
    with pytest.raises(PermissionDenied):
        customer_merge(actor=clerk, company=company, alias="C2", survivor="C1")
    draft = create_invoice("C2")
    with pytest.raises(MergeRefused, match="C2 has 1 draft document: post or delete"):
        merge(company, owner)
    invoice_delete_draft(actor=owner, company=company, invoice_id=draft.pk)
    merge(company, owner)
    with pytest.raises(MergeRefused, match="already merged"):
        customer_merge(actor=owner, company=company, alias="C2", survivor="C4")
    with pytest.raises(MergeRefused, match="C2 is itself merged"):
        customer_merge(actor=owner, company=company, alias="C4", survivor="C2")
    with pytest.raises(MergeRefused, match="customers are merged into C1"):
        customer_merge(actor=owner, company=company, alias="C1", survivor="C4")
    assert Customer.objects.get(code="C2").merged_into.code == "C1"


def test_check_finds_a_chain_of_merges_written_behind_the_services_back(company, owner,
                                                                        books, make_customer):
    make_customer("C3", name="Dupont")
    merge(company, owner)
    assert check_company(company) == []
    c1, c3 = ids("C1", "C3")
    raw_sql("UPDATE customers_customer SET merged_into_id = %s, merged_at = CURRENT_TIMESTAMP "
            "WHERE id = %s", [c3, c1])
    problems = [str(p) for p in check_company(company) if p.check == "merge_pointers"]
    assert problems == ["merge_pointers: customer C2 is merged into C1, which is itself "
                        "merged into C3"]


def test_allocation_across_customers_that_are_not_merged_is_still_refused(
        company, owner, books, record_receipt, allocate_to):
    from salesledger.domain.errors import AllocationCustomerMismatch

    r1 = record_receipt("C1", "10.00")
    with pytest.raises(AllocationCustomerMismatch):
        allocate_to(r1.number, {books["a"].number: "10.00"})
    assert Allocation.objects.filter(receipt=r1).count() == 0

