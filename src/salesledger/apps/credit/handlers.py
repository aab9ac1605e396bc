"""What credit control refuses when the apps below it propose something
(docs/design/events.md, docs/design/credit.md).

Posting an invoice (``DocumentPosting``: one command, a bulk post, a CSV import, a quote
converted, a recurring period) and accepting a quote (``QuoteAccepting``) are refused for a
customer on hold, or when they would take the exposure over the limit that covers the
customer. Credit notes, fee and interest invoices and history brought in with its own number
are never held. A user with ``Capability.CREDIT_OVERRIDE`` who gives a comment lets a refused
one through; the override is recorded and audited in the posting's transaction.

A batch (the documents of one posting or one import) is checked document by document; what
the batch proposed before counts in the exposure of the next document of the same customer
(or group), so that ten invoices each under the limit cannot together pass it.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date

from salesledger.apps.core import events
from salesledger.apps.core.actors import Actor
from salesledger.apps.core.models import Company
from salesledger.apps.customers.models import Customer
from salesledger.domain.credit_limits import check_credit, is_held_kind
from salesledger.domain.errors import CreditHoldActive, CreditLimitExceeded, UnknownCustomer

from .selectors import Rates, credit_settings, exposure_in, limit_for, on_hold
from .services import override_record

# Exposure counted so far, per batch and limit (holder id, or the customer under a default);
# the last few batches only: a batch is checked within one call of the posting service.
_BATCHES: OrderedDict[int, dict[tuple[str, int], int]] = OrderedDict()
_KEEP = 16


def _batch_state(batch: int) -> dict[tuple[str, int], int]:
    if batch == 0:
        return {}
    state = _BATCHES.get(batch)
    if state is None:
        state = _BATCHES[batch] = {}
        while len(_BATCHES) > _KEEP:
            _BATCHES.popitem(last=False)
    return state


def _check(*, company_id: int, actor: Actor, customer_id: int, currency: str, total: int,
           day: date, what: str, override: str, batch: int,
           quote_id: int | None = None) -> None:
    company = Company.objects.get(pk=company_id)
    customer = Customer.objects.filter(company=company, pk=customer_id).first()
    if customer is None:
        raise UnknownCustomer(f"no customer with id {customer_id}", customer=customer_id)
    holds = [(h.source, h.reason) for h in on_hold(company, customer.pk)]
    settings = credit_settings(company)
    limit = limit_for(company, customer, settings)
    if not holds and limit is None:
        return
    state = _batch_state(batch)
    rates = Rates(company, day)
    key = ("group", limit.holder_id) if limit and limit.holder_id else ("alone", customer.pk)
    amount = rates.convert(total, currency, limit.currency) if limit else total
    if limit is not None and key not in state:
        state[key] = exposure_in(company, limit.members, limit.currency, day,
                                 settings.horizon_days, rates).total
    exposure = state.get(key, 0)
    try:
        check_credit(customer_code=customer.code, what=what, amount=amount, exposure=exposure,
                     limit=limit, holds=holds)
    except (CreditHoldActive, CreditLimitExceeded) as exc:
        if not override.strip():
            raise
        override_record(actor=actor, company=company, customer=customer,
                        what="quote" if quote_id else "invoice", day=day, currency=currency,
                        amount=total, refusal_code=exc.code, refusal=exc.message,
                        comment=override, quote_id=quote_id)
    if limit is not None:
        state[key] = exposure + amount


def credit_check_posting(proposal: events.DocumentPosting) -> None:
    """Refuse an invoice for a customer on hold or over its limit (unless overridden)."""
    if not is_held_kind(kind=proposal.kind, purpose=proposal.purpose,
                        kept_number=proposal.kept_number):
        return
    _check(company_id=proposal.company_id, actor=proposal.actor,
           customer_id=proposal.customer_id, currency=proposal.currency,
           total=proposal.total, day=proposal.issue_date, what="invoice",
           override=proposal.credit_override, batch=proposal.batch)


def credit_check_quote(proposal: events.QuoteAccepting) -> None:
    """Refuse accepting a quote for a customer on hold or over its limit (unless
    overridden)."""
    _check(company_id=proposal.company_id, actor=proposal.actor,
           customer_id=proposal.customer_id, currency=proposal.currency,
           total=proposal.total, day=proposal.as_of, what="accepting the quote",
           override=proposal.credit_override, batch=0, quote_id=proposal.quote_id)


def register() -> None:
    events.veto(events.DocumentPosting, credit_check_posting)
    events.veto(events.QuoteAccepting, credit_check_quote)
