"""The payer IBANs the matcher learned (docs/design/cash-application.md#review-and-learning):
an IBAN a customer was confirmed paying from that is not one of its own accounts (a parent
company, a factor). ``bank_confirm`` learns one (in ``matching``); what is learned is
forgotten here when what taught it is undone:

- a line unmatched: the payment it confirmed was not the customer's. Kept only while another
  line from the same IBAN still stands applied to that customer (it then names that line);
- a customer's own bank account removed (``customers.bank_account_remove``): the user says
  the account is not the customer's, so it is not learned as paying for it either.

Each forgetting is audited (``payer_iban.forget``) in the transaction that undoes."""

from __future__ import annotations

from salesledger.apps.core import events
from salesledger.apps.core.actors import Actor
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company
from salesledger.domain.cash_matching import normalize

from .models import LineStatus, PayerIban, StatementLine


def payer_iban_unlearn(*, company: Company, actor: Actor, line: StatementLine,
                       customer_id: int) -> bool:
    """``line``, applied to ``customer_id``, is being unmatched: forget its counterparty IBAN
    as a payer of the customer unless another applied line from it still pays the customer
    (then that line is what it was learned from). Returns whether it was forgotten."""
    iban = normalize(line.counterparty_iban)
    learned = PayerIban.objects.select_for_update().filter(
        company=company, iban=iban, customer_id=customer_id).first() if iban else None
    if learned is None:
        return False
    other = next((pk for pk, given in StatementLine.objects.filter(
        company=company, match__status=LineStatus.APPLIED, match__customer_id=customer_id)
        .exclude(pk=line.pk).order_by("-pk").values_list("pk", "counterparty_iban")
        if normalize(given) == iban), None)
    if other is not None:
        if learned.learned_from_id != other:
            learned.learned_from_id = other
            learned.save(update_fields=["learned_from"])
        return False
    learned.delete()
    audit(company, actor, "payer_iban.forget", "bank_line", line.pk, iban=iban,
          customer=customer_id, reason=f"statement line {line.pk} unmatched")
    return True


def forget_removed_account(event: events.CustomerBankAccountRemoved) -> None:
    """A customer's own account removed: not learned as paying for it either."""
    learned = PayerIban.objects.filter(company_id=event.company_id, iban=event.iban,
                                       customer_id=event.customer_id)
    if not learned.exists():
        return
    learned.delete()
    company = Company.objects.get(pk=event.company_id)
    audit(company, event.actor, "payer_iban.forget", "customer", event.customer_id,
          iban=event.iban, customer=event.customer_id,
          reason=f"bank account removed from customer {event.code}")


__all__ = ["forget_removed_account", "payer_iban_unlearn"]
