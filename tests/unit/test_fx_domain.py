"""Pure multi-currency rules: rates and their inverses and crosses, conversions, what a
cross-currency share takes from a receipt, the cross-currency allocation entry, the
revaluation, and the reading of rate files (CSV and the ECB's XML)."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesledger.domain.allocation_plan import (
    OpenReceipt,
    parse_policy,
    plan_customer,
    references_in,
)
from salesledger.domain.errors import (
    AllocationExceedsUnallocated,
    ImportFailed,
    ValidationFailed,
)
from salesledger.domain.fx import (
    CarriedBalance,
    available_in,
    convert,
    convert_back,
    cross_rate,
    ecb_rates_for_base,
    invert,
    normalise,
    parse_rate,
    payable,
    revalue,
    source_amounts,
    source_share,
)
from salesledger.domain.journal import (
    AccountRole,
    allocation_entry,
    check_balanced,
    cross_allocation_entry,
    negate,
    to_base,
)
from salesledger.domain.policies import Policy
from salesledger.domain.settlement import OpenInstalment
from salesledger.formats.exchange_rates import read_ecb_xml, read_rates_csv

RATE = st.decimals("0.001", "1000", places=6).filter(lambda r: r > 0)
PAIRS = st.sampled_from([("USD", "EUR"), ("EUR", "USD"), ("JPY", "EUR"), ("EUR", "JPY"),
                         ("KWD", "USD"), ("GBP", "CHF")])
AMOUNT = st.integers(1, 10**10)


# ---------------------------------------------------------------------------- rates
def test_rates_are_parsed_strictly():
    assert parse_rate("0.9233") == Decimal("0.9233")
    for bad in ("0", "-1", "abc", "NaN", "Infinity", "1e12"):
        with pytest.raises(ValidationFailed):
            parse_rate(bad)
    with pytest.raises(ValidationFailed):
        parse_rate(0.92)


def test_ecb_quotes_are_inverted_for_a_euro_company():
    rates = ecb_rates_for_base({"USD": Decimal("1.0830"), "JPY": Decimal("161.23")}, "EUR")
    assert rates == {"USD": Decimal("0.923361034164"), "JPY": Decimal("0.00620231966756")}


def test_ecb_quotes_are_crossed_through_the_euro_for_another_base():
    quotes = {"USD": Decimal("1.0830"), "GBP": Decimal("0.8400"), "JPY": Decimal("161.23")}
    rates = ecb_rates_for_base(quotes, "GBP")
    # 1 EUR = 0.84 GBP; 1 USD = 0.84 / 1.083 GBP; the base itself has no rate
    assert rates["EUR"] == Decimal("0.84")
    assert rates["USD"] == Decimal("0.775623268698")
    assert "GBP" not in rates
    with pytest.raises(ValidationFailed, match="CHF"):
        ecb_rates_for_base(quotes, "CHF")


@given(RATE)
def test_inverse_of_inverse_is_the_rate_to_its_digits(rate):
    assert normalise(invert(invert(rate))) == normalise(rate) or abs(
        invert(invert(rate)) - rate) <= rate * Decimal("1e-11")


@given(RATE, RATE)
def test_cross_rate_converts_through_the_base(a, b):
    # 1 unit of A is worth a in base; in B that is a / b units of B
    assert abs(cross_rate(a, b) * b - a) <= a * Decimal("1e-11")


# ---------------------------------------------------------------------------- conversion
@given(PAIRS, RATE, AMOUNT)
def test_a_source_that_pays_exactly_is_used_exactly(pair, rate, remaining):
    src, cur = pair
    can_pay = available_in(remaining, src, cur, rate)
    if can_pay == 0:
        return
    most = payable(remaining, src, cur, rate)
    assert most == can_pay or convert_back(most, cur, src, rate) <= remaining
    assert convert_back(most + 1, cur, src, rate) > remaining
    # paying everything it can pay takes all that is left, to the minor unit
    for amount in (can_pay, most):
        assert source_share(amount, remaining=remaining, source_currency=src, currency=cur,
                            rate=rate) == remaining
    with pytest.raises(AllocationExceedsUnallocated):
        source_share(most + 1, remaining=remaining, source_currency=src, currency=cur,
                     rate=rate)


@given(PAIRS, RATE, AMOUNT)
def test_a_customer_who_pays_the_converted_amount_pays_exactly(pair, rate, amount):
    # what ``amount`` costs in the source currency, to its minor unit, pays all of it
    src, cur = pair
    price = convert_back(amount, cur, src, rate)
    if price == 0:
        return
    assert source_share(amount, remaining=price, source_currency=src, currency=cur,
                        rate=rate) == price


def test_a_coarser_source_pays_a_finer_invoice_exactly():
    # KWD 30.090 at 0.33 KWD per EUR costs EUR 91.1818: EUR 91.18, which converts to
    # KWD 30.089 (half up), one fils short; it still pays the 30.090 (and 30.091, which
    # costs 91.1848), but not 30.092, which costs 91.19
    assert available_in(9118, "EUR", "KWD", Decimal("0.33")) == 30089
    assert payable(9118, "EUR", "KWD", Decimal("0.33")) == 30091
    for amount in (30090, 30091):
        assert source_share(amount, remaining=9118, source_currency="EUR", currency="KWD",
                            rate=Decimal("0.33")) == 9118
    with pytest.raises(AllocationExceedsUnallocated):
        source_share(30092, remaining=9118, source_currency="EUR", currency="KWD",
                     rate=Decimal("0.33"))


@given(PAIRS, RATE, AMOUNT, st.lists(st.integers(1, 10**8), min_size=1, max_size=6))
def test_source_amounts_never_exceed_the_source_and_follow_the_rate(pair, rate, remaining,
                                                                    parts):
    src, cur = pair
    can_pay = available_in(remaining, src, cur, rate)
    total = sum(parts)
    shares = [(p, cur, rate) for p in parts]
    if total > payable(remaining, src, cur, rate):
        with pytest.raises(AllocationExceedsUnallocated):
            source_amounts(shares, remaining=remaining, source_currency=src)
        return
    taken = source_amounts(shares, remaining=remaining, source_currency=src)
    assert all(t >= 0 for t in taken)
    assert sum(taken) <= remaining
    # split or whole, the receipt gives the same: the total converted once
    whole = source_share(total, remaining=remaining, source_currency=src, currency=cur,
                         rate=rate)
    assert sum(taken) == whole
    if total < can_pay:
        assert whole == min(convert_back(total, cur, src, rate), remaining)


def test_a_receipt_paying_an_invoice_in_thirds_takes_the_converted_whole():
    # USD 110.00 pays EUR 100.00 in three instalments at 100/110
    rate = cross_rate(Decimal("0.9"), Decimal("0.99"))  # USD 0.9, EUR 0.99 of a base
    assert rate == Decimal("0.909090909091")
    taken = source_amounts([(3333, "EUR", rate), (3333, "EUR", rate), (3334, "EUR", rate)],
                           remaining=11000, source_currency="USD")
    assert sum(taken) == 11000
    assert taken == [3666, 3667, 3667]


def test_mixed_currencies_share_one_receipt():
    taken = source_amounts([(5000, "USD", Decimal(1)), (4000, "EUR", Decimal("0.8"))],
                           remaining=10000, source_currency="USD")
    assert taken == [5000, 5000]
    with pytest.raises(AllocationExceedsUnallocated):
        source_amounts([(5000, "USD", Decimal(1)), (4001, "EUR", Decimal("0.8"))],
                       remaining=10000, source_currency="USD")


@given(PAIRS, RATE, AMOUNT)
def test_convert_and_back_round_trip_within_rounding(pair, rate, amount):
    src, cur = pair
    there = convert(amount, src, cur, rate)
    back = convert_back(there, cur, src, rate)
    # one minor unit of the target is worth at most 1/rate units of the source
    from salesledger.money import get_currency
    unit = Decimal(1).scaleb(get_currency(src).exponent - get_currency(cur).exponent)
    assert abs(back - amount) <= unit / rate + 1


# ---------------------------------------------------------------------------- journal
@given(PAIRS, AMOUNT, AMOUNT, AMOUNT, AMOUNT)
def test_cross_allocation_entry_balances_in_base_and_per_currency(pair, amount, source_amount,
                                                                  base_recv, base_unapplied):
    src, cur = pair
    lines = cross_allocation_entry(customer_id=3, currency=cur, amount=amount,
                                   base_receivable=base_recv, source_currency=src,
                                   source_amount=source_amount, base_unapplied=base_unapplied)
    check_balanced(lines)
    check_balanced(lines + negate(lines))
    by = defaultdict(int)
    for li in lines:
        by[(li.role, li.currency, li.customer_id)] += li.amount_currency
    # the customer's unapplied cash (in the receipt's currency) and receivable (in the
    # invoice's) move exactly as the documents do
    assert by[(AccountRole.UNAPPLIED, src, 3)] == source_amount
    assert by[(AccountRole.RECEIVABLE, cur, 3)] == -amount
    # the realised difference is what the same-currency entry would book
    fx = sum(li.amount for li in lines if li.role == AccountRole.FX)
    assert fx == base_recv - base_unapplied
    same = allocation_entry(customer_id=3, currency=cur, amount=amount,
                            base_unapplied=base_unapplied, base_receivable=base_recv)
    assert fx == sum(li.amount for li in same if li.role == AccountRole.FX)


def test_cross_allocation_entry_lines():
    lines = cross_allocation_entry(customer_id=9, currency="EUR", amount=10000,
                                   base_receivable=10000, source_currency="USD",
                                   source_amount=11000, base_unapplied=9900)
    assert [(li.role.value, li.currency, li.amount_currency, li.amount, li.customer_id)
            for li in lines] == [
        ("unapplied_cash", "USD", 11000, 9900, 9),
        ("receivable", "EUR", -10000, -10000, 9),
        ("exchange_differences", "USD", -11000, -9900, None),
        ("exchange_differences", "EUR", 10000, 10000, None),
    ]
    with pytest.raises(ValueError):
        cross_allocation_entry(customer_id=9, currency="EUR", amount=1, base_receivable=1,
                               source_currency="EUR", source_amount=1, base_unapplied=1)


# ---------------------------------------------------------------------------- revaluation
BALANCE = st.builds(
    CarriedBalance, st.sampled_from([AccountRole.RECEIVABLE, AccountRole.UNAPPLIED]),
    st.integers(1, 3), st.sampled_from(["USD", "JPY", "GBP"]), st.integers(-10**9, 10**9),
    st.integers(-10**9, 10**9))


@given(st.lists(BALANCE, max_size=12), RATE, RATE, RATE)
def test_revaluation_balances_and_restates_each_balance_at_the_closing_rate(balances, usd,
                                                                            jpy, gbp):
    closing = {"USD": usd, "JPY": jpy, "GBP": gbp}
    result = revalue(balances, closing, "EUR")
    check_balanced(result.lines)
    assert all(li.amount_currency == 0 for li in result.lines)
    # carried base + adjustment = value at the closing rate, per customer and account
    carried, value = defaultdict(int), defaultdict(int)
    for b in balances:
        carried[(b.role, b.customer_id, b.currency)] += b.base
        value[(b.role, b.customer_id, b.currency)] += to_base(b.amount_currency, b.currency,
                                                              "EUR", closing[b.currency])
    for li in result.lines:
        if li.customer_id is not None:
            carried[(li.role, li.customer_id, li.currency)] += li.amount
    assert carried == value
    pnl = -sum(li.amount for li in result.lines if li.role == AccountRole.UNREALISED_FX)
    assert pnl == result.net
    # the reversal of the next day takes everything back
    check_balanced(result.lines + negate(result.lines))


def test_revaluation_gain_on_a_receivable_and_loss_on_unapplied_cash():
    # USD 1,000.00 invoiced at 0.90 (900.00 EUR) and USD 200.00 received at 0.90 (180.00)
    balances = [CarriedBalance(AccountRole.RECEIVABLE, 1, "USD", 100000, 90000),
                CarriedBalance(AccountRole.UNAPPLIED, 1, "USD", -20000, -18000),
                CarriedBalance(AccountRole.RECEIVABLE, 2, "EUR", 5000, 5000)]
    result = revalue(balances, {"USD": Decimal("0.95")}, "EUR")
    assert [(li.role.value, li.amount, li.amount_currency, li.customer_id)
            for li in result.lines] == [
        ("receivable", 5000, 0, 1),          # worth 950.00 now
        ("unapplied_cash", -1000, 0, 1),     # owed back 190.00 now
        ("unrealised_fx_differences", -4000, 0, None),
    ]
    assert result.by_currency == {"USD": 4000} and result.balances == 2


# ---------------------------------------------------------------------------- planning
def test_references_prefer_the_longest_name():
    aliases = {"INV-00001": "INV-00001", "INV-000012": "INV-000012",
               "RF18INV00001X": "INV-00001"}
    assert references_in("paying INV-000012 then inv 00001", aliases) == [
        "INV-000012", "INV-00001"]
    assert references_in("RF18 INV0000 1X", aliases) == ["INV-00001"]
    assert references_in("nothing here", aliases) == []


def test_policy_names():
    assert parse_policy("oldest-first") == Policy.OLDEST_FIRST
    assert parse_policy("manual") == Policy.MANUAL
    with pytest.raises(ValidationFailed, match="oldest_first"):
        parse_policy("manual", automatic=True)
    with pytest.raises(ValidationFailed):
        parse_policy("random")


D0 = date(2025, 1, 1)
ITEMS = st.lists(st.tuples(st.integers(1, 5000), st.integers(0, 90), st.integers(0, 3)),
                 max_size=8).map(lambda rows: [
                     OpenInstalment(i + 1, D0 + timedelta(days=d), amount, f"INV-{doc}")
                     for i, (amount, d, doc) in enumerate(rows)])
RECEIPTS = st.lists(st.tuples(st.integers(0, 8000), st.sampled_from(["", "INV-1", "INV-2 INV-0"])),
                    max_size=5).map(lambda rows: [OpenReceipt(100 + i, amount, text)
                                                  for i, (amount, text) in enumerate(rows)])


@given(st.sampled_from([Policy.OLDEST_FIRST, Policy.BY_REFERENCE, Policy.PROPORTIONAL]), ITEMS,
       RECEIPTS)
def test_a_customer_plan_never_overpays_an_instalment_nor_overspends_a_receipt(policy, items,
                                                                              receipts):
    aliases = {f"INV-{n}": f"INV-{n}" for n in range(4)}
    plan = plan_customer(policy, receipts, items, aliases)
    per_item, per_receipt = defaultdict(int), defaultdict(int)
    for p in plan:
        assert p.amount > 0
        per_item[p.instalment_id] += p.amount
        per_receipt[p.receipt_id] += p.amount
    open_of = {i.id: i.open for i in items}
    assert all(v <= open_of[k] for k, v in per_item.items())
    assert all(v <= r.unallocated for r in receipts for k, v in per_receipt.items()
               if k == r.id)
    if policy != Policy.BY_REFERENCE:
        # every receipt is used as far as there is something open
        assert sum(per_item.values()) == min(sum(r.unallocated for r in receipts),
                                             sum(open_of.values()))


# ---------------------------------------------------------------------------- files
def test_rate_csv_reports_every_problem_with_its_line_and_column():
    text = ("date,currency,rate\n2025-03-07,USD,0.9233\n2025-03-32,USD,1\n"
            "2025-03-07,XXX,1\n2025-03-07,GBP,-1\n2025-03-07,usd,0.92\n2025-03-08,JPY,0,0062\n")
    parsed = read_rates_csv(io.StringIO(text), name="rates.csv")
    assert [(r.line, r.currency, r.rate) for r in parsed.rows] == [
        (2, "USD", Decimal("0.9233"))]
    assert [str(p) for p in parsed.problems] == [
        "line 3, column date: 2025-03-32 is not a real date",
        "line 4, column currency: 'XXX' is not an ISO 4217 currency code such as USD",
        "line 5, column rate: an exchange rate must be positive, not -1",
        "line 6, column currency: USD on 2025-03-07 is already on line 2",
        "line 7: the row has 4 values but the header names 3 columns",
    ]


ECB = """<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"
    xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
  <gesmes:subject>Reference rates</gesmes:subject>
  <gesmes:Sender><gesmes:name>European Central Bank</gesmes:name></gesmes:Sender>
  <Cube>
    <Cube time="2025-03-07">
      <Cube currency="USD" rate="1.0830"/>
      <Cube currency="JPY" rate="160.05"/>
      <Cube currency="CYP" rate="0.5853"/>
    </Cube>
    <Cube time="2025-03-06">
      <Cube currency="USD" rate="1.0791"/>
      <Cube currency="JPY" rate="abc"/>
    </Cube>
  </Cube>
</gesmes:Envelope>
"""


def test_ecb_file_is_read_with_lines_and_obsolete_codes_skipped():
    parsed = read_ecb_xml(io.BytesIO(ECB.encode()), name="eurofxref.xml")
    assert [(r.day, r.currency, r.rate) for r in parsed.rows] == [
        (date(2025, 3, 7), "USD", Decimal("1.0830")), (date(2025, 3, 7), "JPY", Decimal("160.05")),
        (date(2025, 3, 6), "USD", Decimal("1.0791"))]
    assert parsed.skipped == {"CYP"}
    assert [str(p) for p in parsed.problems] == [
        "line 14, column rate: 'abc' is not a number (write e.g. 1234.50)"]


def test_ecb_file_that_is_not_xml_or_not_ecb_is_refused_with_its_line():
    with pytest.raises(ImportFailed) as exc:
        read_ecb_xml(io.BytesIO(b"<a>\n<b></a>"), name="x.xml")
    assert exc.value.problems[0].line == 2
    with pytest.raises(ImportFailed, match="not an ECB"):
        read_ecb_xml(io.BytesIO(b"<rates/>"), name="x.xml")
    empty = read_ecb_xml(io.BytesIO(b"<Envelope><Cube/></Envelope>"), name="x.xml")
    assert "no <Cube time" in str(empty.problems[0])
