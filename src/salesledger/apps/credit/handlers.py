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
from dataclasses import dataclass, field
from datetime import date

from salesledger.apps.core import events
from salesledger.apps.core.actors import Actor
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company
from salesledger.apps.customers.models import Customer
from salesledger.apps.customers.selectors import customer_codes, survivors
from salesledger.domain.credit_limits import LimitRow, check_credit, is_held_kind, major
from salesledger.domain.errors import CreditHoldActive, CreditLimitExceeded

from .selectors import (
    Rates,
    Settings,
    credit_settings,
    exposure_in,
    family_holds,
    holds_of,
    limit_book,
    limit_for,
)
from .services import override_record


@dataclass
class _Batch:
    """What the checks of one batch read once: the company, its credit settings, the merged
    customers (alias -> survivor), who is held (a merged family's holds apply to each of
    its members), the customers with a limit or a parent; and the exposure counted so far
    per limit (its holder, or the customer under the default), what the batch proposed
    included."""

    company: Company
    settings: Settings
    merged: dict[int, int]
    held: dict[int, list[tuple[str, str]]]
    book: dict[int, LimitRow]
    exposure: dict[tuple[str, int], int] = field(default_factory=dict)


# The last few batches (a batch is checked within one call of the posting service).
_BATCHES: OrderedDict[int, _Batch] = OrderedDict()
_KEEP = 16


def _batch(company_id: int, batch: int) -> _Batch:
    found = _BATCHES.get(batch) if batch else None
    if found is not None:
        return found
    company = Company.objects.get(pk=company_id)
    merged = survivors(company)
    held = {cid: [(h.source, h.why()) for h in holds]
            for cid, holds in family_holds(company, merged).items()}
    out = _Batch(company, credit_settings(company), merged, held, limit_book(company))
    if batch:
        _BATCHES[batch] = out
        while len(_BATCHES) > _KEEP:
            _BATCHES.popitem(last=False)
    return out


def _check(*, company_id: int, actor: Actor, customer_id: int, currency: str, total: int,
           day: date, what: str, override: str, batch: int,
           quote_id: int | None = None, base_total: int | None = None) -> None:
    b = _batch(company_id, batch)
    company = b.company
    holds = b.held.get(customer_id, [])
    limit = limit_for(company, customer_id, b.settings, b.book, b.merged)
    if not holds and limit is None:
        return
    rates = Rates(company, day)
    key = (("group", limit.holder_id) if limit and limit.holder_id
           else ("alone", b.merged.get(customer_id, customer_id)))
    if limit is None:
        amount = total
    elif base_total is not None and limit.currency == company.base_currency:
        amount = base_total  # at the document's own rate, as it is booked
    else:
        amount = rates.convert(total, currency, limit.currency)
    if limit is not None and key not in b.exposure:
        b.exposure[key] = exposure_in(company, limit.members, limit.currency, day,
                                      b.settings.horizon_days, rates, b.merged).total
    exposure = b.exposure.get(key, 0)
    code = (b.book[customer_id].code if customer_id in b.book
            else customer_codes(company, [customer_id]).get(customer_id, str(customer_id)))
    try:
        check_credit(customer_code=code, what=what, amount=amount, exposure=exposure,
                     limit=limit, holds=holds, document=(total, currency))
    except (CreditHoldActive, CreditLimitExceeded) as exc:
        if not override.strip():
            raise
        override_record(actor=actor, company=company, customer_id=customer_id, code=code,
                        what="quote" if quote_id else "invoice", day=day, currency=currency,
                        amount=total, refusal_code=exc.code, refusal=exc.message,
                        comment=override, quote_id=quote_id)
    if limit is not None:
        b.exposure[key] = exposure + amount


def credit_check_posting(proposal: events.DocumentPosting) -> None:
    """Refuse an invoice for a customer on hold or over its limit (unless overridden)."""
    if not is_held_kind(kind=proposal.kind, purpose=proposal.purpose,
                        kept_number=proposal.kept_number):
        return
    _check(company_id=proposal.company_id, actor=proposal.actor,
           customer_id=proposal.customer_id, currency=proposal.currency,
           total=proposal.total, day=proposal.issue_date, what="invoice",
           override=proposal.credit_override, batch=proposal.batch,
           base_total=proposal.base_total)


def credit_check_quote(proposal: events.QuoteAccepting) -> None:
    """Refuse accepting a quote for a customer on hold or over its limit (unless
    overridden)."""
    _check(company_id=proposal.company_id, actor=proposal.actor,
           customer_id=proposal.customer_id, currency=proposal.currency,
           total=proposal.total, day=proposal.as_of, what="accepting the quote",
           override=proposal.credit_override, batch=0, quote_id=proposal.quote_id)


def _merge_audit(event: events.CustomerMerged | events.CustomerUnmerged, action: str) -> None:
    """What a merge (or its undoing) changes in credit, audited in its transaction on the
    survivor when anything changes: the holds of each side that apply (or stop applying) to
    the other, and the alias's own limit, set aside while it is merged (the survivor's
    limit covers both; docs/design/credit.md#merged-customers)."""
    company = Company.objects.get(pk=event.company_id)
    holds = holds_of(company, [event.customer_id, event.survivor_id])
    alias = Customer.objects.filter(pk=event.customer_id).values_list(
        "credit_limit", "currency").first()
    own_limit = (major(alias[0], alias[1] or company.base_currency)
                 if alias and alias[0] is not None else None)
    carried = {code: [f"{h.source}: {h.reason}" for h in holds.get(cid, [])]
               for cid, code in ((event.customer_id, event.code),
                                 (event.survivor_id, event.survivor_code))}
    if not any(carried.values()) and own_limit is None:
        return
    audit(company, event.actor, action, "customer", event.survivor_id,
          alias=event.code, survivor=event.survivor_code,
          alias_holds=carried[event.code], survivor_holds=carried[event.survivor_code],
          alias_limit_set_aside=own_limit)


def credit_follows_the_merge(event: events.CustomerMerged) -> None:
    """The alias's holds now hold its survivor and the survivor's the alias; its own limit
    is set aside: audited as ``credit.merge``."""
    _merge_audit(event, "credit.merge")


def credit_follows_the_unmerge(event: events.CustomerUnmerged) -> None:
    """Each side's holds hold it alone again and the alias's own limit covers it again:
    audited as ``credit.unmerge``."""
    _merge_audit(event, "credit.unmerge")


def register() -> None:
    events.veto(events.DocumentPosting, credit_check_posting)
    events.veto(events.QuoteAccepting, credit_check_quote)
    events.subscribe(events.CustomerMerged, credit_follows_the_merge)
    events.subscribe(events.CustomerUnmerged, credit_follows_the_unmerge)
