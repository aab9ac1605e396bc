"""Customer records that stay reliable: when a record is due for review, what a hard bounce
is, and which merges of two customers are allowed (docs/design/customer-records.md).

- A record is confirmed (``customer update --verified``) or edited; either stamps it. It is
  *due for review* on a day when its last stamp (or, never stamped, its creation) is older
  than the company's review period, or when one of its e-mail addresses is doubtful.
- A *hard bounce* is a permanent refusal by the receiving mail server (an SMTP reply code
  5xx, RFC 5321 section 4.2.1); a 4xx reply is a temporary failure and proves nothing about
  the address.
- A *merge* makes one customer (the alias) point at another (the survivor): never a customer
  into itself, never into an alias (no chains), never an alias that already has aliases of
  its own, and only in the same company and currency, so that the survivor's balances stay
  in the currencies its documents are in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from .errors import MergeRefused

DEFAULT_REVIEW_DAYS = 60


def review_due_before(as_of: date, review_days: int) -> date:
    """Records last stamped before this day are due for review on ``as_of``."""
    return as_of - timedelta(days=review_days)


def is_hard_bounce(smtp_code: int) -> bool:
    """A permanent failure (5xx): the address is doubtful. A 4xx may pass tomorrow."""
    return 500 <= smtp_code <= 599


@dataclass(frozen=True)
class MergeSide:
    """What the merge rules read of each customer."""

    id: int
    code: str
    currency: str
    merged_into: int | None
    has_aliases: bool
    anonymised: bool = False


def check_merge(alias: MergeSide, survivor: MergeSide) -> None:
    """Refuse a merge of ``alias`` into ``survivor`` that would break the rules above."""
    if alias.id == survivor.id:
        raise MergeRefused(f"customer {alias.code} cannot be merged into itself")
    if alias.merged_into is not None:
        raise MergeRefused(f"customer {alias.code} is already merged into another customer: "
                           "unmerge it first")
    if survivor.merged_into is not None:
        raise MergeRefused(f"customer {survivor.code} is itself merged into another customer: "
                           "merge into that one instead")
    if alias.has_aliases:
        raise MergeRefused(f"customers are merged into {alias.code}: unmerge them first, or "
                           f"merge them into {survivor.code} one by one")
    if alias.currency != survivor.currency:
        raise MergeRefused(f"customer {alias.code} is kept in {alias.currency} and "
                           f"{survivor.code} in {survivor.currency}: only customers in one "
                           "currency are merged")
    if survivor.anonymised:
        raise MergeRefused(f"customer {survivor.code} was anonymised: it cannot take "
                           "another customer's business")
