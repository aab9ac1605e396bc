"""Merging a duplicate customer into the one that survives, and undoing it
(docs/design/customer-records.md).

The duplicate becomes an *alias*: ``Customer.merged_into`` points at the survivor. Nothing
posted moves (posted is forever): the alias's invoices, credit notes, receipts and their
journal lines keep the customer they were issued to. What follows the survivor is read
through one resolution, :func:`salesledger.apps.customers.selectors.customer_family` (the
survivor and its aliases) and ``survivors`` (alias -> survivor): balances, open items, the
aged receivables, statements, the allocation of a receipt of one to an invoice of the other;
new documents and receipts named for the alias are issued to the survivor.

A merge is refused by the rules of ``domain/customer_records.py`` (no chains, one currency)
and by the apps above through the ``CustomerMerging`` veto while they hold something still to
be issued to the alias (a draft). Unmerging is refused by payments through the
``CustomerUnmerging`` veto while an allocation across the two stands: it would leave a
payment of one on the other's invoice once they are two customers again; reverse it first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from salesledger.apps.core import events
from salesledger.apps.core.actors import Actor
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import require_role
from salesledger.domain.customer_records import MergeSide, check_merge
from salesledger.domain.errors import MergeRefused, UnknownCustomer

from .duplicates import duplicates_changed
from .models import Customer


@dataclass(frozen=True)
class Merged:
    alias: str
    survivor: str
    at: datetime | None
    reason: str


def _locked_pair(company: Company, codes: tuple[str, str]) -> dict[str, Customer]:
    """The customers named, locked in ascending id (the one order of customer locks)."""
    rows = {c.code: c for c in Customer.objects.select_for_update().filter(
        company=company, code__in=codes).order_by("pk")}
    for code in codes:
        if code not in rows:
            raise UnknownCustomer(f"no customer with code {code!r}", customer=code)
    return rows


def _side(c: Customer) -> MergeSide:
    return MergeSide(id=c.pk, code=c.code, currency=c.currency, merged_into=c.merged_into_id,
                     has_aliases=Customer.objects.filter(merged_into=c).exists(),
                     anonymised=c.anonymised_at is not None)


def customer_merge(*, actor: Actor, company: Company, alias: str, survivor: str,
                   reason: str = "") -> Merged:
    """Make customer ``alias`` an alias of ``survivor`` (manager or owner). Audited on the
    alias with the survivor and the reason."""
    require_role(company, actor, Role.MANAGER)
    reason = reason.strip()
    with transaction.atomic():
        rows = _locked_pair(company, (alias, survivor))
        a, s = rows[alias], rows[survivor]
        check_merge(_side(a), _side(s))
        events.check(events.CustomerMerging(
            company_id=company.pk, actor=actor, customer_id=a.pk, code=a.code,
            survivor_id=s.pk, survivor_code=s.code))
        at = timezone.now()
        Customer.objects.filter(pk=a.pk).update(merged_into=s, merged_at=at)
        audit(company, actor, "customer.merge", "customer", a.pk, alias=a.code,
              survivor=s.code, survivor_id=s.pk, reason=reason)
        events.publish(events.CustomerMerged(
            company_id=company.pk, actor=actor, customer_id=a.pk, code=a.code,
            survivor_id=s.pk, survivor_code=s.code))
    return Merged(alias=a.code, survivor=s.code, at=at, reason=reason)


def customer_unmerge(*, actor: Actor, company: Company, code: str, reason: str = "") -> Merged:
    """Undo the merge of alias ``code``: it is a customer of its own again (manager or
    owner). Refused while an allocation across the two stands. Audited on the alias."""
    require_role(company, actor, Role.MANAGER)
    reason = reason.strip()
    with transaction.atomic():
        alias = Customer.objects.select_for_update().filter(company=company, code=code).first()
        if alias is None:
            raise UnknownCustomer(f"no customer with code {code!r}", customer=code)
        if alias.merged_into_id is None:
            raise MergeRefused(f"customer {code} is not merged into another customer")
        survivor = Customer.objects.get(pk=alias.merged_into_id)
        events.check(events.CustomerUnmerging(
            company_id=company.pk, actor=actor, customer_id=alias.pk, code=code,
            survivor_id=survivor.pk, survivor_code=survivor.code))
        Customer.objects.filter(pk=alias.pk).update(merged_into=None, merged_at=None)
        audit(company, actor, "customer.unmerge", "customer", alias.pk, alias=code,
              survivor=survivor.code, survivor_id=survivor.pk, reason=reason,
              merged_at=alias.merged_at.isoformat() if alias.merged_at else None)
        events.publish(events.CustomerUnmerged(
            company_id=company.pk, actor=actor, customer_id=alias.pk, code=code,
            survivor_id=survivor.pk, survivor_code=survivor.code))
        duplicates_changed(company)  # its pairs with others are back to be found
    return Merged(alias=code, survivor=survivor.code, at=None, reason=reason)
