"""The company's settlement settings: the write-off tolerance (an amount in the base currency
and a percentage of the invoice) and how early-payment discounts are taxed
(docs/design/adjustments.md); with VAT on debits, the company's tax settings, changed together
in one transaction (``tax_settings_set``: the tax settings page and ``adjustment settings``)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from salesledger.apps.core.actors import Actor
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import company_profile_update, require_role
from salesledger.domain.adjustments import (
    DiscountTaxPolicy,
    Tolerance,
    parse_tax_policy,
)
from salesledger.domain.amounts import amount_minor

from .writer import amount_text


@dataclass(frozen=True)
class SettlementSettings:
    tolerance: Tolerance
    discount_tax_policy: DiscountTaxPolicy


def settlement_settings(company: Company) -> SettlementSettings:
    """The company's settlement settings as stored now (not as the caller's copy has them)."""
    row = (Company.objects.filter(pk=company.pk)
           .values("writeoff_tolerance_amount", "writeoff_tolerance_percent",
                   "discount_tax_policy").get())
    return SettlementSettings(
        Tolerance(row["writeoff_tolerance_amount"], Decimal(row["writeoff_tolerance_percent"])),
        DiscountTaxPolicy(row["discount_tax_policy"]))


def settlement_settings_set(*, actor: Actor, company: Company,
                            writeoff_tolerance_amount: Decimal | None = None,
                            writeoff_tolerance_percent: Decimal | None = None,
                            discount_tax_policy: str | None = None) -> Company:
    """Set the write-off tolerance (an amount in the base currency and a percentage of the
    invoice) and the tax policy of early-payment discounts. Unset arguments stay as they are."""
    require_role(company, actor, Role.MANAGER)
    with transaction.atomic():
        locked = Company.objects.select_for_update().get(pk=company.pk)
        before = settlement_settings(locked)
        amount = before.tolerance.amount
        if writeoff_tolerance_amount is not None:
            amount = amount_minor(writeoff_tolerance_amount, locked.base_currency,
                                  field="writeoff_tolerance_amount")
        percent = (before.tolerance.percent if writeoff_tolerance_percent is None
                   else writeoff_tolerance_percent)
        policy = (before.discount_tax_policy if discount_tax_policy is None
                  else parse_tax_policy(discount_tax_policy))
        Tolerance(amount, percent)  # refuses a negative amount or a percentage beyond 0..100
        locked.writeoff_tolerance_amount = amount
        locked.writeoff_tolerance_percent = percent
        locked.discount_tax_policy = policy.value
        locked.save(update_fields=["writeoff_tolerance_amount", "writeoff_tolerance_percent",
                                   "discount_tax_policy"])
        audit(locked, actor, "company.settlement_settings", "company", locked.pk,
              before=_settings_json(locked, before),
              after=_settings_json(locked, settlement_settings(locked)))
    return locked


def tax_settings_set(*, actor: Actor, company: Company, vat_on_debits: str | bool | None = None,
                     writeoff_tolerance_amount: Decimal | None = None,
                     writeoff_tolerance_percent: Decimal | None = None,
                     discount_tax_policy: str | None = None) -> Company:
    """Change the company's tax settings in one transaction: the settlement settings
    (``settlement_settings_set``) and VAT on debits (``company_profile_update``, yes or no),
    each only when given. A refusal of either leaves both as they were: the tax settings page
    and ``adjustment settings`` change them all or nothing."""
    require_role(company, actor, Role.MANAGER)
    with transaction.atomic():
        if any(v is not None for v in (writeoff_tolerance_amount, writeoff_tolerance_percent,
                                       discount_tax_policy)):
            company = settlement_settings_set(
                actor=actor, company=company,
                writeoff_tolerance_amount=writeoff_tolerance_amount,
                writeoff_tolerance_percent=writeoff_tolerance_percent,
                discount_tax_policy=discount_tax_policy)
        if vat_on_debits is not None:
            company = company_profile_update(actor=actor, company=company,
                                             vat_on_debits=vat_on_debits)
    return company


def _settings_json(company: Company, s: SettlementSettings) -> dict[str, str]:
    return {"writeoff_tolerance_amount": amount_text(s.tolerance.amount, company.base_currency),
            "writeoff_tolerance_percent": format(s.tolerance.percent, "f"),
            "discount_tax_policy": s.discount_tax_policy.value}
