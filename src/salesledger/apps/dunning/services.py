"""Writers of dunning settings: policies and their levels, which customer follows which, the
reference rates and the late-payment interest rules (docs/design/dunning.md). The run itself is
in ``run.py``. Each writer checks with the pure rules of ``domain/dunning.py`` and audits in
its transaction."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction

from salesledger.apps.core.actors import Actor
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import require_role
from salesledger.apps.customers.selectors import customer_get
from salesledger.apps.documents.labels import LANGUAGES
from salesledger.apps.documents.services import message_template_set, template_name
from salesledger.domain.countries import check_country
from salesledger.domain.dunning import Level, check_levels, level_names
from salesledger.domain.dunning_policy import check_policy_edit
from salesledger.domain.errors import DuplicateCode, NotFound, ValidationFailed

from .models import DunningLevel, DunningPolicy, InterestRule, PolicyAssignment, ReferenceRate
from .selectors import level_json, reminded_levels
from .selectors import level_of_row as _level_row
from .tasks import dunning_run_task, statement_run_task


def policy_add(*, actor: Actor, company: Company, code: str, levels: list[Level], name: str = "",
               min_amount: int = 0, default: bool = False) -> DunningPolicy:
    """Add a policy with its levels (numbered in order of their days); ``default`` makes it
    the company's default, in place of the one before."""
    require_role(company, actor, Role.MANAGER)
    code = code.strip()
    if not code:
        raise ValidationFailed("a policy needs a code", field="code")
    if min_amount < 0:
        raise ValidationFailed("the minimum amount cannot be negative", field="min_amount")
    checked = check_levels(levels)
    with transaction.atomic():
        if DunningPolicy.objects.filter(company=company, code=code).exists():
            raise DuplicateCode(f"there is already a dunning policy {code}", code=code)
        if default:
            DunningPolicy.objects.filter(company=company, is_default=True).update(
                is_default=False)
        policy = DunningPolicy.objects.create(company=company, code=code, name=name,
                                              min_amount=min_amount, is_default=default)
        _write_levels(company, policy, checked)
        audit(company, actor, "dunning.policy_add", "dunning_policy", policy.pk, code=code,
              default=default, min_amount=str(min_amount),
              levels=[level_json(lv) for lv in checked])
    return policy


def _write_levels(company: Company, policy: DunningPolicy, levels: tuple[Level, ...]) -> None:
    DunningLevel.objects.bulk_create(
        DunningLevel(company=company, policy=policy, number=lv.number, days=lv.days,
                     name=lv.name, channels=",".join(lv.channels), fee_fixed=lv.fee_fixed,
                     fee_percent=lv.fee_percent, interest=lv.interest, hold=lv.hold,
                     agency=lv.agency, template=lv.template, names=dict(lv.names))
        for lv in levels)


def policy_edit(*, actor: Actor, company: Company, code: str, levels: list[Level],
                name: str | None = None, min_amount: int | None = None,
                default: bool = False) -> DunningPolicy:
    """Change a policy: its name, its minimum and its levels (``levels``: the whole list
    wanted, each with the number of the level it edits, or 0 for a level added). A level
    customers have been reminded at keeps its number (``domain/dunning_policy.py``): so the
    items reminded at it are never reminded or charged again. The next run follows the
    levels as they are now. ``default`` makes it the company's default, in place of the one
    before. Audited with the levels before and after."""
    require_role(company, actor, Role.MANAGER)
    if min_amount is not None and min_amount < 0:
        raise ValidationFailed("the minimum amount cannot be negative", field="min_amount")
    with transaction.atomic():
        policy = (DunningPolicy.objects.select_for_update()
                  .filter(company=company, code=code).first())
        if policy is None:
            raise NotFound(f"no dunning policy {code}", policy=code)
        before = [_level_row(row) for row in policy.levels.order_by("number")]
        # a level edited keeps its names in other languages unless the edit gives them
        kept = {lv.number: lv.names for lv in before}
        levels = [lv if lv.names or not lv.number else replace(lv, names=kept.get(lv.number, ()))
                  for lv in levels]
        checked = check_policy_edit(before, levels, reminded_levels(company, policy.pk))
        changed: dict[str, Any] = {}
        if name is not None and name.strip() != policy.name:
            changed["name"] = [policy.name, name.strip()]
            policy.name = name.strip()
        if min_amount is not None and min_amount != policy.min_amount:
            changed["min_amount"] = [str(policy.min_amount), str(min_amount)]
            policy.min_amount = min_amount
        if default and not policy.is_default:
            DunningPolicy.objects.filter(company=company, is_default=True).update(
                is_default=False)
            policy.is_default = changed["default"] = True
        policy.save(update_fields=["name", "min_amount", "is_default"])
        DunningLevel.objects.filter(policy=policy).delete()
        _write_levels(company, policy, checked)
        audit(company, actor, "dunning.policy_edit", "dunning_policy", policy.pk, code=code,
              **changed, levels_before=[level_json(lv) for lv in before],
              levels_after=[level_json(lv) for lv in checked])
    return policy


def _level_locked(company: Company, code: str, number: int
                  ) -> tuple[DunningPolicy, DunningLevel]:
    """Policy ``code`` and its level ``number``, the level locked for the caller's
    transaction; refused with NotFound when the policy has no such level."""
    policy = _policy(company, code)
    level = (DunningLevel.objects.select_for_update()
             .filter(policy=policy, number=number).first())
    if level is None:
        raise NotFound(f"dunning policy {code} has no level {number}", policy=code,
                       level=number)
    return policy, level


def level_text_set(*, actor: Actor, company: Company, code: str, number: int, language: str,
                   subject: str, body: str, template: str = "") -> str:
    """Write the text level ``number`` of policy ``code`` sends in ``language`` ("" for every
    language): a version of the level's named ``reminder`` text (the documents app's
    templates, checked as every e-mail text is). ``template`` names the text (the level then
    sends it); a level that names none is given ``CODE-N``. Returns the text's name. The
    customer's language picks the version; the company's language is the fallback
    (``documents.selectors.named_message_texts``)."""
    require_role(company, actor, Role.MANAGER)
    with transaction.atomic():
        policy, level = _level_locked(company, code, number)
        name = template_name(template or level.template or f"{policy.code}-{number}")
        if name != level.template:
            audit(company, actor, "dunning.level_template", "dunning_policy", policy.pk,
                  code=policy.code, level=number, before=level.template, after=name)
            level.template = name
            level.save(update_fields=["template"])
        message_template_set(actor=actor, company=company, kind="reminder", name=name,
                             language=language, subject=subject, body=body)
    return name


def level_name_set(*, actor: Actor, company: Company, code: str, number: int, language: str,
                   name: str) -> dict[str, str]:
    """The name level ``number`` of policy ``code`` has in ``language``: the heading of its
    items and ``{level}`` in a message written in that language (blank: the level's own
    name is read). Returns the level's names per language. Audited."""
    require_role(company, actor, Role.MANAGER)
    if language not in LANGUAGES:
        raise ValidationFailed(f"{language!r} is not a language of the documents: "
                               + ", ".join(LANGUAGES), field="language")
    with transaction.atomic():
        policy, level = _level_locked(company, code, number)
        before = dict(level.names or {})
        after = dict(level_names({**before, language: name}))
        if after != before:
            level.names = after
            level.save(update_fields=["names"])
            audit(company, actor, "dunning.level_name", "dunning_policy", policy.pk,
                  code=policy.code, level=number, language=language,
                  before=before.get(language, ""), after=after.get(language, ""))
    return after


def _policy(company: Company, code: str) -> DunningPolicy:
    policy = DunningPolicy.objects.filter(company=company, code=code).first()
    if policy is None:
        raise NotFound(f"no dunning policy {code}", policy=code)
    return policy


def policy_assign(*, actor: Actor, company: Company, policy_code: str,
                  customer_code: str = "", default: bool = False, clear: bool = False
                  ) -> str:
    """Make a policy the company's default, or a customer's own (and so its group's, for the
    customers whose parent it is); ``clear`` removes a customer's own policy."""
    require_role(company, actor, Role.MANAGER)
    with transaction.atomic():
        if clear:
            customer = customer_get(company, customer_code)
            PolicyAssignment.objects.filter(company=company, customer=customer).delete()
            audit(company, actor, "dunning.policy_clear", "customer", customer.pk)
            return f"{customer.code} follows its group's or the company's default policy"
        policy = _policy(company, policy_code)
        if default:
            DunningPolicy.objects.filter(company=company, is_default=True).update(
                is_default=False)
            DunningPolicy.objects.filter(pk=policy.pk).update(is_default=True)
            audit(company, actor, "dunning.policy_default", "dunning_policy", policy.pk)
            return f"{policy.code} is the company's default policy"
        customer = customer_get(company, customer_code)
        PolicyAssignment.objects.update_or_create(company=company, customer=customer,
                                                  defaults={"policy": policy})
        audit(company, actor, "dunning.policy_assign", "customer", customer.pk,
              policy=policy.code)
        return f"{customer.code} (and its group) follows {policy.code}"


def dunning_run_queue(*, actor: Actor, company: Company, as_of: date) -> str:
    """Queue the run of ``as_of`` for the worker, as ``actor`` (the workspace's *Send*: the
    run writes, charges and sends as ``dunning run --send`` does); returns the task's id. The
    role is checked now, and again by the run."""
    require_role(company, actor, Role.CLERK)
    result = dunning_run_task.enqueue(company=company.code, as_of=as_of.isoformat(),
                                      username=actor.get_username() if actor else "")
    return str(result.id)


def statement_run_queue(*, actor: Actor, company: Company, as_of: date, send: bool) -> str:
    """Queue the statement run of ``as_of`` for the worker, as ``actor`` (the workspace's
    *Preview* and *Send*: ``statement_run`` without and with ``send``); returns the task's
    id. The role is checked now, and again by the run."""
    require_role(company, actor, Role.CLERK)
    result = statement_run_task.enqueue(company=company.code, as_of=as_of.isoformat(),
                                        username=actor.get_username() if actor else "",
                                        send=send)
    return str(result.id)


# ---------------------------------------------------------------- rates and interest
def parse_percent(text: str, what: str) -> Decimal:
    try:
        value = Decimal(str(text).strip().rstrip("%"))
    except InvalidOperation:
        raise ValidationFailed(f"{what}: {text!r} is not a percentage", field=what) from None
    if not value.is_finite() or not Decimal(-100) < value < Decimal(100):
        raise ValidationFailed(f"{what}: {text!r} is not a percentage", field=what)
    return value


@dataclass(frozen=True)
class RateRow:
    valid_from: date
    percent: Decimal
    source: str = ""


def rates_add(*, actor: Actor, company: Company, rows: list[RateRow]) -> int:
    """Add reference rates; a day that already has one is refused (rates are history: a wrong
    one is corrected by hand in the table, never silently replaced)."""
    require_role(company, actor, Role.MANAGER)
    days = [r.valid_from for r in rows]
    if len(set(days)) != len(days):
        raise ValidationFailed("a day is given twice", field="valid_from")
    try:
        with transaction.atomic():
            ReferenceRate.objects.bulk_create(
                ReferenceRate(company=company, valid_from=r.valid_from, percent=r.percent,
                              source=r.source[:60]) for r in rows)
            audit(company, actor, "dunning.rates_add", "company", company.pk,
                  rates=[[r.valid_from.isoformat(), str(r.percent)] for r in rows])
    except IntegrityError:
        taken = sorted(ReferenceRate.objects.filter(company=company, valid_from__in=days)
                       .values_list("valid_from", flat=True))
        raise ValidationFailed("there is already a reference rate from "
                               + ", ".join(d.isoformat() for d in taken),
                               field="valid_from") from None
    return len(rows)


def rates_read_csv(text: str) -> list[RateRow]:
    """``valid_from,percent[,source]`` rows with a header line; every bad line is reported."""
    # A spreadsheet saves its CSV with a byte order mark: the header is read without it.
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    if not reader.fieldnames or not {"valid_from", "percent"} <= set(reader.fieldnames):
        raise ValidationFailed("the rate file needs a header with valid_from and percent "
                               "(and optionally source)", field="file")
    rows, problems = [], []
    for n, row in enumerate(reader, start=2):
        try:
            day = date.fromisoformat((row.get("valid_from") or "").strip())
            rows.append(RateRow(day, parse_percent(row.get("percent") or "", "percent"),
                                (row.get("source") or "").strip()))
        except (ValueError, ValidationFailed) as exc:
            problems.append(f"line {n}: {getattr(exc, 'message', exc)}")
    if problems:
        raise ValidationFailed("the rate file has errors: " + "; ".join(problems),
                               field="file")
    if not rows:
        raise ValidationFailed("the rate file has no rates", field="file")
    return rows


def interest_rule_set(*, actor: Actor, company: Company, country: str, margin: Decimal,
                      compensation: int, compensation_currency: str,
                      fee_vat_rate: Decimal | None = None) -> InterestRule:
    """Set the late-payment interest of the customers in ``country`` ("" for every other),
    and whether the levels' fees bear VAT for them (``fee_vat_rate``, percent; None: not
    subject, the default: docs/design/dunning.md, "VAT")."""
    require_role(company, actor, Role.MANAGER)
    country = check_country(country)
    if compensation < 0:
        raise ValidationFailed("the compensation cannot be negative", field="compensation")
    if fee_vat_rate is not None and not Decimal(0) < fee_vat_rate < Decimal(100):
        raise ValidationFailed("a fee's VAT rate is a percentage over 0 and under 100",
                               field="fee_vat")
    # "20", never "2E+1" (what normalize() alone gives a whole number of tens)
    vat = "" if fee_vat_rate is None else format(fee_vat_rate.normalize(), "f")
    with transaction.atomic():
        rule, _ = InterestRule.objects.update_or_create(
            company=company, country=country.upper(),
            defaults={"margin": margin, "compensation": compensation,
                      "compensation_currency": compensation_currency.upper(),
                      "fee_vat_rate": vat})
        audit(company, actor, "dunning.interest_set", "interest_rule", rule.pk,
              country=country.upper() or "*", margin=str(margin),
              compensation=str(compensation), currency=compensation_currency.upper(),
              fee_vat=vat or None)
    return rule
