"""Planning allocations by policy, for one receipt or for all of a customer's unapplied cash.

The policies themselves are in ``policies.py`` and ``settlement.py``; this module applies one
to a receipt (``policy_shares``) and, for the bulk run, to every unapplied receipt of a
customer in turn (``plan_customer``): receipts oldest first (date, then id), each spread
over what the earlier ones left open, in one currency. It never plans more than a receipt
has unallocated nor more than an instalment has open (docs/design/allocation-policies.md).

The text a receipt is matched by for ``by_reference`` is its payer reference, its bank
reference and its memo; an invoice is named by its number or by its structured creditor
reference (ISO 11649 ``RF..``), both compared without case, spaces or punctuation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from .errors import ValidationFailed
from .policies import Policy, find_references, settle_by_reference, settle_proportional
from .settlement import OpenInstalment, Share, settle_oldest_first

AUTOMATIC = (Policy.OLDEST_FIRST, Policy.BY_REFERENCE, Policy.PROPORTIONAL)


def parse_policy(value: str, *, automatic: bool = False) -> Policy:
    allowed = AUTOMATIC if automatic else tuple(Policy)
    try:
        policy = Policy(str(value).strip().lower().replace("-", "_"))
    except ValueError:
        policy = None
    if policy is None or policy not in allowed:
        raise ValidationFailed(f"unknown allocation policy {value!r}; use one of "
                               f"{', '.join(p.value for p in allowed)}", field="policy")
    return policy


def _norm(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", text.upper())


def references_in(text: str, aliases: Mapping[str, str]) -> list[str]:
    """Document numbers named in ``text``, in order of appearance. ``aliases`` maps each
    name a document may go by (its number, its creditor reference) to its number. A name
    found only inside a longer name that is also found does not count: "INV-000012" does
    not also name "INV-00001"."""
    haystack = _norm(text)
    spans: list[tuple[int, int, str]] = []
    for name in find_references(text, aliases):
        needle = _norm(name)
        start = haystack.find(needle)
        while start >= 0:
            spans.append((start, start + len(needle), name))
            start = haystack.find(needle, start + 1)
    kept = [s for s in spans
            if not any(o[0] <= s[0] and s[1] <= o[1] and o[1] - o[0] > s[1] - s[0]
                       for o in spans)]
    found: list[str] = []
    for _, _, name in sorted(kept):
        number = aliases[name]
        if number not in found:
            found.append(number)
    return found


def policy_shares(policy: Policy, available: int, items: Sequence[OpenInstalment],
                  references: Sequence[str] = ()) -> list[Share]:
    """Spread ``available`` over ``items`` (``sort_key`` = document number) by ``policy``."""
    if policy == Policy.OLDEST_FIRST:
        return settle_oldest_first(available, items)
    if policy == Policy.PROPORTIONAL:
        return settle_proportional(available, items)
    if policy == Policy.BY_REFERENCE:
        return settle_by_reference(available, items, references)
    raise ValidationFailed("a manual allocation names its invoices and amounts",
                           field="policy")


@dataclass(frozen=True, slots=True)
class OpenReceipt:
    id: int
    unallocated: int
    text: str = ""  # payer reference, bank reference, memo
    day: date | None = None  # when the money was received


@dataclass(frozen=True, slots=True)
class Planned:
    receipt_id: int
    instalment_id: int
    amount: int


def plan_customer(policy: Policy, receipts: Iterable[OpenReceipt],
                  items: Iterable[OpenInstalment],
                  aliases: Mapping[str, str] | None = None,
                  discounts: Mapping[int, tuple[int, date]] | None = None) -> list[Planned]:
    """Allocate a customer's unapplied receipts (all in one currency, given oldest first)
    to its open instalments in that currency, each receipt taking what the earlier ones
    left open.

    ``discounts`` (instalment id -> early-payment discount and its last day): an instalment
    that a receipt received in time leaves open by exactly its discount is settled by the
    discount once that receipt is allocated, so later receipts leave it alone."""
    pool = {i.id: i for i in items if i.open > 0}
    out: list[Planned] = []
    for r in receipts:
        if not pool:
            break
        if r.unallocated <= 0:
            continue
        refs = references_in(r.text, aliases or {}) if policy == Policy.BY_REFERENCE else []
        for share in policy_shares(policy, r.unallocated, list(pool.values()), refs):
            out.append(Planned(r.id, share.instalment_id, share.amount))
            item = pool[share.instalment_id]
            left = item.open - share.amount
            discount, last_day = (discounts or {}).get(item.id, (0, None))
            if left and not (left == discount and r.day is not None and last_day is not None
                             and r.day <= last_day):
                pool[item.id] = replace(item, open=left)
            else:
                del pool[item.id]
    return out
