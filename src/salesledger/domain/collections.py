"""The rules of collections casework (docs/design/collections.md): what may be disputed, when a
promise to pay is kept, how a payment plan splits an amount into instalments and when a missed
instalment breaks it, and how the collector worklist ranks customers.

Everything here is a pure function of plain values: amounts in integer minor units of one
currency, days as ``date``. The services load, call these and write; the selectors that the
dunning run reads (``dunning_pauses``, ``plan_instalments_due``) call the same functions, so a
pause and the casework that causes it cannot disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from salesledger.money import Money, format_minor

from .errors import ValidationFailed


class DisputeReason(StrEnum):
    """Why a customer contests an invoice (or part of it)."""

    PRICING = "pricing"
    QUANTITY = "quantity"
    QUALITY = "quality"
    NOT_RECEIVED = "not_received"
    DUPLICATE = "duplicate"
    OTHER = "other"


class DisputeStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"  # the customer was right: a credit note, a write-off, a deduction kept
    REJECTED = "rejected"  # the customer was wrong: the amount is owed and chased again


class Resolution(StrEnum):
    CREDIT_NOTE = "credit_note"
    WRITE_OFF = "write_off"
    DEDUCTION_KEPT = "deduction_kept"  # a disputed deduction accepted as it stands


class CallOutcome(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    VOICEMAIL = "voicemail"
    WRONG_NUMBER = "wrong_number"
    PROMISED = "promised"
    REFUSED = "refused"


def parse_choice(kind: type[StrEnum], text: str, what: str) -> StrEnum:
    """A choice as typed (``not-received`` is ``not_received``), or a clear refusal."""
    word = text.strip().lower().replace("-", "_")
    try:
        return kind(word)
    except ValueError:
        known = ", ".join(k.value for k in kind)
        raise ValidationFailed(f"{what} {text!r} is not one of {known}", field=what) from None


# A deduction's reason code (payments) and a dispute's reason, each way: a flagged deduction
# becomes a dispute, and a dispute resolved by writing the amount off is a deduction accepted.
_FROM_DEDUCTION = {"pricing": DisputeReason.PRICING, "damaged_goods": DisputeReason.QUALITY,
                   "promotional_allowance": DisputeReason.PRICING}
_TO_DEDUCTION = {DisputeReason.PRICING: "pricing", DisputeReason.QUALITY: "damaged_goods"}


def dispute_reason_of(deduction_reason: str) -> DisputeReason:
    return _FROM_DEDUCTION.get(deduction_reason, DisputeReason.OTHER)


def deduction_reason_of(dispute_reason: str) -> str:
    return _TO_DEDUCTION.get(DisputeReason(dispute_reason), "other")


def check_dispute_amount(amount: int, open_amount: int, *, currency: str, where: str) -> None:
    """A dispute contests part or all of what is open on the invoice when it is opened."""
    if amount <= 0:
        raise ValidationFailed(f"{where}: the disputed amount must be positive", field="amount")
    if amount > open_amount:
        raise ValidationFailed(
            f"{where}: {format_minor(amount, currency)} is more than the "
            f"{format_minor(open_amount, currency)} open on it", field="amount")


# ---------------------------------------------------------------- promises to pay
class PromiseState(StrEnum):
    LIVE = "live"  # the promised day has not passed: dunning waits
    KEPT = "kept"  # enough was paid by the promised day
    BROKEN = "broken"  # the day passed without it: dunning resumes the day after


def promise_state(*, amount: int, promised: date, paid_by_promised: int, as_of: date
                  ) -> PromiseState:
    """Kept as soon as what was paid from the day the promise was made reaches the amount;
    broken the day after the promised day if it did not; live until then."""
    if paid_by_promised >= amount:
        return PromiseState.KEPT
    return PromiseState.LIVE if as_of <= promised else PromiseState.BROKEN


# ---------------------------------------------------------------- payment plans
@dataclass(frozen=True)
class PlanLine:
    number: int
    due_date: date
    amount: int


def plan_schedule(total: int, currency: str, *, count: int, first_due: date,
                  every_days: int) -> list[PlanLine]:
    """``count`` instalments of ``total``, one every ``every_days`` from ``first_due``: equal
    parts in minor units (the remainder spread one unit each over the last ones), so that they
    sum to the total exactly."""
    if count < 1:
        raise ValidationFailed("a plan needs at least one instalment", field="instalments")
    if every_days < 1:
        raise ValidationFailed("instalments must be at least a day apart", field="every")
    if total < count:
        raise ValidationFailed(
            f"{format_minor(total, currency)} cannot be split into {count} instalments",
            field="instalments")
    parts = Money.from_minor(total, currency).split(count)
    return [PlanLine(n, first_due + timedelta(days=every_days * (n - 1)), p.minor())
            for n, p in enumerate(parts, start=1)]


@dataclass(frozen=True)
class PlanProgress:
    paid: int  # paid towards the plan by the day
    open: tuple[int, ...]  # what is open on each instalment, in order
    broken_on: date | None  # the first day after a missed instalment's grace, if any
    complete: bool


def plan_progress(lines: Sequence[PlanLine], payments: Sequence[tuple[date, int]], *,
                  already_settled: int, grace_days: int, as_of: date) -> PlanProgress:
    """Where a plan stands on ``as_of``. ``payments`` are the allocations (day, amount;
    reversals negative) on the rescheduled items; ``already_settled`` what was settled on them
    when the plan was made. Payments fill the instalments in order; an instalment still short
    ``grace_days`` after its due day breaks the plan the day after."""

    def paid_by(day: date) -> int:
        return max(0, sum(a for d, a in payments if d <= day) - already_settled)

    paid = paid_by(as_of)
    opens, cumulative, broken = [], 0, None
    for line in lines:
        cumulative += line.amount
        opens.append(min(line.amount, max(0, cumulative - paid)) if paid < cumulative else 0)
        last_day = line.due_date + timedelta(days=grace_days)
        if broken is None and last_day < as_of and paid_by(last_day) < cumulative:
            broken = last_day + timedelta(days=1)
    return PlanProgress(paid, tuple(opens), broken, paid >= cumulative)


# ---------------------------------------------------------------- the worklist
def value_at_stake(overdue: int, days_overdue: int) -> Decimal:
    """The overdue amount (minor units of the base currency) weighted by how long it has been
    overdue (a debt grows harder to collect with age: one more unit of weight for every 30
    days): the expected value of acting without the likelihood of loss, and so its upper
    bound, which lets a page of the worklist stop reading risk early."""
    if overdue <= 0 or days_overdue <= 0:
        return Decimal(0)
    return Decimal(overdue) * (Decimal(1) + Decimal(days_overdue) / Decimal(30))


def expected_value(overdue: int, default_probability: Decimal, days_overdue: int,
                   waiting: Decimal = Decimal(1)) -> Decimal:
    """What acting on a customer today is worth: the value at stake (``value_at_stake``)
    times the likelihood of losing it, times the share of it that would still be waiting
    without a call (``waiting_share``: 1 when no model predicts its dates). Never more than
    the value at stake."""
    return value_at_stake(overdue, days_overdue) * default_probability * waiting


# An overdue item the payment model expects to be paid this many days from now, or later,
# counts in full on the worklist; one expected sooner counts for the days it would still wait.
PAID_SOON_DAYS = 30


def waiting_share(predicted: Sequence[tuple[int, date]], as_of: date) -> Decimal:
    """Of a customer's overdue items, each ``(amount, predicted payment date)``, the share a
    collector's call is for: each amount counted by how far off its predicted payment is
    (in full from ``PAID_SOON_DAYS`` on; 1/30 of it when expected tomorrow), over the whole.
    A customer the model expects to pay this week anyway earns little from a call; one whose
    overdue items are not expected for a month earns it all. 1 with no prediction (nothing
    known: every item counts). Between 0 and 1, so the value at stake stays a bound."""
    total = sum((a for a, _ in predicted if a > 0), 0)
    if total <= 0:
        return Decimal(1)
    soon = Decimal(PAID_SOON_DAYS)
    waiting = sum((Decimal(a) * min(Decimal(1), Decimal(max((d - as_of).days, 0)) / soon)
                   for a, d in predicted if a > 0), Decimal(0))
    return waiting / Decimal(total)
