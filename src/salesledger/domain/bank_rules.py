"""Bank rules: what the user knows about their own statements, written down once
(docs/design/cash-application.md). A rule has conditions — a pattern searched in the line's
text, reference and counterparty name; the counterparty (an IBAN, or part of the name); an
amount range; money in or out — and one action: the payer is this customer (matching then
looks at that customer's open invoices), or the line is posted to a counterpart account (bank
charges, interest, other movements), so that lines that are not customer payments reconcile
too. Rules are tried in their order; the first whose conditions all hold decides. Pure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from .errors import ValidationFailed
from .journal import AccountRole, Line

DIRECTIONS = ("in", "out", "any")
ACTIONS = ("customer", "account")
# The accounts a rule may post a line to: never a control account (receivables, unapplied
# cash), which only their own services write.
POSTABLE = (AccountRole.BANK_CHARGES, AccountRole.BANK_SUSPENSE, AccountRole.INTEREST,
            AccountRole.FEES)


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: str = ""  # a regular expression, case-insensitive
    counterparty: str = ""  # an IBAN (compact, upper case) or part of the name
    amount_min: int | None = None  # minor units, of the line's absolute amount
    amount_max: int | None = None
    direction: str = "any"
    action: str = "customer"
    target: str = ""  # a customer code or an account role


@dataclass(frozen=True)
class Facts:
    """What a rule looks at in a statement line."""

    amount: int
    text: str  # the line's text, creditor reference and end-to-end id
    name: str
    iban: str


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _compact(text: str) -> str:
    return re.sub(r"\s", "", text).upper()


def check_rule(rule: Rule) -> Rule:
    """A rule as it is kept: its pattern compiles, its range is a range, it has a condition
    and an action with a target; the counterparty compacted when it is an IBAN."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,39}", rule.name):
        raise ValidationFailed(f"rule name {rule.name!r}: one word of lower-case letters, "
                               "digits, - and _ (at most 40)", field="name")
    if rule.pattern:
        try:
            _compiled(rule.pattern)
        except re.error as e:
            raise ValidationFailed(f"--text {rule.pattern!r} is not a regular expression: {e}",
                                   field="text") from None
    if rule.direction not in DIRECTIONS:
        raise ValidationFailed(f"direction {rule.direction!r}: use one of "
                               f"{', '.join(DIRECTIONS)}", field="direction")
    if rule.action not in ACTIONS:
        raise ValidationFailed(f"action {rule.action!r}: use one of {', '.join(ACTIONS)}",
                               field="action")
    for value in (rule.amount_min, rule.amount_max):
        if value is not None and value < 0:
            raise ValidationFailed("amounts of a rule are sizes, not signed: use --direction",
                                   field="amount")
    if rule.amount_min is not None and rule.amount_max is not None \
            and rule.amount_min > rule.amount_max:
        raise ValidationFailed("--amount-min is more than --amount-max", field="amount")
    if not (rule.pattern or rule.counterparty or rule.amount_min is not None
            or rule.amount_max is not None or rule.direction != "any"):
        raise ValidationFailed("a rule needs a condition: --text, --counterparty, an amount "
                               "range or a direction", field="rule")
    if not rule.target:
        raise ValidationFailed("a rule needs what it does: --customer CODE or --account ROLE",
                               field="action")
    if rule.action == "customer" and rule.direction == "out":
        raise ValidationFailed("a customer's payment is money in: a rule naming the payer "
                               "cannot be for money out", field="direction")
    if rule.action == "account" and rule.target not in {r.value for r in POSTABLE}:
        raise ValidationFailed(f"a rule posts to one of {', '.join(r.value for r in POSTABLE)}"
                               f", not {rule.target!r}", field="account")
    counterparty = rule.counterparty.strip()
    if re.fullmatch(r"[A-Za-z]{2}\d{2}[A-Za-z0-9 ]{8,40}", counterparty):
        counterparty = _compact(counterparty)
    return Rule(rule.name, rule.pattern, counterparty, rule.amount_min, rule.amount_max,
                rule.direction, rule.action, rule.target)


def holds(rule: Rule, facts: Facts) -> bool:
    """Whether every condition of ``rule`` holds for the line."""
    if rule.direction == "in" and facts.amount <= 0:
        return False
    if rule.direction == "out" and facts.amount >= 0:
        return False
    size = abs(facts.amount)
    if rule.amount_min is not None and size < rule.amount_min:
        return False
    if rule.amount_max is not None and size > rule.amount_max:
        return False
    if rule.counterparty:
        cp = rule.counterparty
        if _compact(facts.iban) != cp and cp.lower() not in facts.name.lower():
            return False
    if rule.pattern:
        haystack = " ".join((facts.text, facts.name))
        if not _compiled(rule.pattern).search(haystack):
            return False
    return True


def first_rule(rules: Sequence[Rule], facts: Facts) -> Rule | None:
    """The rule that decides a line: the first, in order, whose conditions hold."""
    return next((r for r in rules if holds(r, facts)), None)


def posting_lines(amount: int, currency: str, role: AccountRole) -> list[Line]:
    """The entry of a line posted to ``role``: money in Dr bank / Cr the account, money out
    the other way round (amounts in the company's currency, which the line is in)."""
    return [Line(AccountRole.BANK, amount, amount, currency),
            Line(role, -amount, -amount, currency)]

