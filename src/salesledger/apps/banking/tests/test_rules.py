"""Bank rules through the services: a line that is not a customer payment posted to its
account (and the statement then reconciles), a payer named by a rule, the lines set aside
matched again when a rule is added, a posting undone by unmatch."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from salesledger.apps.banking.matching import bank_confirm, bank_match, bank_unmatch
from salesledger.apps.banking.models import LineMatch
from salesledger.apps.banking.reconciliation import reconciliation
from salesledger.apps.banking.rules import bank_rule_add, bank_rule_remove, bank_rules
from salesledger.apps.banking.services import statement_import
from salesledger.apps.banking.tests.test_matching import books as match_books  # noqa: F401
from salesledger.apps.banking.tests.test_returns import statement
from salesledger.apps.core.services import user_add
from salesledger.apps.invoicing.tests.books import ledger_problems, make_owner
from salesledger.apps.ledger.models import JournalLine
from salesledger.apps.payments.models import Allocation
from salesledger.domain.errors import PermissionDenied

pytestmark = pytest.mark.django_db(transaction=False)


def on(code: str) -> int:
    return sum(JournalLine.objects.filter(account__code=code).values_list("amount", flat=True))


def fees_rule(b: dict[str, Any]) -> None:
    bank_rule_add(actor=b["owner"], company=b["company"], name="bank-fees",
                  pattern=r"fees|frais", direction="out", amount_max=Decimal("100"),
                  account="bank_charges")


def test_a_fee_line_is_posted_and_the_statement_reconciles(match_books):  # noqa: F811
    b = match_books
    fees_rule(b)
    statement_import(actor=b["owner"], company=b["company"], data=statement([
        ("250315", "D12,50", "", "Our bank", "Account fees March"),
        ("250316", "D900,00", "", "Landlord", "rent")]))
    fee, rent = bank_match(actor=b["owner"], company=b["company"], auto_apply=True)
    assert fee.decision == "applied" and "bank rule bank-fees" in fee.evidence[0]
    assert rent.decision == "other"
    assert (on("6270"), on("1200")) == (1250, -1250)
    r = reconciliation(b["company"], as_of=date(2025, 3, 31))
    assert [i.amount for i in r.on_statement_not_in_books] == [-90000]
    assert r.in_books_not_on_statement == [] and r.unexplained == 0
    assert bank_unmatch(actor=b["owner"], company=b["company"], line_id=fee.line.pk,
                        day=date(2025, 3, 31)) == ""
    assert (on("6270"), on("1200")) == (0, 0)
    assert reconciliation(b["company"], as_of=date(2025, 3, 31)).unexplained == 0
    assert ledger_problems(b["company"]) == []


def test_adding_a_rule_matches_the_lines_set_aside_again_and_confirm_posts(
        match_books):  # noqa: F811
    b = match_books
    statement_import(actor=b["owner"], company=b["company"], data=statement([
        ("250315", "D7,00", "", "Our bank", "frais SEPA")]))
    [first] = bank_match(actor=b["owner"], company=b["company"])
    assert first.decision == "other"
    fees_rule(b)
    assert not LineMatch.objects.filter(status="other").exists()
    [again] = bank_match(actor=b["owner"], company=b["company"])
    assert again.decision == "suggested"
    assert bank_confirm(actor=b["owner"], company=b["company"],
                        line_id=again.line.pk) == "6270 Bank charges"
    assert on("6270") == 700


def test_a_rule_names_the_payer(match_books):  # noqa: F811
    b = match_books
    a2 = b["inv"]["a2"]
    statement_import(actor=b["owner"], company=b["company"], data=statement([
        ("250315", "C250,00", "", "Holding Europe SA", "payment March")]))
    [before] = bank_match(actor=b["owner"], company=b["company"], dry_run=True)
    # nothing names the payer: the one open invoice of that amount, suggested, never applied
    assert before.decision == "suggested" and before.suggestions[0].confidence < 0.5
    assert before.suggestions[0].allocations == ((a2.number, 25000),)
    bank_rule_add(actor=b["owner"], company=b["company"], name="acme-parent",
                  counterparty="holding europe", direction="in", customer="ACME")
    [r] = bank_match(actor=b["owner"], company=b["company"], auto_apply=True)
    assert r.decision == "applied" and "bank rule acme-parent names the payer" in r.evidence
    assert dict(Allocation.objects.values_list("instalment__invoice__number", "amount")) == {
        a2.number: 25000}


def test_rules_keep_their_order_and_only_a_manager_writes_them(
        match_books, django_user_model):  # noqa: F811
    b = match_books
    fees_rule(b)
    bank_rule_add(actor=b["owner"], company=b["company"], name="first", direction="out",
                  account="bank_suspense", position=1)
    assert [(r.position, r.rule.name) for r in bank_rules(b["company"])] == [
        (1, "first"), (2, "bank-fees")]
    bank_rule_remove(actor=b["owner"], company=b["company"], name="first")
    assert [(r.position, r.rule.name) for r in bank_rules(b["company"])] == [(1, "bank-fees")]
    user_add(actor=b["owner"], company=b["company"], username="clara", role="clerk")
    clara = django_user_model.objects.get(username="clara")
    with pytest.raises(PermissionDenied):
        bank_rule_add(actor=clara, company=b["company"], name="x", direction="out",
                      account="bank_suspense")
    assert make_owner is not None
