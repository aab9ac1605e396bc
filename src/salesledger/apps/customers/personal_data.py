"""Anonymising a customer: the one writer that erases a customer's personal data.

What is erased and what is kept, field by field, is ``domain/personal_data.py``; why, in
docs/security.md ("Personal data") and docs/decisions.md. In short: the record of the customer
(names, e-mail addresses, phones, notes, addresses, contacts, bank accounts) and who the
communication timeline's e-mails went to and what they said are erased; nothing that was issued
or posted is touched (documents, their snapshots and frozen files, receipts, allocations, the
journal, the audit trail), so every hash that ``salesledger check`` verifies still holds.

The higher apps may refuse through the ``CustomerAnonymising`` veto while they hold something
open that still needs who the customer is (an open item, a draft, an undecided quote, a
recurring schedule). Erasing is irreversible (values are overwritten and rows deleted, no copy
is kept) and idempotent (a customer already anonymised is left as it is, with no new event).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from salesledger.apps.core import events
from salesledger.apps.core.actors import Actor
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import require_role
from salesledger.domain.personal_data import COMMUNICATION_ERASED, CUSTOMER_ERASED

from .models import Address, BankAccount, Communication, Contact, Customer
from .services import _customer_locked


@dataclass(frozen=True)
class Anonymised:
    """What ``customer_anonymise`` did: counts only, never the data erased."""

    code: str
    anonymised_at: datetime
    already: bool  # the customer had been anonymised before: nothing was done
    contacts: int = 0
    addresses: int = 0
    bank_accounts: int = 0
    communications: int = 0


def customer_anonymise(*, actor: Actor, company: Company, code: str, as_of: date) -> Anonymised:
    """Erase the personal data of customer ``code`` (owner or manager). Refused with
    ``anonymise_refused`` while a higher app holds something open for the customer on
    ``as_of``. One audit event, ``customer.anonymise``, with the fields erased and the rows
    removed counted, and none of their values."""
    require_role(company, actor, Role.MANAGER)
    with transaction.atomic():
        customer = _customer_locked(company, code)
        if customer.anonymised_at is not None:
            return Anonymised(code=code, anonymised_at=customer.anonymised_at, already=True)
        events.check(events.CustomerAnonymising(
            company_id=company.pk, actor=actor, customer_id=customer.pk, code=code,
            as_of=as_of))
        at = timezone.now()
        Customer.objects.filter(pk=customer.pk).update(**CUSTOMER_ERASED, anonymised_at=at)
        removed = {
            "contacts": Contact.objects.filter(customer=customer).delete()[0],
            "addresses": Address.objects.filter(customer=customer).delete()[0],
            "bank_accounts": BankAccount.objects.filter(customer=customer).delete()[0],
        }
        communications = (Communication.objects.filter(customer=customer)
                          .update(**dict.fromkeys(COMMUNICATION_ERASED, "")))
        # The apps above erase what they hold about the customer (casework notes, dispute
        # attachments, reminder letters), in this transaction.
        events.publish(events.CustomerDataErased(company_id=company.pk, actor=actor,
                                                 customer_id=customer.pk, code=code))
        audit(company, actor, "customer.anonymise", "customer", customer.pk,
              erased=sorted(CUSTOMER_ERASED), removed=removed,
              communications_erased=communications, as_of=as_of.isoformat())
    return Anonymised(code=code, anonymised_at=at, already=False,
                      communications=communications, **removed)
