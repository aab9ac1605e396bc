"""Quotes through the services: numbering, lifecycle with derived expiry, revisions,
conversion into an invoice (everything carried over, linked both ways, once), and the
follow-up list of outstanding quotes."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from conftest import DAY, line_inputs
from tests.support import events, journal, last_seq, raw_sql

from salesledger.apps.core import events as domain_events
from salesledger.apps.core.invariants import check_company
from salesledger.apps.core.models import NumberCounter
from salesledger.apps.core.services import membership_set, user_ensure
from salesledger.apps.invoicing.models import Invoice
from salesledger.apps.quotes.models import Quote, QuoteLine
from salesledger.apps.quotes.selectors import quote_detail, quote_list, quotes_outstanding
from salesledger.apps.quotes.services import (
    QuoteInput,
    quote_accept,
    quote_convert,
    quote_create,
    quote_decline,
    quote_revise,
    quote_send,
)
from salesledger.domain.errors import (
    InvalidTransition,
    LedgerError,
    PermissionDenied,
    PostedIsImmutable,
    PurchaseOrderRequired,
    QuoteAlreadyConverted,
    QuoteExpired,
    QuoteSuperseded,
    ValidationFailed,
)

LINES = [("Design", "3", "400.00", "20"), ("Hosting", "12", "10.00", "20", "10")]


@pytest.fixture
def make_quote(company, owner, customer):
    def make(lines=LINES, day=DAY, **kw):
        return quote_create(actor=owner, company=company, as_of=day, data=QuoteInput(
            customer_code=kw.pop("customer_code", "C001"), lines=line_inputs(lines), **kw))
    return make


def test_a_quote_is_numbered_totalled_and_audited(company, owner, make_quote):
    # given an empty QUO series
    seq = last_seq(company)
    # when a quote is written
    q = make_quote(po_number=" PO-77 ", terms_code="NET14")
    # then it takes QUO2025-00001, is valid 30 days, and carries the totals of the core:
    # 3 x 400.00 + 12 x 10.00 less 10 % = 1,308.00 net, 261.60 tax at 20 %
    assert (q.number, q.revision, q.status) == ("QUO2025-00001", 1, "draft")
    assert q.valid_until == DAY + timedelta(days=30)
    assert (q.net, q.tax, q.total, q.currency) == (130800, 26160, 156960, "EUR")
    assert q.po_number == "PO-77" and q.terms.code == "NET14"
    assert list(q.lines.values_list("position", "net", "tax")) == [(1, 120000, 24000),
                                                                    (2, 10800, 2160)]
    [ev] = events(company, seq)
    assert (ev.action, ev.entity, ev.entity_id) == ("quote.create", "quote", str(q.pk))
    assert ev.data["after"]["total"] == "1569.60"
    assert make_quote().number == "QUO2025-00002"


def test_bad_quotes_are_refused_with_what_is_wrong(company, owner, make_quote):
    with pytest.raises(ValidationFailed, match="before the quote date"):
        make_quote(valid_until=DAY - timedelta(days=1))
    with pytest.raises(LedgerError, match="line 1: quantity -1 is negative"):
        make_quote(lines=[("x", "-1", "5")])
    viewer = user_ensure(username="vera")
    membership_set(actor=owner, company=company, username="vera", role="viewer")
    with pytest.raises(PermissionDenied):
        quote_create(actor=viewer, company=company, as_of=DAY, data=QuoteInput(
            customer_code="C001", lines=line_inputs(LINES)))
    assert not Quote.objects.exists()
    assert NumberCounter.objects.filter(series="QUO").first() is None


def test_expiry_is_derived_for_the_day_and_blocks_acceptance(company, owner, make_quote):
    # given a quote sent on DAY, valid until DAY + 30
    q = make_quote()
    sent = quote_send(actor=owner, company=company, number=q.number, as_of=DAY)
    assert (sent.status, sent.sent_on) == ("sent", DAY)
    last_valid = q.valid_until
    # then it reads as sent on its last valid day and expired the day after; nothing stored
    assert quote_detail(company, q.number, as_of=last_valid)["state"] == "sent"
    assert quote_detail(company, q.number, as_of=last_valid + timedelta(days=1))["state"] == (
        "expired")
    assert Quote.objects.get(pk=q.pk).status == "sent"
    # when the customer accepts too late, it is refused and nothing changes
    seq = last_seq(company)
    with pytest.raises(QuoteExpired) as err:
        quote_accept(actor=owner, company=company, number=q.number,
                     as_of=last_valid + timedelta(days=1))
    assert err.value.code == "quote_expired"
    assert Quote.objects.get(pk=q.pk).status == "sent" and last_seq(company) == seq
    # but on the last valid day acceptance goes through, with its audit event
    accepted = quote_accept(actor=owner, company=company, number=q.number, as_of=last_valid)
    assert (accepted.status, accepted.decided_on) == ("accepted", last_valid)
    [ev] = events(company, seq)
    assert (ev.action, ev.data["before"], ev.data["after"]["status"]) == (
        "quote.accept", {"status": "sent"}, "accepted")
    assert quote_detail(company, q.number, as_of=date(2030, 1, 1))["state"] == "accepted"


def test_lifecycle_refusals(company, owner, make_quote):
    q = make_quote()
    with pytest.raises(InvalidTransition, match="cannot accept a draft quote: send it first"):
        quote_accept(actor=owner, company=company, number=q.number, as_of=DAY)
    quote_send(actor=owner, company=company, number=q.number, as_of=DAY)
    with pytest.raises(InvalidTransition, match="cannot send a sent quote"):
        quote_send(actor=owner, company=company, number=q.number, as_of=DAY)
    declined = quote_decline(actor=owner, company=company, number=q.number, as_of=DAY,
                             reason="too dear")
    assert declined.status == "declined"
    assert events(company, last_seq(company) - 1)[0].data["reason"] == "too dear"
    with pytest.raises(InvalidTransition, match="cannot convert a declined quote"):
        quote_convert(actor=owner, company=company, number=q.number, post=True, as_of=DAY)


def test_revising_a_sent_quote_supersedes_it_and_keeps_it(company, owner, make_quote):
    # given a sent quote valid for 30 days
    q = make_quote(valid_until=DAY + timedelta(days=30), po_number="PO-1")
    quote_send(actor=owner, company=company, number=q.number, as_of=DAY)
    later = DAY + timedelta(days=40)  # expired by now
    seq = last_seq(company)
    # when it is revised with a lower price
    new = quote_revise(actor=owner, company=company, number=q.number, as_of=later,
                       lines=line_inputs([("Design", "3", "350.00", "20")]))
    # then a draft R2 carries the offer on, dated today, with the same validity length
    assert (new.number, new.revision, new.label, new.status) == (
        "QUO2025-00001", 2, "QUO2025-00001-R2", "draft")
    assert (new.issue_date, new.valid_until) == (later, later + timedelta(days=30))
    assert (new.replaces_id, new.po_number, new.total) == (q.pk, "PO-1", 126000)
    old = Quote.objects.get(pk=q.pk)
    assert (old.status, old.total, old.replaced_by.pk) == ("superseded", 156960, new.pk)
    assert old.lines.count() == 2  # what was sent is kept as sent
    [ev] = events(company, seq)
    assert (ev.action, ev.data["replaces"], ev.data["after"]["quote"]) == (
        "quote.revise", "QUO2025-00001", "QUO2025-00001-R2")
    # the bare number now means the latest revision; the old one is refused by name
    detail = quote_detail(company, "QUO2025-00001", as_of=later)
    assert (detail["quote"], detail["replaces"]) == ("QUO2025-00001-R2", "QUO2025-00001")
    assert [r["status"] for r in detail["revisions"]] == ["superseded", "draft"]
    with pytest.raises(QuoteSuperseded):
        quote_accept(actor=owner, company=company, number="QUO2025-00001-R1", as_of=later)
    # and no new number was taken
    assert NumberCounter.objects.get(series="QUO").last == 1


def test_a_sent_quote_cannot_be_changed_even_in_sql(company, owner, make_quote):
    q = make_quote()
    quote_send(actor=owner, company=company, number=q.number, as_of=DAY)
    q.refresh_from_db()
    q.total = 1
    with pytest.raises(PostedIsImmutable):
        q.save()
    line = QuoteLine.objects.filter(quote=q).first()
    line.unit_price = Decimal("1")
    with pytest.raises(PostedIsImmutable):
        line.save()
    with pytest.raises(Exception, match="posted_is_immutable"):
        raw_sql("UPDATE quotes_quote SET total = 1 WHERE id = %s", [q.pk])
    with pytest.raises(Exception, match="posted_is_immutable"):
        raw_sql("UPDATE quotes_quoteline SET unit_price = '1' WHERE quote_id = %s", [q.pk])
    with pytest.raises(Exception, match="posted_is_immutable"):
        raw_sql("DELETE FROM quotes_quoteline WHERE quote_id = %s", [q.pk])
    # the lifecycle columns still move
    assert raw_sql("UPDATE quotes_quote SET status = 'declined', decided_on = sent_on "
                   "WHERE id = %s", [q.pk]) == 1


def test_a_draft_is_edited_in_place(company, owner, make_quote):
    q = make_quote()
    seq = last_seq(company)
    edited = quote_revise(actor=owner, company=company, number=q.number, as_of=DAY,
                          lines=line_inputs([("Design", "1", "100.00", "20")]),
                          valid_until=DAY + timedelta(days=10), po_number="PO-9")
    assert (edited.pk, edited.revision, edited.total, edited.po_number) == (q.pk, 1, 12000,
                                                                            "PO-9")
    assert edited.valid_until == DAY + timedelta(days=10)
    assert list(QuoteLine.objects.filter(quote=q).values_list("description", flat=True)) == [
        "Design"]
    [ev] = events(company, seq)
    assert (ev.action, ev.data["before"]["total"], ev.data["after"]["total"]) == (
        "quote.edit", "1569.60", "120.00")


def test_converting_an_accepted_quote_carries_everything_and_links_both_ways(
        company, owner, make_customer, make_quote):
    # given an accepted quote for a customer who requires a PO, with terms and references
    make_customer("C002", name="Martin SARL", po_required=True)
    q = make_quote(customer_code="C002", po_number="PO-2025-17", buyer_reference="BR-9",
                   terms_code="NET14", notes="Delivery in April")
    quote_send(actor=owner, company=company, number=q.number, as_of=DAY)
    quote_accept(actor=owner, company=company, number=q.number, as_of=DAY + timedelta(days=2))
    seq = last_seq(company)
    # when it is converted and posted in one action
    inv = quote_convert(actor=owner, company=company, number=q.number, post=True,
                        as_of=DAY + timedelta(days=3))
    # then the invoice is posted with the quoted lines, totals, terms and references
    inv.refresh_from_db()
    assert (inv.status, inv.number, inv.issue_date) == ("posted", "INV2025-00001",
                                                         DAY + timedelta(days=3))
    assert (inv.customer.code, inv.currency, inv.po_number, inv.buyer_reference) == (
        "C002", "EUR", "PO-2025-17", "BR-9")
    assert (inv.terms.code, inv.notes, inv.due_date) == ("NET14", "Delivery in April",
                                                          DAY + timedelta(days=17))
    assert (inv.net, inv.tax, inv.total) == (q.net, q.tax, q.total) == (130800, 26160, 156960)
    assert list(inv.lines.values_list("description", "quantity", "unit_price",
                                      "discount_percent", "tax_rate", "net")) == list(
        q.lines.values_list("description", "quantity", "unit_price", "discount_percent",
                            "tax_rate", "net"))
    assert journal(inv.journal_entry) == [
        ("receivable", 156960, 156960, inv.customer_id),
        ("revenue", -130800, -130800, None),
        ("tax_payable", -26160, -26160, None),
    ]
    # and the link goes both ways
    q.refresh_from_db()
    assert q.invoice_id == inv.pk and Invoice.objects.get(pk=inv.pk).quote.pk == q.pk
    assert quote_detail(company, q.number, as_of=DAY)["invoice"] == "INV2025-00001"
    actions = [e.action for e in events(company, seq)]
    assert actions == ["invoice.create", "invoice.post", "quote.convert"]
    assert events(company, seq)[-1].data["after"]["invoice"] == "INV2025-00001"
    # when it is converted again, that is refused and nothing is written
    seq = last_seq(company)
    with pytest.raises(QuoteAlreadyConverted):
        quote_convert(actor=owner, company=company, number=q.number, post=True, as_of=DAY)
    assert Invoice.objects.count() == 1 and last_seq(company) == seq
    assert check_company(company) == []


def test_conversion_is_all_or_nothing(company, owner, make_customer, make_quote):
    # given an accepted quote without the PO number its customer requires
    make_customer("C002", po_required=True)
    q = make_quote(customer_code="C002")
    quote_send(actor=owner, company=company, number=q.number, as_of=DAY)
    quote_accept(actor=owner, company=company, number=q.number, as_of=DAY)
    # when it is converted and posted, the posting is refused ...
    with pytest.raises(PurchaseOrderRequired):
        quote_convert(actor=owner, company=company, number=q.number, post=True, as_of=DAY)
    # ... and neither a draft invoice nor a link nor a number is left behind
    assert not Invoice.objects.exists()
    assert Quote.objects.get(pk=q.pk).invoice_id is None
    assert not NumberCounter.objects.filter(series="INV", last__gt=0).exists()
    # a draft conversion works (the PO can be added before posting)
    draft = quote_convert(actor=owner, company=company, number=q.number, post=False, as_of=DAY)
    assert (draft.status, draft.number, draft.quote.pk) == ("draft", None, q.pk)


@pytest.fixture
def follow_up(company, owner, make_customer, make_quote):
    """Five quotes on 2025-04-30: two valid, two expired, one answered, one draft."""
    make_customer("C002", name="Martin SARL")
    specs = [  # (customer, sent on, valid for days, unit price)
        ("C001", date(2025, 3, 1), 30, "100.00"),   # expired on 03-31
        ("C002", date(2025, 3, 20), 60, "900.00"),  # valid to 05-19
        ("C001", date(2025, 4, 10), 10, "500.00"),  # expired on 04-20
        ("C002", date(2025, 4, 25), 30, "50.00"),   # valid
        ("C001", date(2025, 4, 1), 30, "999.00"),   # accepted: not outstanding
    ]
    quotes = []
    for customer, sent_on, days, price in specs:
        q = make_quote(customer_code=customer, lines=[("Work", "1", price, "0")], day=sent_on,
                       valid_until=sent_on + timedelta(days=days))
        quote_send(actor=owner, company=company, number=q.number, as_of=sent_on)
        quotes.append(q)
    quote_accept(actor=owner, company=company, number=quotes[4].number, as_of=date(2025, 4, 2))
    make_quote(day=date(2025, 4, 29))  # a draft: never sent, not outstanding
    return quotes


def test_outstanding_quotes_by_age_and_by_value(company, follow_up, django_assert_num_queries):
    as_of = date(2025, 4, 30)
    with django_assert_num_queries(2):
        by_age = quotes_outstanding(company, as_of=as_of)
    assert [(r["quote"], r["age_days"], r["state"], r["expired"]) for r in by_age["quotes"]] == [
        ("QUO2025-00001", 60, "expired", True),
        ("QUO2025-00002", 41, "sent", False),
        ("QUO2025-00003", 20, "expired", True),
        ("QUO2025-00004", 5, "sent", False),
    ]
    assert by_age["totals"] == [{"currency": "EUR", "count": 4,
                                 "total": {"amount": "1550.00", "currency": "EUR"},
                                 "expired": 2,
                                 "expired_total": {"amount": "600.00", "currency": "EUR"}}]
    by_value = quotes_outstanding(company, as_of=as_of, order="value")
    assert [r["total"]["amount"] for r in by_value["quotes"]] == [
        "900.00", "500.00", "100.00", "50.00"]
    still_valid = quotes_outstanding(company, as_of=as_of, expired=False)
    assert [r["quote"] for r in still_valid["quotes"]] == ["QUO2025-00002", "QUO2025-00004"]
    only_expired = quotes_outstanding(company, as_of=as_of, expired=True, customer_code="C001")
    assert [r["quote"] for r in only_expired["quotes"]] == ["QUO2025-00001", "QUO2025-00003"]
    # as of an earlier day, the later quotes were not sent yet and none had expired
    early = quotes_outstanding(company, as_of=date(2025, 3, 25))
    assert [(r["quote"], r["state"]) for r in early["quotes"]] == [
        ("QUO2025-00001", "sent"), ("QUO2025-00002", "sent")]


def test_quote_list_hides_superseded_revisions(company, owner, follow_up):
    quote_revise(actor=owner, company=company, number="QUO2025-00001", as_of=date(2025, 4, 30),
                 valid_until=date(2025, 5, 31))
    rows = quote_list(company, as_of=date(2025, 4, 30))
    assert "QUO2025-00001" not in [r["quote"] for r in rows]
    assert "QUO2025-00001-R2" in [r["quote"] for r in rows]
    expired = quote_list(company, as_of=date(2025, 4, 30), status="expired")
    assert [r["quote"] for r in expired] == ["QUO2025-00003"]


def test_a_veto_refuses_acceptance_and_nothing_changes(company, owner, make_quote):
    class Held(LedgerError):
        code = "held_by_test"

    q = make_quote()
    quote_send(actor=owner, company=company, number=q.number, as_of=DAY)
    seen = []

    def hold(proposal):
        seen.append((proposal.quote_id, proposal.total, proposal.currency))
        raise Held("customer C001 is on hold")

    seq = last_seq(company)
    with domain_events.subscribed(domain_events.QuoteAccepting, hold), pytest.raises(Held):
        quote_accept(actor=owner, company=company, number=q.number, as_of=DAY)
    assert seen == [(q.pk, 156960, "EUR")]
    assert Quote.objects.get(pk=q.pk).status == "sent" and events(company, seq) == []
    assert quote_accept(actor=owner, company=company, number=q.number,
                        as_of=DAY).status == "accepted"
