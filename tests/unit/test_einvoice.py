"""E-invoices, pure: document allowances and charges in the totals, the EN 16931 rules the
ledger checks before posting, and UBL/CII writers and readers that round-trip any model."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesledger.domain.einvoice import (
    AllowanceCharge,
    Contact,
    Delivery,
    DocumentTotals,
    EInvoice,
    ElectronicAddress,
    Line,
    Party,
    PaymentInstructions,
    PostalAddress,
    PrecedingInvoice,
    VatBreakdown,
)
from salesledger.domain.einvoice_rules import check, check_document, split_exemption
from salesledger.domain.errors import EInvoiceUnreadable, ValidationFailed
from salesledger.domain.invoicing import (
    DocumentChargeInput,
    LineInput,
    TaxRounding,
    compute_totals,
)
from salesledger.domain.peppol_rules import peppol_gaps
from salesledger.formats.einvoice import read_cii, read_ubl, write_cii, write_ubl

D = Decimal


# ---------------------------------------------------------------- totals with charges
def _line(net: str, rate: str = "20", category: str = "S") -> LineInput:
    return LineInput("item", D(1), D(net), D(rate), D(0), category)


def _charge(amount: str, rate: str = "20", *, charge: bool = True, category: str = "S"
            ) -> DocumentChargeInput:
    return DocumentChargeInput(charge, D(amount), "reason", "", D(rate), category)


def test_charges_and_allowances_enter_the_vat_group_of_their_rate():
    # lines 100.00 at 20 % and 50.00 at 5.5 %; freight 10.00 at 20 %; 5.00 off the 5.5 %
    t = compute_totals([_line("100.00"), _line("50.00", "5.5")], "EUR",
                       charges=[_charge("10.00"), _charge("5.00", "5.5", charge=False)])
    groups = [(g.category, g.rate, g.net, g.tax) for g in t.tax_groups]
    # 20 %: 110.00 -> 22.00; 5.5 %: 45.00 -> 2.75 (per line: 2.75 on 50, less 0.28 on 5)
    assert groups == [("S", D("5.5"), 4500, 247), ("S", D(20), 11000, 2200)]
    assert (t.line_net, t.allowance_total, t.charge_total) == (15000, 500, 1000)
    assert (t.net, t.tax, t.total) == (15500, 2447, 17947)
    assert [(c.amount, c.tax) for c in t.charges] == [(1000, 200), (500, -28)]


def test_per_document_tax_is_the_rate_of_the_group_net_after_charges():
    t = compute_totals([_line("50.00", "5.5")], "EUR", tax_rounding=TaxRounding.PER_DOCUMENT,
                       charges=[_charge("5.00", "5.5", charge=False)])
    assert [(g.net, g.tax) for g in t.tax_groups] == [(4500, 248)]  # 2.475 -> 2.48


amounts = st.integers(min_value=1, max_value=10**7)
rates = st.sampled_from([D(0), D("2.1"), D("5.5"), D(10), D(20), D("21")])


@st.composite
def documents(draw):
    lines = draw(st.lists(st.tuples(amounts, rates), min_size=1, max_size=6))
    line_inputs = [LineInput("x", D(1), D(a).scaleb(-2), r) for a, r in lines]
    line_rates = [r for _, r in lines]
    charges = []
    for _ in range(draw(st.integers(0, 4))):
        is_charge = draw(st.booleans())
        rate = draw(st.sampled_from(line_rates)) if not is_charge else draw(rates)
        charges.append(DocumentChargeInput(is_charge, D(draw(st.integers(1, 500))).scaleb(-2),
                                           "r", "", rate))
    rounding = draw(st.sampled_from(list(TaxRounding)))
    return line_inputs, charges, rounding


@given(documents())
def test_totals_follow_en16931_br_co_13_to_15_and_the_groups_add_up(doc):
    lines, charges, tax_rounding = doc
    try:
        t = compute_totals(lines, "EUR", charges=charges, tax_rounding=tax_rounding)
    except ValidationFailed:
        return  # allowances larger than the lines they reduce: refused, checked below
    assert t.net == t.line_net - t.allowance_total + t.charge_total  # BR-CO-13
    assert t.tax == sum(g.tax for g in t.tax_groups)  # BR-CO-14
    assert t.total == t.net + t.tax  # BR-CO-15
    assert sum(g.net for g in t.tax_groups) == t.net
    assert t.allowance_total == sum(c.amount for c, i in zip(t.charges, charges, strict=True)
                                    if not i.is_charge)
    for g in t.tax_groups:  # BR-S-09 allows one unit of the currency either way
        assert abs(g.tax - g.net * g.rate / 100) <= 100
        if tax_rounding is TaxRounding.PER_DOCUMENT:
            assert abs(g.tax - g.net * g.rate / 100) <= D("0.5")


@given(amounts, rates)
def test_an_allowance_takes_off_exactly_what_an_equal_charge_adds(amount, rate):
    base = [_line("100.00", str(rate))]
    money = D(amount).scaleb(-2)
    plain = compute_totals(base, "EUR")
    both = compute_totals(base, "EUR", charges=[
        DocumentChargeInput(True, money, "c", "", rate),
        DocumentChargeInput(False, money, "a", "", rate)])
    assert (both.net, both.tax) == (plain.net, plain.tax)


@pytest.mark.parametrize("charge, words", [
    (_charge("1.005"), "more decimals"),
    (_charge("0"), "more than zero"),
    (DocumentChargeInput(True, D(1), "", "", D(20)), "give a reason"),
    (DocumentChargeInput(True, D(1), "", "XYZ", D(20)), "unknown reason code"),
    (DocumentChargeInput(False, D(1), "", "FC", D(20)), "unknown reason code"),
    (_charge("1.00", "20", category="E"), "takes a 0 % rate"),
    (_charge("1.00", "7", charge=False), "nothing for it to reduce"),
    (_charge("200.00", charge=False), "more than the lines"),
])
def test_bad_charges_are_refused_saying_which(charge, words):
    with pytest.raises(ValidationFailed) as refused:
        compute_totals([_line("100.00")], "EUR", charges=[charge])
    assert words in refused.value.message


def test_a_unit_outside_recommendation_20_is_refused():
    with pytest.raises(ValidationFailed, match="unknown unit 'PCS'"):
        compute_totals([LineInput("x", D(1), D(1), unit_code="PCS")], "EUR")


# ---------------------------------------------------------------- the model, valid
SELLER = Party(name="Acme Conseil SARL", address=PostalAddress("FR", "12 rue", city="Paris"),
               vat_id="FR40303265045", legal_id="303265045", legal_id_scheme="0002",
               electronic_address=ElectronicAddress("9957", "FR40303265045"))
BUYER = Party(name="Dupont SA", address=PostalAddress("FR", city="Lyon"),
              vat_id="FR44732829320",
              electronic_address=ElectronicAddress("9957", "FR44732829320"))


def _doc(**changes) -> EInvoice:
    doc = EInvoice(
        number="INV1", issue_date=date(2025, 3, 10), type_code="380", currency="EUR",
        seller=SELLER, buyer=BUYER,
        lines=(Line("1", "Service", D(1), "C62", D(100), D(100), "S", D(20)),),
        vat_breakdown=(VatBreakdown("S", D(20), D(100), D(20)),),
        totals=DocumentTotals(D(100), D(100), D(20), D(120), D(120)),
        order_reference="PO-1", payment_terms="30 days")
    return replace(doc, **changes)


def test_a_complete_document_breaks_no_rule():
    assert check(_doc()) == []
    assert peppol_gaps(_doc()) == []


@pytest.mark.parametrize("changes, rule", [
    ({"buyer": replace(BUYER, address=None)}, "BR-10"),
    ({"buyer": replace(BUYER, address=PostalAddress(""))}, "BR-11"),
    ({"buyer": replace(BUYER, vat_id="44732829320")}, "BR-CO-09"),
    ({"buyer": replace(BUYER, name=" ")}, "BR-07"),
    ({"vat_breakdown": (VatBreakdown("E", D(0), D(100), D(0)),)}, "BR-E-10"),
    ({"vat_breakdown": (VatBreakdown("S", D(20), D(100), D(20), "why"),)}, "BR-S-10"),
    ({"vat_breakdown": (VatBreakdown("E", D(0), D(100), D(0), "", "VATEX-EU-1"),)},
     "BR-CL-22"),
    ({"lines": (Line("1", "x", D(1), "C62", D(100), D(-100), "S", D(20)),)}, "BR-27"),
    ({"lines": (Line("1", "x", D(1), "C62", D(100), D(100), "AE", D(0)),),
      "buyer": replace(BUYER, vat_id="")}, "BR-AE-02"),
    ({"lines": (Line("1", "x", D(1), "C62", D(100), D(100), "K", D(0)),)}, "BR-IC-12"),
    ({"lines": (Line("1", "x", D(1), "C62", D(100), D(100), "O", None),
                Line("2", "y", D(1), "C62", D(100), D(100), "S", D(20)))}, "BR-O-11"),
    ({"totals": DocumentTotals(D(100), D(100), D("20.005"), D(120), D(120))}, "BR-DEC-13"),
])
def test_each_rule_the_ledger_can_break_is_reported(changes, rule):
    problems = check_document(_doc(**changes), known_country=lambda c: c == "FR")
    assert rule in [p.rule for p in problems]
    found = next(p for p in problems if p.rule == rule)
    assert f"(EN 16931 rule {rule}): " in found.message and found.message.endswith(".")


@pytest.mark.parametrize("seller, rule", [
    (replace(SELLER, vat_id=""), "BR-S-02"),
    (replace(SELLER, vat_id="", legal_id=""), "BR-CO-26"),
    (replace(SELLER, address=None), "BR-08"),
    (replace(SELLER, address=PostalAddress("")), "BR-09"),
    (replace(SELLER, name=""), "BR-06"),
])
def test_gaps_in_the_company_profile_are_the_seller_rules(seller, rule):
    doc = _doc(seller=seller)
    assert rule in [p.rule for p in check(doc)]
    assert rule not in [p.rule for p in check_document(doc)]


def test_peppol_gaps_are_warnings_about_routing_and_references():
    doc = _doc(order_reference="", buyer=replace(BUYER, electronic_address=ElectronicAddress(
        "EM", "ap@dupont.example")), seller=replace(SELLER, electronic_address=None))
    assert check(doc) == []
    assert [g.rule for g in peppol_gaps(doc)] == [
        "PEPPOL-EN16931-R020", "PEPPOL-EN16931-R003", "PEPPOL-EN16931-CL008"]


@pytest.mark.parametrize("text, expected", [
    ("VATEX-EU-132 Medical care", ("VATEX-EU-132", "Medical care")),
    ("VATEX-EU-132-1A: hospital", ("VATEX-EU-132-1A", "hospital")),
    ("VATEX-FR-FRANCHISE", ("VATEX-FR-FRANCHISE", "")),
    ("Article 261-4-4° du CGI", ("", "Article 261-4-4° du CGI")),
])
def test_an_exemption_reason_may_start_with_its_vatex_code(text, expected):
    assert split_exemption(text) == expected


# ---------------------------------------------------------------- writing and reading
_text = st.text(alphabet=st.sampled_from("abcXYZ019 &<>'\"-./éü"), min_size=1,
                max_size=12).map(str.strip).filter(bool)
_opt = st.one_of(st.just(""), _text)
_money = st.integers(-10**6, 10**8).map(lambda n: D(n).scaleb(-2))
_qty = st.integers(-10**5, 10**7).map(lambda n: D(n).scaleb(-3))
_rate = st.sampled_from([D(0), D("5.5"), D(20)])
_day = st.dates(date(2000, 1, 1), date(2099, 12, 31))
_country = st.sampled_from(["FR", "DE", "US", "BE"])


@st.composite
def _address(draw):
    return PostalAddress(draw(_country), draw(_opt), draw(_opt), draw(_opt), draw(_opt),
                         draw(_opt))


@st.composite
def _party(draw):
    contact = draw(st.one_of(st.none(), st.builds(Contact, _text, _opt, _opt)))
    legal = draw(_opt)
    return Party(name=draw(_text), address=draw(st.one_of(st.none(), _address())),
                 trading_name=draw(_opt), vat_id=draw(_opt), legal_id=legal,
                 legal_id_scheme=draw(st.sampled_from(["", "0002"])) if legal else "",
                 electronic_address=draw(st.one_of(st.none(), st.builds(
                     ElectronicAddress, st.sampled_from(["EM", "9957"]), _text))),
                 contact=contact)


@st.composite
def _allowance(draw, document_level: bool):
    category = draw(st.sampled_from(["S", "Z", "O"])) if document_level else ""
    return AllowanceCharge(
        is_charge=draw(st.booleans()), amount=draw(_money), reason=draw(_opt),
        reason_code=draw(st.sampled_from(["", "95", "FC"])),
        base_amount=draw(st.one_of(st.none(), _money)),
        percent=draw(st.one_of(st.none(), _rate)), vat_category=category,
        vat_rate=None if category in ("", "O") else draw(_rate))


@st.composite
def _einvoice(draw):
    credit = draw(st.booleans())
    currency = draw(st.sampled_from(["EUR", "USD"]))
    lines = tuple(
        Line(str(i), draw(_text), draw(_qty), draw(st.sampled_from(["C62", "HUR"])),
             draw(_money), draw(_money.map(abs)), cat,
             None if cat == "O" else draw(_rate),
             tuple(draw(st.lists(_allowance(False), max_size=2))))
        for i, cat in enumerate(draw(st.lists(st.sampled_from(["S", "E", "O"]), min_size=1,
                                              max_size=3)), start=1))
    iban = draw(_opt)
    payment = draw(st.one_of(st.none(), st.builds(
        PaymentInstructions, st.sampled_from(["58", "30", "1"]), _opt, st.just(iban),
        st.just(draw(_opt) if iban else ""), st.just(draw(_opt) if iban else ""))))
    delivery = draw(st.one_of(st.none(), st.builds(Delivery, _day, st.none()),
                              st.builds(Delivery, st.one_of(st.none(), _day), _address())))
    foreign = currency != "EUR"
    return EInvoice(
        number=draw(_text), issue_date=draw(_day), type_code="381" if credit else "380",
        currency=currency, seller=draw(_party()), buyer=draw(_party()), lines=lines,
        vat_breakdown=tuple(
            VatBreakdown(c, None if c == "O" else draw(_rate), draw(_money), draw(_money),
                         draw(_opt), draw(st.sampled_from(["", "VATEX-EU-O"])))
            for c in draw(st.lists(st.sampled_from(["S", "E", "O"]), min_size=1, max_size=3))),
        totals=DocumentTotals(*(draw(_money) for _ in range(5)),
                              *(draw(st.one_of(st.none(), _money)) for _ in range(4))),
        tax_currency="EUR" if foreign else "",
        tax_total_accounting=draw(_money) if foreign else None,
        due_date=None if credit and payment is None else draw(st.one_of(st.none(), _day)),
        buyer_reference=draw(_opt), order_reference=draw(_opt),
        notes=tuple(draw(st.lists(_text, max_size=2))),
        preceding=tuple(draw(st.lists(st.builds(PrecedingInvoice, _text,
                                                st.one_of(st.none(), _day)), max_size=2))),
        delivery=delivery, payment=payment, payment_terms=draw(_opt),
        allowances_charges=tuple(draw(st.lists(_allowance(True), max_size=3))))


@settings(max_examples=50, deadline=None)
@given(_einvoice())
def test_ubl_and_cii_read_back_what_they_wrote(doc):
    assert read_ubl(write_ubl(doc)) == doc
    assert read_cii(write_cii(doc)) == doc


@pytest.mark.parametrize("data, reader, words", [
    (b"<Invoice", read_ubl, "UBL: not well-formed XML"),
    (b"<Other/>", read_ubl, "not a UBL 2.1 Invoice or CreditNote"),
    (b"<Other/>", read_cii, "not a CrossIndustryInvoice"),
])
def test_unreadable_files_say_why(data, reader, words):
    with pytest.raises(EInvoiceUnreadable, match=words):
        reader(data)


def test_a_missing_element_is_named_with_its_path():
    xml = write_ubl(_doc()).replace(b"<cbc:ID>INV1</cbc:ID>", b"")
    with pytest.raises(EInvoiceUnreadable, match=r"UBL: /\*/cbc:ID is missing"):
        read_ubl(xml)
    xml = write_cii(_doc()).replace(b"<ram:LineTotalAmount>100.00</ram:LineTotalAmount>", b"",
                                    1)
    with pytest.raises(EInvoiceUnreadable, match="LineTotalAmount is missing"):
        read_cii(xml)


def test_a_bad_number_is_named():
    xml = write_ubl(_doc()).replace(b">120.00</cbc:PayableAmount>", b">12O.00</cbc:PayableAmount>")
    with pytest.raises(EInvoiceUnreadable, match="PayableAmount is not a number: '12O.00'"):
        read_ubl(xml)



def test_lines_of_one_category_with_different_exemption_reasons_are_named():
    from salesledger.domain.einvoice_rules import LineReason, check_exemption_reasons

    def lr(n, category, reason, rate="0"):
        return LineReason(n, category, D(rate), reason)

    # Two reasons (a text, then a code and a text) for the exempt lines 1 and 3; line 2, with
    # none, goes with them; line 4 is another category.
    [problem] = check_exemption_reasons([
        lr(1, "E", "Article 261-4-4° du CGI"), lr(2, "E", ""),
        lr(3, "E", "VATEX-EU-132 Medical care"), lr(4, "AE", "Reverse charge"),
        lr(5, "E", "Article 261-4-4°   du CGI")])
    assert problem.rule == "BR-E-01"
    assert problem.message.startswith(
        "Lines 1, 3 and 5 are exempt (VAT category E) for different reasons (lines 1 and 5: "
        "'Article 261-4-4° du CGI'; line 3: 'VATEX-EU-132 Medical care')")
    # the same code with and without its text are two reasons too
    assert [p.rule for p in check_exemption_reasons([
        lr(1, "K", "VATEX-EU-IC"), lr(2, "K", "VATEX-EU-IC Intra-Community supply")])] == [
        "BR-IC-01"]
    # one reason, blanks aside: nothing to say; standard-rated lines are BR-S-10's business
    assert check_exemption_reasons([lr(1, "E", "VATEX-EU-132 Medical care"),
                                    lr(2, "E", " VATEX-EU-132  Medical care "),
                                    lr(3, "S", "x", "20"), lr(4, "S", "y", "20")]) == []
