"""Credit limits and exposure through the services: the customer's own limit, a group limit
in the parent's currency covering a member in another currency at the day's rate, the company
default; exposure by part; posting one invoice, a batch or a CSV import over the limit is
refused with the amounts in major units; accepted quotes and recurring invoices count. (The
CSV import's refusals: interchange/tests/test_csv_credit.py.)"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from conftest import DAY, line_inputs
from tests.support import events, last_seq

from salesledger.apps.credit.selectors import customer_exposure, limits_list
from salesledger.apps.credit.services import (
    credit_default_set,
    credit_hold,
    credit_limit_set,
)
from salesledger.apps.customers.models import Customer
from salesledger.apps.fx.services import rate_add
from salesledger.apps.invoicing.models import Invoice
from salesledger.apps.invoicing.posting.check import BulkDoc
from salesledger.apps.invoicing.services import documents_post_bulk, invoices_post
from salesledger.apps.quotes.services import QuoteInput, quote_accept, quote_create, quote_send
from salesledger.apps.recurring.services import ScheduleInput, recurring_add
from salesledger.domain.errors import CreditLimitExceeded, CurrencyMismatch


def _limit(company, owner, customer, amount, reason="reviewed", **kw):
    return credit_limit_set(actor=owner, company=company, customer_id=customer.pk,
                            amount=amount, reason=reason, **kw)


def test_a_limit_change_is_audited_with_its_reason(company, owner, customer):
    seq = last_seq(company)
    _limit(company, owner, customer, "1000", reason="annual review")
    _limit(company, owner, customer, "2500.50", reason="bigger orders")
    [first, second] = events(company, seq)
    assert (second.action, second.data["reason"], second.data["before"],
            second.data["after"]) == ("credit.limit_set", "bigger orders",
                                      {"amount": "1000.00", "currency": "EUR"},
                                      {"amount": "2500.50", "currency": "EUR"})
    with pytest.raises(CurrencyMismatch, match="kept in its currency EUR"):
        _limit(company, owner, customer, "10", currency="USD")
    assert limits_list(company, "C001")["customers"] == [{
        "customer": "C001", "limit": {"amount": "2500.50", "currency": "EUR"},
        "source": "customer", "holder": "C001", "covers": 1}]


def test_posting_over_the_limit_is_refused_in_major_units(company, owner, customer,
                                                          post_invoice, create_invoice):
    _limit(company, owner, customer, "300")
    post_invoice()  # 120.00
    post_invoice()  # 240.00
    draft = create_invoice()
    with pytest.raises(CreditLimitExceeded) as refused:
        invoices_post(actor=owner, company=company, invoice_ids=[draft.pk])
    assert refused.value.code == "credit_limit_exceeded"
    assert refused.value.message == (
        "invoice of 120.00 EUR would take customer C001's exposure from 240.00 EUR to "
        "360.00 EUR, over its credit limit of 300.00 EUR by 60.00 EUR")
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_a_batch_counts_what_it_proposed_before(company, owner, customer, create_invoice):
    _limit(company, owner, customer, "300")
    drafts = [create_invoice() for _ in range(3)]  # 120.00 each: two fit, the third not
    with pytest.raises(CreditLimitExceeded, match="from 240.00 EUR to 360.00 EUR"):
        invoices_post(actor=owner, company=company, invoice_ids=[d.pk for d in drafts])
    assert not Invoice.objects.filter(status="posted").exists()
    # the bulk writer too, for new documents
    docs = [BulkDoc(customer_id=customer.pk, kind="invoice", issue_date=DAY, currency="EUR",
                    lines=line_inputs([("Consulting", 1, "100.00", "20")]))
            for _ in range(3)]
    with pytest.raises(CreditLimitExceeded):
        documents_post_bulk(actor=owner, company=company, docs=docs)
    assert documents_post_bulk(actor=owner, company=company, docs=docs[:2])
    assert Invoice.objects.filter(status="posted").count() == 2


def test_a_group_limit_covers_a_member_in_another_currency(company, owner, make_customer,
                                                           post_invoice):
    parent = make_customer("GRP", name="Group Holding")
    make_customer("US1", name="US Member", currency="USD", parent_code="GRP")
    rate_add(actor=owner, company=company, currency="USD", rate=Decimal("0.8"), day=DAY)
    _limit(company, owner, parent, "500")
    post_invoice("GRP")  # 120.00 EUR
    post_invoice("US1", currency="USD", lines=(("Licence", 1, "250.00", "20"),))  # 300 USD
    exposure = customer_exposure(company, "US1", DAY)
    # 120.00 EUR + 300.00 USD at 0.8 = 240.00 EUR: 360.00 EUR of the group's 500.00 EUR
    assert (exposure["currency"], exposure["limit_source"], exposure["limit_holder"],
            exposure["group_members"]) == ("EUR", "group", "GRP", 2)
    assert exposure["exposure"] == {"amount": "360.00", "currency": "EUR"}
    assert exposure["available"] == {"amount": "140.00", "currency": "EUR"}
    # 200.00 USD more is 160.00 EUR: over by 20.00 EUR
    with pytest.raises(CreditLimitExceeded, match=r"USD.* the limit of group GRP|"
                                                  r"limit of 500.00 EUR \(the limit of group "
                                                  r"GRP\) by 20.00 EUR"):
        post_invoice("US1", currency="USD", lines=(("Licence", 1, "200.00"),))
    # the parent sees the same group exposure
    assert customer_exposure(company, "GRP", DAY)["exposure"]["amount"] == "360.00"


def test_the_company_default_covers_a_customer_without_a_limit(company, owner, customer,
                                                               post_invoice):
    credit_default_set(actor=owner, company=company, amount="100", reason="policy")
    with pytest.raises(CreditLimitExceeded, match=r"\(the company default\)"):
        post_invoice()
    credit_default_set(actor=owner, company=company, amount=None, reason="no policy")
    assert post_invoice().status == "posted"


def test_accepted_quotes_and_recurring_invoices_count_in_the_exposure(company, owner,
                                                                      customer):
    _limit(company, owner, customer, "5000")
    q = quote_create(actor=owner, company=company, as_of=DAY, data=QuoteInput(
        customer_code="C001", lines=line_inputs([("Design", 1, "1000.00", "20")])))
    quote_send(actor=owner, company=company, number=q.number, as_of=DAY)
    quote_accept(actor=owner, company=company, number=q.number, as_of=DAY)
    recurring_add(actor=owner, company=company, as_of=DAY, data=ScheduleInput(
        customer_code="C001", every="monthly", start=DAY + timedelta(days=5),
        lines=line_inputs([("Hosting", 1, "50.00", "20")])))
    exposure = customer_exposure(company, "C001", DAY)
    assert exposure["accepted_quotes"]["amount"] == "1200.00"
    # one period starts within 30 days (DAY + 5), the next after
    assert exposure["recurring_due"]["amount"] == "60.00"
    assert exposure["available"]["amount"] == "3740.00"
    q2 = quote_create(actor=owner, company=company, as_of=DAY, data=QuoteInput(
        customer_code="C001", lines=line_inputs([("Build", 1, "3200.00", "20")])))
    quote_send(actor=owner, company=company, number=q2.number, as_of=DAY)
    with pytest.raises(CreditLimitExceeded, match="accepting the quote of 3840.00 EUR"):
        quote_accept(actor=owner, company=company, number=q2.number, as_of=DAY)


def test_the_credit_checks_of_a_batch_read_a_fixed_number_of_times(
        company, owner, customer, make_customer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(8):
        make_customer(f"B{i}")
    credit_hold(actor=owner, company=company, customer_id=make_customer("HELD").pk,
                reason="x")
    pks = list(Customer.objects.filter(code__startswith="B").values_list("pk", flat=True))

    def post(n):
        docs = [BulkDoc(customer_id=pk, kind="invoice", issue_date=DAY, currency="EUR",
                        lines=line_inputs([("Consulting", 1, "10.00", "20")]))
                for pk in pks[:n]]
        with CaptureQueriesContext(connection) as ctx:
            documents_post_bulk(actor=owner, company=company, docs=docs)
        return len(ctx.captured_queries)

    post(1)  # the first posting of the year creates its number counter
    # customers with no limit and no hold cost nothing more, however many
    assert post(2) == post(8)
