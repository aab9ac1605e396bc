"""Aging: how late an open item is, and the buckets an aged receivables report sums it into
(docs/design/reporting.md).

An item's *age* on a day is the number of days from its reference date (its due date, or its
issue date when aging by issue) to that day: 0 on the day itself, negative before it. Buckets
are written as people name them, ``current,30,60,90,120``: ``current`` is every item whose age
is 0 or less (not yet due), then one bucket per limit up to and including it (``1-30``,
``31-60``, ...), and a last one for everything older (``over 120``). Without ``current`` the
first bucket takes everything up to its limit, not-yet-due items included (``up to 30``).
Every age falls in exactly one bucket, so the buckets always sum to the total.

The database sums the buckets (reporting's selectors): for that, :func:`bucket_starts` turns
the limits into reference dates, since ``age <= limit`` is ``reference >= day - limit``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from .errors import ValidationFailed

DEFAULT_BUCKETS = "current,30,60,90,120"


class AgeBy(StrEnum):
    DUE = "due"  # days past the due date: how late
    ISSUE = "issue"  # days since the document was issued: how old


@dataclass(frozen=True)
class Bucket:
    """Ages from ``from_days`` to ``to_days``, both included; ``None`` is unbounded."""

    label: str
    from_days: int | None
    to_days: int | None

    def holds(self, age: int) -> bool:
        return ((self.from_days is None or age >= self.from_days)
                and (self.to_days is None or age <= self.to_days))


def parse_buckets(text: str) -> tuple[Bucket, ...]:
    """``"current,30,60,90,120"`` as buckets; refused unless the limits are whole numbers of
    days above zero, in increasing order, with ``current`` only first."""
    words = [w.strip().lower() for w in text.split(",")]
    if not words or any(not w for w in words):
        raise ValidationFailed(f"--buckets {text!r}: write limits in days, e.g. "
                               f"{DEFAULT_BUCKETS!r}", buckets=text)
    current = words[0] == "current"
    limits: list[int] = []
    for w in words[1:] if current else words:
        if not w.isascii() or not w.isdigit() or int(w) < 1:
            raise ValidationFailed(f"--buckets {text!r}: {w!r} is not a number of days above "
                                   "zero ('current' may only come first)", buckets=text)
        if limits and int(w) <= limits[-1]:
            raise ValidationFailed(f"--buckets {text!r}: the limits must increase",
                                   buckets=text)
        limits.append(int(w))
    if not limits and not current:
        raise ValidationFailed(f"--buckets {text!r}: give at least one limit", buckets=text)
    out: list[Bucket] = []
    low: int | None = None
    if current:
        out.append(Bucket("current", None, 0))
        low = 1
    for limit in limits:
        label = f"up to {limit}" if low is None else f"{low}-{limit}"
        out.append(Bucket(label, low, limit))
        low = limit + 1
    top = (limits or [0])[-1]
    out.append(Bucket(f"over {top}", top + 1, None))
    return tuple(out)


def age_of(reference: date, as_of: date) -> int:
    """Days from ``reference`` to ``as_of`` (negative when the day is still to come)."""
    return (as_of - reference).days


def bucket_index(age: int, buckets: Sequence[Bucket]) -> int:
    """The one bucket that holds ``age``."""
    for n, b in enumerate(buckets):
        if b.holds(age):
            return n
    raise ValueError(f"no bucket holds age {age}")  # parse_buckets leaves no gap


def bucket_starts(as_of: date, buckets: Sequence[Bucket]) -> list[date]:
    """For every bucket but the last, the earliest reference date it holds on ``as_of``: an
    item is in the first bucket whose start is on or before its reference date, else in the
    last. ``bucket_index(age_of(ref, as_of))`` is the same bucket (the property tests)."""
    return [as_of - timedelta(days=b.to_days) for b in buckets[:-1] if b.to_days is not None]


def bucket_of_reference(reference: date, starts: Sequence[date]) -> int:
    """The bucket of a reference date from :func:`bucket_starts` (as the SQL ``CASE``)."""
    for n, start in enumerate(starts):
        if reference >= start:
            return n
    return len(starts)


def overdue_part(buckets: Sequence[Bucket], amounts: Sequence[int]) -> int:
    """What of ``amounts`` (one per bucket, aged by due date) is overdue: the buckets of
    ages of a day or more; ``current`` (not yet due, or due today) is not."""
    return sum(a for b, a in zip(buckets, amounts, strict=True)
               if b.from_days is not None and b.from_days >= 1)
