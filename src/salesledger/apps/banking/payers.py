"""What the matcher learns from confirmations (docs/design/cash-application.md#review-and-learning):
the payer IBANs, an IBAN a customer was confirmed paying from that is not one of its own
accounts (a parent company, a factor), learned by ``bank_confirm`` (in ``matching``); and the
payer's own references, the words of letters and digits it writes on its payments that name
no invoice of ours (its customer number with us, a contract), learned here
(``payer_references_learn``), a reference confirmed for two customers saying nothing after.
What is learned is forgotten here when what taught it is undone:

- a line unmatched: the payment it confirmed was not the customer's. Kept only while another
  line from the same IBAN still stands applied to that customer (it then names that line);
- a customer's own bank account removed (``customers.bank_account_remove``): the user says
  the account is not the customer's, so it is not learned as paying for it either.

Each forgetting is audited (``payer_iban.forget``, ``payer_reference.forget``) in the
transaction that undoes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from salesledger.apps.core import events
from salesledger.apps.core.actors import Actor
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company
from salesledger.domain.cash_matching import Line, normalize, reference_tokens

from .models import LineStatus, PayerIban, PayerReference, StatementLine


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


def learned_references(company: Company, lines: Sequence[Line], prefixes: Sequence[str]
                       ) -> dict[int, list[tuple[int, str]]]:
    """line -> (customer, reference) for the references in each line's text learned as one
    customer's: one query per 900 words."""
    words = {li.id: reference_tokens(li.text, prefixes=prefixes) for li in lines if li.text}
    keys = sorted({k for ks in words.values() for k in ks})
    known: dict[str, int] = {}
    for i in range(0, len(keys), 900):
        known.update(PayerReference.objects.filter(
            company=company, key__in=keys[i:i + 900], customer__isnull=False)
            .values_list("key", "customer_id"))
    return {line_id: [(known[k], k) for k in ks if k in known]
            for line_id, ks in words.items() if any(k in known for k in ks)}


def payer_references_learn(*, company: Company, actor: Actor, line: StatementLine,
                           customer_id: int, named: Iterable[str],
                           prefixes: Sequence[str]) -> list[str]:
    """``line`` confirmed as paying for ``customer_id``: the references in its text that
    name none of the invoices it pays (``named``) are learned as the customer's; one learned
    for another customer says nothing any more (its customer emptied). Audited
    (``payer_reference.learn``). Returns the references now the customer's."""
    keys = reference_tokens(line.text, not_keys=named, prefixes=prefixes)
    if not keys:
        return []
    rows = {r.key: r for r in PayerReference.objects.select_for_update().filter(
        company=company, key__in=keys)}
    mine, doubtful = [], []
    for key in keys:
        row = rows.get(key)
        if row is None:
            PayerReference.objects.create(company=company, key=key, customer_id=customer_id,
                                          learned_from=line)
            mine.append(key)
        elif row.customer_id == customer_id:
            row.learned_from = line
            row.save(update_fields=["learned_from"])
            mine.append(key)
        elif row.customer_id is not None:
            row.customer_id, row.learned_from = None, line
            row.save(update_fields=["customer", "learned_from"])
            doubtful.append(key)
    audit(company, actor, "payer_reference.learn", "bank_line", line.pk, customer=customer_id,
          references=mine, doubtful=doubtful)
    return mine


def payer_references_unlearn(*, company: Company, actor: Actor, line: StatementLine,
                             customer_id: int) -> list[str]:
    """``line``, applied to ``customer_id``, is being unmatched: the references it taught
    are forgotten, unless another applied line of the customer still carries them (then
    that line is what they were learned from). Returns those forgotten."""
    rows = list(PayerReference.objects.select_for_update().filter(
        company=company, customer_id=customer_id, learned_from=line))
    if not rows:
        return []
    still: dict[str, int] = {}
    wanted = {r.key for r in rows}
    for pk, text in StatementLine.objects.filter(
            company=company, match__status=LineStatus.APPLIED, match__customer_id=customer_id
    ).exclude(pk=line.pk).order_by("-pk").values_list("pk", "text"):
        for key in wanted.intersection(reference_tokens(text)):
            still.setdefault(key, pk)
    gone = []
    for row in rows:
        if row.key in still:
            row.learned_from_id = still[row.key]
            row.save(update_fields=["learned_from"])
        else:
            row.delete()
            gone.append(row.key)
    if gone:
        audit(company, actor, "payer_reference.forget", "bank_line", line.pk,
              references=gone, customer=customer_id,
              reason=f"statement line {line.pk} unmatched")
    return gone


__all__ = ["forget_removed_account", "learned_references", "payer_iban_unlearn",
           "payer_references_learn", "payer_references_unlearn"]
