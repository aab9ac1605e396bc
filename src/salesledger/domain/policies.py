"""Allocation policies: how one payment is spread over a customer's open instalments.

- ``oldest_first``: by due date, then document number (``settlement.settle_oldest_first``);
- ``by_reference``: the instalments of the documents the payer named (in a remittance
  advice or the bank transfer's reference) first, in the order named, then nothing else;
- ``proportional``: in proportion to each instalment's open amount, each share rounded
  down and the remainder spread one minor unit at a time from the oldest, so the shares
  sum exactly to what is spread and none exceeds its instalment;
- ``manual``: the user says which invoice gets how much (see the allocation service).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from enum import StrEnum

from .settlement import OpenInstalment, Share, settle_oldest_first


class Policy(StrEnum):
    OLDEST_FIRST = "oldest_first"
    BY_REFERENCE = "by_reference"
    PROPORTIONAL = "proportional"
    MANUAL = "manual"


def _ordered(items: Iterable[OpenInstalment]) -> list[OpenInstalment]:
    return sorted((i for i in items if i.open > 0), key=lambda i: (i.due_date, i.sort_key, i.id))


def settle_proportional(available: int, items: Iterable[OpenInstalment]) -> list[Share]:
    ordered = _ordered(items)
    total_open = sum(i.open for i in ordered)
    spread = min(available, total_open)
    if spread <= 0:
        return []
    shares = [spread * i.open // total_open for i in ordered]
    left = spread - sum(shares)
    for idx, item in enumerate(ordered):
        if left == 0:
            break
        if shares[idx] < item.open:
            shares[idx] += 1
            left -= 1
    return [Share(i.id, s) for i, s in zip(ordered, shares, strict=True) if s > 0]


def find_references(text: str, numbers: Iterable[str]) -> list[str]:
    """Document numbers that appear in ``text`` (a payment reference), in order of
    appearance; comparison ignores case, spaces and punctuation."""

    def norm(s: str) -> str:
        return re.sub(r"[^0-9A-Z]", "", s.upper())

    haystack = norm(text)
    found = [(haystack.find(norm(n)), n) for n in numbers if norm(n) and norm(n) in haystack]
    return [n for _, n in sorted(found)]


def settle_by_reference(
    available: int, items: Iterable[OpenInstalment], references: Sequence[str]
) -> list[Share]:
    """Settle the named documents' instalments (``sort_key`` holds the document number),
    in the order the references name them, oldest instalment first within a document."""
    pool = _ordered(items)
    shares: list[Share] = []
    left = available
    for ref in references:
        if left <= 0:
            break
        chosen = [i for i in pool if i.sort_key == ref]
        part = settle_oldest_first(left, chosen)
        shares.extend(part)
        left -= sum(s.amount for s in part)
    return shares
