"""Payment behaviour and risk through the selectors: the figures come from what each customer
paid and when, the signals collections recorded count, and every customer is read in a
fixed number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import DAY
from django.utils import translation
from tests.support import events, last_seq

from salesledger.apps.credit.factors import factor_text, factor_texts
from salesledger.apps.credit.selectors import (
    limit_suggestions,
    payment_behaviours,
    risk_list,
    risk_scores,
)
from salesledger.apps.credit.services import (
    credit_limits_accept,
    credit_settings_set,
    signal_record,
)
from salesledger.apps.customers.models import Customer
from salesledger.domain.credit_risk import Factor, RiskScore
from salesledger.domain.errors import ValidationFailed


@pytest.fixture
def books(company, make_customer, customer, post_invoice, record_receipt, allocate_to):
    """C001 pays its 120.00 invoices 10 days early; C002 pays one 40 days late, the other
    on time; C003 has an invoice overdue on the day and never paid."""
    make_customer("C002", name="Late Payer")
    make_customer("C003", name="Silent")
    for code, paid_after in (("C001", 20), ("C001", 20), ("C002", 70), ("C002", 25)):
        inv = post_invoice(code)  # 120.00, due in 30 days
        rc = record_receipt(code, "120.00", DAY + timedelta(days=paid_after))
        allocate_to(rc.number, {inv.number: "120.00"}, DAY + timedelta(days=paid_after))
    post_invoice("C003")



AS_OF = DAY + timedelta(days=100)


def test_behaviour_is_amount_weighted_from_what_was_paid(company, books):
    by_code = {b: v for b, v in _by_code(company, payment_behaviours(company, AS_OF)).items()}
    early, late, silent = by_code["C001"], by_code["C002"], by_code["C003"]
    assert (early.payments, early.days_to_pay, early.days_late, early.share_late) == (
        2, 20.0, 0.0, 0.0)
    # 70 and 25 days after the invoice, due after 30: 40 days late on half the amount
    assert (late.days_to_pay, late.days_late, late.share_late) == (47.5, 20.0, 0.5)
    assert (silent.payments, silent.days_late, silent.overdue,
            silent.oldest_overdue_days) == (0, None, 12000, 70)
    # on the day before anything was paid, nobody has a history
    before = _by_code(company, payment_behaviours(company, DAY + timedelta(days=5)))
    assert {b.payments for b in before.values()} == {0}


def test_risk_ranks_late_payers_above_prompt_ones_with_factors_in_words(company, books):
    scores = _by_code(company, risk_scores(company, AS_OF))
    assert all(isinstance(s, RiskScore) for s in scores.values())
    assert scores["C001"].score < scores["C002"].score
    words = {code: factor_texts(s.factors) for code, s in scores.items()}
    assert scores["C001"].risk_class == "A" and words["C001"] == ["pays on time"]
    assert "pays 20 days late on average (amount-weighted)" in words["C002"]
    assert any("overdue now, the oldest by 70 days" in f for f in words["C003"])
    for s in scores.values():
        assert 0 <= s.score <= 100 and 0 < s.default_probability < 1
        # no payment model stored: the points of behaviour give the class (the model's
        # side: tests/db/test_payment_model_demo.py)
        assert s.basis == "behaviour"


def test_signals_from_collections_raise_the_risk(company, books, customer):
    before = risk_scores(company, AS_OF)[customer.pk]
    signal_record(company_id=company.pk, customer_id=customer.pk, kind="dispute_opened",
                  day=DAY + timedelta(days=50))
    for day in (60, 70):
        signal_record(company_id=company.pk, customer_id=customer.pk, kind="promise_broken",
                      day=DAY + timedelta(days=day), amount=12000, currency="EUR")
    after = risk_scores(company, AS_OF)[customer.pk]
    assert after.score == before.score + 3 + 10
    assert factor_texts(after.factors[:2]) == [
        "2 broken promises or payment plan in 12 months", "1 dispute in 12 months"]
    # signals after the day do not count on it
    assert factor_texts(risk_scores(company, DAY + timedelta(days=55))[customer.pk].factors
                        ).count("1 dispute in 12 months") == 1
    with pytest.raises(ValidationFailed, match="unknown credit signal"):
        signal_record(company_id=company.pk, customer_id=customer.pk, kind="rumour", day=DAY)


def test_risk_of_every_customer_is_read_in_a_fixed_number_of_queries(
        company, books, make_customer, post_invoice, django_assert_max_num_queries):
    # (one of them finds that no payment model is stored: the risk is the behaviour's; one
    # asks whether anything is dated after the day, for the open items of the whole company)
    with django_assert_max_num_queries(12):
        few = risk_list(company, AS_OF)
    for i in range(5):
        make_customer(f"M{i:03}")
        post_invoice(f"M{i:03}")
    with django_assert_max_num_queries(12):
        many = risk_list(company, AS_OF)
    assert len(many) == len(few) + 5
    assert {r["risk_class"] for r in many} <= {"A", "B", "C", "D"}


def test_thresholds_decide_the_class(company, owner, books):
    c2 = _by_code(company, risk_scores(company, AS_OF))["C002"]
    credit_settings_set(actor=owner, company=company, thresholds=(1, 2, c2.score))
    assert _by_code(company, risk_scores(company, AS_OF))["C002"].risk_class == "D"
    with pytest.raises(ValidationFailed, match="must rise"):
        credit_settings_set(actor=owner, company=company, thresholds=(50, 40, 60))


def _by_code(company, by_id):
    codes = dict(Customer.objects.filter(company=company).values_list("id", "code"))
    return {codes[k]: v for k, v in by_id.items()}


def test_a_suggested_limit_accepted_by_a_manager_is_set_and_audited(company, owner, books):
    [c001] = [s for s in limit_suggestions(company, AS_OF) if s["customer"] == "C001"]
    # C001 owed 240.00 at once at most (two invoices of the day), paid on time: class A
    assert (c001["peak_paid_on_time"], c001["risk_class"], c001["suggested"]) == (
        {"amount": "240.00", "currency": "EUR"}, "A", {"amount": "400.00", "currency": "EUR"})
    # C003 paid nothing: nothing to suggest
    assert "C003" not in {s["customer"] for s in limit_suggestions(company, AS_OF)}
    seq = last_seq(company)
    credit_limits_accept(actor=owner, company=company, codes=["C001"], as_of=AS_OF)
    assert Customer.objects.get(company=company, code="C001").credit_limit == 40000
    [ev] = events(company, seq)
    assert (ev.action, ev.data["after"]) == ("credit.limit_set",
                                             {"amount": "400.00", "currency": "EUR"})
    assert ev.data["reason"].startswith("suggested limit accepted: C001: peak 240.00 EUR")


def test_the_factors_are_codes_said_in_the_readers_language():
    factors = [Factor("days_late", days=12.5), Factor("share_late", share=0.4),
               Factor("overdue", days=46, share=0.25), Factor("disputes", count=1),
               Factor("broken_promises", count=2), Factor("model", share=0.03),
               Factor("no_history"), Factor("on_time"), Factor("worsening")]
    with translation.override("en"):  # the command line's language
        english = factor_texts(factors)
    assert english == [
        "pays 12.5 days late on average (amount-weighted)", "40% of the amount paid was late",
        "overdue now, the oldest by 46 days (25% of what it owes)", "1 dispute in 12 months",
        "2 broken promises or payment plan in 12 months",
        "the payment model gives a 3% chance that what it owes now ends more than 90 days "
        "late or written off", "no payment history yet", "pays on time",
        "paying later in the last 3 months than over 12 months"]
    with translation.override("fr"):
        assert factor_texts(factors) == [
            "paie en moyenne 12,5 jours en retard (moyenne pondérée par les montants)",
            "40 % du montant payé l'a été en retard",
            "en retard aujourd'hui, le plus ancien de 46 jours (25 % de ce qu'il doit)",
            "1 litige en 12 mois", "2 promesses ou plans de paiement non tenus en 12 mois",
            "le modèle de paiement donne 3 % de chances que ce qu'il doit aujourd'hui finisse "
            "à plus de 90 jours de retard ou passé en perte", "pas encore d'historique de "
            "paiement", "paie à l'échéance",
            "paie plus tard sur les 3 derniers mois que sur 12 mois"]
    # a code no interface knows yet is shown as itself, never an error
    assert factor_text(Factor("new_code")) == "new_code"
