"""Bank rules, pure: what makes a rule valid, when its conditions hold, which rule decides."""

from __future__ import annotations

import pytest

from salesledger.domain.bank_rules import Facts, Rule, check_rule, first_rule, holds
from salesledger.domain.errors import ValidationFailed

FEE = Facts(-1250, "Frais de tenue de compte", "Our Bank", "")
PAYMENT = Facts(12000, "Invoice INV2025-00001", "ACME Holding SA", "DE89 3704 0044 0532 0130 00")


def rule(**kw):
    kw.setdefault("name", "r")
    kw.setdefault("action", "account")
    kw.setdefault("target", "bank_charges")
    return check_rule(Rule(**kw))


def test_each_condition_must_hold():
    fees = rule(pattern=r"frais|fee", direction="out", amount_max=5000)
    assert holds(fees, FEE)
    assert not holds(fees, PAYMENT)
    assert not holds(rule(pattern="frais", amount_min=2000), FEE)
    assert holds(rule(counterparty="de89370400440532013000", direction="in", action="customer",
                      target="ACME"), PAYMENT)
    assert holds(rule(counterparty="holding", action="customer", target="ACME"), PAYMENT)
    assert not holds(rule(counterparty="globex", action="customer", target="G"), PAYMENT)


def test_the_first_rule_that_holds_decides():
    rules = [rule(name="big", amount_min=100000), rule(name="fees", pattern="frais"),
             rule(name="any-out", direction="out", target="bank_suspense")]
    assert first_rule(rules, FEE).name == "fees"
    assert first_rule(rules, PAYMENT) is None


def test_an_iban_condition_is_kept_compact():
    assert rule(counterparty="de89 3704 0044 0532 0130 00").counterparty == \
        "DE89370400440532013000"


@pytest.mark.parametrize(("kw", "message"), [
    ({"name": "Bank Fees"}, "one word"),
    ({"pattern": "(unclosed"}, "not a regular expression"),
    ({"pattern": "x", "direction": "sideways"}, "direction"),
    ({}, "needs a condition"),
    ({"pattern": "x", "amount_min": 10, "amount_max": 5}, "more than"),
    ({"pattern": "x", "amount_min": -5}, "sizes"),
    ({"pattern": "x", "target": "receivable"}, "posts to one of"),
    ({"pattern": "x", "action": "customer", "target": "ACME", "direction": "out"},
     "money in"),
    ({"pattern": "x", "target": ""}, "what it does"),
])
def test_a_rule_that_cannot_work_is_refused(kw, message):
    with pytest.raises(ValidationFailed, match=message):
        rule(**kw)
