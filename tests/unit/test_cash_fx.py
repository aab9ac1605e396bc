"""Foreign-currency payments, pure: the bank's original amount is exact, the day's rate is
near (within the slack, snapped to what is open at the payment's own rate), and a line the
rate table cannot convert pays no invoice in another currency."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from salesledger.domain.cash_fx import conversion, snapped
from salesledger.domain.cash_matching import Candidates, Line, OpenInvoice, propose
from salesledger.domain.fx import convert

DAY = date(2025, 3, 20)
RATES = {("USD", "EUR", DAY): Decimal("0.92")}


def test_the_original_amount_is_exact_and_its_rate_converts_back():
    conv = conversion(92000, "EUR", DAY, "USD", original_amount=100000,
                      original_currency="USD", rates={})
    assert conv is not None and conv.exact and conv.amount == 100000
    assert convert(92000, "EUR", "USD", conv.rate) == 100000


def test_the_day_rate_is_snapped_within_the_slack_only():
    conv = conversion(50150, "USD", DAY, "EUR", original_amount=None, original_currency="",
                      rates=RATES)
    assert conv is not None and conv.amount == 46138 and not conv.exact
    near = snapped(conv, [46000, 90000], 50150, "USD")
    assert near.amount == 46000 and convert(50150, "USD", "EUR", near.rate) == 46000
    assert snapped(conv, [40000], 50150, "USD") == conv  # 15% off: not meant
    assert conversion(50150, "USD", DAY, "GBP", original_amount=None, original_currency="",
                      rates=RATES) is None


def test_a_payment_in_dollars_proposes_the_euro_invoice_with_its_rate():
    inv = OpenInvoice(1, "INV-1", 7, "EUR", 46000, 46000, DAY)
    line = Line(10, DAY, 50150, "USD", text="INV-1")
    c = Candidates(invoices_by_key={"INV1": [inv]}, open_by_customer={7: [inv]},
                   rates=dict(RATES))
    [top] = propose(line, c).proposals
    assert (top.customer_id, top.allocations, top.currency) == (7, (("INV-1", 46000),), "EUR")
    assert convert(50150, "USD", "EUR", top.rate) == 46000
    assert top.confidence < propose(Line(11, DAY, 46000, "EUR", text="INV-1"),
                                    c).proposals[0].confidence
    c.rates.clear()
    assert propose(line, c).proposals == ()
