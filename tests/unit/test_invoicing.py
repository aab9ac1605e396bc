"""Invoice arithmetic: line nets, discounts, tax per line or per document, several rates."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesledger.domain.errors import EmptyInvoice, NegativeQuantity, ValidationFailed
from salesledger.domain.invoicing import LineInput, TaxRounding, compute_totals
from salesledger.money import Rounding

D = Decimal


def line(qty, price, rate="0", discount="0", category="S"):
    return LineInput("item", D(qty), D(price), D(rate), D(discount), category)


def test_per_line_and_per_document_tax_rounding_differ_and_are_each_correct():
    # Three lines of 0.05 at 10 %: each line's tax is 0.005, rounded half up to 0.01, so
    # per line the tax is 0.03; per document it is 10 % of 0.15 = 0.015 -> 0.02.
    lines = [line("1", "0.05", "10")] * 3
    per_line = compute_totals(lines, "EUR", tax_rounding=TaxRounding.PER_LINE)
    per_doc = compute_totals(lines, "EUR", tax_rounding=TaxRounding.PER_DOCUMENT)
    assert per_line.net == per_doc.net == 15
    assert per_line.tax == 3
    assert per_doc.tax == 2
    assert (per_line.total, per_doc.total) == (18, 17)
    assert [g.tax for g in per_line.tax_groups] == [3]
    assert [g.tax for g in per_doc.tax_groups] == [2]


def test_several_rates_are_grouped_and_sorted():
    lines = [line("2", "10.00", "20"), line("1", "3.33", "5.5"), line("1", "7.00", "20"),
             line("1", "5.00", "0", category="Z")]
    t = compute_totals(lines, "EUR")
    assert [lt.net for lt in t.lines] == [2000, 333, 700, 500]
    # 3.33 * 5.5 % = 0.18315 -> 0.18
    assert [lt.tax for lt in t.lines] == [400, 18, 140, 0]
    groups = [(g.category, g.rate, g.net, g.tax) for g in t.tax_groups]
    assert groups == [("S", D("5.5"), 333, 18), ("S", D("20"), 2700, 540), ("Z", D("0"), 500, 0)]
    assert (t.net, t.tax, t.total) == (3533, 558, 4091)


def test_rates_written_differently_are_one_group():
    t = compute_totals([line("1", "1.00", "20"), line("1", "1.00", "20.00")], "EUR",
                       tax_rounding=TaxRounding.PER_DOCUMENT)
    assert len(t.tax_groups) == 1


def test_discount_is_taken_before_rounding_the_line():
    # 3 x 19.99 = 59.97, less 10 % = 53.973 -> 53.97; tax 20 % = 10.794 -> 10.79
    t = compute_totals([line("3", "19.99", "20", "10")], "EUR")
    assert (t.net, t.tax, t.total) == (5397, 1079, 6476)


def test_full_discount_is_a_zero_line():
    t = compute_totals([line("1", "50.00", "20", "100")], "EUR")
    assert (t.net, t.tax) == (0, 0)


def test_rounding_policy_applies_to_line_nets():
    lines = [line("1", "0.125")]
    assert compute_totals(lines, "EUR", rounding=Rounding.HALF_UP).net == 13
    assert compute_totals(lines, "EUR", rounding=Rounding.HALF_EVEN).net == 12
    assert compute_totals(lines, "EUR", rounding=Rounding.DOWN).net == 12


def test_zero_decimal_currency():
    t = compute_totals([line("3", "333.5", "10")], "JPY")
    assert (t.net, t.tax) == (1001, 100)  # 1000.5 -> 1001 yen; 100.1 -> 100


@pytest.mark.parametrize("bad", [line("-1", "10"), line("1", "-10")])
def test_negative_quantity_or_price_is_refused(bad):
    with pytest.raises(NegativeQuantity) as exc:
        compute_totals([line("1", "1"), bad], "EUR")
    assert exc.value.code == "negative_quantity"
    assert exc.value.fields["line"] == 2


def test_negative_lines_only_when_allowed():
    t = compute_totals([line("-1", "10.00", "20")], "EUR", allow_negative=True)
    assert (t.net, t.tax) == (-1000, -200)


@pytest.mark.parametrize("bad", [line("1", "1", "101"), line("1", "1", "-1"),
                                 line("1", "1", "0", "120"), line("1", "1", "20", "0", "E"),
                                 line("1", "1", "0", "0", "XX")])
def test_invalid_lines_are_refused(bad):
    with pytest.raises(ValidationFailed):
        compute_totals([bad], "EUR")


@pytest.mark.parametrize(("qty", "price", "words"), [
    ("1", "1E+400", "beyond what one line can carry"),
    ("1E+30", "5", "beyond what one line can carry"),
    ("2000000", "2000000", "beyond what one line can carry"),  # each fine, the product not
    ("NaN", "5", "is not a number"),
    ("1", "Infinity", "is not a number"),
    ("1", "1E-12", "at most 10 decimals"),
])
def test_absurd_quantities_and_prices_are_refused_not_crashed_on(qty, price, words):
    with pytest.raises(ValidationFailed, match=words):
        compute_totals([line(qty, price, "20")], "EUR")


def test_the_largest_line_still_computes_exactly():
    t = compute_totals([line("999999", "999999.99", "20")], "EUR")
    assert t.net == 99999899000001 and t.tax == 19999979800000


def test_an_empty_document_is_refused():
    with pytest.raises(EmptyInvoice):
        compute_totals([], "EUR")


RATES = st.sampled_from(["0", "2.1", "5.5", "7", "10", "19", "20", "21"])
LINES = st.lists(
    st.builds(line, st.decimals("0", "1000", places=3).map(str),
              st.decimals("0", "100000", places=4).map(str), RATES,
              st.sampled_from(["0", "5", "12.5", "100"])),
    min_size=1, max_size=15)


@given(LINES, st.sampled_from(list(Rounding)))
def test_totals_add_up_under_either_tax_rounding(lines, rounding):
    per_line = compute_totals(lines, "EUR", tax_rounding=TaxRounding.PER_LINE, rounding=rounding)
    per_doc = compute_totals(lines, "EUR", tax_rounding=TaxRounding.PER_DOCUMENT,
                             rounding=rounding)
    for t in (per_line, per_doc):
        assert t.total == t.net + t.tax
        assert t.net == sum(lt.net for lt in t.lines) == sum(g.net for g in t.tax_groups)
        assert t.tax == sum(g.tax for g in t.tax_groups)
    assert per_line.tax == sum(lt.tax for lt in per_line.lines)
    assert per_line.net == per_doc.net
    # each line's tax is off by less than one unit, so the two can differ by less than that
    assert abs(per_line.tax - per_doc.tax) <= len(lines)
    for g in per_doc.tax_groups:  # per document: each rate's tax is its rounded rate x net
        exact = D(g.net) * g.rate / 100
        assert abs(exact - g.tax) <= 1
