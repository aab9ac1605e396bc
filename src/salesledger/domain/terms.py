"""Payment terms: when an invoice falls due, in how many instalments, and what early
payment earns.

Terms are a list of instalments, each a share of the total (a percentage) and a number of
days after the issue date (optionally to the end of that month, as in "30 days end of
month"). The shares are split with :meth:`Money.split_by`, so every instalment but the last
is rounded down and the last takes the remainder: the instalments always sum to the
invoice total. An early-payment discount ("2/10 net 30") gives a percentage off each
instalment paid within a number of days of issue.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from ..money import Money, Rounding, quantize
from .errors import ValidationFailed


@dataclass(frozen=True, slots=True)
class TermLine:
    percent: Decimal
    days: int
    end_of_month: bool = False


@dataclass(frozen=True, slots=True)
class Terms:
    lines: tuple[TermLine, ...]
    discount_percent: Decimal = Decimal(0)
    discount_days: int = 0

    def __post_init__(self) -> None:
        validate_terms(self)


@dataclass(frozen=True, slots=True)
class ScheduledInstalment:
    seq: int
    due_date: date
    amount: int
    discount_date: date | None
    discount_amount: int


def validate_terms(terms: Terms) -> None:
    if not terms.lines:
        raise ValidationFailed("payment terms need at least one instalment")
    total = sum((line.percent for line in terms.lines), Decimal(0))
    if total != 100:
        raise ValidationFailed(f"instalment percentages must add up to 100, not {total}")
    for line in terms.lines:
        if line.percent <= 0:
            raise ValidationFailed("each instalment must be a positive percentage")
        if line.days < 0:
            raise ValidationFailed("instalment days cannot be negative")
    if not (Decimal(0) <= terms.discount_percent < 100):
        raise ValidationFailed("early-payment discount must be between 0 and 100 %")
    if terms.discount_percent and terms.discount_days <= 0:
        raise ValidationFailed("an early-payment discount needs a number of days")


EQUAL_SHARE_TOLERANCE = Decimal("1e-8")

NET_30 = Terms((TermLine(Decimal(100), 30),))


def due_date(issue: date, line: TermLine) -> date:
    day = issue + timedelta(days=line.days)
    if line.end_of_month:
        day = day.replace(day=calendar.monthrange(day.year, day.month)[1])
    return day


def build_schedule(
    total: Money, issue: date, terms: Terms, rounding: Rounding = Rounding.HALF_UP
) -> list[ScheduledInstalment]:
    """Split ``total`` into dated instalments that sum exactly to it. A share that rounds to
    nothing (0.02 in thirds is 0.00, 0.00, 0.02) is left out: an instalment is an amount
    owed, so it is never zero."""
    percents = [line.percent for line in terms.lines]
    if max(percents) - min(percents) <= EQUAL_SHARE_TOLERANCE:
        # Equal shares written with finite decimals (33.3333333333 %) mean exact thirds.
        parts = total.split(len(percents))
    else:
        parts = total.split_by(percents)
    discount_date = issue + timedelta(days=terms.discount_days) if terms.discount_percent else None
    schedule: list[ScheduledInstalment] = []
    for line, part in zip(terms.lines, parts, strict=True):
        if not part:
            continue
        seq = len(schedule) + 1
        discount = 0
        if terms.discount_percent:
            off = quantize(part.amount * terms.discount_percent / 100, part.exponent, rounding)
            discount = Money(off, total.currency).minor()
        schedule.append(
            ScheduledInstalment(seq, due_date(issue, line), part.minor(), discount_date, discount)
        )
    return schedule


def equal_shares(n: int) -> list[Decimal]:
    """``n`` percentages with ten decimals that sum to exactly 100 (the last takes the
    remainder), so that each instalment rounds to an equal part of any realistic total."""
    each = (Decimal(100) / n).quantize(Decimal("1e-10"), rounding="ROUND_DOWN")
    return [each] * (n - 1) + [Decimal(100) - each * (n - 1)]


def parse_terms(spec: str) -> Terms:
    """Parse a compact terms text: ``"30"``, ``"30/60/90"`` (equal shares),
    ``"50%:0,50%:30"``, optionally followed by ``" 2%/10"`` for an early-payment discount
    and ``"eom"`` after the days for end of month (``"30eom"``)."""
    text = spec.strip()
    discount_percent, discount_days = Decimal(0), 0
    if " " in text:
        text, disc = text.split(None, 1)
        try:
            pct, days = disc.strip().split("/")
            discount_percent = Decimal(pct.rstrip("%"))
            discount_days = int(days)
        except (ValueError, ArithmeticError):
            raise ValidationFailed(f"cannot read the discount {disc!r}; write e.g. 2%/10") from None
    lines: list[TermLine] = []
    try:
        if ":" in text:
            for chunk in text.split(","):
                pct, days = chunk.split(":")
                lines.append(_line(Decimal(pct.rstrip("%")), days))
        else:
            chunks = text.split("/")
            for chunk, share in zip(chunks, equal_shares(len(chunks)), strict=True):
                lines.append(_line(share, chunk))
    except (ValueError, ArithmeticError):
        raise ValidationFailed(
            f"cannot read payment terms {spec!r}; write e.g. 30 or 30/60/90"
        ) from None
    return Terms(tuple(lines), discount_percent, discount_days)


def _line(percent: Decimal, days: str) -> TermLine:
    days = days.strip().lower()
    eom = days.endswith("eom")
    return TermLine(percent, int(days.removesuffix("eom")), eom)


def given_schedule(total: int, currency: str, issue: date,
                   parts: list[tuple[date, int | None]]) -> list[ScheduledInstalment]:
    """The instalments of a document whose due dates were given, not computed from payment
    terms (a migrated invoice keeps the dates its own system gave it). ``parts`` are
    (due date, amount in minor units) in order; one date may come without an amount (the
    whole total). Dates are on or after ``issue`` and strictly increasing; amounts are more
    than zero and sum to ``total`` exactly. No early-payment discount is attached."""
    if not parts:
        raise ValidationFailed("give at least one due date", field="due_date")
    if total <= 0:
        raise ValidationFailed("a document with nothing to pay has no due dates",
                               field="due_date")
    if len(parts) == 1 and parts[0][1] is None:
        parts = [(parts[0][0], total)]
    previous: date | None = None
    for day, amount in parts:
        if day < issue:
            raise ValidationFailed(f"due date {day.isoformat()} is before the issue date "
                                   f"{issue.isoformat()}", field="due_date")
        if previous is not None and day <= previous:
            raise ValidationFailed(f"due dates must be in order, each after the one before: "
                                   f"{day.isoformat()} follows {previous.isoformat()}",
                                   field="due_date")
        previous = day
        if amount is None:
            raise ValidationFailed(f"{len(parts)} due dates need an amount each",
                                   field="due_amount")
        if amount <= 0:
            raise ValidationFailed("each amount due must be more than zero", field="due_amount")
    given = sum(a for _, a in parts if a is not None)
    if given != total:
        raise ValidationFailed(
            f"the amounts due add up to {Money.from_minor(given, currency)} but the document "
            f"totals {Money.from_minor(total, currency)}", field="due_amount")
    return [ScheduledInstalment(n, day, int(amount or 0), None, 0)
            for n, (day, amount) in enumerate(parts, start=1)]
