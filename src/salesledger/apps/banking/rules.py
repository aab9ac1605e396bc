"""Bank rules (docs/design/cash-application.md): the user's own rules for statement lines,
kept and applied. The conditions and the choice of the rule that decides a line are the pure
``domain.bank_rules``; here they are kept (``BankRule``), and a line a rule sends to a
counterpart account is posted there (a journal entry between the bank account's ledger
account and that account), so that the lines that are not customer payments reconcile too.
The only writer of ``BankRule``, and of the entries of posted lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Max

from salesledger.apps.core.actors import Actor
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import check_open_period, require_role
from salesledger.apps.customers.models import Customer
from salesledger.apps.ledger.models import Account
from salesledger.apps.ledger.selectors import entry_lines
from salesledger.apps.ledger.services import accounts_by_role, journal_write
from salesledger.domain.amounts import amount_minor
from salesledger.domain.bank_rules import Facts, Rule, check_rule, first_rule, posting_lines
from salesledger.domain.errors import NotFound, ValidationFailed
from salesledger.domain.journal import AccountRole, negate

from .locks import line_match_to_apply
from .models import BankRule, LineMatch, LineStatus, StatementLine


@dataclass(frozen=True)
class RuleRow:
    rule: Rule
    position: int
    customer_id: int | None
    account: str  # the code and name of the account posted to, for display


def _minor(company: Company, amount: Decimal | None) -> int | None:
    return None if amount is None else amount_minor(amount, company.base_currency,
                                                    field="amount")


def bank_rule_add(*, actor: Actor, company: Company, name: str, pattern: str = "",
                  counterparty: str = "", amount_min: Decimal | None = None,
                  amount_max: Decimal | None = None, direction: str = "any",
                  customer: str = "", account: str = "", position: int | None = None
                  ) -> RuleRow:
    """Keep a rule (after the others, or at ``position``): the payer is ``customer``, or
    the line is posted to the account of role ``account``. Amounts are sizes in the
    company's currency. Lines set aside as "not a customer payment" are matched again at the
    next ``bank match``, so that the rule reaches them. Manager; audited."""
    require_role(company, actor, Role.MANAGER)
    if bool(customer) == bool(account):
        raise ValidationFailed("a rule does one thing: --customer CODE or --account ROLE",
                               field="action")
    rule = check_rule(Rule(name.strip(), pattern, counterparty, _minor(company, amount_min),
                           _minor(company, amount_max), direction,
                           "customer" if customer else "account", customer or account))
    customer_id = None
    if customer:
        customer_id = Customer.objects.filter(company=company, code=customer).values_list(
            "id", flat=True).first()
        if customer_id is None:
            raise NotFound(f"no customer {customer!r}", field="customer")
    with transaction.atomic():
        if BankRule.objects.filter(company=company, name=rule.name).exists():
            raise ValidationFailed(f"there is a rule {rule.name!r} already", field="name")
        last = BankRule.objects.filter(company=company).aggregate(m=Max("position"))["m"] or 0
        if position is None or position > last:
            position = last + 1
        elif position < 1:
            raise ValidationFailed("--position counts from 1", field="position")
        else:
            for r in BankRule.objects.select_for_update().filter(
                    company=company, position__gte=position).order_by("-position"):
                r.position += 1
                r.save(update_fields=["position"])
        BankRule.objects.create(
            company=company, name=rule.name, position=position, pattern=rule.pattern,
            counterparty=rule.counterparty, amount_min=rule.amount_min,
            amount_max=rule.amount_max, direction=rule.direction, action=rule.action,
            customer_id=customer_id, account_role=account)
        again = LineMatch.objects.filter(company=company, status=LineStatus.OTHER).delete()[0]
        audit(company, actor, "bank_rule.add", "bank_rule", rule.name, position=position,
              pattern=rule.pattern, counterparty=rule.counterparty,
              amount_min=rule.amount_min, amount_max=rule.amount_max,
              direction=rule.direction, does=rule.action, target=rule.target,
              lines_to_match_again=again)
    return next(r for r in bank_rules(company) if r.rule.name == rule.name)


def bank_rule_remove(*, actor: Actor, company: Company, name: str) -> None:
    """Drop a rule; the lines it decided stay as they are. Manager; audited."""
    require_role(company, actor, Role.MANAGER)
    with transaction.atomic():
        row = BankRule.objects.select_for_update().filter(company=company, name=name).first()
        if row is None:
            raise NotFound(f"no rule {name!r}", field="name")
        row.delete()
        for n, r in enumerate(BankRule.objects.filter(company=company).order_by("position"),
                              start=1):
            if r.position != n:
                r.position = n
                r.save(update_fields=["position"])
        audit(company, actor, "bank_rule.remove", "bank_rule", name)


def bank_rules(company: Company) -> list[RuleRow]:
    """The company's rules, in the order they are tried."""
    accounts = {a.role: f"{a.code} {a.name}" for a in Account.objects.filter(company=company)
                .exclude(role=AccountRole.BANK.value)}
    codes = dict(Customer.objects.filter(
        company=company, pk__in=BankRule.objects.filter(company=company, customer__isnull=False)
        .values("customer_id")).values_list("id", "code"))
    return [RuleRow(Rule(r.name, r.pattern, r.counterparty, r.amount_min, r.amount_max,
                         r.direction, r.action,
                         codes.get(r.customer_id or 0, "") if r.action == "customer"
                         else r.account_role),
                    r.position, r.customer_id, accounts.get(r.account_role, ""))
            for r in BankRule.objects.filter(company=company).order_by("position")]


def facts_of(line: StatementLine) -> Facts:
    return Facts(line.amount, " ".join(p for p in (line.text, line.creditor_reference,
                                                    line.end_to_end_id) if p),
                 line.counterparty_name, line.counterparty_iban)


def rules_for(company: Company, rows: Sequence[StatementLine]
              ) -> dict[int, RuleRow]:
    """The rule that decides each line it holds for."""
    rows_rules = bank_rules(company)
    if not rows_rules:
        return {}
    by_name = {r.rule.name: r for r in rows_rules}
    out = {}
    for row in rows:
        found = first_rule([r.rule for r in rows_rules], facts_of(row))
        if found is not None:
            out[row.pk] = by_name[found.name]
    return out


def post_line(*, company: Company, actor: Actor, line: StatementLine, rule: RuleRow,
              decided_by: str) -> str:
    """Post ``line`` to the account ``rule`` names, on its booking date, and mark it
    applied with that entry, in one transaction. Returns the account posted to."""
    if line.currency != company.base_currency:
        raise ValidationFailed(f"statement line {line.pk} is in {line.currency}: a rule posts "
                               f"lines in {company.base_currency} only", field="line")
    check_open_period(company, line.booking_date)
    role = AccountRole(rule.rule.target)
    with transaction.atomic():
        m = line_match_to_apply(company, line)
        accounts = accounts_by_role(company)
        accounts[AccountRole.BANK.value] = Account.objects.get(
            bank_account__pk=line.bank_account_id)
        entry = journal_write(
            company=company, day=line.booking_date, kind="bank_line", actor=actor,
            source_type="bank_line", source_id=line.pk, accounts=accounts,
            memo=f"statement line {line.pk}: rule {rule.rule.name}",
            lines=posting_lines(line.amount, line.currency, role))
        evidence = [f"bank rule {rule.rule.name}: posted to {rule.account}"]
        m.status, m.entry, m.receipt_id, m.customer_id = LineStatus.APPLIED, entry, None, None
        m.confidence, m.evidence, m.suggestions = 1.0, evidence, []
        m.decided_by = "rule"
        m.save()
        audit(company, actor, "bank_line.post", "bank_line", line.pk, rule=rule.rule.name,
              account=rule.account, entry=entry.pk, decided_by=decided_by)
    return rule.account


def unpost_line(*, company: Company, actor: Actor, m: LineMatch, day: date) -> None:
    """Undo a posted line: its entry reversed (a negating entry on ``day``), the line
    unmatched. Called by ``bank unmatch`` inside its transaction."""
    assert m.entry_id is not None
    check_open_period(company, day)
    accounts = accounts_by_role(company)
    accounts[AccountRole.BANK.value] = Account.objects.get(
        bank_account__pk=m.line.bank_account_id)
    journal_write(company=company, day=max(day, m.line.booking_date), kind="bank_line",
                  actor=actor, source_type="bank_line", source_id=m.line_id,
                  accounts=accounts, memo=f"statement line {m.line_id} unmatched",
                  lines=negate(entry_lines(m.entry_id)))
    audit(company, actor, "bank_line.unpost", "bank_line", m.line_id, entry=m.entry_id)
    m.status, m.entry, m.confidence, m.decided_by = LineStatus.UNMATCHED, None, None, ""
    m.evidence, m.suggestions = ["unmatched: its posting reversed"], []
    m.save()
