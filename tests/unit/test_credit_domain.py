"""The pure rules of credit: which limit covers a customer, when a document is refused, what
a behaviour and a risk score come to, and a suggested limit from what was paid on time."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesledger.domain.credit_limits import (
    LimitRow,
    check_credit,
    is_held_kind,
    resolve_limit,
)
from salesledger.domain.credit_risk import (
    Factor,
    OpenSpan,
    Payment,
    Thresholds,
    default_probability,
    months_before,
    nice_amount,
    payment_behaviour,
    peak_paid_on_time,
    probability_score,
    risk_class,
    risk_score,
    suggest_limit,
)
from salesledger.domain.errors import CreditHoldActive, CreditLimitExceeded

D = date(2026, 6, 30)
# A group: 1 (EUR, 10,000.00) over 2 (USD, no limit) over 3; 4 alone with its own limit.
BOOK = {1: LimitRow(1, "GRP", 1_000_000, "EUR", None),
        2: LimitRow(2, "SUB", None, "USD", 1),
        3: LimitRow(3, "LEAF", None, "USD", 2),
        4: LimitRow(4, "OWN", 50_000, "GBP", None)}


def test_the_nearest_limit_up_the_group_covers_the_whole_group() -> None:
    leaf = resolve_limit(3, BOOK, None)
    assert leaf is not None
    assert (leaf.amount, leaf.currency, leaf.source, leaf.holder_code,
            sorted(leaf.members)) == (1_000_000, "EUR", "group", "GRP", [1, 2, 3])
    own = resolve_limit(4, BOOK, (200_000, "EUR"))
    assert own is not None and (own.source, own.members) == ("customer", (4,))
    # a customer in no group and with no limit: the default, or nothing
    default = resolve_limit(9, BOOK, (200_000, "EUR"))
    assert default is not None and (default.source, default.members) == (
        "company_default", (9,))
    assert resolve_limit(9, BOOK, None) is None


def test_a_cycle_of_parents_does_not_loop() -> None:
    book = {1: LimitRow(1, "A", None, "EUR", 2), 2: LimitRow(2, "B", None, "EUR", 1)}
    assert resolve_limit(1, book, None) is None


def test_refusals_say_what_in_major_units() -> None:
    limit = resolve_limit(3, BOOK, None)
    check_credit(customer_code="LEAF", what="invoice", amount=100_000, exposure=900_000,
                 limit=limit, holds=[])  # exactly at the limit: allowed
    with pytest.raises(CreditLimitExceeded) as refused:
        check_credit(customer_code="LEAF", what="invoice", amount=100_001, exposure=900_000,
                     limit=limit, holds=[], document=(111_112, "USD"))
    assert refused.value.message == (
        "invoice of 1111.12 USD (1000.01 EUR at the day's rate) would take customer LEAF's "
        "exposure from 9000.00 EUR to 10000.01 EUR, over its credit limit of 10000.00 EUR "
        "(the limit of group GRP) by 0.01 EUR")
    with pytest.raises(CreditHoldActive, match=r"LEAF is on credit hold \(dunning: level 3\)"):
        check_credit(customer_code="LEAF", what="invoice", amount=1, exposure=0, limit=None,
                     holds=[("dunning", "level 3")])


def test_only_sales_issued_here_are_held() -> None:
    assert is_held_kind(kind="invoice", purpose="sale", kept_number=False)
    assert not is_held_kind(kind="credit_note", purpose="sale", kept_number=False)
    assert not is_held_kind(kind="invoice", purpose="fee", kept_number=False)
    assert not is_held_kind(kind="invoice", purpose="interest", kept_number=False)
    assert not is_held_kind(kind="invoice", purpose="sale", kept_number=True)


def _paid(days_after_issue: int, weight: int, terms: int = 30, issued: date = D) -> Payment:
    return Payment(issued + timedelta(days=days_after_issue), issued,
                   issued + timedelta(days=terms), weight)


def test_behaviour_weighs_by_amount_and_shows_a_trend() -> None:
    old = [_paid(60, 100, issued=D - timedelta(days=300)) for _ in range(3)]  # 30 late
    recent = [_paid(30, 100, issued=D - timedelta(days=60))]  # on time
    b = payment_behaviour(as_of=D, payments=[*old, *recent])
    assert (b.payments, b.days_to_pay, b.days_late, b.share_late) == (4, 52.5, 22.5, 0.75)
    assert b.trend == "improving"
    assert [w.months for w in b.windows] == [3, 6, 12]
    big_late = payment_behaviour(as_of=D + timedelta(days=60),
                                 payments=[_paid(40, 900), _paid(10, 100)])
    assert (big_late.days_late, big_late.share_late) == (9.0, 0.9)


def test_the_score_rises_with_every_factor_and_classes_follow_the_thresholds() -> None:
    t = Thresholds()
    prompt = risk_score(payment_behaviour(as_of=D + timedelta(days=90),
                                          payments=[_paid(20, 100)]), 0, t)
    assert (prompt.score, prompt.risk_class, prompt.factors) == (0.0, "A", [Factor("on_time")])
    late = risk_score(payment_behaviour(as_of=D + timedelta(days=90),
                                        payments=[_paid(90, 100)]), 0, t)
    assert late.score == 35 + 15 and late.risk_class == "C"
    # codes with their figures, the heaviest first: the words are the interfaces'
    assert late.factors == [Factor("days_late", days=60.0), Factor("share_late", share=1.0)]
    assert (risk_class(24.9, t), risk_class(25, t), risk_class(75, t)) == ("A", "B", "D")
    with pytest.raises(ValueError):
        Thresholds(50, 40, 60)


@given(st.floats(0, 100), st.floats(0, 100))
def test_the_default_probability_rises_with_the_score(a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    assert 0 < default_probability(lo) <= default_probability(hi) < 1


def test_the_models_probability_gives_the_score_and_class_and_leads_the_factors() -> None:
    t = Thresholds()
    late = payment_behaviour(as_of=D + timedelta(days=90), payments=[_paid(90, 100)])
    by_points = risk_score(late, 0, t)
    assert (by_points.risk_class, by_points.basis) == ("C", "behaviour")
    # the model finds this late payer's open items safe: class A, whatever the points say
    safe = risk_score(late, 0, t, model_probability=0.03)
    assert (safe.risk_class, safe.basis, safe.default_probability) == ("A", "model", 0.03)
    assert safe.factors[0] == Factor("model", share=0.03)
    assert safe.factors[1:] == by_points.factors  # what the model read, after it
    # and a prompt payer whose open items it finds likely to default: class D
    prompt = payment_behaviour(as_of=D + timedelta(days=90), payments=[_paid(20, 100)])
    assert risk_score(prompt, 0, t, model_probability=0.9).risk_class == "D"
    assert risk_score(prompt, 0, t, model_probability=1.0).score == 100
    assert risk_score(prompt, 0, t, model_probability=0.0).score == 0


@given(st.floats(0, 100))
def test_the_models_score_is_the_curve_read_backwards(score: float) -> None:
    # same scale: the thresholds mean the same default chance whichever gave the class
    assert probability_score(default_probability(score)) == pytest.approx(score, abs=0.2)


def test_an_alias_is_covered_by_its_survivors_limit_and_is_no_group_member() -> None:
    # 4 (OWN) merged into 1 (GRP): covered by the group's limit, its own set aside
    merged = {4: 1}
    limit = resolve_limit(4, BOOK, None, merged)
    assert limit is not None and (limit.holder_code, limit.members) == ("GRP", (1, 2, 3))
    # 3 (LEAF, under SUB) merged into 4 (OWN): OWN's limit covers it; SUB's group loses it
    merged = {3: 4}
    own = resolve_limit(3, BOOK, None, merged)
    assert own is not None and (own.holder_code, own.members, own.source) == (
        "OWN", (4,), "customer")
    group = resolve_limit(2, BOOK, None, merged)
    assert group is not None and group.members == (1, 2)
    # a group's parent merged into a customer: the group follows the survivor
    book = {5: LimitRow(5, "NEW", 20_000, "EUR", None), 6: LimitRow(6, "OLD", None, "EUR", None),
            7: LimitRow(7, "KID", None, "EUR", 6)}
    kid = resolve_limit(7, book, None, {6: 5})
    assert kid is not None and (kid.holder_code, kid.members) == ("NEW", (5, 7))


def test_the_peak_counts_only_what_was_paid_by_its_due_date() -> None:
    spans = [OpenSpan(D, D + timedelta(days=20), D + timedelta(days=30), 1000),
             OpenSpan(D + timedelta(days=10), D + timedelta(days=25), D + timedelta(days=40),
                      500),
             OpenSpan(D, D + timedelta(days=50), D + timedelta(days=30), 9999),  # late
             OpenSpan(D, None, D + timedelta(days=30), 7777)]  # unpaid
    assert peak_paid_on_time(spans, since=D - timedelta(days=365),
                             as_of=D + timedelta(days=100)) == 1500
    # settled on the day the other was issued: still open together that day
    touching = [OpenSpan(D, D + timedelta(days=5), D + timedelta(days=30), 100),
                OpenSpan(D + timedelta(days=5), D + timedelta(days=6), D + timedelta(days=30),
                         100)]
    assert peak_paid_on_time(touching, since=D - timedelta(days=30), as_of=D + timedelta(
        days=60)) == 200


def test_suggested_limits_are_round_figures() -> None:
    assert [nice_amount(m, 2) for m in (1, 270_000, 1_000_000, 1_000_001, 3_100_000)] == [
        10_000, 300_000, 1_000_000, 1_500_000, 4_000_000]
    assert nice_amount(0, 2) == 0 and nice_amount(12_345, 0) == 15_000
    assert suggest_limit(180_000, "A", 2) == 300_000  # 1.5 x 1,800.00 = 2,700.00
    assert suggest_limit(180_000, "D", 2) == 0


def test_months_before_keeps_the_day_or_the_month_end() -> None:
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(date(2026, 1, 15), 12) == date(2025, 1, 15)
