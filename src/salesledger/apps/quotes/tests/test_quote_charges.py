"""A quote's document-level allowances and charges (EN 16931 BG-20/BG-21): written, checked
and totalled by the pure core as an invoice's, kept by revisions (and frozen once sent),
and carried over exactly to the invoice the quote becomes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from conftest import DAY, line_inputs
from tests.support import raw_sql

from salesledger.apps.invoicing.issuing import compute_invoice_totals
from salesledger.apps.payments.selectors import invoice_detail
from salesledger.apps.quotes.models import QuoteCharge
from salesledger.apps.quotes.selectors import quote_detail
from salesledger.apps.quotes.services import (
    QuoteInput,
    quote_accept,
    quote_charges,
    quote_convert,
    quote_create,
    quote_lines,
    quote_revise,
    quote_send,
)
from salesledger.domain.errors import PostedIsImmutable, ValidationFailed
from salesledger.domain.invoicing import DocumentChargeInput

# 3 x 400.00 and 12 x 10.00 less 10 % (108.00), all at 20 %: 1,308.00 of lines
LINES = [("Design", "3", "400.00", "20"), ("Hosting", "12", "10.00", "20", "10")]
# 5 % off the 20 % lines (65.40), freight 25.00 at 20 %
CHARGES = [DocumentChargeInput(False, Decimal(0), "Loyalty", "", Decimal(20), "S",
                               Decimal(5)),
           DocumentChargeInput(True, Decimal("25.00"), "Freight", "FC", Decimal(20))]


@pytest.fixture
def make_quote(company, owner, customer):
    def make(charges=CHARGES, **kw):
        return quote_create(actor=owner, company=company, as_of=DAY, data=QuoteInput(
            customer_code="C001", lines=line_inputs(LINES), charges=list(charges), **kw))
    return make


def test_a_quote_is_totalled_with_its_allowances_and_charges_by_the_invoices_core(
        company, make_quote):
    q = make_quote()
    expected = compute_invoice_totals(company, "EUR", line_inputs(LINES), CHARGES)
    # 1,308.00 - 65.40 + 25.00 = 1,267.60 net, 253.52 tax
    assert (q.net, q.tax, q.total) == (expected.net, expected.tax, expected.total) == (
        126760, 25352, 152112)
    assert [(c.position, c.is_charge, c.reason, c.reason_code, c.amount, c.percent)
            for c in QuoteCharge.objects.filter(quote=q)] == [
        (1, False, "Loyalty", "", 6540, Decimal(5)), (2, True, "Freight", "FC", 2500, None)]
    detail = quote_detail(company, q.number, as_of=DAY)
    assert [(c["kind"], c["amount"]["amount"], c["percent"]) for c in detail["charges"]] == [
        ("allowance", "65.40", "5"), ("charge", "25.00", None)]
    # read back as the core takes them: the percentage stays a percentage
    assert quote_charges(q)[0].percent == Decimal(5)


def test_a_bad_allowance_is_refused_with_its_position_and_nothing_is_written(
        company, make_quote):
    no_reason = DocumentChargeInput(True, Decimal("10.00"), "", "", Decimal(20))
    with pytest.raises(ValidationFailed, match="document charge 1: give a reason") as caught:
        make_quote(charges=[no_reason])
    assert caught.value.fields.get("charge") == 1
    too_fine = DocumentChargeInput(False, Decimal("1.001"), "Rebate", "", Decimal(20))
    with pytest.raises(ValidationFailed):
        make_quote(charges=[too_fine])
    assert not QuoteCharge.objects.exists()


def test_revisions_keep_them_unless_told_and_a_sent_quotes_are_frozen(
        company, owner, make_quote):
    q = make_quote()
    # a draft edited in place: its lines changed, its charges kept and totalled again
    edited = quote_revise(actor=owner, company=company, number=q.number, as_of=DAY,
                          lines=line_inputs([("Design", "1", "1000.00", "20")]))
    assert [c.reason for c in edited.charges.all()] == ["Loyalty", "Freight"]
    assert (edited.net, edited.total) == (100000 - 5000 + 2500, (100000 - 5000 + 2500) * 12 // 10)
    quote_send(actor=owner, company=company, number=q.number, as_of=DAY)
    # what was sent cannot change, not even in SQL
    charge = QuoteCharge.objects.filter(quote=q).first()
    charge.amount = 1
    with pytest.raises(PostedIsImmutable):
        charge.save()
    with pytest.raises(Exception, match="posted_is_immutable"):
        raw_sql("DELETE FROM quotes_quotecharge WHERE quote_id = %s", [q.pk])
    # a revision of the sent quote carries them over as rows of its own
    later = DAY + timedelta(days=5)
    r2 = quote_revise(actor=owner, company=company, number=q.number, as_of=later,
                      notes="New terms")
    assert [(c.reason, c.amount) for c in r2.charges.all()] == [
        ("Loyalty", 5000), ("Freight", 2500)]
    assert r2.total == edited.total and QuoteCharge.objects.filter(quote=q).count() == 2
    # given: replaced; an empty list: removed (the lines alone)
    r2 = quote_revise(actor=owner, company=company, number=r2.label, as_of=later,
                      charges=[CHARGES[1]])
    assert [c.reason for c in r2.charges.all()] == ["Freight"] and r2.net == 102500
    r2 = quote_revise(actor=owner, company=company, number=r2.label, as_of=later, charges=[])
    assert not r2.charges.exists() and (r2.net, r2.total) == (100000, 120000)


def test_the_invoice_of_a_quote_totals_exactly_what_the_quote_did(company, owner, make_quote):
    q = make_quote()
    quote_send(actor=owner, company=company, number=q.number, as_of=DAY)
    quote_accept(actor=owner, company=company, number=q.number, as_of=DAY)
    inv = quote_convert(actor=owner, company=company, number=q.number, post=True, as_of=DAY)
    inv.refresh_from_db()
    assert (inv.net, inv.tax, inv.total) == (q.net, q.tax, q.total)
    doc = invoice_detail(company, inv.number)
    quoted = quote_detail(company, q.number, as_of=DAY)
    assert doc["charges"] == quoted["charges"]
    assert (doc["net"], doc["tax"], doc["total"]) == (quoted["net"], quoted["tax"],
                                                      quoted["total"])
    assert [li["net"] for li in doc["lines"]] == [li["net"] for li in quoted["lines"]]
    assert len(quote_lines(q)) == 2

